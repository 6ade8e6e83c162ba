// Integration tests of proxy::server on real sockets against a real upstream (Beast test
// server): routing, header rules, keep-alive, pipelining, bodies, interim responses, errors,
// timeouts, disconnects, forward-proxy checks, captures and metrics.
#include "proxy/server.hpp"

#include <gtest/gtest.h>

#include <future>

#include "tests/proxy_support/harness.hpp"
#include "tests/proxy_support/test_upstream.hpp"

namespace sidecar::testing {
namespace {

using namespace std::chrono_literals;

std::shared_ptr<conf::config> one_route(std::uint16_t upstream_port, std::string prefix = "/",
                                        std::string base = "/") {
  auto c = base_config();
  c->routes.push_back(route_to(std::move(prefix), upstream_at(upstream_port, std::move(base))));
  return c;
}

TEST(proxy_server, PrefixIsReplacedByTheUpstreamBasePath) {
  test_upstream up;
  auto c = base_config();
  c->routes.push_back(route_to("/apps/acme/", upstream_at(up.port(), "/base/")));
  c->routes.push_back(route_to("/apps/", upstream_at(up.port(), "/other/")));
  running_proxy proxy(c);
  auto r = round_trip(proxy.port(), "GET /apps/acme/voice?x=1 HTTP/1.1\r\nHost: a\r\n\r\n");
  ASSERT_FALSE(r.ec) << r.ec.message();
  EXPECT_EQ(r.res.result_int(), 200);
  EXPECT_EQ(up.last().target, "/base/voice?x=1");
  r = round_trip(proxy.port(), "GET /apps/zzz HTTP/1.1\r\nHost: a\r\n\r\n");
  EXPECT_EQ(up.last().target, "/other/zzz");
}

TEST(proxy_server, NoRouteIs404AndNotCaptured) {
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

TEST(proxy_server, HostRoutesWinOverHostlessOnes) {
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

TEST(proxy_server, HeaderRulesHopByHopHostAndForwardedHeaders) {
  test_upstream up;
  running_proxy proxy(one_route(up.port()));
  auto r = round_trip(proxy.port(),
                      "GET /h HTTP/1.1\r\nHost: client.example\r\nX-First: 1\r\n"
                      "Connection: keep-alive, X-Private\r\nX-Private: secret\r\nKeep-Alive: 5\r\n"
                      "Proxy-Authorization: Basic abc\r\nTE: trailers\r\nTrailer: X-T\r\n"
                      "Upgrade: h2c\r\nX-Forwarded-For: 203.0.113.9\r\nX-Last: 2\r\n\r\n");
  ASSERT_FALSE(r.ec);
  const auto got = up.last();
  for (const char* gone : {"Connection", "X-Private", "Keep-Alive", "Proxy-Authorization", "TE",
                           "Trailer", "Upgrade"}) {
    EXPECT_TRUE(got.values(gone).empty()) << gone;
  }
  EXPECT_EQ(got.value("Host"), "127.0.0.1:" + std::to_string(up.port()));
  EXPECT_EQ(got.value("X-Forwarded-For"), "203.0.113.9, 127.0.0.1");
  EXPECT_EQ(got.value("X-Forwarded-Proto"), "http");
  EXPECT_EQ(got.value("X-Forwarded-Host"), "client.example");
  // Everything else unchanged and in order.
  ASSERT_GE(got.headers.size(), 2u);
  EXPECT_EQ(got.headers[0].first, "X-First");
  EXPECT_EQ(got.headers[1].first, "X-Last");
  // The response loses the upstream's hop-by-hop fields too.
  EXPECT_EQ(r.res["X-Upstream-Header"], "yes");
  EXPECT_EQ(r.res.count("X-Hop"), 0u);
}

// Two X-Forwarded-For fields with another between them: their values only, in order (Beast
// 1.81's equal_range would have taken the field between as well).
TEST(proxy_server, NonAdjacentForwardedForFieldsAreJoinedAlone) {
  test_upstream up;
  running_proxy proxy(one_route(up.port()));
  auto r = round_trip(proxy.port(),
                      "GET /h HTTP/1.1\r\nHost: client.example\r\nX-Forwarded-For: 203.0.113.9\r\n"
                      "X-Between: no\r\nX-Forwarded-For: 198.51.100.7\r\n\r\n");
  ASSERT_FALSE(r.ec);
  EXPECT_EQ(up.last().value("X-Forwarded-For"), "203.0.113.9, 198.51.100.7, 127.0.0.1");
  EXPECT_EQ(up.last().value("X-Between"), "no");
}

TEST(proxy_server, PreserveHostForwardsTheClientsHost) {
  test_upstream up;
  auto c = one_route(up.port());
  c->routes[0].preserve_host = true;
  running_proxy proxy(c);
  round_trip(proxy.port(), "GET / HTTP/1.1\r\nHost: client.example\r\n\r\n");
  EXPECT_EQ(up.last().value("Host"), "client.example");
}

TEST(proxy_server, KeepAliveReusesUpstreamConnections) {
  test_upstream up;
  running_proxy proxy(one_route(up.port()));
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

TEST(proxy_server, PipelinedRequestsAreAnsweredInOrder) {
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

TEST(proxy_server, Http10ClientGetsAnHttp10AnswerAndClose) {
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

TEST(proxy_server, ChunkedRequestStaysChunkedAndFixedStaysFixed) {
  test_upstream up;
  running_proxy proxy(one_route(up.port()));
  auto r = round_trip(proxy.port(),
                      "POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
                      "Content-Type: text/plain\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n");
  ASSERT_FALSE(r.ec);
  EXPECT_EQ(r.res.body(), "hello world");
  EXPECT_TRUE(up.last().chunked);
  EXPECT_EQ(up.last().body, "hello world");
  r = round_trip(proxy.port(), "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\n\r\nabcd");
  EXPECT_FALSE(up.last().chunked);
  EXPECT_EQ(up.last().value("Content-Length"), "4");
  EXPECT_EQ(r.res.body(), "abcd");
}

TEST(proxy_server, ChunkedAndFixedResponsesStreamThrough) {
  test_upstream up;
  running_proxy proxy(one_route(up.port()));
  net::io_context ioc;
  auto s = connect_to(ioc, proxy.port());
  beast::flat_buffer buf;
  send_all(s, "GET /bigchunked/300000 HTTP/1.1\r\nHost: a\r\n\r\n");
  auto r = read_response(s, buf);
  ASSERT_FALSE(r.ec);
  EXPECT_TRUE(r.res.chunked());
  EXPECT_EQ(r.res.body().size(), 300000u);
  send_all(s, "GET /big/300000 HTTP/1.1\r\nHost: a\r\n\r\n");
  r = read_response(s, buf);
  ASSERT_FALSE(r.ec);
  EXPECT_EQ(r.res[http::field::content_length], "300000");
  EXPECT_EQ(r.res.body().size(), 300000u);
  const auto caps = proxy.sink.wait_for(2);
  ASSERT_EQ(caps.size(), 2u);
  EXPECT_EQ(caps[1].response_body.size, 300000u);
  EXPECT_EQ(caps[1].response_body.head.size(), 1024u);  // body_limit
}

TEST(proxy_server, CloseDelimitedResponseBecomesChunked) {
  test_upstream up;
  running_proxy proxy(one_route(up.port()));
  auto r = round_trip(proxy.port(), "GET /closedelim HTTP/1.1\r\nHost: a\r\n\r\n");
  ASSERT_FALSE(r.ec) << r.ec.message();
  EXPECT_TRUE(r.res.chunked());
  EXPECT_EQ(r.res.body(), "until the end");
}

TEST(proxy_server, HeadResponseHasNoBody) {
  test_upstream up;
  running_proxy proxy(one_route(up.port()));
  net::io_context ioc;
  auto s = connect_to(ioc, proxy.port());
  beast::flat_buffer buf;
  send_all(s, "HEAD /big/5000 HTTP/1.1\r\nHost: a\r\n\r\n");
  auto r = read_response(s, buf, true);
  ASSERT_FALSE(r.ec);
  EXPECT_EQ(r.res[http::field::content_length], "5000");
  // The connection is still in step: the next answer parses.
  send_all(s, "GET /after HTTP/1.1\r\nHost: a\r\n\r\n");
  EXPECT_EQ(read_response(s, buf).res.body(), "hello /after");
}

TEST(proxy_server, NoContentAndNotModifiedHaveNoBody) {
  test_upstream up;
  running_proxy proxy(one_route(up.port()));
  net::io_context ioc;
  auto s = connect_to(ioc, proxy.port());
  beast::flat_buffer buf;
  send_all(s, "GET /status/204 HTTP/1.1\r\nHost: a\r\n\r\nGET /status/304 HTTP/1.1\r\nHost: a\r\n\r\n"
              "GET /after HTTP/1.1\r\nHost: a\r\n\r\n");
  EXPECT_EQ(read_response(s, buf).res.result_int(), 204);
  EXPECT_EQ(read_response(s, buf).res.result_int(), 304);
  EXPECT_EQ(read_response(s, buf).res.body(), "hello /after");
}

TEST(proxy_server, ExpectContinueWaitsForTheUpstreamsContinue) {
  test_upstream up;
  running_proxy proxy(one_route(up.port()));
  net::io_context ioc;
  auto s = connect_to(ioc, proxy.port());
  send_all(s, "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n");
  beast::flat_buffer buf;
  auto interim = read_response(s, buf);
  ASSERT_FALSE(interim.ec);
  EXPECT_EQ(interim.res.result_int(), 100);
  send_all(s, "hello");
  auto r = read_response(s, buf);
  ASSERT_FALSE(r.ec);
  EXPECT_EQ(r.res.body(), "hello");
  EXPECT_EQ(up.last().value("Expect"), "100-continue");
}

TEST(proxy_server, ExpectContinueSendsTheBodyWhenTheUpstreamIgnoresIt) {
  // The upstream waits for the body without a 100: after a second the proxy sends its own
  // 100 to the client and forwards the body, instead of waiting for upstream_timeout.
  test_upstream up;
  running_proxy proxy(one_route(up.port()));
  net::io_context ioc;
  auto s = connect_to(ioc, proxy.port());
  const auto start = std::chrono::steady_clock::now();
  send_all(s, "POST /nocontinue HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n"
              "Expect: 100-continue\r\n\r\n");
  beast::flat_buffer buf;
  auto interim = read_response(s, buf);
  ASSERT_FALSE(interim.ec);
  EXPECT_EQ(interim.res.result_int(), 100);
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(900));
  send_all(s, "hello");
  auto r = read_response(s, buf);
  ASSERT_FALSE(r.ec);
  EXPECT_EQ(r.res.result_int(), 200);
  EXPECT_EQ(r.res.body(), "hello /nocontinue");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
  EXPECT_EQ(up.last().body, "hello");
  // The connection stays usable.
  send_all(s, "GET /after HTTP/1.1\r\nHost: a\r\n\r\n");
  EXPECT_EQ(read_response(s, buf).res.body(), "hello /after");
}

TEST(proxy_server, InterimResponsesAreForwarded) {
  test_upstream up;
  running_proxy proxy(one_route(up.port()));
  net::io_context ioc;
  auto s = connect_to(ioc, proxy.port());
  send_all(s, "GET /interim HTTP/1.1\r\nHost: a\r\n\r\n");
  beast::flat_buffer buf;
  auto early = read_response(s, buf);
  EXPECT_EQ(early.res.result_int(), 103);
  EXPECT_EQ(early.res[http::field::link], "</style.css>; rel=preload");
  EXPECT_EQ(read_response(s, buf).res.result_int(), 200);
}

TEST(proxy_server, ConnectIs405) {
  test_upstream up;
  running_proxy proxy(one_route(up.port()));
  auto r = round_trip(proxy.port(), "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n");
  EXPECT_EQ(r.res.result_int(), 405);
  EXPECT_EQ(r.res[http::field::allow], "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS, TRACE");
  EXPECT_EQ(proxy.sink.size(), 0u);
}

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

TEST(proxy_server, UnreachableUpstreamIs502WithJsonAndCaptured) {
  std::uint16_t dead_port = 0;
  {
    net::io_context ioc;
    tcp::acceptor a(ioc, tcp::endpoint(net::ip::make_address("127.0.0.1"), 0));
    dead_port = a.local_endpoint().port();
  }
  running_proxy proxy(one_route(dead_port));
  auto r = round_trip(proxy.port(), "GET /x HTTP/1.1\r\nHost: a\r\n\r\n");
  ASSERT_FALSE(r.ec);
  EXPECT_EQ(r.res.result_int(), 502);
  EXPECT_EQ(r.res[http::field::content_type], "application/json");
  EXPECT_NE(r.res.body().find("\"status\":502"), std::string::npos);
  const auto caps = proxy.sink.wait_for(1);
  ASSERT_EQ(caps.size(), 1u);
  EXPECT_EQ(caps[0].error, store::exchange_error::upstream_connect_refused);
  EXPECT_TRUE(caps[0].sidecar_answered);
  EXPECT_EQ(caps[0].status_code, 502);
  EXPECT_EQ(proxy.metric(R"(sidecar_upstream_errors_total{kind="connect_refused"})"), 1);
}

TEST(proxy_server, UpstreamClosingWithoutAnswerIs502) {
  test_upstream up;
  running_proxy proxy(one_route(up.port()));
  auto r = round_trip(proxy.port(), "POST /close HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n");
  EXPECT_EQ(r.res.result_int(), 502);
  EXPECT_EQ(proxy.sink.wait_for(1).at(0).error, store::exchange_error::upstream_closed);
}

TEST(proxy_server, SlowUpstreamIs504AfterUpstreamTimeout) {
  test_upstream up;
  auto c = one_route(up.port());
  c->proxy.upstream_timeout = 300ms;
  running_proxy proxy(c);
  auto r = round_trip(proxy.port(), "GET /stall HTTP/1.1\r\nHost: a\r\n\r\n");
  EXPECT_EQ(r.res.result_int(), 504);
  EXPECT_EQ(r.res.body(), R"({"message":"upstream response timeout","status":504})");
  EXPECT_EQ(proxy.sink.wait_for(1).at(0).error, store::exchange_error::upstream_response_timeout);
  // The stalled upstream connection was closed, not pooled.
  EXPECT_TRUE(eventually([&] { return up.peer_closes() == 1; }));
}

TEST(proxy_server, ConnectTimeoutIsABadGatewayAsAnUnreachableUpstream) {
  // A listener with a full accept queue never completes further handshakes.
  net::io_context ioc;
  tcp::acceptor full(ioc);
  full.open(tcp::v4());
  full.bind(tcp::endpoint(net::ip::make_address("127.0.0.1"), 0));
  full.listen(0);
  // Non-blocking connects that fill the queue (Asio would wait for them to complete).
  std::vector<int> fillers;
  for (int i = 0; i < 4; ++i) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    const auto ep = full.local_endpoint();
    ::connect(fd, ep.data(), static_cast<socklen_t>(ep.size()));
    fillers.push_back(fd);
  }
  auto c = one_route(full.local_endpoint().port());
  c->proxy.connect_timeout = 300ms;
  running_proxy proxy(c);
  auto r = round_trip(proxy.port(), "GET /x HTTP/1.1\r\nHost: a\r\n\r\n");
  EXPECT_EQ(r.res.result_int(), 502);
  EXPECT_EQ(proxy.sink.wait_for(1).at(0).error, store::exchange_error::upstream_connect_timeout);
  for (int fd : fillers) ::close(fd);
}

TEST(proxy_server, HeaderTimeoutCutsOffASlowloris) {
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

TEST(proxy_server, IdleKeepAliveConnectionIsClosedAfterIdleTimeout) {
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

TEST(proxy_server, StalledRequestBodyIsCutAfterIdleTimeout) {
  test_upstream up;
  auto c = one_route(up.port());
  c->proxy.idle_timeout = 300ms;
  running_proxy proxy(c);
  net::io_context ioc;
  auto s = connect_to(ioc, proxy.port());
  send_all(s, "POST /sink HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\nonly-part");
  read_until_close(s);
  const auto caps = proxy.sink.wait_for(1);
  ASSERT_EQ(caps.size(), 1u);
  EXPECT_EQ(caps[0].error, store::exchange_error::client_timeout);
  EXPECT_TRUE(eventually([&] { return up.peer_closes() >= 1; }));
}

TEST(proxy_server, ClientDisconnectMidUploadAbortsTheUpstreamExchange) {
  test_upstream up;
  running_proxy proxy(one_route(up.port()));
  {
    net::io_context ioc;
    auto s = connect_to(ioc, proxy.port());
    send_all(s, "POST /sink HTTP/1.1\r\nHost: a\r\nContent-Length: 1000000\r\n\r\n" +
                    std::string(5000, 'u'));
    ASSERT_TRUE(eventually([&] { return up.request_count() == 0 && up.connections() == 1; }));
  }
  const auto caps = proxy.sink.wait_for(1);
  ASSERT_EQ(caps.size(), 1u);
  EXPECT_EQ(caps[0].error, store::exchange_error::client_closed);
  EXPECT_EQ(caps[0].status_code, 0);
  EXPECT_TRUE(eventually([&] { return up.peer_closes() == 1; }));
  // The upstream saw an unfinished request, never a complete one.
  EXPECT_TRUE(eventually([&] { return up.request_count() == 1; }));
  EXPECT_LT(up.last().body_size, 1000000u);
}

TEST(proxy_server, MalformedChunkMidBodyIsAnswered400AndRecordedAsThatAnswer) {
  test_upstream up;
  running_proxy proxy(one_route(up.port()));
  net::io_context ioc;
  auto s = connect_to(ioc, proxy.port());
  send_all(s, "POST /sink HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
              "5\r\nhello\r\nzz\r\nabc\r\n0\r\n\r\n");
  beast::flat_buffer buf;
  const auto r = read_response(s, buf);
  ASSERT_FALSE(r.ec);
  EXPECT_EQ(r.res.result_int(), 400);
  const auto caps = proxy.sink.wait_for(1);
  ASSERT_EQ(caps.size(), 1u);
  // docs/records.md: with no upstream head, the response is the sidecar's own answer.
  EXPECT_EQ(caps[0].error, store::exchange_error::client_bad_body);
  EXPECT_EQ(caps[0].status_code, 400);
  EXPECT_EQ(caps[0].reason, "Bad Request");
  EXPECT_TRUE(caps[0].sidecar_answered);
  EXPECT_EQ(caps[0].response_body.head, r.res.body());
}

TEST(proxy_server, AFormBodyIsScannedWholeForAttributionWhateverIsKept) {
  test_upstream up;
  auto c = one_route(up.port());
  c->routes[0].capture_bodies = false;
  running_proxy proxy(c);
  const std::string body = "Pad=" + std::string(300'000, 'x') +
                           "&AccountSid=AC00000000000000000000000000000002&Call%53id=CAlate";
  auto r = round_trip(proxy.port(),
                      "POST /sink HTTP/1.1\r\nHost: a\r\nContent-Type: application/"
                      "x-www-form-urlencoded; charset=UTF-8\r\nContent-Length: " +
                          std::to_string(body.size()) + "\r\n\r\n" + body);
  ASSERT_EQ(r.res.result_int(), 200);
  const auto caps = proxy.sink.wait_for(1);
  ASSERT_EQ(caps.size(), 1u);
  EXPECT_TRUE(caps[0].request_body.head.empty());  // not kept...
  ASSERT_TRUE(caps[0].request_form);                // ...but read for attribution
  EXPECT_EQ(caps[0].request_form->account_sid, "AC00000000000000000000000000000002");
  EXPECT_EQ(caps[0].request_form->call_sid, "CAlate");
  EXPECT_FALSE(caps[0].request_form->message_sid);
}

TEST(proxy_server, AClientLeavingBeforeTheUpstreamAnswersEndsTheExchangeAsClientClosed) {
  // The upstream never answers (/stall); the client gives up. Within about a second the
  // exchange ends as "client closed the connection", not as an upstream timeout 30 s later,
  // and the upstream connection is closed.
  test_upstream up;
  running_proxy proxy(one_route(up.port()));
  {
    net::io_context ioc;
    auto s = connect_to(ioc, proxy.port());
    send_all(s, "GET /stall HTTP/1.1\r\nHost: a\r\n\r\n");
    ASSERT_TRUE(eventually([&] { return up.request_count() == 1; }));
  }
  const auto left = std::chrono::steady_clock::now();
  const auto caps = proxy.sink.wait_for(1);
  ASSERT_EQ(caps.size(), 1u);
  EXPECT_LT(std::chrono::steady_clock::now() - left, std::chrono::seconds(5));
  EXPECT_EQ(caps[0].error, store::exchange_error::client_closed);
  EXPECT_EQ(caps[0].status_code, 0);
  EXPECT_TRUE(eventually([&] { return up.peer_closes() == 1; }));
}

TEST(proxy_server, AClientWaitingPatientlyForASlowUpstreamIsNotTakenForGone) {
  // Looking at the client every second must not disturb an exchange whose client is there,
  // nor a pipelined request waiting behind it.
  test_upstream up;
  running_proxy proxy(one_route(up.port()));
  net::io_context ioc;
  auto s = connect_to(ioc, proxy.port());
  send_all(s, "GET /slow/2500 HTTP/1.1\r\nHost: a\r\n\r\nGET /after HTTP/1.1\r\nHost: a\r\n\r\n");
  beast::flat_buffer buf;
  const auto first = read_response(s, buf);
  ASSERT_FALSE(first.ec);
  EXPECT_EQ(first.res.result_int(), 200);
  EXPECT_EQ(read_response(s, buf).res.body(), "hello /after");
}

TEST(proxy_server, ClientDisconnectMidDownloadClosesTheUpstream) {
  test_upstream up;
  running_proxy proxy(one_route(up.port()));
  {
    net::io_context ioc;
    auto s = connect_to(ioc, proxy.port());
    send_all(s, "GET /big/2000000000 HTTP/1.1\r\nHost: a\r\n\r\n");
    char some[1000];
    net::read(s, net::buffer(some));
  }
  const auto caps = proxy.sink.wait_for(1);
  ASSERT_EQ(caps.size(), 1u);
  EXPECT_EQ(caps[0].error, store::exchange_error::client_closed);
  EXPECT_EQ(caps[0].status_code, 200);
  EXPECT_TRUE(eventually([&] { return up.peer_closes() == 1; }));
}

TEST(proxy_server, UpstreamResetMidBodyCutsTheClientAndIsRecorded) {
  test_upstream up;
  running_proxy proxy(one_route(up.port()));
  net::io_context ioc;
  auto s = connect_to(ioc, proxy.port());
  send_all(s, "GET /reset-mid HTTP/1.1\r\nHost: a\r\n\r\n");
  const std::string all = read_until_close(s);
  EXPECT_TRUE(all.starts_with("HTTP/1.1 200")) << all.substr(0, 100);
  EXPECT_LT(all.size(), 1000000u);
  const auto caps = proxy.sink.wait_for(1);
  ASSERT_EQ(caps.size(), 1u);
  EXPECT_EQ(caps[0].error, store::exchange_error::upstream_reset_mid_body);
}

TEST(proxy_server, StaleIdempotentRequestIsRetriedOnAFreshConnection) {
  // An upstream that answers one request per connection with keep-alive, then closes: the
  // pooled connection is stale by the next request.
  net::io_context uioc;
  tcp::acceptor a(uioc, tcp::endpoint(net::ip::make_address("127.0.0.1"), 0));
  std::atomic<int> accepted{0};
  std::promise<void> relayed;  // the client has the first answer: the connection is pooled
  std::promise<void> closed;   // the upstream has closed it behind the pool's back
  std::thread t([&] {
    for (int i = 0; i < 2; ++i) {
      tcp::socket s(uioc);
      a.accept(s);
      ++accepted;
      beast::flat_buffer b;
      http::request<http::string_body> req;
      http::read(s, b, req);
      http::response<http::string_body> res{http::status::ok, 11};
      res.body() = "n" + std::to_string(i);
      res.prepare_payload();
      http::write(s, res);
      if (i == 0) {
        relayed.get_future().wait();
        s.close();
        closed.set_value();
      }
    }
  });
  running_proxy proxy(one_route(a.local_endpoint().port()));
  net::io_context ioc;
  auto s = connect_to(ioc, proxy.port());
  beast::flat_buffer buf;
  send_all(s, "GET /1 HTTP/1.1\r\nHost: a\r\n\r\n");
  EXPECT_EQ(read_response(s, buf).res.body(), "n0");
  relayed.set_value();
  closed.get_future().wait();
  // Whether the pool has seen the close yet or not, the request reaches the upstream once.
  send_all(s, "GET /2 HTTP/1.1\r\nHost: a\r\n\r\n");
  EXPECT_EQ(read_response(s, buf).res.body(), "n1");
  t.join();
  EXPECT_EQ(accepted.load(), 2);
}

TEST(proxy_server, ForwardProxyRefusesHostsResolvingToLoopback) {
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

TEST(proxy_server, ForwardProxyRefusesUnlistedHostsAndPorts) {
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

TEST(proxy_server, ForwardProxyReachesAHostListedByAddress) {
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

TEST(proxy_server, ForwardProxyReachesOwnListenersOnlyWhenListedByAddress) {
  test_upstream up;
  // The route goes elsewhere: a route to an own listener is refused at start().
  test_upstream routed;
  auto c = one_route(routed.port());
  conf::forward_host by_name;
  by_name.host = "localhost";
  by_name.port = up.port();
  c->proxy.forward_hosts.push_back(by_name);
  // The upstream's port stands for the API listener here.
  const std::vector<tcp::endpoint> own{tcp::endpoint(net::ip::make_address("127.0.0.1"), up.port())};
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

TEST(proxy_server, EveryExchangeYieldsACaptureWithItsFields) {
  test_upstream up;
  auto c = one_route(up.port(), "/apps/", "/");
  c->routes[0].dir = conf::direction::api;
  c->routes[0].account = "ACroute";
  running_proxy proxy(c);
  const auto before = std::chrono::system_clock::now();
  auto r = round_trip(proxy.port(),
                      "POST /apps/echo?AccountSid=AC1 HTTP/1.1\r\nHost: h\r\nContent-Type: "
                      "text/plain\r\nAuthorization: Basic eA==\r\nContent-Length: 5\r\n\r\nhello");
  ASSERT_EQ(r.res.result_int(), 200);
  const auto caps = proxy.sink.wait_for(1);
  ASSERT_EQ(caps.size(), 1u);
  const auto& cap = caps[0];
  EXPECT_GE(cap.completed_at, before);
  EXPECT_LE(cap.completed_at, std::chrono::system_clock::now());
  EXPECT_GT(cap.latency.count(), 0);
  EXPECT_TRUE(cap.client_address.starts_with("127.0.0.1:"));
  EXPECT_EQ(cap.direction, conf::direction::api);
  EXPECT_EQ(cap.route_account, "ACroute");
  EXPECT_FALSE(cap.forward_proxy);
  EXPECT_TRUE(cap.capture_bodies);
  EXPECT_EQ(cap.method, "POST");
  EXPECT_EQ(cap.upstream_url, "http://127.0.0.1:" + std::to_string(up.port()) + "/echo?AccountSid=AC1");
  // Request headers as sent upstream (the store redacts Authorization, not the proxy).
  EXPECT_EQ(header_value(cap.request_headers, "Authorization"), "Basic eA==");
  EXPECT_EQ(header_value(cap.request_headers, "X-Forwarded-For"), "127.0.0.1");
  EXPECT_EQ(header_value(cap.request_headers, "Host"), "127.0.0.1:" + std::to_string(up.port()));
  EXPECT_EQ(cap.request_body.head, "hello");
  EXPECT_EQ(cap.request_body.size, 5u);
  EXPECT_EQ(cap.status_code, 200);
  EXPECT_EQ(cap.reason, "OK");
  EXPECT_EQ(header_value(cap.response_headers, "Content-Type"), "text/plain");
  EXPECT_EQ(cap.response_body.head, "hello");
  EXPECT_EQ(cap.response_body.size, 5u);
  EXPECT_FALSE(cap.sidecar_answered);
  EXPECT_FALSE(cap.upgraded);
  EXPECT_EQ(cap.error, store::exchange_error::none);
  EXPECT_EQ(proxy.metric(R"(sidecar_exchanges_total{direction="api",class="2xx"})"), 1);
}

TEST(proxy_server, CaptureBodiesOffKeepsSizesOnly) {
  test_upstream up;
  auto c = one_route(up.port());
  c->routes[0].capture_bodies = false;
  running_proxy proxy(c);
  round_trip(proxy.port(), "POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello");
  const auto cap = proxy.sink.wait_for(1).at(0);
  EXPECT_FALSE(cap.capture_bodies);
  EXPECT_EQ(cap.request_body.head, "");
  EXPECT_EQ(cap.request_body.size, 5u);
  EXPECT_EQ(cap.response_body.head, "");
  EXPECT_EQ(cap.response_body.size, 5u);
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
