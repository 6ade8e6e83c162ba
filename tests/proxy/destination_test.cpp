// Where one request goes upstream (proxy/destination.hpp, docs/proxy.md "Routes" and "Forward
// proxy"): a route's destination from the snapshot, an absolute-form target read against the
// allowlist, the address checks that refuse loopback and private addresses unless listed by
// address and the sidecar's own listeners, with the checked addresses kept for the connect.
#include "proxy/destination.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "proxy/snapshot.hpp"

namespace sidecar::proxy {
namespace {

using problem = forward_target::problem;

conf::forward_host named(std::string host, std::optional<std::uint16_t> port = std::nullopt) {
  conf::forward_host h;
  h.host = std::move(host);
  h.port = port;
  h.is_address = !h.host.empty() && (std::isdigit(static_cast<unsigned char>(h.host[0])) != 0 ||
                                     h.host.find(':') != std::string::npos);
  return h;
}

/// Runs resolve_forward to its end; whether it refused.
bool refused(destination& d, const conf::forward_host& allowed,
             const std::vector<tcp::endpoint>& own = {}, bool never_own = false) {
  net::io_context io;
  bool out = false;
  net::co_spawn(
      io,
      [&]() -> net::awaitable<void> { out = co_await resolve_forward(d, allowed, own, never_own); },
      net::detached);
  io.run();
  return out;
}

TEST(destination, ARoutesDestinationComesFromItsSnapshot) {
  auto cfg = std::make_shared<conf::config>();
  conf::route r;
  r.prefix = "/apps/";
  r.upstream =
      conf::upstream_url{"https://app.example:8443/base/", true, "app.example", 8443, "/base/"};
  r.dir = conf::direction::api;
  cfg->routes = {r};
  const auto snap = make_snapshot(cfg);
  const destination d = route_destination(*snap, snap->cfg->routes[0], "/base/voice?x=1");
  EXPECT_TRUE(d.https);
  EXPECT_EQ(d.host(), "app.example");
  EXPECT_EQ(d.port, 8443);
  EXPECT_EQ(d.host_header(), "app.example:8443");
  EXPECT_EQ(d.url_prefix(), "https://app.example:8443");
  EXPECT_EQ(d.target, "/base/voice?x=1");
  EXPECT_EQ(d.pool_key(), snap->route_infos.at(&snap->cfg->routes[0]).pool_key);
  EXPECT_EQ(d.direction(), conf::direction::api);
  EXPECT_TRUE(d.checked.empty()) << "a route's host is resolved when connecting";
}

TEST(destination, AnAbsoluteTargetIsReadAgainstTheAllowlist) {
  const std::vector<conf::forward_host> hosts{named("hooks.example"), named("api.example", 8080)};
  const auto ok = read_forward_target("http://Hooks.Example/status?CallSid=CA1", hosts);
  EXPECT_EQ(ok.status, problem::none);
  ASSERT_NE(ok.allowed, nullptr);
  EXPECT_EQ(ok.dest.host(), "hooks.example");
  EXPECT_EQ(ok.dest.port, 80);
  EXPECT_FALSE(ok.dest.https);
  EXPECT_EQ(ok.dest.target, "/status?CallSid=CA1");
  EXPECT_EQ(ok.dest.direction(), conf::direction::webhook);

  EXPECT_NE(read_forward_target("http://api.example:8080/", hosts).allowed, nullptr);
  EXPECT_EQ(read_forward_target("http://api.example:8081/", hosts).allowed, nullptr)
      << "another port than listed";
  EXPECT_EQ(read_forward_target("https://other.example/", hosts).allowed, nullptr);
}

TEST(destination, WhatIsNotAnAbsoluteHttpTargetIsNamed) {
  const std::vector<conf::forward_host> hosts{named("hooks.example")};
  EXPECT_EQ(read_forward_target("/relative", hosts).status, problem::not_absolute);
  EXPECT_EQ(read_forward_target("ftp://hooks.example/", hosts).status, problem::not_absolute);
  EXPECT_EQ(read_forward_target("*", hosts).status, problem::asterisk);
  EXPECT_EQ(read_forward_target("http://hooks.example/a/../../etc", hosts).status, problem::path)
      << "a path that climbs out of the root";
}

TEST(destination, LoopbackByNameIsRefusedAndAllowedWhenListedByAddress) {
  destination by_name;
  by_name.own_names({.host = "localhost"});
  by_name.port = 9;
  EXPECT_TRUE(refused(by_name, named("localhost"))) << "a name that resolves to loopback";

  destination by_address;
  by_address.own_names({.host = "127.0.0.1"});
  by_address.port = 9;
  EXPECT_FALSE(refused(by_address, named("127.0.0.1"))) << "the operator's explicit choice";
  ASSERT_EQ(by_address.checked.size(), 1u);
  EXPECT_EQ(by_address.checked[0], tcp::endpoint(net::ip::make_address("127.0.0.1"), 9))
      << "the connect uses the very address checked";
}

TEST(destination, PrivateAndMappedAddressesAreRefusedUnlessListed) {
  for (const char* a : {"10.1.2.3", "192.168.0.1", "169.254.169.254", "::ffff:127.0.0.1", "::1"}) {
    SCOPED_TRACE(a);
    destination d;
    d.own_names({.host = a});
    d.port = 80;
    EXPECT_TRUE(refused(d, named("hooks.example"))) << "allowed by a name, reached by address";
  }
}

TEST(destination, TheSidecarsOwnListenersAreNeverADestinationWhenAsked) {
  const std::vector<tcp::endpoint> own{tcp::endpoint(net::ip::make_address("0.0.0.0"), 8080),
                                       tcp::endpoint(net::ip::make_address("127.0.0.1"), 8081)};
  EXPECT_TRUE(is_own_listener(tcp::endpoint(net::ip::make_address("127.0.0.1"), 8080), own))
      << "0.0.0.0 stands for every address on its port";
  EXPECT_TRUE(is_own_listener(tcp::endpoint(net::ip::make_address("127.0.0.1"), 8081), own));
  EXPECT_TRUE(is_own_listener(tcp::endpoint(net::ip::make_address("0.0.0.0"), 8081), own));
  EXPECT_FALSE(is_own_listener(tcp::endpoint(net::ip::make_address("127.0.0.1"), 8082), own));

  destination d;
  d.own_names({.host = "127.0.0.1"});
  d.port = 8081;
  EXPECT_TRUE(refused(d, named("127.0.0.1"), own, true)) << "never_own: even listed by address";
}

}  // namespace
}  // namespace sidecar::proxy
