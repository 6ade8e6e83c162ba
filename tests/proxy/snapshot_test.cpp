// The proxy's state derived from one configuration (proxy/snapshot.hpp, docs/operations.md
// "Reload"): each route's pool key, Host value and URL prefix computed once, the listener's TLS
// context built from the checked pair, and the snapshot keeping its configuration alive.
#include "proxy/snapshot.hpp"

#include <gtest/gtest.h>

#include <string>

#include "conf/config_error.hpp"
#include "tests/proxy_support/pki.hpp"

namespace sidecar::proxy {
namespace {

conf::route route_to(std::string prefix, bool https, std::string host, std::uint16_t port) {
  conf::route r;
  r.prefix = std::move(prefix);
  r.upstream.https = https;
  r.upstream.host = std::move(host);
  r.upstream.port = port;
  r.upstream.base_path = "/";
  return r;
}

TEST(snapshot, TheAuthorityOmitsTheSchemesPortAndBracketsIpv6) {
  EXPECT_EQ(authority("app.example", 80, false), "app.example");
  EXPECT_EQ(authority("app.example", 443, true), "app.example");
  EXPECT_EQ(authority("app.example", 443, false), "app.example:443");
  EXPECT_EQ(authority("app.example", 80, true), "app.example:80");
  EXPECT_EQ(authority("10.0.0.1", 8080, false), "10.0.0.1:8080");
  EXPECT_EQ(authority("::1", 8443, true), "[::1]:8443");
  EXPECT_EQ(authority("fe80::1", 80, false), "[fe80::1]");
}

TEST(snapshot, EachRouteGetsItsPoolKeyHostAndUrlPrefixOnce) {
  auto cfg = std::make_shared<conf::config>();
  cfg->routes = {route_to("/apps/", false, "app.example", 80),
                 route_to("/secure/", true, "::1", 8443)};
  const auto s = make_snapshot(cfg);
  ASSERT_EQ(s->route_infos.size(), 2u);
  const auto& plain = s->route_infos.at(&s->cfg->routes[0]);
  EXPECT_EQ(plain.pool_key, "r|http|app.example|80");
  EXPECT_EQ(plain.host_header, "app.example");
  EXPECT_EQ(plain.url_prefix, "http://app.example");
  const auto& tls = s->route_infos.at(&s->cfg->routes[1]);
  EXPECT_EQ(tls.pool_key, "r|https|::1|8443");
  EXPECT_EQ(tls.host_header, "[::1]:8443");
  EXPECT_EQ(tls.url_prefix, "https://[::1]:8443");
  EXPECT_EQ(s->server_tls, nullptr) << "no [proxy] TLS: plain HTTP";
}

TEST(snapshot, TheSnapshotKeepsItsConfigurationAliveAfterTheCallerLetsGo) {
  auto cfg = std::make_shared<conf::config>();
  cfg->source = "kept.toml";
  cfg->routes = {route_to("/", false, "a", 80)};
  std::weak_ptr<const conf::config> weak = cfg;
  const auto s = make_snapshot(std::move(cfg));
  EXPECT_FALSE(weak.expired()) << "the route table points into it";
  EXPECT_EQ(s->cfg->source, "kept.toml");
}

TEST(snapshot, TheListenersTlsContextIsBuiltFromThePairOrRefused) {
  const testing::test_pki pki;
  auto cfg = std::make_shared<conf::config>();
  cfg->source = "sidecar.toml";
  cfg->proxy.tls = conf::tls_files{pki.server_cert, pki.server_key};
  const auto s = make_snapshot(cfg);
  EXPECT_NE(s->server_tls, nullptr);

  auto bad = std::make_shared<conf::config>();
  bad->source = "sidecar.toml";
  bad->proxy.tls = conf::tls_files{pki.server_cert, pki.dir / "ca.key"};  // not its key
  EXPECT_THROW((void)make_snapshot(bad), conf::config_error);
}

}  // namespace
}  // namespace sidecar::proxy
