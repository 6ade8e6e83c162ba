// The RocksDB trace store: a capture_sink whose writer thread builds records and writes them
// in group-committed batches, and a trace_reader over covering indexes. Records expire after
// store.retention (hidden at once at read time, removed by a compaction filter).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "conf/config.hpp"
#include "store/capture.hpp"
#include "store/commit_feed.hpp"
#include "store/outbox.hpp"
#include "store/trace_purge.hpp"
#include "store/trace_query.hpp"
#include "store/trace_record.hpp"
#include "support/metrics.hpp"

namespace sidecar::store {

/// The store's health, for GET /healthz.
struct store_health {
  bool ok = true;
  std::string reason;  // why not ok ("disk full", "write error: ...")
};

/// How a trace_store runs (besides the configuration); tests inject a clock and hooks.
struct trace_store_options {
  /// Wall clock in ms since the epoch; tests inject one to move time. It drives both the
  /// read-time expiry bound and the compaction filter.
  std::function<std::int64_t()> now_ms;
  /// How often the maintenance thread runs: disk quota, memtable flush, reclaim of expired
  /// data, recovery from write errors.
  std::chrono::milliseconds maintenance_interval = std::chrono::seconds(10);
  /// Called on the writer thread before each batch is written (tests hold the writer with
  /// it to fill the queue); empty in the product.
  std::function<void()> before_write;
  /// Bound of one group-commit batch (bytes of encoded keys and values).
  std::size_t max_batch_bytes = 4u << 20;
  /// How long the writer lets a batch gather after the first record arrives, unless the
  /// queue already holds a batch's worth or someone waits in flush(): one wake-up and one
  /// RocksDB write per linger at moderate rates instead of one per record. It adds at most
  /// this much to what a crash can lose (docs/store.md).
  std::chrono::microseconds linger{std::chrono::milliseconds(5)};
};

class trace_store final : public capture_sink, public trace_reader, public trace_purger {
 public:
  using options = trace_store_options;

  /// Counts since open, for tests and tools (the same figures are on /metrics).
  struct stats {
    std::uint64_t written = 0;
    std::uint64_t dropped_queue_full = 0;
    std::uint64_t dropped_write_error = 0;
    std::uint64_t dropped_invalid = 0;
    std::uint64_t skipped = 0;  // captures whose account is not recorded
    std::uint64_t queue_bytes = 0;
    std::uint64_t quota_trims = 0;
  };

  /// Opens (or creates) the database under cfg->store.path and starts the writer thread.
  /// Throws conf::config_error when the directory cannot be used or holds an unknown format
  /// version.
  trace_store(std::shared_ptr<const conf::config> cfg, metrics::registry& metrics,
              options opts = {});
  /// Flushes the queue and closes the database.
  ~trace_store() override;

  // capture_sink: never blocks; false when dropped (queue full), counted.
  bool submit(capture&& c) noexcept override;
  /// Queues a ready record (benchmarks, tests, tools); same queue and rules as submit().
  /// A refused record is left as it was (a tool may retry it).
  bool submit(trace_record&& r) noexcept;
  /// Waits until everything submitted before this call is written (or dropped).
  void flush();

  // trace_reader
  [[nodiscard]] trace_lookup get(std::string_view sid) override;
  [[nodiscard]] list_result list(const list_query& q) override;
  [[nodiscard]] trace_purger* purger() override { return this; }

  // trace_purger (store/purge_batch.hpp). A purge of the whole list (no filter but
  // DateCreatedBefore) writes a purge marker per account and returns; compactions remove what
  // it covers from disk (docs/store.md, "Purge").
  [[nodiscard]] purge_result purge(std::string_view sid) override;
  [[nodiscard]] purge_result purge(const list_query& q) override;

  [[nodiscard]] store_health health() const;

  /// The records of every batch once it is written (docs/store.md, "The commit feed").
  [[nodiscard]] commit_feed& feed();

  /// The shipping outbox (store/outbox.hpp, docs/fleet.md), for the fleet shipper: up to
  /// `max` entries with seq >= `from`, in commit order (false on a read error); and the
  /// removal of the entries from `from` to `through` once ClickHouse has them.
  [[nodiscard]] bool outbox_read(std::uint64_t from, std::size_t max,
                                 std::vector<outbox_entry>& out);
  [[nodiscard]] bool outbox_settle(std::uint64_t from, std::uint64_t through);
  /// The sequence the next outbox entry will take (the backlog's end).
  [[nodiscard]] std::uint64_t outbox_next_seq() const;

  /// Runs a full manual compaction (tests and tools: expired data is removed now).
  void compact();
  /// Runs one maintenance pass now (disk quota, memtable flush, recovery); the maintenance
  /// thread does this every options::maintenance_interval.
  void maintain();
  [[nodiscard]] stats get_stats() const;
  /// Bytes the database takes on disk.
  [[nodiscard]] std::uint64_t disk_bytes() const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace sidecar::store
