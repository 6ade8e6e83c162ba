// Upgrades through the real proxy: only the protocols of [proxy] upgrades reach the upstream;
// an h2c upgrade never does, even to an upstream that would switch to HTTP/2, and
// HTTP2-Settings is always dropped.
#include "proxy/upgrade.hpp"

#include <gtest/gtest.h>

#include "tests/proxy_support/harness.hpp"
#include "tests/proxy_support/test_upstream.hpp"

namespace sidecar::testing {
namespace {

using proxy::keep_enabled_upgrades;
using proxy::upgrade_was_offered;

const std::string h2c_request =
    "GET /public/ HTTP/1.1\r\nHost: a\r\nConnection: Upgrade, HTTP2-Settings\r\n"
    "Upgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n";

TEST(proxy_upgrade, TheTestUpstreamDoesSwitchToH2cWhenAskedDirectly) {
  // The premise of the tests below: spoken to directly, this upstream opens the tunnel.
  test_upstream up;
  const auto r = round_trip(up.port(), h2c_request);
  ASSERT_FALSE(r.ec) << r.ec.message();
  EXPECT_EQ(r.res.result_int(), 101);
}

TEST(proxy_upgrade, H2cIsForwardedAsPlainHttp11WithoutTheUpgradeAndNoTunnelOpens) {
  test_upstream up;
  auto c = base_config();
  c->routes.push_back(route_to("/public/", upstream_at(up.port(), "/public/")));
  running_proxy proxy(c);

  net::io_context ioc;
  auto s = connect_to(ioc, proxy.port());
  send_all(s, h2c_request);
  beast::flat_buffer buf;
  auto first = read_response(s, buf);
  ASSERT_FALSE(first.ec) << first.ec.message();
  EXPECT_EQ(first.res.result_int(), 200);
  EXPECT_EQ(first.res.body(), "hello /public/");
  EXPECT_TRUE(first.res[http::field::upgrade].empty());

  // The same connection is still HTTP/1.1 to the proxy: what h2csmuggler would send next
  // (an HTTP/2 preface) is not a tunnel's payload but a malformed request.
  send_all(s, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
  const std::string rest = read_until_close(s);
  EXPECT_EQ(rest.find("H2C-TUNNEL"), std::string::npos) << rest;
  EXPECT_TRUE(rest.starts_with("HTTP/1.1 400")) << rest;

  ASSERT_EQ(up.request_count(), 1u);
  const auto seen = up.last();
  EXPECT_TRUE(seen.value("Upgrade").empty());
  EXPECT_TRUE(seen.value("HTTP2-Settings").empty());
  EXPECT_EQ(seen.value("Connection").find("pgrade"), std::string::npos) << seen.value("Connection");
  EXPECT_EQ(seen.value("X-Forwarded-For"), "127.0.0.1");

  const auto cap = proxy.sink.wait_for(1).at(0);
  EXPECT_EQ(cap.status_code, 200);
  EXPECT_FALSE(cap.upgraded);
  EXPECT_EQ(cap.error, store::exchange_error::none);
  EXPECT_EQ(header_value(cap.request_headers, "Upgrade"), "");
  EXPECT_EQ(header_value(cap.request_headers, "HTTP2-Settings"), "");
}

TEST(proxy_upgrade, H2cBesideWebsocketKeepsOnlyWebsocket) {
  test_upstream up;
  auto c = base_config();
  c->routes.push_back(route_to("/", upstream_at(up.port())));
  running_proxy proxy(c);
  const auto r = round_trip(proxy.port(),
                            "GET /plain HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\n"
                            "Upgrade: h2c, websocket/13\r\nHTTP2-Settings: AAMAAABk\r\n\r\n");
  EXPECT_EQ(r.res.result_int(), 200);
  EXPECT_EQ(up.last().value("Upgrade"), "websocket/13");
  EXPECT_TRUE(up.last().value("HTTP2-Settings").empty());
}

TEST(proxy_upgrade, Http2SettingsIsDroppedEvenWithoutAnUpgrade) {
  test_upstream up;
  auto c = base_config();
  c->routes.push_back(route_to("/", upstream_at(up.port())));
  running_proxy proxy(c);
  const auto r =
      round_trip(proxy.port(), "GET /x HTTP/1.1\r\nHost: a\r\nHTTP2-Settings: AAMAAABk\r\n\r\n");
  EXPECT_EQ(r.res.result_int(), 200);
  EXPECT_TRUE(up.last().value("HTTP2-Settings").empty());
}

TEST(proxy_upgrade, WebsocketIsNotForwardedWhenTheUserDisablesIt) {
  test_upstream up;
  auto c = base_config();
  c->proxy.upgrades.clear();
  c->routes.push_back(route_to("/", upstream_at(up.port())));
  running_proxy proxy(c);
  const auto r = round_trip(
      proxy.port(),
      "GET /ws HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
      "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n");
  EXPECT_EQ(r.res.result_int(), 200);  // the upstream answered it as a plain GET
  EXPECT_TRUE(up.last().value("Upgrade").empty());
  EXPECT_FALSE(proxy.sink.wait_for(1).at(0).upgraded);
}

TEST(upgrade_filter, KeepsEnabledProtocolsByNameWithoutCaseOrVersion) {
  head_fields f;
  f.set(http::field::upgrade, "h2c, WebSocket/13, foo");
  f.set("HTTP2-Settings", "x");
  EXPECT_TRUE(keep_enabled_upgrades(f, true, {"websocket"}));
  EXPECT_EQ(f[http::field::upgrade], "WebSocket/13");
  EXPECT_EQ(f.count("HTTP2-Settings"), 0u);
  EXPECT_FALSE(keep_enabled_upgrades(f, false, {"websocket"}));  // Connection does not name it

  head_fields only_h2c;
  only_h2c.set(http::field::upgrade, "h2c");
  EXPECT_FALSE(keep_enabled_upgrades(only_h2c, true, {"websocket"}));
  EXPECT_EQ(only_h2c.count(http::field::upgrade), 0u);

  // Found by fuzz_http_request: a token with spaces or other bytes in it ("websocket /x ...
  // h2c") is not a protocol the sidecar recognised, and is dropped whole.
  head_fields junk;
  junk.set(http::field::upgrade, "websocket /x HTTP/2 h2c, websocket/13/1, \xffwebsocket");
  EXPECT_FALSE(keep_enabled_upgrades(junk, true, {"websocket"}));
  EXPECT_EQ(junk.count(http::field::upgrade), 0u);

  // Two Upgrade fields with another between them: only theirs are read (Beast 1.81's
  // equal_range would have read X-Note's value as an offered protocol).
  head_fields split;
  split.insert(http::field::upgrade, "h2c");
  split.insert("X-Note", "websocket");
  split.insert(http::field::upgrade, "foo");
  EXPECT_FALSE(keep_enabled_upgrades(split, true, {"websocket"}));
  EXPECT_EQ(split.count(http::field::upgrade), 0u);
  EXPECT_EQ(split["X-Note"], "websocket");

  EXPECT_TRUE(upgrade_was_offered("websocket", "WebSocket"));
  EXPECT_FALSE(upgrade_was_offered("websocket", "h2c"));
}

}  // namespace
}  // namespace sidecar::testing
