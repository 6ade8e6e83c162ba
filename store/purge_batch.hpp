// The writes of a purge (docs/store.md, "Purge"), used by trace_store: each record's own keys
// deleted, its counters decremented, and (for a purge by sid or by filters) its sid added to
// the purge_set (in memory at once, and in the meta column family in the same batch).
#pragma once

#include <rocksdb/db.h>

#include <cstdint>
#include <string>
#include <vector>

#include "store/purge_set.hpp"

namespace sidecar::store {

/// The column families a purge writes.
struct purge_handles {
  rocksdb::DB* db = nullptr;
  rocksdb::ColumnFamilyHandle* meta = nullptr;
  rocksdb::ColumnFamilyHandle* records = nullptr;
  rocksdb::ColumnFamilyHandle* by_session = nullptr;
  rocksdb::ColumnFamilyHandle* counters = nullptr;
};

/// Deletes the records whose keys (account + inverted sid, as a page's items hold them) are `keys`,
/// in batches; adds to `deleted` those that still existed. Their sids are added to `purged` (and to
/// the meta column family) so that their chunk entries stay hidden until compaction strips them. A
/// failed write's status is returned (the records of earlier batches stay deleted).
[[nodiscard]] rocksdb::Status purge_records(const purge_handles& h, purge_set& purged,
                                            const std::vector<std::string>& keys,
                                            std::uint64_t& deleted);

}  // namespace sidecar::store
