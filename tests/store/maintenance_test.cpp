// The disk quota's new floor (store/maintenance.hpp, quota_floor): the oldest records go first,
// a quarter of the quota more than the excess, whole minute buckets at a time, never past now.
#include "store/maintenance.hpp"

#include <gtest/gtest.h>

#include "store/store_codec.hpp"

namespace sidecar::store {
namespace {

constexpr std::int64_t b = codec::bucket_ms;
constexpr std::int64_t far_future = std::int64_t{1} << 60;

TEST(quota_floor, NoRecordsCountedMovesNothing) {
  EXPECT_EQ(quota_floor({}, 200, 100, 0, far_future), std::nullopt);
  EXPECT_EQ(quota_floor({{5, 0}}, 200, 100, 0, far_future), std::nullopt);
}

TEST(quota_floor, TheOldestBucketsGoUntilTheExcessAndAQuarterMoreArePassed) {
  // 10 buckets of 10 records; disk 200 over a quota of 100: (100 + 25) / 200 of the records,
  // 62 of 100, go: the floor is the end of the 7th bucket.
  std::map<std::int64_t, std::uint64_t> per_bucket;
  for (std::int64_t i = 100; i < 110; ++i) per_bucket[i] = 10;
  EXPECT_EQ(quota_floor(per_bucket, 200, 100, 0, far_future), 107 * b);
}

TEST(quota_floor, AtMostEveryRecordGoesAndTheFloorStaysAtNowPlusOne) {
  const std::map<std::int64_t, std::uint64_t> per_bucket{{1, 3}, {2, 3}};
  // Far over the quota: the share is capped at every record, the floor at the last bucket's end.
  EXPECT_EQ(quota_floor(per_bucket, 1000, 1, 0, far_future), 3 * b);
  // That end is in the future: the floor stops just past now.
  EXPECT_EQ(quota_floor(per_bucket, 1000, 1, 0, 2 * b + 5), 2 * b + 6);
}

}  // namespace
}  // namespace sidecar::store
