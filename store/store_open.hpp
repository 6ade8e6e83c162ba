// Opening the trace store's RocksDB database: the database and column family options, each
// with its reason, and the checks on what an existing directory holds. The members that use
// them (impl::open, open_outbox, reopen) are in store/store_open.cpp; docs/store.md, "Memory".
#pragma once

#include <rocksdb/cache.h>
#include <rocksdb/db.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <vector>

#include "store/purge_set.hpp"
#include "store/rocks_support.hpp"

namespace sidecar::store {

/// What the column families' options are built from.
struct family_settings {
  std::size_t memory = 0;                      // [store] memory: memtables + block cache
  std::shared_ptr<rocksdb::Cache> cache;       // the block cache, holding the whole budget
  std::shared_ptr<rocks::expiry_clock> clock;  // the expiry filter's clock
  std::shared_ptr<purge_set> purged;           // what purges removed, for the filters
  metrics::counter* purge_removed = nullptr;   // records a marker covered, dropped by filters
  std::uint64_t reclaim_period_s = 0;          // periodic compaction and ttl
};

/// The block cache's shards: 2^bits of them, each of at least 4 MiB, 64 at most. RocksDB's
/// own split (shards of 512 KiB and up) made a 64 MiB cache 64 shards of 1 MiB, in which a
/// table's index and filter blocks did not stay: each point read fetched them again
/// (docs/store.md, "Memory").
[[nodiscard]] int cache_shard_bits(std::size_t memory);

/// Creates the store directory ([store] path, owner-only) and its `db` subdirectory; throws
/// conf::config_error when it cannot. Returns the database's path.
[[nodiscard]] std::filesystem::path prepare_store_dir(const std::filesystem::path& dir);

/// The database options: one writer, a WAL that small families cannot pin, our log, and the
/// write buffer manager that charges the memtables (`memtables` bytes) to `cache`.
[[nodiscard]] rocksdb::DBOptions database_options(std::shared_ptr<rocks::listener> listener,
                                                  std::shared_ptr<rocksdb::Cache> cache,
                                                  std::size_t memtables);

/// The store's column families (store/store_db.hpp, `cf`), each with its options.
[[nodiscard]] std::vector<rocksdb::ColumnFamilyDescriptor> family_descriptors(
    const family_settings& s);

/// For a database already at `db_path`: throws conf::config_error when it is not a trace
/// store, and adds a descriptor for each family it holds that this version does not know (a
/// family RocksDB finds must be opened).
void add_existing_families(const std::filesystem::path& db_path,
                           std::vector<rocksdb::ColumnFamilyDescriptor>& descriptors);

}  // namespace sidecar::store
