// Reading one stored record: its value in the records column family and its response body in
// a body chunk. What the scanners, the list planner and get(sid) share (docs/store.md, "Column
// families and keys").
#pragma once

#include <rocksdb/db.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "store/trace_sid.hpp"

namespace sidecar::store {

/// A snapshot released when the last reader of it is gone.
struct snapshot_holder {
  rocksdb::DB* db;
  const rocksdb::Snapshot* snap;
  explicit snapshot_holder(rocksdb::DB* d) : db(d), snap(d->GetSnapshot()) {}
  snapshot_holder(const snapshot_holder&) = delete;
  snapshot_holder& operator=(const snapshot_holder&) = delete;
  ~snapshot_holder() { db->ReleaseSnapshot(snap); }
};

/// Reads body chunks for records, keeping the last chunk read (a page's records mostly
/// share a few chunks).
class chunk_reader {
 public:
  chunk_reader(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* chunks) : db_(db), chunks_(chunks) {}
  /// The response body of the record under `key` (id + inv sid) whose body is in `part`;
  /// "" when it has none. False on a read error.
  [[nodiscard]] bool body(const rocksdb::ReadOptions& ro, std::string_view key, std::uint32_t part,
                          std::string_view& out);

 private:
  rocksdb::DB* db_;
  rocksdb::ColumnFamilyHandle* chunks_;
  std::string cached_key_;
  rocksdb::PinnableSlice cached_;
  std::vector<std::pair<std::string_view, std::string_view>> entries_;  // (inv sid, body)
};

/// A sid's 16 bytes as a key of the records column family.
inline rocksdb::Slice sid_slice(const store::sid_bytes& sid) {
  return {reinterpret_cast<const char*>(sid.data()), sid.size()};
}

/// What reading one record of a planned page found.
enum class read_outcome : std::uint8_t { found, gone, failed };

/// A record's JSON from its two halves (records and its body chunk). `gone` when it was
/// removed since the page was planned (expired, trimmed); `failed` on a read error or a value
/// that does not decode, which the reader reports as a failed query, never as a missing record.
/// `key` is its id-keyed key (account + inv sid), `part` its body's chunk part.
[[nodiscard]] read_outcome read_record(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* records,
                                       chunk_reader& chunks, const rocksdb::ReadOptions& ro,
                                       std::string_view key, std::uint32_t part, std::string& json);

/// One record of a page: its key (id + inv sid) and the part of its body chunk.
struct page_item {
  std::string key;
  std::uint32_t part = 0;
};

}  // namespace sidecar::store
