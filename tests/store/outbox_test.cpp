// The shipping outbox (store/outbox.hpp, docs/fleet.md) on a real RocksDB: entries in commit
// order, read from a sequence, settled in one write that moves the position, and a reopen that
// keeps what was not settled and numbers new entries after everything written before.
#include "store/outbox.hpp"

#include <gtest/gtest.h>
#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "store/trace_sid.hpp"

namespace sidecar::store {
namespace {

namespace fs = std::filesystem;

class outbox_test : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("outbox-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    open();
  }
  void TearDown() override {
    close();
    fs::remove_all(dir_);
  }
  void open() {
    rocksdb::Options o;
    o.create_if_missing = true;
    o.create_missing_column_families = true;
    std::vector<rocksdb::ColumnFamilyDescriptor> families{{rocksdb::kDefaultColumnFamilyName, {}},
                                                          {outbox::column_family, {}}};
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    rocksdb::DB* raw = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(o, dir_.string(), families, &handles, &raw).ok());
    db_.reset(raw);
    handles_ = handles;
    cf_ = handles[1];
  }
  void close() {
    for (auto* h : handles_) ASSERT_TRUE(db_->DestroyColumnFamilyHandle(h).ok());
    handles_.clear();
    db_.reset();
  }
  /// Adds entries for `n` new sids from `seq` on, in one write; their sids in order.
  std::vector<std::string> add(std::uint64_t seq, int n) {
    rocksdb::WriteBatch batch;
    std::vector<std::string> sids;
    for (int i = 0; i < n; ++i) {
      const std::string sid = make_trace_sid(1'764'000'000'000 + i, rng_);
      const auto bytes = parse_sid(sid);
      outbox::add(batch, cf_, seq + static_cast<std::uint64_t>(i),
                  std::string_view(reinterpret_cast<const char*>(bytes->data()), 16));
      sids.push_back(sid);
    }
    EXPECT_TRUE(db_->Write({}, &batch).ok());
    return sids;
  }
  std::vector<outbox_entry> read(std::uint64_t from, std::size_t max) {
    std::vector<outbox_entry> out;
    EXPECT_TRUE(outbox::read(*db_, cf_, from, max, out));
    return out;
  }

  fs::path dir_;
  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
  rocksdb::ColumnFamilyHandle* cf_ = nullptr;
  std::mt19937_64 rng_{5};
};

TEST_F(outbox_test, KeysSortInSequenceOrder) {
  EXPECT_EQ(outbox::key(1).size(), 8u);
  EXPECT_LT(outbox::key(255), outbox::key(256)) << "big-endian: byte order is number order";
  EXPECT_LT(outbox::key(0xffffffffu), outbox::key(0x100000000u));
  EXPECT_LT(std::string(outbox::position_key), outbox::key(0)) << "the position sorts first";
}

TEST_F(outbox_test, EntriesAreReadInCommitOrderFromASequenceAndBounded) {
  EXPECT_EQ(outbox::next_seq(*db_, cf_), 0u);
  EXPECT_TRUE(read(0, 10).empty());
  const auto sids = add(0, 5);
  EXPECT_EQ(outbox::count(*db_, cf_), 5u);
  const auto all = read(0, 100);
  ASSERT_EQ(all.size(), 5u);
  for (std::size_t i = 0; i < all.size(); ++i) {
    EXPECT_EQ(all[i].seq, i);
    EXPECT_EQ(all[i].sid, sids[i]) << "the 16 bytes come back as the sid";
  }
  const auto some = read(2, 2);
  ASSERT_EQ(some.size(), 2u);
  EXPECT_EQ(some[0].seq, 2u);
  EXPECT_EQ(some[1].seq, 3u);
}

TEST_F(outbox_test, SettlingRemovesEntriesAndMovesThePositionPastThem) {
  add(0, 6);
  ASSERT_TRUE(outbox::settle(*db_, cf_, 0, 3));
  EXPECT_EQ(outbox::count(*db_, cf_), 2u);
  const auto left = read(0, 100);
  ASSERT_EQ(left.size(), 2u);
  EXPECT_EQ(left[0].seq, 4u);
  EXPECT_EQ(left[1].seq, 5u);
  ASSERT_TRUE(outbox::settle(*db_, cf_, 4, 5));
  EXPECT_EQ(outbox::count(*db_, cf_), 0u);
  EXPECT_EQ(outbox::next_seq(*db_, cf_), 6u) << "after the position, even with no entry left";
}

TEST_F(outbox_test, AReopenKeepsWhatWasNotSettledAndNumbersAfterEverything) {
  const auto sids = add(0, 4);
  ASSERT_TRUE(outbox::settle(*db_, cf_, 0, 1));
  close();
  open();
  EXPECT_EQ(outbox::next_seq(*db_, cf_), 4u);
  const auto left = read(0, 100);
  ASSERT_EQ(left.size(), 2u);
  EXPECT_EQ(left[0].sid, sids[2]);
  EXPECT_EQ(left[1].sid, sids[3]);
  add(outbox::next_seq(*db_, cf_), 1);
  EXPECT_EQ(read(0, 100).back().seq, 4u);
}

TEST_F(outbox_test, AValueThatIsNotAnEntryIsSkippedNeverHandedOnAsASid) {
  const auto sids = add(0, 1);
  ASSERT_TRUE(db_->Put({}, cf_, outbox::key(1), "short").ok());  // not 16 sid bytes
  add(2, 1);
  const auto out = read(0, 100);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].sid, sids[0]);
  EXPECT_EQ(out[1].seq, 2u);
}

}  // namespace
}  // namespace sidecar::store
