// The shipping outbox (docs/fleet.md): while [fleet] ships, every record the committer writes
// also gets an entry here, keyed by a commit sequence, in the same RocksDB WriteBatch as the
// record itself. The outbox therefore holds exactly the committed records not yet confirmed by
// ClickHouse, in commit order; the shipper (fleet/) reads it and settles what ClickHouse took.
// Its column family ("outbox") is opened by the trace store; this file owns its encoding.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rocksdb {
class DB;
class ColumnFamilyHandle;
class WriteBatch;
}  // namespace rocksdb

namespace sidecar::store {

/// One record waiting to be shipped.
struct outbox_entry {
  std::uint64_t seq = 0;  // commit order
  std::string sid;        // the record's sid, "TR" + 32 hex
};

namespace outbox {

inline constexpr const char* column_family = "outbox";

/// The key of an entry: the sequence as 8 big-endian bytes (byte order is commit order).
[[nodiscard]] std::string key(std::uint64_t seq);
/// The position key (empty: before every entry) holds the first sequence not yet settled.
inline constexpr std::string_view position_key{};

/// Adds the entry of record `sid16` (the store's 16-byte sid) to a batch being built.
void add(rocksdb::WriteBatch& batch, rocksdb::ColumnFamilyHandle* cf, std::uint64_t seq,
         std::string_view sid16);

/// The sequence the next entry takes after a (re)open: after every entry and the position.
[[nodiscard]] std::uint64_t next_seq(rocksdb::DB& db, rocksdb::ColumnFamilyHandle* cf);

/// Up to `max` entries with seq >= `from`, in commit order. False on a read error.
[[nodiscard]] bool read(rocksdb::DB& db, rocksdb::ColumnFamilyHandle* cf, std::uint64_t from,
                        std::size_t max, std::vector<outbox_entry>& out);

/// Removes the entries from `from` to `through` (every entry before `from` is already gone)
/// and moves the position past them, in one write.
[[nodiscard]] bool settle(rocksdb::DB& db, rocksdb::ColumnFamilyHandle* cf, std::uint64_t from,
                          std::uint64_t through);

/// How many entries are waiting (a scan: for startup and tests, not for every batch).
[[nodiscard]] std::uint64_t count(rocksdb::DB& db, rocksdb::ColumnFamilyHandle* cf);

}  // namespace outbox
}  // namespace sidecar::store
