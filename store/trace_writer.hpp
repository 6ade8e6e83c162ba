// The trace store's writer: the bounded queue that the proxy's submit() fills without ever
// waiting, the encoder thread that builds records into group-commit WriteBatches, and the
// committer thread that writes them in order (docs/store.md, "Write path"). trace_store owns
// one over its open database; nothing else uses it.
#pragma once

#include <rocksdb/write_batch.h>

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <utility>
#include <variant>
#include <vector>

#include "conf/config.hpp"
#include "store/capture.hpp"
#include "store/commit_feed.hpp"
#include "store/record_builder.hpp"
#include "store/segmented_queue.hpp"
#include "store/store_db.hpp"
#include "store/trace_record.hpp"
#include "store/trace_store.hpp"
#include "support/counted_warning.hpp"
#include "support/metrics.hpp"

namespace sidecar::store {

class trace_writer {
 public:
  /// What the writer needs of its store: the database (and the mutex that guards it), and how
  /// to open it again after a write error that sticks to it (called on the committer thread,
  /// with no lock held).
  struct store_side {
    database& db;
    std::shared_mutex& db_mu;
    std::function<bool()> reopen;
  };

  /// Starts the encoder and the committer. `ship`: records get an outbox entry, numbered from
  /// `outbox_seq` (store/outbox.hpp).
  trace_writer(std::shared_ptr<const conf::config> cfg, const trace_store_options& opts,
               metrics::registry& metrics, store_side store, bool ship, std::uint64_t outbox_seq);
  /// Writes everything queued and every batch in the pipeline, then closes the feed.
  ~trace_writer();
  trace_writer(const trace_writer&) = delete;
  trace_writer& operator=(const trace_writer&) = delete;

  /// Never blocks, never throws: false when dropped (queue full), counted.
  bool submit(capture&& c) noexcept;
  /// A refused record is left as it was.
  bool submit(trace_record&& r) noexcept;
  /// Waits until everything submitted before this call is written (or dropped).
  void flush();

  [[nodiscard]] store_health health() const;
  [[nodiscard]] commit_feed& feed() { return feed_; }
  [[nodiscard]] std::uint64_t outbox_next_seq() const { return outbox_seq_.load(); }
  /// Adds the writer's counts (written, dropped, skipped, queued bytes) to `s`.
  void add_stats(trace_store::stats& s) const;

 private:
  struct queued {
    // Built in its place in the queue (clang 14 has no aggregate initialisation by
    // parentheses for emplace_back).
    template <class Item>
    queued(Item&& i, std::size_t n) : item(std::forward<Item>(i)), bytes(n) {}
    std::variant<capture, trace_record> item;
    std::size_t bytes = 0;
  };
  // 64 captures to a segment (48 KiB); each of the two queues keeps at most 64 spare
  // segments (3 MiB) after a burst.
  static constexpr std::size_t segment_items = 64;
  static constexpr std::size_t kept_segments = 64;
  using item_queue = segmented_queue<queued, segment_items>;
  // The writer is a pipeline of two threads: the encoder (encoder_loop, process, append)
  // takes the queue and builds WriteBatches; the committer writes them in order. While one
  // batch is written the next is built, so the two halves of the work use two cores. At
  // most one built batch waits for the committer; the queued bytes count every item until
  // its batch is written, so the queue bound holds.
  struct write_job {
    std::unique_ptr<rocksdb::WriteBatch> batch;
    std::unordered_map<std::string, std::uint64_t> counts;  // records per minute counter
    std::uint64_t records = 0;                              // records in the batch
    std::uint64_t done = 0;  // queue items it settles: written, skipped or dropped
    std::size_t bytes = 0;   // their queued bytes
    // The batch's records for the commit feed, published once written (their JSON built by
    // the encoder when someone was subscribed, else by the committer if someone is by then):
    // the first `kept`. The entries after them are records of earlier batches, kept when no
    // one was subscribed, that the encoder builds into again (recycle_records()).
    std::vector<committed_record> published;
    std::size_t kept = 0;

