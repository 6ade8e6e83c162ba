// The RocksDB pieces of the trace store that RocksDB calls back into: the expiry compaction
// filter (reads each key's time), the counters' merge operator, and the event listener that
// reports stalls and compactions.
#pragma once

#include <rocksdb/compaction_filter.h>
#include <rocksdb/env.h>
#include <rocksdb/listener.h>
#include <rocksdb/merge_operator.h>
#include <rocksdb/slice_transform.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "store/purge_set.hpp"
#include "support/metrics.hpp"

namespace sidecar::store::rocks {

/// The expiry bound shared by reads and compaction: a record is visible while
/// created_ms >= cutoff() = max(now - retention, floor). The floor moves up when the disk
/// quota removes the oldest records.
struct expiry_clock {
  std::function<std::int64_t()> now_ms;
  std::int64_t retention_ms = 0;
  std::atomic<std::int64_t> floor_ms{0};
  [[nodiscard]] std::int64_t cutoff() const {
    const std::int64_t by_age = now_ms() - retention_ms;
    const std::int64_t floor = floor_ms.load(std::memory_order_acquire);
    return by_age > floor ? by_age : floor;
  }
};

/// How the time of a key is found in a column family.
enum class key_kind : std::uint8_t {
  id_inverted_sid,  // varint(len) id + ~sid (by_account, by_session)
  sid,              // sid bytes (records)
  counter,  // varint(len) id + be64 bucket (counters): dropped once the whole bucket expired
  chunk,    // varint(len) id + inv(chunk start) + be16 part (body_chunks): likewise
  keep,     // meta: never expires
};

/// Where a column family's filter finds what purges removed (docs/store.md, "Purge").
enum class purge_scope : std::uint8_t {
  none,           // counters, meta, outbox: nothing of a record's own
  chunk_values,   // body_chunks, index_chunks: purged entries are cut out of chunk values
  key_account,    // by_account: a covered key goes (the account is the key's id)
  session_entry,  // by_session: a covered key goes (the account is in the value)
  record_value,   // records: a covered record goes (the account is in the value)
};

/// What a filter needs to drop purged data: the purged set, the family's scope, and the
/// counter of records a marker covered that the filter removed (records only; may be null).
struct purge_filtering {
  std::shared_ptr<const purge_set> purged;
  purge_scope scope = purge_scope::none;
  metrics::counter* removed = nullptr;
};

/// One factory per column family; every filter it makes takes the cutoff once, at its start.
/// It drops expired keys and, with `purging`, what purges cover: chunk entries of purged
/// records are cut out of chunk values, and the keys and records a purge marker covers are
/// dropped (the marker's physical removal: docs/store.md, "Purge").
[[nodiscard]] std::shared_ptr<rocksdb::CompactionFilterFactory> make_expiry_filter_factory(
    std::shared_ptr<const expiry_clock> clock, key_kind kind, purge_filtering purging = {});

/// The id part (varint length + id) of an id-keyed key, or the first 4 bytes of a sid key:
/// the memtable keeps an insert hint per prefix, and each new key of an id lands next to the
/// previous one (newest first), so inserts skip the skiplist search. `by_session` uses the same
/// transform as its prefix extractor, the buckets of its hash memtable (store_open.cpp); its
/// Name() is recorded in that family's table files, so it stays as it is.
[[nodiscard]] std::shared_ptr<const rocksdb::SliceTransform> make_insert_hint_prefix(key_kind kind);

/// Concatenates body chunk entries (each new record's body is a merge operand of its chunk).
[[nodiscard]] std::shared_ptr<rocksdb::MergeOperator> make_append_merge_operator();

/// Adds little-endian uint64 counts.
[[nodiscard]] std::shared_ptr<rocksdb::MergeOperator> make_count_merge_operator();
[[nodiscard]] std::string encode_count(std::uint64_t n);
[[nodiscard]] std::uint64_t decode_count(std::string_view s);

/// RocksDB's own log (warnings and errors only) as log lines of ours, instead of a LOG file
/// in the database directory: nothing to fill the disk or to fail when it is full.
[[nodiscard]] std::shared_ptr<rocksdb::Logger> make_logger();

/// Stall state (0 normal, 1 delayed, 2 stopped: the worst over column families) into a gauge,
/// and a count of finished compactions and flushes for the maintenance thread.
class listener final : public rocksdb::EventListener {
 public:
  explicit listener(metrics::gauge& stall) : stall_(stall) {}
  void OnStallConditionsChanged(const rocksdb::WriteStallInfo& info) override;
  void OnCompactionCompleted(rocksdb::DB*, const rocksdb::CompactionJobInfo&) override {
    compactions_.fetch_add(1, std::memory_order_relaxed);
  }
  [[nodiscard]] std::uint64_t compactions() const {
    return compactions_.load(std::memory_order_relaxed);
  }

 private:
  metrics::gauge& stall_;
  std::mutex mu_;
  std::vector<std::pair<std::string, int>> states_;
  std::atomic<std::uint64_t> compactions_{0};
};

}  // namespace sidecar::store::rocks
