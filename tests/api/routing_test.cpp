// Matching request targets: every prefix, with and without .json, and what is not a route.
#include "api/routing.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace sidecar::api {
namespace {

constexpr std::string_view ac = "ACae6e420f425248d6a26948c17a9e2acf";
constexpr std::string_view tr = "TR018f3a2b4c5d0d2c6e0b5a1f4c3e9b8a";

TEST(routing, ListUnderEveryPrefixWithAndWithoutJson) {
  for (const std::string prefix : {"", "/restcomm", "/api"}) {
    for (const std::string last : {"Traces", "Traces.json"}) {
      const std::string path = prefix + "/2012-04-24/Accounts/" + std::string(ac) + "/" + last;
      const std::string target = path + "?Status=completed";
      const target_match m = match_target(target);
      EXPECT_EQ(m.kind, resource::list) << path;
      EXPECT_EQ(m.account_sid, ac);
      EXPECT_EQ(m.path, path);
      EXPECT_EQ(m.query, "Status=completed");
    }
  }
}

TEST(routing, ItemUnderEveryPrefixWithAndWithoutJson) {
  for (const std::string prefix : {"", "/restcomm", "/api"}) {
    for (const std::string suffix : {"", ".json"}) {
      const std::string path = prefix + "/2012-04-24/Accounts/" + std::string(ac) + "/Traces/" +
                               std::string(tr) + suffix;
      const target_match m = match_target(path);
      EXPECT_EQ(m.kind, resource::item) << path;
      EXPECT_EQ(m.account_sid, ac);
      EXPECT_EQ(m.trace_sid, tr);
      EXPECT_EQ(m.path, path);
      EXPECT_TRUE(m.query.empty());
    }
  }
}

TEST(routing, InspectorResourcesUnderEveryPrefix) {
  for (const std::string prefix : {"", "/restcomm", "/api"}) {
    const std::string traces = prefix + "/2012-04-24/Accounts/" + std::string(ac) + "/Traces";
    EXPECT_EQ(match_target(prefix + "/2012-04-24/Accounts.json").kind, resource::accounts);
    EXPECT_EQ(match_target(prefix + "/2012-04-24/Accounts").kind, resource::accounts);
    // match_target answers views into its argument: each target outlives its match.
    const std::string har_target = traces + ".har?Page=1";
    const target_match har = match_target(har_target);
    EXPECT_EQ(har.kind, resource::list_har);
    EXPECT_EQ(har.account_sid, ac);
    EXPECT_EQ(har.query, "Page=1");
    for (const auto& [suffix, kind] :
         {std::pair{".har", resource::item_har}, std::pair{".curl", resource::item_curl}}) {
      const std::string target = traces + "/" + std::string(tr) + suffix;
      const target_match m = match_target(target);
      EXPECT_EQ(m.kind, kind) << suffix;
      EXPECT_EQ(m.trace_sid, tr);
    }
  }
  const std::string traces = "/2012-04-24/Accounts/" + std::string(ac) + "/Traces";
  for (const std::string& t : {traces + ".curl", std::string("/2012-04-24/Accounts.har"),
                               std::string("/2012-04-24/Accounts.json/x")}) {
    EXPECT_EQ(match_target(t).kind, resource::not_found) << t;
  }
}

TEST(routing, ReplayOfATraceUnderEveryPrefixPostOnly) {
  for (const std::string prefix : {"", "/restcomm", "/api"}) {
    const std::string target = prefix + "/2012-04-24/Accounts/" + std::string(ac) + "/Traces/" +
                               std::string(tr) + "/Replay";
    const target_match m = match_target(target);
    EXPECT_EQ(m.kind, resource::replay) << target;
    EXPECT_EQ(m.account_sid, ac);
    EXPECT_EQ(m.trace_sid, tr);
  }
  const std::string traces = "/2012-04-24/Accounts/" + std::string(ac) + "/Traces/";
  for (const std::string& t :
       {traces + std::string(tr) + ".json/Replay", traces + std::string(tr) + "/Replay/x",
        traces + std::string(tr) + "/replay", traces + "/Replay",
        "/2012-04-24/Accounts/" + std::string(ac) + "/Calls/" + std::string(tr) + "/Replay"}) {
    EXPECT_EQ(match_target(t).kind, resource::not_found) << t;
  }
  EXPECT_EQ(allowed_methods(resource::replay), "POST");
  EXPECT_TRUE(method_allowed(resource::replay, "POST"));
  EXPECT_FALSE(method_allowed(resource::replay, "GET"));
  EXPECT_FALSE(method_allowed(resource::replay, "HEAD"));
}

TEST(routing, EachResourceAllowsItsOwnMethods) {
  EXPECT_EQ(allowed_methods(resource::list), "GET, HEAD, DELETE");
  EXPECT_EQ(allowed_methods(resource::item), "GET, HEAD, DELETE");
  EXPECT_TRUE(method_allowed(resource::item, "DELETE"));
  EXPECT_FALSE(method_allowed(resource::item, "delete"));
  for (const auto r : {resource::accounts, resource::list_har, resource::item_har,
                       resource::item_curl, resource::healthz, resource::metrics}) {
    EXPECT_EQ(allowed_methods(r), "GET, HEAD");
    EXPECT_FALSE(method_allowed(r, "DELETE"));
    EXPECT_TRUE(method_allowed(r, "HEAD"));
  }
  EXPECT_FALSE(method_allowed(resource::list, "POST"));
  EXPECT_FALSE(method_allowed(resource::list, "get"));  // methods are case-sensitive
}

TEST(routing, HealthAndMetricsAreExactPaths) {
  EXPECT_EQ(match_target("/healthz").kind, resource::healthz);
  EXPECT_EQ(match_target("/metrics").kind, resource::metrics);
  EXPECT_EQ(match_target("/metrics?x=1").kind, resource::metrics);
  EXPECT_EQ(match_target("/healthz/").kind, resource::not_found);
  EXPECT_EQ(match_target("/api/healthz").kind, resource::not_found);
}

TEST(routing, EverythingElseIsNotFound) {
  const std::string a(ac);
  for (const std::string& t : std::vector<std::string>{
           "", "*", "http://h/2012-04-24/Accounts/" + a + "/Traces", "/",
           "/2012-04-24/Accounts/" + a, "/2012-04-24/Accounts/" + a + "/Traces/",
           "/2012-04-24/Accounts/" + a + "/Calls", "/2010-04-01/Accounts/" + a + "/Traces",
           "/2012-04-24/accounts/" + a + "/Traces", "/2012-04-24/Accounts//Traces",
           "/other/2012-04-24/Accounts/" + a + "/Traces",
           "/restcomm/api/2012-04-24/Accounts/" + a + "/Traces",
           "//2012-04-24/Accounts/" + a + "/Traces", "/2012-04-24/Accounts/" + a + "/Traces.xml",
           "/2012-04-24/Accounts/" + a + "/Traces.json/TR1",
           "/2012-04-24/Accounts/" + a + "/Traces/.json",
           "/2012-04-24/Accounts/" + a + "/Traces/TR1/x", "/a/b/c/d/e/f/g/h/i/j"}) {
    EXPECT_EQ(match_target(t).kind, resource::not_found) << t;
  }
}

}  // namespace
}  // namespace sidecar::api
