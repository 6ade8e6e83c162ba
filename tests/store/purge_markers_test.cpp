// Purge markers (store/purge_markers.hpp): which list purges may be one, and a marker's value,
// which outlives a restart.
#include "store/purge_markers.hpp"

#include <gtest/gtest.h>

namespace sidecar::store {
namespace {

TEST(purge_markers, OnlyDateCreatedBeforeAndAccountSidMayBeAMarker) {
  trace_filter f;
  EXPECT_TRUE(markable(f));
  f.created_before_ms = 5;
  f.account_sid = "AC1";
  EXPECT_TRUE(markable(f));
  const auto with = [](auto set) {
    trace_filter g;
    set(g);
    return markable(g);
  };
  EXPECT_FALSE(with([](trace_filter& g) { g.created_from_ms = 1; }));
  EXPECT_FALSE(with([](trace_filter& g) { g.session_sid = "CA1"; }));
  EXPECT_FALSE(with([](trace_filter& g) { g.completed = true; }));
  EXPECT_FALSE(with([](trace_filter& g) { g.min_latency_ms = 1; }));
  EXPECT_FALSE(with([](trace_filter& g) { g.response_code_prefix = "2"; }));
  EXPECT_FALSE(with([](trace_filter& g) { g.response_body_contains = "x"; }));
  EXPECT_FALSE(with([](trace_filter& g) { g.request_path_prefix = "/"; }));
  EXPECT_FALSE(with([](trace_filter& g) { g.org_sid = "OR1"; }));
  EXPECT_FALSE(with([](trace_filter& g) { g.direction = conf::direction::api; }));
  EXPECT_FALSE(with([](trace_filter& g) { g.method = "GET"; }));
  EXPECT_FALSE(with([](trace_filter& g) { g.request_body_contains = "x"; }));
}

TEST(purge_markers, AMarkerValueRoundTripsAndReadsAnOlderStoresState) {
  sid_bytes through{};
  for (std::size_t i = 0; i < through.size(); ++i) through[i] = static_cast<std::uint8_t>(i * 17);
  const std::string value = encode_marker(through);
  ASSERT_EQ(value.size(), 17u);
  EXPECT_EQ(value.back(), 'r');
  EXPECT_EQ(decode_marker(value), through);
  // A store written while a removal thread ran may hold 'p' (pending): the same marker.
  std::string pending = value;
  pending.back() = 'p';
  EXPECT_EQ(decode_marker(pending), through);
}

TEST(purge_markers, AValueOfAnotherSizeIsNotAMarker) {
  EXPECT_FALSE(decode_marker(""));
  EXPECT_FALSE(decode_marker(std::string(16, 'a')));
  EXPECT_FALSE(decode_marker(std::string(18, 'a')));
}

}  // namespace
}  // namespace sidecar::store
