// The trace store's inside (the pimpl of store/trace_store.hpp): its state, and the members
// that store_open, maintenance, record_read, list_planner and purge_markers define, one job
// each. Internal to store/; the design is in docs/store.md.
#pragma once

#include <rocksdb/cache.h>
#include <rocksdb/db.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "store/purge_set.hpp"
#include "store/record_read.hpp"
#include "store/rocks_support.hpp"
#include "store/store_db.hpp"
#include "store/trace_store.hpp"
#include "store/trace_writer.hpp"
#include "support/metrics.hpp"

namespace sidecar::store {

/// Keys of the meta column family: the on-disk format, and the quota's floor (docs/store.md).
inline constexpr std::string_view meta_format_key = "format_version";
inline constexpr std::string_view meta_floor_key = "floor_ms";

struct trace_store::impl {
  impl(std::shared_ptr<const conf::config> c, metrics::registry& m, options o);
  ~impl();

  // -- open (store/store_open.cpp) --
  void open();
  /// Closes and opens the database again (a WAL write error that Resume() cannot clear);
  /// waits for the pages being read and the batch being built. Committer thread only.
  bool reopen();

  // -- purge (store/purge_markers.{hpp,cpp}; the batch is store/purge_batch.hpp) --
  void load_purged();
  void expire_purged();
  purge_result purge_keys(const std::vector<std::string>& keys);
  /// The purge of a whole list by markers: one per account, written at once.
  purge_result purge_by_marker(const list_query& q);

  // -- maintenance (store/maintenance.{hpp,cpp}) --
  void maintenance_loop();
  void maintain_once();
  void enforce_quota();
  void flush_memtables();
  void compact_all();
  std::uint64_t measure_disk_bytes() const;

  // -- reads (store/list_planner.cpp; get in store/record_read.cpp) --
  rocksdb::ReadOptions read_options(const snapshot_holder& s) const {
    rocksdb::ReadOptions ro;
    ro.snapshot = s.snap;
    return ro;
  }
  std::vector<std::string> all_accounts(const rocksdb::ReadOptions& ro) const;
  /// The accounts a list reads: the query's, narrowed by AccountSid.
  std::vector<std::string> list_accounts(const list_query& q, const rocksdb::ReadOptions& ro) const;
  std::uint64_t count_keys(const rocksdb::ReadOptions& ro, std::string_view account,
                           std::int64_t lo, std::int64_t hi) const;
  std::uint64_t count_unfiltered(const rocksdb::ReadOptions& ro, std::string_view account,
                                 std::int64_t lo, std::int64_t hi) const;
  /// The sum of the counters with keys in [start, upper).
  std::uint64_t sum_counters(const rocksdb::ReadOptions& ro, const std::string& start,
                             const std::string& upper) const;
  /// The AfterSid cursor's record, inverted as the index keys end; none when it is not set,
  /// has expired or is gone.
  [[nodiscard]] std::optional<std::string> cursor_of(const list_query& q,
                                                     const rocksdb::ReadOptions& ro,
                                                     std::int64_t cutoff) const;
  /// `every_match`: the page is every match (Page, PageSize and AfterSid ignored), for a purge.
  list_result list(const list_query& q, bool every_match = false);
  trace_lookup get(std::string_view sid);

  std::shared_ptr<const conf::config> cfg_;
  options opts_;
  std::shared_ptr<rocks::expiry_clock> clock_;
  // Purged records whose chunk entries are still on disk (store/purge_set.hpp).
  std::shared_ptr<purge_set> purged_ = std::make_shared<purge_set>();
  std::filesystem::path db_path_;
  std::int64_t reclaim_period_ms_ = 0;

  // metrics
  metrics::gauge& stall_;
  metrics::counter& quota_trims_;
  metrics::counter& purge_removed_;
  std::shared_ptr<std::atomic<std::uint64_t>> disk_bytes_ =
      std::make_shared<std::atomic<std::uint64_t>>(0);

  std::shared_ptr<rocks::listener> listener_;
  std::shared_ptr<rocksdb::Cache> cache_;
  // Readers (and maintenance, the writer's encoder while it builds a batch, and its
  // committer's Write) hold db_mu_ shared; reopen() holds it alone. Only the committer thread
  // changes db_, so it reads db_ without the lock.
  mutable std::shared_mutex db_mu_;
  database db_;

  // The shipping outbox when the database opened: whether records get an entry, and the
  // next entry's sequence (the writer numbers them from there).
  bool ship_ = false;
  std::uint64_t outbox_first_seq_ = 0;
  void open_outbox();

  log_limiter reopen_log_{std::chrono::seconds(10)};

  std::mutex maint_mu_;
  std::condition_variable maint_cv_;
  bool maint_stop_ = false;
  std::chrono::steady_clock::time_point last_flush_{};
  std::chrono::steady_clock::time_point last_reclaim_{};
  std::uint64_t compactions_at_reclaim_ = 0;
  std::mutex maint_run_mu_;  // one maintenance pass at a time

  // The queue, the encoder and the committer (store/trace_writer.hpp); started once the
  // database is open, stopped before it closes.
  std::unique_ptr<trace_writer> writer_;

  std::mutex purge_mu_;  // one marker purge at a time: a marker's meta value only grows

  std::thread maintainer_;
};

}  // namespace sidecar::store
