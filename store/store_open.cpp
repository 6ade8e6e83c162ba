// Opening the trace store's RocksDB database (store/store_open.hpp): the options with their
// reasons, the format check, and reopening after a write error.
#include "store/store_open.hpp"

#include <rocksdb/filter_policy.h>
#include <rocksdb/memtablerep.h>
#include <rocksdb/table.h>
#include <rocksdb/write_buffer_manager.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdlib>
#include <limits>
#include <string>

#include "conf/config_error.hpp"
#include "store/outbox.hpp"
#include "store/rocks_crc32c.hpp"
#include "store/store_codec.hpp"
#include "store/store_db.hpp"
#include "store/trace_store_impl.hpp"
#include "support/log.hpp"

namespace sidecar::store {

namespace fs = std::filesystem;

namespace {

rocksdb::TableFactory* table(const std::shared_ptr<rocksdb::Cache>& cache, std::size_t block_size,
                             bool bloom) {
  rocksdb::BlockBasedTableOptions t;
  t.block_cache = cache;
  t.block_size = block_size;
  t.format_version = 5;
  // Each block's checksum: CRC32C while ISA-L computes it (52 GB/s here), else RocksDB's
  // default XXH3 (3.7 GB/s on blocks past 4 KiB in Debian's build; its own CRC32C, 1.3 GB/s).
  // A table file names its checksum in its footer: files of either kind are read alike
  // (docs/store.md, "CRC32C").
  t.checksum = rocks::crc32c_implementation() == "isa-l" ? rocksdb::kCRC32c : rocksdb::kXXH3;
  t.cache_index_and_filter_blocks = true;
  t.pin_l0_filter_and_index_blocks_in_cache = true;
  if (bloom) t.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  return rocksdb::NewBlockBasedTableFactory(t);
}

rocksdb::ColumnFamilyOptions family_options(const family_settings& s, rocks::key_kind kind,
                                            std::size_t block_size, bool bloom,
                                            std::size_t write_buffer,
                                            rocks::purge_scope purging = rocks::purge_scope::none) {
  rocksdb::ColumnFamilyOptions o;
  o.compaction_filter_factory =
      rocks::make_expiry_filter_factory(s.clock, kind, {s.purged, purging, s.purge_removed});
  o.table_factory.reset(table(s.cache, block_size, bloom));
  o.compression = rocksdb::kLZ4Compression;
  o.bottommost_compression = rocksdb::kLZ4Compression;
  o.write_buffer_size = write_buffer;
  o.max_write_buffer_number = 4;
  o.level_compaction_dynamic_level_bytes = true;
  o.periodic_compaction_seconds = s.reclaim_period_s;
  o.ttl = s.reclaim_period_s;
  if (kind != rocks::key_kind::keep) {
    o.memtable_insert_with_hint_prefix_extractor = rocks::make_insert_hint_prefix(kind);
  }
  return o;
}

/// The chunk families hold appended chunks that filters search as they are read.
rocksdb::ColumnFamilyOptions chunk_options(const family_settings& s, std::size_t write_buffer) {
  auto o = family_options(s, rocks::key_kind::chunk, 64 << 10, false, write_buffer,
                          rocks::purge_scope::chunk_values);
  o.compression = rocksdb::kNoCompression;
  o.bottommost_compression = rocksdb::kNoCompression;
  o.merge_operator = rocks::make_append_merge_operator();
  return o;
}

rocksdb::ColumnFamilyOptions options_of(cf family, const family_settings& s) {
  // Each family's memtable is a share of the budget (records and bodies a quarter each, the
  // indexes an eighth, the small families 2 MiB at most), so that most flushes are a family
  // filling its own memtable rather than the manager flushing the oldest one early.
  const std::size_t memtables = s.memory / 2;
  const std::size_t small_buffer = std::min<std::size_t>(2 << 20, memtables / 16);
  rocksdb::ColumnFamilyOptions o;
  switch (family) {
    case cf_default:
    case cf_meta:
    case cf_outbox:  // settled by the shipper, never expired by key (docs/fleet.md)
      o = family_options(s, rocks::key_kind::keep, 4096, false, small_buffer);
      break;
    case cf_records:
      // Keyed by sid, so in time order: each flush writes a key range after the last one
      // (compaction can move such files down without rewriting them), and the memtable
      // inserts are appends. Bloom filter: get(sid) and a page's records are point lookups.
      o = family_options(s, rocks::key_kind::sid, 16 << 10, true, memtables / 4,
                         rocks::purge_scope::record_value);
      // Large records (request bodies of up to 100 KB) go to blob files so that they never
      // slow key scans; blob files are time-ordered, so expired ones are dropped whole.
      o.enable_blob_files = true;
      o.min_blob_size = 4096;
      o.blob_compression_type = rocksdb::kLZ4Compression;
      o.enable_blob_garbage_collection = true;
      o.blob_garbage_collection_age_cutoff = 0.5;
      break;
    case cf_chunks:
      // Uncompressed: the ResponseBody filter searches the chunks as they are read.
      o = chunk_options(s, memtables / 4);
      break;
    case cf_by_account:
      // Not written since format version 5 (the index chunks replaced it): the keys an older
      // version wrote are only left to expire, so its memtable is a small one.
      o = family_options(s, rocks::key_kind::id_inverted_sid, 16 << 10, false, small_buffer,
                         rocks::purge_scope::key_account);
      break;
    case cf_by_session:
      o = family_options(s, rocks::key_kind::id_inverted_sid, 16 << 10, false, memtables / 8,
                         rocks::purge_scope::session_entry);
      // A hash memtable by session: each record's key goes into its session's own short
      // skiplist instead of a search of the whole memtable's (a new session's key lands at a
      // random place there), and a SessionSid query, a seek within one session's prefix, reads
      // only that list. The flush sorts the buckets instead (docs/store.md, "RocksDB
      // settings"). 65 536 buckets: 512 KiB of a 4 MiB memtable, tens of thousands of sessions.
      o.prefix_extractor = rocks::make_insert_hint_prefix(rocks::key_kind::id_inverted_sid);
      o.memtable_factory.reset(rocksdb::NewHashSkipListRepFactory(1 << 16));
      // A hash memtable ignores insert hints: keeping them would only fill RocksDB's hint map
      // with a prefix per session, on every insert.
      o.memtable_insert_with_hint_prefix_extractor = nullptr;
      break;
    case cf_counters:
      o = family_options(s, rocks::key_kind::counter, 4096, false, small_buffer);
      o.merge_operator = rocks::make_count_merge_operator();
      break;
    case cf_index_chunks:
      // The covering entries again, in chunks: the filtered scans read large values
      // instead of stepping an iterator once per record. Uncompressed, like body_chunks.
      o = chunk_options(s, memtables / 8);
      break;
    case cf_count:
      break;
  }
  return o;
}

/// Whether `version` is older than this binary's and still read (docs/operations.md, "Upgrade").
bool readable_older(const std::string& version) {
  for (auto v = codec::oldest_read_version; v < codec::format_version; ++v) {
    if (version == std::to_string(v)) return true;
  }
  return false;
}

/// The on-disk format this binary reads, written into a new database; throws on another.
void check_format(rocksdb::DB& db, rocksdb::ColumnFamilyHandle* meta, const fs::path& db_path) {
  std::string version;
  auto s = db.Get({}, meta, slice(meta_format_key), &version);
  if (s.IsNotFound()) {
    version = std::to_string(codec::format_version);
    rocksdb::WriteOptions wo;
    wo.sync = true;
    s = db.Put(wo, meta, slice(meta_format_key), version);
  }
  if (s.ok() && readable_older(version)) {
    // Its records are read as they are; from now on the database holds records of this
    // version too, which the binaries of before cannot read: they will refuse it.
    rocksdb::WriteOptions wo;
    wo.sync = true;
    s = db.Put(wo, meta, slice(meta_format_key), std::to_string(codec::format_version));
    if (s.ok()) {
      log::info("store: format version " + version + " upgraded to " +
                    std::to_string(codec::format_version),
                {{"path", db_path.string()}});
      version = std::to_string(codec::format_version);
    }
  }
  if (!s.ok()) {
    throw conf::config_error("[store] path: cannot read " + db_path.string() + ": " + s.ToString());
  }
  if (version != std::to_string(codec::format_version)) {
    throw conf::config_error(
        "[store] path: " + db_path.string() + " holds trace store format version " + version +
        "; this trace-sidecar reads version " + std::to_string(codec::format_version) +
        " (use a matching binary or another data directory)");
  }
}

}  // namespace

fs::path prepare_store_dir(const fs::path& dir) {
  std::error_code ec;
  if (!fs::exists(dir, ec)) {
    fs::create_directories(dir, ec);
    if (ec) {
      throw conf::config_error("[store] path: cannot create " + dir.string() + ": " + ec.message());
    }
    fs::permissions(dir, fs::perms::owner_all, fs::perm_options::replace, ec);
  }
  if (!fs::is_directory(dir, ec)) {
    throw conf::config_error("[store] path: " + dir.string() + " is not a directory");
  }
  fs::path db_path = dir / "db";
  // Created here, owner-only, rather than by RocksDB (which logs an error for a missing one).
  if (fs::create_directory(db_path, ec)) ::chmod(db_path.c_str(), 0700);
  return db_path;
}

rocksdb::DBOptions database_options(std::shared_ptr<rocks::listener> listener,
                                    std::shared_ptr<rocksdb::Cache> cache, std::size_t memtables) {
  rocksdb::DBOptions dbo;
  dbo.create_if_missing = true;
  dbo.create_missing_column_families = true;
  // Two flush threads and one compaction thread (docs/store.md, "RocksDB settings"): with one
  // flush thread, the records family's full memtables waited behind the other families'
  // flushes until RocksDB slowed every write to 16 MiB/s. RocksDB's own split of
  // max_background_jobs gives flushes a quarter, so it takes the two (deprecated) counts.
  dbo.max_background_flushes = 2;
  dbo.max_background_compactions = 1;
  dbo.bytes_per_sync = 1 << 20;
  dbo.max_total_wal_size = 256ull << 20;  // small column families must not pin old WALs
  dbo.info_log = rocks::make_logger();    // no LOG file: warnings and errors go to our log
  dbo.info_log_level = rocksdb::InfoLogLevel::WARN_LEVEL;
  dbo.listeners.push_back(std::move(listener));
  // One thread writes (the committer): concurrent memtable inserts buy nothing, and they
  // would disable the per-prefix insert hints.
  dbo.allow_concurrent_memtable_write = false;
  // The write buffer manager charges every memtable to the cache, flushing once the
  // memtables take `memtables` bytes of it (docs/store.md, "Memory").
  dbo.write_buffer_manager =
      std::make_shared<rocksdb::WriteBufferManager>(memtables, std::move(cache));
  return dbo;
}

int cache_shard_bits(std::size_t memory) {
  constexpr std::size_t min_shard = 4u << 20;
  int bits = 0;
  while (bits < 6 && (memory >> (bits + 1)) >= min_shard) ++bits;
  return bits;
}

std::vector<rocksdb::ColumnFamilyDescriptor> family_descriptors(const family_settings& s) {
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (std::size_t i = 0; i < cf_count; ++i) {
    descriptors.emplace_back(cf_names[i], options_of(static_cast<cf>(i), s));
  }
  return descriptors;
}

void add_existing_families(const fs::path& db_path,
                           std::vector<rocksdb::ColumnFamilyDescriptor>& descriptors) {
  std::error_code ec;
  std::vector<std::string> existing;
  const bool exists =
      fs::exists(db_path / "CURRENT", ec) &&
      rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), db_path.string(), &existing).ok();
  if (!exists) return;
  if (std::find(existing.begin(), existing.end(), "meta") == existing.end()) {
    throw conf::config_error("[store] path: " + db_path.string() +
                             " holds a database that is not a trace-sidecar store");
  }
  for (const auto& name : existing) {
    if (std::find(cf_names.begin(), cf_names.end(), name) == cf_names.end()) {
      descriptors.emplace_back(name, rocksdb::ColumnFamilyOptions());
    }
  }
}

