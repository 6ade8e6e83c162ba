// store::matches: each list filter applied to a record in memory (the live stream's filter),
// with the meaning the store's queries give it.
#include "store/record_match.hpp"

#include <gtest/gtest.h>

namespace sidecar::store {
namespace {

trace_record sample() {
  trace_record r;
  r.sid = "TR018f3a2b4c5d0d2c6e0b5a1f4c3e9b8a";
  r.account_sid = "ACae6e420f425248d6a26948c17a9e2acf";
  r.org_sid = "ORfe81fe8a3d5f4d5391e901db0bf5755d";
  r.created_ms = 1'000'000;
  r.session_sid = "CA1";
  r.completed = false;
  r.direction = conf::direction::api;
  r.latency_ms = 250;
  r.request.method = "POST";
  r.request.path = "/restcomm/Calls.json?x=1";
  r.request.url = "https://platform.example.com/restcomm/Calls.json?x=1";
  r.request.body.body = "To=%2B15551234&From=alice";
  r.response.code = "503";
  r.response.body.body = "{\"message\":\"busy\"}";
  return r;
}

TEST(record_match, EachFilterMatchesAsTheListDoes) {
  const trace_record r = sample();
  EXPECT_TRUE(matches({}, r));
  const auto yes = [&](auto set) {
    trace_filter f;
    set(f);
    return matches(f, r);
  };
  EXPECT_TRUE(yes([](trace_filter& f) { f.completed = false; }));
  EXPECT_FALSE(yes([](trace_filter& f) { f.completed = true; }));
  EXPECT_TRUE(yes([](trace_filter& f) { f.created_from_ms = 1'000'000; }));
  EXPECT_FALSE(yes([](trace_filter& f) { f.created_from_ms = 1'000'001; }));
  EXPECT_FALSE(yes([](trace_filter& f) { f.created_before_ms = 1'000'000; }));
  EXPECT_TRUE(yes([](trace_filter& f) { f.created_before_ms = 1'000'001; }));
  EXPECT_TRUE(yes([](trace_filter& f) { f.session_sid = "CA1"; }));
  EXPECT_FALSE(yes([](trace_filter& f) { f.session_sid = "CA"; }));
  EXPECT_TRUE(yes([](trace_filter& f) { f.min_latency_ms = 250; }));
  EXPECT_FALSE(yes([](trace_filter& f) { f.min_latency_ms = 251; }));
  EXPECT_TRUE(yes([](trace_filter& f) { f.direction = conf::direction::api; }));
  EXPECT_FALSE(yes([](trace_filter& f) { f.direction = conf::direction::webhook; }));
  EXPECT_TRUE(yes([](trace_filter& f) { f.response_code_prefix = "5"; }));
  EXPECT_FALSE(yes([](trace_filter& f) { f.response_code_prefix = "2"; }));
  EXPECT_TRUE(yes([](trace_filter& f) { f.response_body_contains = "busy"; }));
  EXPECT_FALSE(yes([](trace_filter& f) { f.response_body_contains = "idle"; }));
  EXPECT_TRUE(yes([](trace_filter& f) { f.request_path_prefix = "/restcomm/"; }));
  EXPECT_TRUE(yes([](trace_filter& f) { f.request_path_prefix = "https://platform"; }));
  EXPECT_FALSE(yes([](trace_filter& f) { f.request_path_prefix = "/apps"; }));
  EXPECT_TRUE(yes([](trace_filter& f) { f.account_sid = "ACae6e420f425248d6a26948c17a9e2acf"; }));
  EXPECT_FALSE(yes([](trace_filter& f) { f.account_sid = "ACother"; }));
  EXPECT_TRUE(yes([](trace_filter& f) { f.org_sid = "ORfe81fe8a3d5f4d5391e901db0bf5755d"; }));
  EXPECT_FALSE(yes([](trace_filter& f) { f.org_sid = "ORother"; }));
  EXPECT_TRUE(yes([](trace_filter& f) { f.method = "post"; })) << "any letter case";
  EXPECT_FALSE(yes([](trace_filter& f) { f.method = "GET"; }));
  EXPECT_TRUE(yes([](trace_filter& f) { f.request_body_contains = "From=alice"; }));
  EXPECT_FALSE(yes([](trace_filter& f) { f.request_body_contains = "bob"; }));
  // All ANDed.
  EXPECT_FALSE(yes([](trace_filter& f) {
    f.method = "POST";
    f.completed = true;
  }));
}

}  // namespace
}  // namespace sidecar::store
