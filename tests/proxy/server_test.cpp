// The proxy's listener (proxy/server.cpp, docs/proxy.md): admission by allowed_clients and a
// stop that drains the exchanges in flight. One exchange is in exchange_test.cpp, one
// connection in session_test.cpp.
#include "proxy/server.hpp"

#include <gtest/gtest.h>

#include <future>

#include "tests/proxy_support/harness.hpp"
#include "tests/proxy_support/test_upstream.hpp"

namespace sidecar::testing {
namespace {

using namespace std::chrono_literals;

TEST(proxy_server, ClientsOutsideAllowedClientsGet403) {
  test_upstream up;
  auto c = one_route(up.port());
  conf::cidr only;
  only.network = net::ip::make_address("10.0.0.0");
  only.prefix_length = 8;
  c->proxy.allowed_clients.push_back(only);
  running_proxy proxy(c);
  net::io_context ioc;
  auto s = connect_to(ioc, proxy.port());
  const std::string all = read_until_close(s);
  EXPECT_TRUE(all.starts_with("HTTP/1.1 403")) << all;
  EXPECT_EQ(up.request_count(), 0u);
}

TEST(proxy_server, AllowedClientsLetListedAddressesIn) {
  test_upstream up;
  auto c = one_route(up.port());
  conf::cidr local;
  local.network = net::ip::make_address("127.0.0.0");
  local.prefix_length = 8;
  c->proxy.allowed_clients.push_back(local);
  running_proxy proxy(c);
  EXPECT_EQ(round_trip(proxy.port(), "GET / HTTP/1.1\r\nHost: a\r\n\r\n").res.result_int(), 200);
}

TEST(proxy_server, StopDrainsInFlightExchangesAndSubmitsTheirCaptures) {
  test_upstream up;
  auto c = one_route(up.port());
  auto proxy = std::make_unique<running_proxy>(c);
  net::io_context ioc;
  auto s = connect_to(ioc, proxy->port());
  send_all(s, "GET /stall HTTP/1.1\r\nHost: a\r\n\r\n");
  ASSERT_TRUE(eventually([&] { return up.request_count() == 1; }));
  proxy->stop(200ms);
  // The exchange was cancelled after the drain and still handed over.
  EXPECT_EQ(proxy->sink.size(), 1u);
  EXPECT_EQ(proxy->sink.wait_for(1).at(0).error, store::exchange_error::shutdown);
}

}  // namespace
}  // namespace sidecar::testing
