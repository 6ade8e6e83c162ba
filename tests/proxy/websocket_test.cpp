// Upgrade: a WebSocket handshake goes through the proxy, and on 101 the two connections are
// joined into a byte tunnel (a Beast WebSocket echo server upstream).
#include <gtest/gtest.h>

#include <boost/beast/websocket.hpp>

#include "tests/proxy_support/harness.hpp"
#include "tests/proxy_support/test_upstream.hpp"

namespace sidecar::testing {
namespace {

TEST(proxy_websocket, EchoThroughTheTunnel) {
  test_upstream up;
  auto c = base_config();
  c->routes.push_back(route_to("/", upstream_at(up.port())));
  running_proxy proxy(c);

  net::io_context ioc;
  beast::websocket::stream<tcp::socket> ws(connect_to(ioc, proxy.port()));
  ws.handshake("example.com", "/ws");
  for (const std::string& msg : {std::string("hello"), std::string(200000, 'w')}) {
    ws.write(net::buffer(msg));
    beast::flat_buffer buf;
    ws.read(buf);
    EXPECT_EQ(beast::buffers_to_string(buf.data()), msg);
  }
  ws.close(beast::websocket::close_code::normal);

  const auto cap = proxy.sink.wait_for(1).at(0);
  EXPECT_TRUE(cap.upgraded);
  EXPECT_EQ(cap.status_code, 101);
  EXPECT_EQ(cap.error, store::exchange_error::none);
  EXPECT_EQ(header_value(cap.request_headers, "Upgrade"), "websocket");
  EXPECT_EQ(up.last().value("Connection"), "Upgrade");
}

TEST(proxy_websocket, UpgradeRefusedByTheUpstreamIsAPlainResponse) {
  test_upstream up;
  auto c = base_config();
  c->routes.push_back(route_to("/", upstream_at(up.port())));
  running_proxy proxy(c);
  auto r = round_trip(proxy.port(),
                      "GET /not-ws HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n");
  EXPECT_EQ(r.res.result_int(), 200);
  EXPECT_EQ(r.res.body(), "hello /not-ws");
}

}  // namespace
}  // namespace sidecar::testing