void trace_store::impl::open() {
  db_path_ = prepare_store_dir(cfg_->store.path);
  // Who computes RocksDB's checksums (docs/store.md, "CRC32C"), chosen before RocksDB's first.
  if (rocks::crc32c_implementation() != "isa-l") {
    log::warn("store: ISA-L's CRC32C disagreed with RocksDB's own, which is used instead");
  }
  // [store] memory bounds RocksDB's memtables and block cache together (docs/store.md,
  // "Memory"): the cache holds the whole budget, and the write buffer manager charges every
  // memtable to it, flushing once the memtables take half of it; index and filter blocks are
  // cached too rather than held beside it by each open file.
  const std::size_t memory = cfg_->store.memory;
  cache_ = rocksdb::NewLRUCache(memory, cache_shard_bits(memory));
  const rocksdb::DBOptions dbo = database_options(listener_, cache_, memory / 2);
  auto descriptors = family_descriptors({memory, cache_, clock_, purged_, &purge_removed_,
                                         static_cast<std::uint64_t>(reclaim_period_ms_ / 1000)});
  add_existing_families(db_path_, descriptors);

  rocksdb::DB* raw = nullptr;
  const auto s = rocksdb::DB::Open(dbo, db_path_.string(), descriptors, &db_.handles, &raw);
  if (!s.ok()) {
    throw conf::config_error("[store] path: cannot open " + db_path_.string() + ": " +
                             s.ToString());
  }
  db_.db.reset(raw);
  check_format(*db_.db, db_[cf_meta], db_path_);
  std::string floor;
  if (db_.db->Get({}, db_[cf_meta], slice(meta_floor_key), &floor).ok()) {
    clock_->floor_ms.store(std::strtoll(floor.c_str(), nullptr, 10));
  }
  load_purged();
}

void trace_store::impl::open_outbox() {
  ship_ = cfg_->fleet && cfg_->fleet->ship;
  outbox_first_seq_ = outbox::next_seq(*db_.db, db_[cf_outbox]);
  if (ship_) return;
  // Shipping is off now: entries left from a run that shipped would wait forever.
  if (const auto left = outbox::count(*db_.db, db_[cf_outbox]); left > 0) {
    if (!outbox::settle(*db_.db, db_[cf_outbox], 0,
                        std::numeric_limits<std::uint64_t>::max() - 1)) {
      return;
    }
    log::warn(
        "store: [fleet] does not ship now; records that were waiting to be shipped are "
        "no longer waiting",
        {{"records", std::to_string(left)}});
  }
}

bool trace_store::impl::reopen() {
  std::unique_lock lock(db_mu_);
  db_.reset();
  try {
    open();
    log::info("store: database reopened after a write error");
    return true;
  } catch (const std::exception& e) {
    db_.reset();
    std::uint64_t held = 0;
    if (reopen_log_.allow(held)) log::error("store: reopening failed", {{"error", e.what()}});
    return false;
  }
}

}  // namespace sidecar::store
