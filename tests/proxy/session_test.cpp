// One client connection through proxy::server (proxy/session.cpp, docs/proxy.md), on real
// sockets: choosing a destination (routes, hosts, the forward proxy's checks), keep-alive and
// pipelining, HTTP/1.0, CONNECT, and the connection's own timeouts.
#include <gtest/gtest.h>

#include <future>

#include "proxy/server.hpp"
#include "tests/proxy_support/harness.hpp"
#include "tests/proxy_support/test_upstream.hpp"

namespace sidecar::testing {
namespace {

using namespace std::chrono_literals;

TEST(session, NoRouteIs404AndNotCaptured) {
  test_upstream up;
  running_proxy proxy(one_route(up.port(), "/only/"));
  auto r = round_trip(proxy.port(), "GET /elsewhere HTTP/1.1\r\nHost: a\r\n\r\n");
  ASSERT_FALSE(r.ec);
  EXPECT_EQ(r.res.result_int(), 404);
  EXPECT_EQ(r.res.body(), R"({"message":"no route for this request","status":404})");
  EXPECT_EQ(up.request_count(), 0u);
  EXPECT_EQ(proxy.sink.size(), 0u);
  EXPECT_EQ(proxy.metric(R"(sidecar_proxy_local_answers_total{status="404"})"), 1);
}

TEST(session, HostRoutesWinOverHostlessOnes) {
  test_upstream a;
  test_upstream b;
  auto c = base_config();
  c->routes.push_back(route_to("/apps/acme/", upstream_at(a.port(), "/long/")));
  auto hosted = route_to("/", upstream_at(b.port(), "/hosted/"));
  hosted.host = "app.acme.com";
  c->routes.push_back(hosted);
  running_proxy proxy(c);
  round_trip(proxy.port(), "GET /apps/acme/x HTTP/1.1\r\nHost: App.Acme.com:8080\r\n\r\n");
  EXPECT_EQ(b.last().target, "/hosted/apps/acme/x");
  EXPECT_EQ(a.request_count(), 0u);
  round_trip(proxy.port(), "GET /apps/acme/x HTTP/1.1\r\nHost: other.com\r\n\r\n");
  EXPECT_EQ(a.last().target, "/long/x");
}

TEST(session, KeepAliveReusesUpstreamConnections) {
  test_upstream up;
  // One event loop: a pooled connection serves only client connections of its own loop.
  auto c = one_route(up.port());
  c->proxy.threads = 1;
  running_proxy proxy(c);
  net::io_context ioc;
  auto s = connect_to(ioc, proxy.port());
  beast::flat_buffer buf;
  for (int i = 0; i < 5; ++i) {
    send_all(s, "GET /k HTTP/1.1\r\nHost: a\r\n\r\n");
    auto r = read_response(s, buf);
    ASSERT_FALSE(r.ec);
    EXPECT_EQ(r.res.body(), "hello /k");
  }
  // A second client reuses the pooled connection as well.
  auto s2 = connect_to(ioc, proxy.port());
  send_all(s2, "GET /k HTTP/1.1\r\nHost: a\r\n\r\n");
  beast::flat_buffer buf2;
  ASSERT_FALSE(read_response(s2, buf2).ec);
  EXPECT_EQ(up.request_count(), 6u);
  EXPECT_EQ(up.connections(), 1u);
}

TEST(session, APooledConnectionServesOnlyClientsOfItsOwnLoop) {
  // Two loops take the client connections in turn (docs/proxy.md, "Threads"): the first and
  // third clients are on one loop, the second on the other, which opens its own connection.
  test_upstream up;
  running_proxy proxy(one_route(up.port()));  // two proxy threads
  for (int i = 0; i < 3; ++i) {
    const auto r = round_trip(proxy.port(), "GET /k HTTP/1.1\r\nHost: a\r\n\r\n");
    ASSERT_FALSE(r.ec);
    EXPECT_EQ(r.res.body(), "hello /k");
  }
  EXPECT_EQ(up.request_count(), 3u);
  EXPECT_EQ(up.connections(), 2u);
}

TEST(session, PipelinedRequestsAreAnsweredInOrder) {
  test_upstream up;
  running_proxy proxy(one_route(up.port()));
  net::io_context ioc;
  auto s = connect_to(ioc, proxy.port());
  send_all(s,
           "GET /one HTTP/1.1\r\nHost: a\r\n\r\n"
           "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\ntwo"
           "GET /three HTTP/1.1\r\nHost: a\r\n\r\n");
  beast::flat_buffer buf;
  EXPECT_EQ(read_response(s, buf).res.body(), "hello /one");
  EXPECT_EQ(read_response(s, buf).res.body(), "two");
  EXPECT_EQ(read_response(s, buf).res.body(), "hello /three");
}

TEST(session, Http10ClientGetsAnHttp10AnswerAndClose) {
  test_upstream up;
  running_proxy proxy(one_route(up.port()));
  net::io_context ioc;
  auto s = connect_to(ioc, proxy.port());
  send_all(s, "GET /bigchunked/100 HTTP/1.0\r\n\r\n");
  const std::string all = read_until_close(s);
  EXPECT_TRUE(all.starts_with("HTTP/1.0 200")) << all;
  EXPECT_EQ(all.find("chunked"), std::string::npos);
  EXPECT_TRUE(all.ends_with(std::string(100, 'x')));
  EXPECT_EQ(up.last().version, 11u);
}

TEST(session, ConnectIs405) {
  test_upstream up;
  running_proxy proxy(one_route(up.port()));
  auto r =
      round_trip(proxy.port(), "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n");
  EXPECT_EQ(r.res.result_int(), 405);
  EXPECT_EQ(r.res[http::field::allow], "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS, TRACE");
  EXPECT_EQ(proxy.sink.size(), 0u);
}

TEST(session, HeaderTimeoutCutsOffASlowloris) {
  test_upstream up;
  auto c = one_route(up.port());
  c->proxy.header_timeout = 300ms;
  running_proxy proxy(c);
  net::io_context ioc;
  auto s = connect_to(ioc, proxy.port());
  send_all(s, "GET / HTTP/1.1\r\nHost: a\r\n");
  const auto start = std::chrono::steady_clock::now();
  beast::error_code ec;
  // Drip a header line every 100 ms: the head never completes, the proxy closes.
  for (int i = 0; i < 100 && !ec; ++i) {
    std::this_thread::sleep_for(100ms);
    net::write(s, net::buffer(std::string("X-Drip: 1\r\n")), ec);
  }
  const std::string rest = read_until_close(s);
  EXPECT_TRUE(ec || rest.empty() || rest.find("400") == std::string::npos);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 9s);
  EXPECT_EQ(up.request_count(), 0u);
}

TEST(session, IdleKeepAliveConnectionIsClosedAfterIdleTimeout) {
  test_upstream up;
  auto c = one_route(up.port());
  c->proxy.idle_timeout = 300ms;
  running_proxy proxy(c);
  net::io_context ioc;
  auto s = connect_to(ioc, proxy.port());
  send_all(s, "GET / HTTP/1.1\r\nHost: a\r\n\r\n");
  beast::flat_buffer buf;
  ASSERT_FALSE(read_response(s, buf).ec);
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(read_until_close(s), "");
  EXPECT_LT(std::chrono::steady_clock::now() - start, 9s);
}

TEST(session, ForwardProxyRefusesHostsResolvingToLoopback) {
  test_upstream up;
  auto c = one_route(up.port());
  conf::forward_host fh;
  fh.host = "localhost";
  fh.port = up.port();
  c->proxy.forward_hosts.push_back(fh);
  running_proxy proxy(c);
  auto r = round_trip(proxy.port(), "GET http://localhost:" + std::to_string(up.port()) +
                                        "/x HTTP/1.1\r\nHost: localhost\r\n\r\n");
  EXPECT_EQ(r.res.result_int(), 403);
  EXPECT_EQ(up.request_count(), 0u);
  EXPECT_EQ(proxy.sink.size(), 0u);
}

TEST(session, ForwardProxyRefusesUnlistedHostsAndPorts) {
  test_upstream up;
  auto c = one_route(up.port());
  conf::forward_host fh;
  fh.host = "example.org";
  fh.wildcard = true;
  c->proxy.forward_hosts.push_back(fh);
  running_proxy proxy(c);
  EXPECT_EQ(round_trip(proxy.port(), "GET http://evil.com/ HTTP/1.1\r\nHost: evil.com\r\n\r\n")
                .res.result_int(),
            403);
  EXPECT_EQ(round_trip(proxy.port(),
                       "GET http://a.example.org:8443/ HTTP/1.1\r\nHost: a.example.org\r\n\r\n")
                .res.result_int(),
            403);
}

TEST(session, ForwardProxyReachesAHostListedByAddress) {
  test_upstream up;
  auto c = one_route(up.port(), "/never/");
  conf::forward_host fh;
  fh.host = "127.0.0.1";
  fh.is_address = true;
  fh.port = up.port();
  c->proxy.forward_hosts.push_back(fh);
  c->proxy.forward_account = "ACforward";
  running_proxy proxy(c);
  auto r = round_trip(proxy.port(), "GET http://user:pw@127.0.0.1:" + std::to_string(up.port()) +
                                        "/fw?q=1 HTTP/1.1\r\nHost: other.example\r\n\r\n");
  EXPECT_EQ(r.res.result_int(), 200);
  EXPECT_EQ(up.last().target, "/fw?q=1");
  EXPECT_EQ(up.last().value("Host"), "127.0.0.1:" + std::to_string(up.port()));
  const auto cap = proxy.sink.wait_for(1).at(0);
  EXPECT_TRUE(cap.forward_proxy);
  EXPECT_EQ(cap.route_account, "ACforward");
  EXPECT_EQ(cap.upstream_url, "http://127.0.0.1:" + std::to_string(up.port()) + "/fw?q=1");
}

TEST(session, ForwardProxyReachesOwnListenersOnlyWhenListedByAddress) {
  test_upstream up;
  // The route goes elsewhere: a route to an own listener is refused at start().
  test_upstream routed;
  auto c = one_route(routed.port());
  conf::forward_host by_name;
  by_name.host = "localhost";
  by_name.port = up.port();
  c->proxy.forward_hosts.push_back(by_name);
  // The upstream's port stands for the API listener here.
  const std::vector<tcp::endpoint> own{
      tcp::endpoint(net::ip::make_address("127.0.0.1"), up.port())};
  {
    running_proxy proxy(c, own);
    auto r = round_trip(proxy.port(), "GET http://localhost:" + std::to_string(up.port()) +
                                          "/ HTTP/1.1\r\nHost: x\r\n\r\n");
    EXPECT_EQ(r.res.result_int(), 403);
    EXPECT_EQ(up.request_count(), 0u);
  }
  // Listed by address, as docs/proxy.md allows: the operator chose it.
  conf::forward_host by_address;
  by_address.host = "127.0.0.1";
  by_address.is_address = true;
  by_address.port = up.port();
  c->proxy.forward_hosts.push_back(by_address);
  running_proxy proxy(c, own);
  auto r = round_trip(proxy.port(), "GET http://127.0.0.1:" + std::to_string(up.port()) +
                                        "/ HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(r.res.result_int(), 200);
  EXPECT_EQ(up.request_count(), 1u);
}

}  // namespace
}  // namespace sidecar::testing
