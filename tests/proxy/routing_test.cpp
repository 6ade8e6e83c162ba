// Route matching, target rewriting and the forward proxy's address classification.
#include "proxy/routing.hpp"

#include <gtest/gtest.h>

namespace sidecar::proxy {
namespace {

conf::route make_route(std::string prefix, std::string base, std::optional<std::string> host = {}) {
  conf::route r;
  r.prefix = std::move(prefix);
  r.upstream.base_path = std::move(base);
  r.host = std::move(host);
  return r;
}

// rewrite_target into a buffer that held an earlier request's target.
std::string rewritten(const conf::route& r, std::string_view target) {
  std::string out = "/an/earlier/target?x=1";
  rewrite_target(r, target, out);
  return out;
}

TEST(routing, LongestPrefixWinsAndHostRoutesComeFirst) {
  const std::vector<conf::route> routes{make_route("/", "/a/"), make_route("/apps/acme/", "/b/"),
                                        make_route("/", "/c/", "app.acme.com")};
  const route_table table(routes);
  EXPECT_EQ(table.match("x", "/apps/acme/voice"), &routes[1]);
  EXPECT_EQ(table.match("x", "/other"), &routes[0]);
  EXPECT_EQ(table.match("APP.acme.com", "/apps/acme/voice"), &routes[2]);
}

TEST(routing, NoMatchingPrefixIsNoRoute) {
  const std::vector<conf::route> routes{make_route("/apps/", "/")};
  const route_table table(routes);
  EXPECT_EQ(table.match("x", "/api"), nullptr);
}

TEST(routing, PrefixIsReplacedByBasePath) {
  EXPECT_EQ(rewritten(make_route("/apps/acme/", "/base/"), "/apps/acme/voice?x=1"),
            "/base/voice?x=1");
  EXPECT_EQ(rewritten(make_route("/api", "/base/"), "/api/x"), "/base/x");
  EXPECT_EQ(rewritten(make_route("/", "/"), "/x?y"), "/x?y");
  EXPECT_EQ(rewritten(make_route("/api", "/v1/"), "/api?x=1"), "/v1/?x=1");
}

TEST(routing, HostWithoutPort) {
  EXPECT_EQ(host_without_port("example.com:8080"), "example.com");
  EXPECT_EQ(host_without_port("example.com"), "example.com");
  EXPECT_EQ(host_without_port("[::1]:80"), "::1");
}

TEST(routing, PrivateAndSpecialAddressesAreNotPublic) {
  for (const char* a : {"127.0.0.1", "10.1.2.3", "172.16.0.1", "172.31.255.255", "192.168.1.1",
                        "169.254.169.254", "0.0.0.0", "100.64.0.1", "224.0.0.1",
                        "255.255.255.255", "::", "::1", "fe80::1", "fc00::1", "fd12::1",
                        "::ffff:127.0.0.1", "::ffff:10.0.0.1", "64:ff9b::a00:1", "ff02::1"}) {
    EXPECT_FALSE(is_public_address(net::ip::make_address(a))) << a;
  }
  for (const char* a : {"8.8.8.8", "1.1.1.1", "172.32.0.1", "2606:4700::1111", "::ffff:8.8.8.8"}) {
    EXPECT_TRUE(is_public_address(net::ip::make_address(a))) << a;
  }
}

}  // namespace
}  // namespace sidecar::proxy
