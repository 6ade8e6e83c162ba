// The RocksDB callbacks of the trace store (store/rocks_support.hpp, docs/store.md "Expiry"
// and "Counters") on a real RocksDB: the expiry filter drops what the cutoff has passed in each
// kind of key and keeps the rest, the merge operators add counts and append chunk entries, and
// the insert hint prefix is the key's id.
#include "store/rocks_support.hpp"

#include <gtest/gtest.h>
#include <rocksdb/db.h>
#include <rocksdb/slice_transform.h>

#include <filesystem>
#include <memory>
#include <random>
#include <string>

#include "store/store_codec.hpp"
#include "store/trace_sid.hpp"

namespace sidecar::store::rocks {
namespace {

namespace fs = std::filesystem;

constexpr std::int64_t now = 1'764'000'000'000;
constexpr std::int64_t day = 86'400'000;

class rocks_support_test : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("rocks-support-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    clock_ = std::make_shared<expiry_clock>();
    clock_->now_ms = [] { return now; };
    clock_->retention_ms = 2 * day;
  }
  void TearDown() override {
    db_.reset();
    fs::remove_all(dir_);
  }
  void open(key_kind kind, std::shared_ptr<rocksdb::MergeOperator> merge = nullptr) {
    rocksdb::Options o;
    o.create_if_missing = true;
    o.compaction_filter_factory = make_expiry_filter_factory(clock_, kind);
    o.merge_operator = std::move(merge);
    rocksdb::DB* raw = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(o, dir_.string(), &raw).ok());
    db_.reset(raw);
  }
  void compact() {
    ASSERT_TRUE(db_->Flush({}).ok());
    rocksdb::CompactRangeOptions c;
    c.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
    ASSERT_TRUE(db_->CompactRange(c, nullptr, nullptr).ok());
  }
  bool has(const std::string& key) {
    std::string v;
    return db_->Get({}, key, &v).ok();
  }
  std::string sid_key(std::int64_t ms) {
    const auto b = parse_sid(make_trace_sid(ms, rng_));
    return std::string(reinterpret_cast<const char*>(b->data()), 16);
  }
  std::string account_key(std::int64_t ms) {
    return codec::id_sid_key("ACae6e420f425248d6a26948c17a9e2acf",
                             *parse_sid(make_trace_sid(ms, rng_)));
  }

  fs::path dir_;
  std::shared_ptr<expiry_clock> clock_;
  std::unique_ptr<rocksdb::DB> db_;
  std::mt19937_64 rng_{17};
};

TEST_F(rocks_support_test, TheCutoffIsTheLaterOfAgeAndTheQuotasFloor) {
  EXPECT_EQ(clock_->cutoff(), now - 2 * day);
  clock_->floor_ms = now - day;
  EXPECT_EQ(clock_->cutoff(), now - day);
  clock_->floor_ms = now - 3 * day;
  EXPECT_EQ(clock_->cutoff(), now - 2 * day);
}

TEST_F(rocks_support_test, ExpiredRecordsGoAtCompactionAndYoungerOnesStay) {
  open(key_kind::sid);
  const std::string old = sid_key(now - 2 * day - 1);
  const std::string edge = sid_key(now - 2 * day);
  const std::string young = sid_key(now - 1000);
  for (const auto& k : {old, edge, young}) ASSERT_TRUE(db_->Put({}, k, "record").ok());
  compact();
  EXPECT_FALSE(has(old));
  EXPECT_TRUE(has(edge)) << "visible while created_ms >= cutoff";
  EXPECT_TRUE(has(young));
}

TEST_F(rocks_support_test, IdKeysExpireByTheirInvertedSidAndTheFloorMovesTheBound) {
  open(key_kind::id_inverted_sid);
  const std::string a = account_key(now - 3 * day);
  const std::string b = account_key(now - day - 1000);
  const std::string c = account_key(now - 1000);
  for (const auto& k : {a, b, c}) ASSERT_TRUE(db_->Put({}, k, "entry").ok());
  compact();
  EXPECT_FALSE(has(a));
  EXPECT_TRUE(has(b));
  clock_->floor_ms = now - day;  // the quota removed the oldest day
  compact();
  EXPECT_FALSE(has(b));
  EXPECT_TRUE(has(c));
}

TEST_F(rocks_support_test, ACounterGoesOnlyOnceItsWholeBucketExpired) {
  open(key_kind::counter, make_count_merge_operator());
  const std::string account = "ACae6e420f425248d6a26948c17a9e2acf";
  const std::int64_t cutoff = clock_->cutoff();
  const std::string gone = codec::counter_key(account, cutoff / codec::bucket_ms - 1);
  const std::string straddles = codec::counter_key(account, cutoff / codec::bucket_ms);
  for (const auto& k : {gone, straddles}) {
    ASSERT_TRUE(db_->Merge({}, k, encode_count(2)).ok());
    ASSERT_TRUE(db_->Merge({}, k, encode_count(3)).ok());
  }
  compact();
  EXPECT_FALSE(has(gone));
  std::string v;
  ASSERT_TRUE(db_->Get({}, straddles, &v).ok()) << "part of its minute is still visible";
  EXPECT_EQ(decode_count(v), 5u) << "the merge operator adds";
}

TEST_F(rocks_support_test, MetaKeysNeverExpire) {
  open(key_kind::keep);
  ASSERT_TRUE(db_->Put({}, std::string("\x00\x00", 2), "format").ok());
  clock_->floor_ms = now + day;
  compact();
  EXPECT_TRUE(has(std::string("\x00\x00", 2)));
}

TEST_F(rocks_support_test, ChunkEntriesAreAppendedInOrder) {
  open(key_kind::keep, make_append_merge_operator());
  ASSERT_TRUE(db_->Merge({}, "chunk", "first|").ok());
  ASSERT_TRUE(db_->Merge({}, "chunk", "second|").ok());
  compact();
  ASSERT_TRUE(db_->Merge({}, "chunk", "third").ok());
  std::string v;
  ASSERT_TRUE(db_->Get({}, "chunk", &v).ok());
  EXPECT_EQ(v, "first|second|third");
}

TEST_F(rocks_support_test, CountsRoundTripAndAShortValueReadsAsItsBytes) {
  for (const std::uint64_t n : {0ull, 1ull, 255ull, 256ull, 1ull << 40, ~0ull}) {
    EXPECT_EQ(decode_count(encode_count(n)), n);
  }
  EXPECT_EQ(encode_count(1).size(), 8u);
  EXPECT_EQ(decode_count(""), 0u) << "a damaged count is none, not a crash";
}

TEST_F(rocks_support_test, TheInsertHintPrefixIsTheIdOrTheSidsFirstBytes) {
  const auto by_id = make_insert_hint_prefix(key_kind::id_inverted_sid);
  const std::string key = account_key(now);
  ASSERT_TRUE(by_id->InDomain(key));
  EXPECT_EQ(by_id->Transform(key).ToString(),
            codec::id_prefix("ACae6e420f425248d6a26948c17a9e2acf"));
  const auto by_sid = make_insert_hint_prefix(key_kind::sid);
  const std::string sk = sid_key(now);
  ASSERT_TRUE(by_sid->InDomain(sk));
  EXPECT_EQ(by_sid->Transform(sk).ToString(), sk.substr(0, 4));
}

}  // namespace
}  // namespace sidecar::store::rocks
