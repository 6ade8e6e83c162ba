// Upstreams that answer before reading the request body, and close: nginx's 413 for a body
// over client_max_body_size, and a test upstream's 401. The client must get that answer at
// once (not after idle_timeout), the connection then closes, and the record has the status.
#include <gtest/gtest.h>

#include "tests/proxy_support/nginx.hpp"
#include "tests/proxy_support/test_upstream.hpp"

namespace sidecar::testing {
namespace {

// The head of a 1 MB upload and its first 10 000 bytes; the rest never comes unless the test
// sends it. The client's reads give up after 10 s, long before idle_timeout (60 s here).
std::string upload_start(std::string_view target) {
  return "POST " + std::string(target) + " HTTP/1.1\r\nHost: a\r\nContent-Length: 1000000\r\n\r\n" +
         std::string(10000, 'b');
}

std::shared_ptr<conf::config> slow_idle_config(std::uint16_t upstream_port) {
  auto c = base_config();
  c->proxy.idle_timeout = std::chrono::seconds(60);
  c->proxy.upstream_timeout = std::chrono::seconds(60);
  c->routes.push_back(route_to("/", upstream_at(upstream_port)));
  return c;
}

TEST(proxy_early_answer, NginxBodyLimit413IsRelayedAtOnceAndTheConnectionCloses) {
  nginx_server ngx("    location /limited { client_max_body_size 1k; return 200 \"read\"; }");
  running_proxy proxy(slow_idle_config(ngx.port()));
  net::io_context ioc;
  auto s = connect_to(ioc, proxy.port());
  send_all(s, upload_start("/limited"));
  beast::flat_buffer buf;
  const auto r = read_response(s, buf);
  ASSERT_FALSE(r.ec) << r.ec.message() << " (no answer before the client gave up)";
  EXPECT_EQ(r.res.result_int(), 413);
  EXPECT_FALSE(r.res.keep_alive());
  read_until_close(s);  // returns: the proxy closed

  const auto cap = proxy.sink.wait_for(1).at(0);
  EXPECT_EQ(cap.status_code, 413);
  EXPECT_EQ(cap.error, store::exchange_error::none);
  EXPECT_FALSE(cap.sidecar_answered);
}

TEST(proxy_early_answer, UpstreamThatAnswers401AndClosesIsRelayedAtOnce) {
  test_upstream up;
  running_proxy proxy(slow_idle_config(up.port()));
  net::io_context ioc;
  auto s = connect_to(ioc, proxy.port());
  send_all(s, upload_start("/early401"));
  beast::flat_buffer buf;
  const auto r = read_response(s, buf);
  ASSERT_FALSE(r.ec) << r.ec.message() << " (no answer before the client gave up)";
  EXPECT_EQ(r.res.result_int(), 401);
  EXPECT_EQ(r.res.body(), "unauthorized");
  EXPECT_FALSE(r.res[http::field::www_authenticate].empty());
  read_until_close(s);

  const auto cap = proxy.sink.wait_for(1).at(0);
  EXPECT_EQ(cap.status_code, 401);
  EXPECT_EQ(cap.error, store::exchange_error::none);
}

TEST(proxy_early_answer, TheAnswerArrivesEvenWhileTheClientKeepsSendingTheBody) {
  test_upstream up;
  running_proxy proxy(slow_idle_config(up.port()));
  net::io_context ioc;
  auto s = connect_to(ioc, proxy.port());
  // The whole body at once, as most clients send it: the upstream has closed (reset) by the
  // time the proxy writes the rest.
  const std::string body(4 * 1000 * 1000, 'b');
  std::thread sender([&] {
    beast::error_code ec;
    net::write(s,
               net::buffer("POST /early401 HTTP/1.1\r\nHost: a\r\nContent-Length: " +
                           std::to_string(body.size()) + "\r\n\r\n"),
               ec);
    net::write(s, net::buffer(body), ec);
  });
  beast::flat_buffer buf;
  const auto r = read_response(s, buf);
  sender.join();
  ASSERT_FALSE(r.ec) << r.ec.message();
  EXPECT_EQ(r.res.result_int(), 401);
  EXPECT_EQ(proxy.sink.wait_for(1).at(0).status_code, 401);
}

TEST(proxy_early_answer, AWholeBodyStillGetsItsNormalAnswerAndKeepAlive) {
  test_upstream up;
  running_proxy proxy(slow_idle_config(up.port()));
  net::io_context ioc;
  auto s = connect_to(ioc, proxy.port());
  for (int i = 0; i < 2; ++i) {
    send_all(s, "POST /sink HTTP/1.1\r\nHost: a\r\nContent-Length: 300000\r\n\r\n" +
                    std::string(300000, 'x'));
    beast::flat_buffer buf;
    const auto r = read_response(s, buf);
    ASSERT_FALSE(r.ec) << r.ec.message();
    EXPECT_EQ(r.res.body(), "300000");
    EXPECT_TRUE(r.res.keep_alive());
  }
}

}  // namespace
}  // namespace sidecar::testing
