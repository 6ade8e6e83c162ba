// Trace sids: "TR" + the creation time + 80 random bits, lower-case hex, sorting by time as
// text and as bytes.
#include "store/trace_sid.hpp"

#include <gtest/gtest.h>

#include <set>

namespace sidecar::store {
namespace {

constexpr std::int64_t example_ms = 1625071269456;  // Wed, 30 Jun 2021 16:41:09.456 UTC

TEST(trace_sid, IsTrAnd32LowerHexWithTheTimeFirst) {
  std::mt19937_64 rng(1);
  const std::string sid = make_trace_sid(example_ms, rng);
  ASSERT_EQ(sid.size(), 34u);
  EXPECT_EQ(sid.substr(0, 2), "TR");
  EXPECT_EQ(sid.substr(2, 12), "017a5dcbb650");
  EXPECT_EQ(sid.find_first_not_of("0123456789abcdef", 2), std::string::npos);
  EXPECT_EQ(sid_time_ms(sid), example_ms);
}

TEST(trace_sid, RandomPartDiffersBetweenSids) {
  std::mt19937_64 rng(7);
  std::set<std::string> tails;
  for (int i = 0; i < 1000; ++i) tails.insert(make_trace_sid(example_ms, rng).substr(14));
  EXPECT_EQ(tails.size(), 1000u);
}

TEST(trace_sid, TimeOutsideTwelveHexDigitsIsClamped) {
  std::mt19937_64 rng(1);
  EXPECT_EQ(sid_time_ms(make_trace_sid(-5, rng)), 0);
  EXPECT_EQ(sid_time_ms(make_trace_sid(std::int64_t{1} << 50, rng)), (std::int64_t{1} << 48) - 1);
}

TEST(trace_sid, MalformedSidsCarryNoTime) {
  EXPECT_FALSE(sid_time_ms(""));
  EXPECT_FALSE(sid_time_ms("TR018f3a2b4c5d0d2c6e0b5a1f4c3e9b8"));    // 31 hex
  EXPECT_FALSE(sid_time_ms("TR018f3a2b4c5d0d2c6e0b5a1f4c3e9b8a0"));  // 33 hex
  EXPECT_FALSE(sid_time_ms("TR018F3A2B4C5D0D2C6E0B5A1F4C3E9B8A"));   // upper case
  EXPECT_FALSE(sid_time_ms("CA018f3a2b4c5d0d2c6e0b5a1f4c3e9b8a"));
  EXPECT_FALSE(sid_time_ms("TR018f3a2b4c5d0d2c6e0b5a1f4c3e9b8g"));
  EXPECT_EQ(sid_time_ms("TR018f3a2b4c5d0d2c6e0b5a1f4c3e9b8a"), 0x018f3a2b4c5d);
}

TEST(trace_sid, BytesRoundTripAndSortAsTheText) {
  std::mt19937_64 rng(7);
  const std::string a = make_trace_sid(example_ms, rng);
  const std::string b = make_trace_sid(example_ms + 1, rng);
  const auto ab = parse_sid(a), bb = parse_sid(b);
  ASSERT_TRUE(ab && bb);
  EXPECT_EQ(format_sid(*ab), a);
  EXPECT_EQ(sid_ms(*ab), example_ms);
  EXPECT_LT(a, b);
  EXPECT_LT(*ab, *bb);
  EXPECT_FALSE(parse_sid("TR018F3A2B4C5D0D2C6E0B5A1F4C3E9B8A"));
}

TEST(trace_sid, FloorSortsBetweenTheSidsOfTwoInstants) {
  std::mt19937_64 rng(3);
  const std::string floor = sid_floor(example_ms);
  EXPECT_EQ(floor, "TR017a5dcbb650");
  EXPECT_LT(make_trace_sid(example_ms - 1, rng), floor);
  EXPECT_LE(floor, make_trace_sid(example_ms, rng));
  EXPECT_EQ(sid_floor(-1), "TR000000000000");
  EXPECT_EQ(sid_floor(max_sid_ms + 5), "TRffffffffffff");
  EXPECT_EQ(clamp_sid_ms(max_sid_ms + 5), max_sid_ms);
}

}  // namespace
}  // namespace sidecar::store