    /// The record to build the next one into: a recycled one when there is one.
    trace_record& next_record() {
      if (kept == published.size()) published.emplace_back();
      return published[kept].record;
    }
  };

  // The part of a chunk that takes its next entries, and the bytes it holds so far.
  struct part_state {
    std::uint32_t part = 0;
    std::size_t bytes = 0;
  };
  struct chunk_parts {
    part_state bodies;
    part_state index;
  };

  template <class Item>
  bool enqueue(Item& item, std::size_t bytes) noexcept;
  /// Queued bytes at which the encoder stops lingering: a batch's worth, or half the queue
  /// when the queue is smaller than a batch.
  [[nodiscard]] std::size_t batch_threshold() const {
    return std::min(opts_.max_batch_bytes, cfg_->store.queue_bytes / 2);
  }
  void encoder_loop();
  void process(item_queue& items, record_builder& builder);
  /// Keeps the captures of processed items for their buffers, and gives them to the queue as
  /// spares once the proxy threads have taken the last ones (encoder thread).
  void give_back_captures(item_queue& items);
  /// Appends one queued item to the job (a capture built into its record first); a record
  /// that cannot be built is dropped and counted.
  void encode(queued& q, record_builder& builder, write_job& job);
  void encode_capture(const capture& c, record_builder& builder, write_job& job);
  write_job new_job();
  /// Waits until the committer has taken the previous job, then gives it this one.
  void hand_off(write_job&& job);
  void committer_loop();
  /// Keeps the job's next_record(), appended to its batch, for the commit feed, with its JSON
  /// when someone is subscribed.
  void keep_for_feed(write_job& job);
  /// Publishes a written job's records, when anyone is subscribed (committer thread).
  void publish(write_job& job);
  /// A written job's records, when not published, kept for the encoder to build into
  /// (committer thread): freed here and allocated again there, they cost about thirteen
  /// allocations and frees per record (bench/README.md, session 22).
  static void recycle_records(write_job& job);
  bool append(rocksdb::WriteBatch& batch, trace_record& r,
              std::unordered_map<std::string, std::uint64_t>& counts);
  /// Adds the pending chunk operands to the batch.
  void add_pending_chunks(rocksdb::WriteBatch& batch);
  /// The parts of (account, chunk), one map lookup for both kinds.
  chunk_parts& parts_of(std::string_view account, std::int64_t chunk);
  /// The part that takes the next `bytes` of a chunk: the current one, or the next once the
  /// current one holds its target size.
  static std::uint32_t next_part(part_state& st, std::size_t bytes);
  bool commit(rocksdb::WriteBatch& batch, std::unordered_map<std::string, std::uint64_t>& counts,
              std::uint64_t records);
  void set_health(bool ok, std::string reason);

  std::shared_ptr<const conf::config> cfg_;
  trace_store_options opts_;
  database& db_;
  // The encoder holds it shared while it builds a batch, the committer during Write; reopen()
  // takes it alone. Only the committer thread changes db_, so it reads db_ without the lock.
  std::shared_mutex& db_mu_;
  std::function<bool()> reopen_;

  // metrics
  metrics::counter& written_;
  metrics::counter& dropped_full_;
  metrics::counter& dropped_error_;
  metrics::counter& dropped_invalid_;
  std::array<metrics::counter*, 3> skipped_{};
  metrics::histogram& write_seconds_;
  metrics::gauge& queue_gauge_;

