// The options the trace store opens RocksDB with (store/store_open.hpp): each column family gets
// the settings docs/store.md gives reasons for, the memtables share the [store] memory budget,
// each table block is checksummed with CRC32C (tables of RocksDB's XXH3 still read), and a
// directory that holds something else than a trace store is refused.
#include "store/store_open.hpp"

#include <gtest/gtest.h>
#include <rocksdb/db.h>
#include <rocksdb/memtablerep.h>
#include <rocksdb/slice_transform.h>
#include <rocksdb/table.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "conf/config_error.hpp"
#include "store/rocks_crc32c.hpp"
#include "store/store_codec.hpp"
#include "store/store_db.hpp"
#include "tests/common/temp_dir.hpp"

namespace sidecar::store {
namespace {

namespace fs = std::filesystem;

constexpr std::size_t memory = 64 << 20;

family_settings settings() {
  auto clock = std::make_shared<rocks::expiry_clock>();
  clock->now_ms = [] { return std::int64_t{0}; };  // nothing has expired
  return {memory,           rocksdb::NewLRUCache(memory),
          std::move(clock), std::make_shared<purge_set>(),
          nullptr,          3600};
}

using testing_support::temp_dir;

TEST(store_open, EveryColumnFamilyIsDescribedInItsOrder) {
  const auto d = family_descriptors(settings());
  ASSERT_EQ(d.size(), cf_count);
  for (std::size_t i = 0; i < cf_count; ++i) EXPECT_EQ(d[i].name, cf_names[i]);
}

TEST(store_open, ChunkFamiliesAreUncompressedAndAppendedTo) {
  const auto d = family_descriptors(settings());
  for (const cf c : {cf_chunks, cf_index_chunks}) {
    const auto& o = d[c].options;
    EXPECT_EQ(o.compression, rocksdb::kNoCompression) << cf_names[c];
    EXPECT_EQ(o.bottommost_compression, rocksdb::kNoCompression) << cf_names[c];
    EXPECT_NE(o.merge_operator, nullptr) << cf_names[c];
  }
  EXPECT_EQ(d[cf_by_account].options.compression, rocksdb::kLZ4Compression);
}

TEST(store_open, LargeRecordsGoToBlobFilesAndOnlyRecordsDo) {
  const auto d = family_descriptors(settings());
  EXPECT_TRUE(d[cf_records].options.enable_blob_files);
  EXPECT_EQ(d[cf_records].options.min_blob_size, 4096u);
  for (std::size_t i = 0; i < cf_count; ++i) {
    if (i != cf_records) {
      EXPECT_FALSE(d[i].options.enable_blob_files) << cf_names[i];
    }
  }
}

TEST(store_open, MemtablesShareHalfTheMemoryBudget) {
  const auto d = family_descriptors(settings());
  const std::size_t memtables = memory / 2;
  const std::size_t small = std::min<std::size_t>(2 << 20, memtables / 16);
  EXPECT_EQ(d[cf_records].options.write_buffer_size, memtables / 4);
  EXPECT_EQ(d[cf_chunks].options.write_buffer_size, memtables / 4);
  EXPECT_EQ(d[cf_by_session].options.write_buffer_size, memtables / 8);
  EXPECT_EQ(d[cf_by_account].options.write_buffer_size, small) << "no longer written";
  EXPECT_EQ(d[cf_index_chunks].options.write_buffer_size, memtables / 8);
  EXPECT_EQ(d[cf_meta].options.write_buffer_size, small);
  const auto dbo = database_options(nullptr, rocksdb::NewLRUCache(memory), memtables);
  ASSERT_NE(dbo.write_buffer_manager, nullptr);
  EXPECT_EQ(dbo.write_buffer_manager->buffer_size(), memtables);
  EXPECT_FALSE(dbo.allow_concurrent_memtable_write);
}

TEST(store_open, TheSessionIndexHasAHashMemtableBySession) {
  const auto d = family_descriptors(settings());
  const auto& o = d[cf_by_session].options;
  ASSERT_NE(o.memtable_factory, nullptr);
  EXPECT_STREQ(o.memtable_factory->Name(), "HashSkipListRepFactory");
  ASSERT_NE(o.prefix_extractor, nullptr);
  // The prefix is the session id (varint length and bytes), whatever sid follows it.
  const std::string key = codec::id_sid_key("CAsession", sid_bytes{});
  EXPECT_EQ(o.prefix_extractor->Transform(key).ToString(), codec::id_prefix("CAsession"));
  EXPECT_EQ(o.memtable_insert_with_hint_prefix_extractor, nullptr)
      << "a hash memtable ignores hints";
}

TEST(store_open, EveryOtherFamilyHasASkipListMemtable) {
  const auto d = family_descriptors(settings());
  for (std::size_t i = 0; i < cf_count; ++i) {
    if (i != cf_by_session) {
      EXPECT_STREQ(d[i].options.memtable_factory->Name(), "SkipListFactory") << cf_names[i];
    }
  }
}

TEST(store_open, TwoFlushesRunAtOnceSoRecordsNeverWaitBehindAnotherFamily) {
  const auto dbo = database_options(nullptr, rocksdb::NewLRUCache(memory), memory / 2);
  EXPECT_EQ(dbo.max_background_flushes, 2);
  EXPECT_EQ(dbo.max_background_compactions, 1);
}

/// Whether 2^bits shards of `budget` hold at least 4 MiB each and are as many as that allows
/// (64 at most).
bool shards_fit(std::size_t budget, int bits) {
  constexpr std::size_t min_shard = 4u << 20;
  const bool big_enough = bits == 0 || (budget >> bits) >= min_shard;
  const bool as_many = bits == 6 || (budget >> (bits + 1)) < min_shard;
  return big_enough && as_many;
}

TEST(store_open, CacheShardsHoldAtLeastFourMebibytes) {
  // The default budget in 16 shards of 4 MiB; 64 shards at most, as RocksDB's own split; one
  // shard below 8 MiB.
  const std::pair<std::size_t, int> cases[] = {
      {64u << 20, 4}, {256u << 20, 6}, {std::size_t{8} << 30, 6}, {16u << 20, 2}, {7u << 20, 0}};
  for (const auto& [budget, bits] : cases) EXPECT_EQ(cache_shard_bits(budget), bits) << budget;
  for (std::size_t m = 1u << 20; m <= (std::size_t{1} << 33); m += m / 3 + 1) {
    EXPECT_TRUE(shards_fit(m, cache_shard_bits(m))) << m;
  }
}

TEST(store_open, EveryFamilyIsCompactedWithinTheReclaimPeriod) {
  const auto d = family_descriptors(settings());
  for (const auto& f : d) {
    EXPECT_EQ(f.options.periodic_compaction_seconds, 3600u) << f.name;
    EXPECT_NE(f.options.compaction_filter_factory, nullptr) << f.name;
  }
}

TEST(store_open, TablesAreChecksummedWithCrc32cWhileIsaLComputesIt) {
  ASSERT_EQ(rocks::crc32c_implementation(), "isa-l");
  for (const auto& f : family_descriptors(settings())) {
    const auto* t = f.options.table_factory->GetOptions<rocksdb::BlockBasedTableOptions>();
    ASSERT_NE(t, nullptr) << f.name;
    EXPECT_EQ(t->checksum, rocksdb::kCRC32c) << f.name;
  }
}

/// The checksum type a block-based table file names: the first byte of its footer, which in
/// format version 5 is the last 53 bytes (the type, two block handles padded to 40 bytes,
/// the format version, the magic number).
int checksum_type_of(const fs::path& sst) {
  std::ifstream in(sst, std::ios::binary);
  in.seekg(-53, std::ios::end);
  return in.get();
}

/// The records family's table files, oldest first, with the checksum type each names.
std::vector<int> records_checksums(rocksdb::DB& db) {
  std::vector<rocksdb::LiveFileMetaData> files;
  db.GetLiveFilesMetaData(&files);
  std::sort(files.begin(), files.end(),
            [](const auto& a, const auto& b) { return a.file_number < b.file_number; });
  std::vector<int> types;
  for (const auto& f : files) {
    if (f.column_family_name == cf_names[cf_records]) {
      types.push_back(checksum_type_of(fs::path(f.db_path) / f.relative_filename));
    }
  }
  return types;
}

/// Opens `db_path` with the store's options, writes `key` to the records family and flushes.
std::unique_ptr<rocksdb::DB> open_and_write(const fs::path& db_path,
                                            const std::vector<rocksdb::ColumnFamilyDescriptor>& d,
                                            std::vector<rocksdb::ColumnFamilyHandle*>& handles,
                                            const std::string& key) {
  auto dbo = database_options(nullptr, rocksdb::NewLRUCache(memory), memory / 2);
  dbo.listeners.clear();
  handles.clear();
  rocksdb::DB* raw = nullptr;
  if (!rocksdb::DB::Open(dbo, db_path.string(), d, &handles, &raw).ok()) return nullptr;
  std::unique_ptr<rocksdb::DB> db(raw);
  EXPECT_TRUE(db->Put({}, handles[cf_records], key, "a record of " + key).ok());
  EXPECT_TRUE(db->Flush({}, handles[cf_records]).ok());
  return db;
}

/// Writes one record into a new database whose records family checksums with XXH3, as the
/// store did before CRC32C.
void write_with_xxh3(const fs::path& db_path) {
  auto before = family_descriptors(settings());
  auto t = *before[cf_records].options.table_factory->GetOptions<rocksdb::BlockBasedTableOptions>();
  t.checksum = rocksdb::kXXH3;
  before[cf_records].options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(t));
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  auto db = open_and_write(db_path, before, handles, "older");
  ASSERT_NE(db, nullptr);
  for (auto* h : handles) ASSERT_TRUE(db->DestroyColumnFamilyHandle(h).ok());
}

/// The value of `key` in the records family, read from its table file.
std::string read_from_file(rocksdb::DB& db, rocksdb::ColumnFamilyHandle* records,
                           const std::string& key) {
  rocksdb::ReadOptions ro;
  ro.fill_cache = false;  // each block read, and its checksum verified
  std::string value;
  if (!db.Get(ro, records, key, &value).ok()) return "(not read)";
  return value;
}

TEST(store_open, TablesOfEitherChecksumAreRead) {
  // A database written before CRC32C, reopened now.
  const temp_dir dir;
  const fs::path db_path = prepare_store_dir(dir.path());
  write_with_xxh3(db_path);
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  auto db = open_and_write(db_path, family_descriptors(settings()), handles, "newer");
  ASSERT_NE(db, nullptr);
  EXPECT_EQ(records_checksums(*db), (std::vector<int>{rocksdb::kXXH3, rocksdb::kCRC32c}));
  const std::vector<std::string> values{read_from_file(*db, handles[cf_records], "older"),
                                        read_from_file(*db, handles[cf_records], "newer")};
  EXPECT_EQ(values, (std::vector<std::string>{"a record of older", "a record of newer"}));
  EXPECT_TRUE(db->VerifyChecksum().ok());
  for (auto* h : handles) ASSERT_TRUE(db->DestroyColumnFamilyHandle(h).ok());
}

TEST(store_open, ADatabaseWithoutMetaIsNotATraceStore) {
  const temp_dir dir;
  const fs::path db_path = prepare_store_dir(dir.path());
  EXPECT_EQ(db_path, dir.path() / "db");
  {
    rocksdb::Options o;
    o.create_if_missing = true;
    rocksdb::DB* raw = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(o, db_path.string(), &raw).ok());
    delete raw;
  }
  auto d = family_descriptors(settings());
  EXPECT_THROW(add_existing_families(db_path, d), conf::config_error);
}

TEST(store_open, AFamilyThisVersionDoesNotKnowIsOpenedToo) {
  const temp_dir dir;
  const fs::path db_path = prepare_store_dir(dir.path());
  {
    rocksdb::DBOptions o;
    o.create_if_missing = true;
    o.create_missing_column_families = true;
    std::vector<rocksdb::ColumnFamilyDescriptor> families{
        {"default", {}}, {"meta", {}}, {"from_a_newer_version", {}}};
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    rocksdb::DB* raw = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(o, db_path.string(), families, &handles, &raw).ok());
    for (auto* h : handles) ASSERT_TRUE(raw->DestroyColumnFamilyHandle(h).ok());
    delete raw;
  }
  auto d = family_descriptors(settings());
  add_existing_families(db_path, d);
  ASSERT_EQ(d.size(), cf_count + 1);
  EXPECT_EQ(d.back().name, "from_a_newer_version");
}

TEST(store_open, AStorePathThatIsAFileIsRefused) {
  const temp_dir dir;
  fs::create_directories(dir.path());
  const fs::path file = dir.path() / "not_a_dir";
  std::ofstream(file) << "x";
  EXPECT_THROW((void)prepare_store_dir(file), conf::config_error);
}

}  // namespace
}  // namespace sidecar::store