  // The queue. queued_bytes_ counts what the writer holds too, until it is written.
  mutable std::mutex mu_;
  std::condition_variable work_cv_;
  std::condition_variable done_cv_;
  // Not a deque: a queued capture is larger than a deque's 512-byte block, so a deque
  // allocated a block for every item on the proxy thread and freed it on the encoder
  // (bench/README.md, session 22). Not one vector either: its doublings moved every queued
  // item under this lock (store/segmented_queue.hpp). The queue and the encoder's batch trade
  // places (swap), each keeping its spare segments, so a steady load allocates nothing here.
  item_queue queue_{kept_segments};
  // Captures already written, kept for their buffers: submit() hands one back for each capture
  // it takes, so a proxy thread builds its next capture into it and neither thread allocates
  // nor frees a capture's strings (bench/README.md, session 23).
  std::vector<capture> spare_captures_;
  std::size_t queued_bytes_ = 0;
  std::uint64_t submitted_ = 0;    // accepted items
  std::uint64_t processed_ = 0;    // written, skipped or dropped by the writer
  std::size_t flush_waiters_ = 0;  // flush() callers: the writer does not linger for them
  bool stopping_ = false;

  // Which part of each recent (account, chunk) takes the next body, and the next index entry
  // (chunk_parts); encoder thread only. Forgotten after a restart: a part then grows past its
  // target size.
  std::unordered_map<std::string, chunk_parts> parts_;  // by id(account) + chunk
  std::int64_t newest_chunk_ = 0;
  std::string parts_key_;  // the map's key, built here: no allocation per lookup
  // The entry parts_of() found last: consecutive records are often of one account and chunk,
  // and then find it without building the map's key.
  struct last_parts {
    std::string account;
    std::int64_t chunk = 0;
    chunk_parts* parts = nullptr;  // into parts_, whose nodes stay put until an erase
  };
  last_parts last_parts_;

  // The chunk entries of the batch being built, per chunk key (encoder thread only). A
  // batch's records of one account mostly share one chunk, so each chunk gets one merge
  // operand per batch (the entries concatenated, as the append operator would) instead of
  // one per record: a memtable insert per chunk and batch, not per record.
  std::unordered_map<std::string, std::string> pending_bodies_;
  std::unordered_map<std::string, std::string> pending_index_;
  std::size_t pending_bytes_ = 0;
  // Captures the encoder is done with, waiting to become the spares, and the bytes they hold
  // (encoder thread only).
  std::vector<capture> returned_;
  std::size_t returned_bytes_ = 0;
  // Buffers append() reuses for every record (encoder thread only).
  std::string value_buf_, entry_buf_, inv_buf_;
  std::string scratch_key_;  // its other keys, one after the other

  // The shipping outbox: whether records get an entry, and the next entry's sequence.
  bool ship_ = false;
  std::atomic<std::uint64_t> outbox_seq_{0};  // read by the shipper for its backlog

  // Write failures: batches are dropped until retry_at_, then Resume() and try again.
  bool failing_ = false;
  std::chrono::steady_clock::time_point retry_at_{};
  log_limiter write_log_{std::chrono::seconds(10)};
  // Skipped and dropped records at warn, one line per reason every 10 s with its count
  // (docs/operations.md), in the order of skip_reason.
  std::array<log::counted_warning, 3> skipped_log_{
      log::counted_warning{"records skipped", "no_account"},
      log::counted_warning{"records skipped", "unknown_account"},
      log::counted_warning{"records skipped", "traces_not_enabled"}};
  log::counted_warning full_log_{"records dropped", "queue_full"};
  log::counted_warning error_log_{"records dropped", "write_error"};
  log_limiter invalid_log_{std::chrono::seconds(10)};

  mutable std::mutex health_mu_;
  store_health health_;

  // The hand-off between encoder and committer.
  std::mutex job_mu_;
  std::condition_variable job_cv_;
  std::optional<write_job> job_;  // built, waiting for the committer
  // Written jobs, emptied for reuse: their batch's buffer, their record list and their counter
  // map keep their capacity, so a batch allocates nothing of them afresh.
  std::vector<write_job> spare_jobs_;
  bool encoder_done_ = false;

  // Written batches, for subscribers (the API's live streams).
  commit_feed feed_;

  std::thread encoder_;
  std::thread committer_;
};

}  // namespace sidecar::store
