// Framing leftovers through the real proxy: Content-Length beyond 2^63-1 and with leading
// zeros, chunked bodies with bare-LF lines, and upstream responses with Transfer-Encoding:
// identity, a 204 with a Content-Length, a malformed chunk after the head was relayed.
#include <gtest/gtest.h>

#include "tests/proxy_support/harness.hpp"
#include "tests/proxy_support/test_upstream.hpp"

namespace sidecar::testing {
namespace {

// idle_timeout is long: an answer that only came when it ran out would fail the client's
// 10 s read first.
struct edges : ::testing::Test {
  edges() {
    auto c = base_config();
    c->proxy.idle_timeout = std::chrono::seconds(60);
    c->routes.push_back(route_to("/", upstream_at(up.port())));
    proxy.emplace(c);
  }
  test_upstream up;
  std::optional<running_proxy> proxy;
};

TEST_F(edges, ContentLengthOf2To63OrMoreIs400AtOnce) {
  for (const std::string length :
       {"9223372036854775808", "18446744073709551615", "000000000000000000009223372036854775808"}) {
    const auto r =
        round_trip(proxy->port(),
                   "POST /sink HTTP/1.1\r\nHost: a\r\nContent-Length: " + length + "\r\n\r\nab");
    ASSERT_FALSE(r.ec) << length << ": " << r.ec.message();
    EXPECT_EQ(r.res.result_int(), 400) << length;
  }
  EXPECT_EQ(up.request_count(), 0u);
}

TEST_F(edges, ContentLengthWithLeadingZerosIsForwardedNormalised) {
  const auto r = round_trip(proxy->port(),
                            "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 0005\r\n\r\nhello");
  EXPECT_EQ(r.res.result_int(), 200);
  EXPECT_EQ(r.res.body(), "hello");
  EXPECT_EQ(up.last().values("Content-Length"), std::vector<std::string>{"5"});
  EXPECT_EQ(header_value(proxy->sink.wait_for(1).at(0).request_headers, "Content-Length"), "5");
}

TEST_F(edges, ChunkedBodyWithBareLfLinesIs400Promptly) {
  for (const std::string body :
       {"5\nhello\n0\n\n", "5\r\nhello\r\n0\n\n", "5;ext\nhello\r\n0\r\n\r\n",
        "5\r\nhello\r\n0\r\nTrailer: x\n\n"}) {
    const auto r =
        round_trip(proxy->port(),
                   "POST /sink HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n" + body);
    ASSERT_FALSE(r.ec) << r.ec.message() << " (no answer before the client gave up)";
    EXPECT_EQ(r.res.result_int(), 400);
    EXPECT_FALSE(r.res.keep_alive());
  }
  // Never a complete request upstream: each was cut before its end.
  for (const auto& req : up.requests()) EXPECT_LT(req.body_size, 6u);
}

TEST_F(edges, TransferEncodingIdentityWithALengthIsRelayedWithTheLengthOnly) {
  net::io_context ioc;
  auto s = connect_to(ioc, proxy->port());
  beast::flat_buffer buf;
  for (int i = 0; i < 2; ++i) {  // framed by the length: the connection goes on
    send_all(s, "GET /raw/te-identity HTTP/1.1\r\nHost: a\r\n\r\n");
    const auto r = read_response(s, buf);
    ASSERT_FALSE(r.ec) << r.ec.message();
    EXPECT_EQ(r.res.body(), "hello");
    EXPECT_EQ(r.res[http::field::content_length], "5");
    EXPECT_EQ(r.res.count(http::field::transfer_encoding), 0u);
  }
}

TEST_F(edges, A204LosesItsContentLength) {
  net::io_context ioc;
  auto s = connect_to(ioc, proxy->port());
  send_all(s, "GET /raw/204-with-length HTTP/1.1\r\nHost: a\r\n\r\n");
  beast::flat_buffer buf;
  const auto r = read_response(s, buf);
  ASSERT_FALSE(r.ec) << r.ec.message();
  EXPECT_EQ(r.res.result_int(), 204);
  EXPECT_EQ(r.res.count(http::field::content_length), 0u);
  EXPECT_EQ(r.res["X-A"], "1");
  // The record keeps the head as received.
  EXPECT_EQ(header_value(proxy->sink.wait_for(1).at(0).response_headers, "Content-Length"), "5");
}

TEST_F(edges, MalformedChunkSizeAfterTheHeadClosesTheClientAndTheRecordSaysWhy) {
  for (const std::string target : {"/raw/bad-chunk-size", "/raw/bare-lf-chunks"}) {
    net::io_context ioc;
    auto s = connect_to(ioc, proxy->port());
    send_all(s, "GET " + target + " HTTP/1.1\r\nHost: a\r\n\r\n");
    const std::string got = read_until_close(s);
    EXPECT_TRUE(got.starts_with("HTTP/1.1 200")) << got;
    EXPECT_EQ(got.find("\r\n0\r\n\r\n"), std::string::npos) << "a cut body never looks complete";
  }
  // Before anything was relayed, the client can still be told: 502.
  const auto first =
      round_trip(proxy->port(), "GET /raw/bad-first-chunk HTTP/1.1\r\nHost: a\r\n\r\n");
  EXPECT_EQ(first.res.result_int(), 502);
  EXPECT_EQ(first.res.body(), R"({"message":"upstream sent a malformed response","status":502})");

  const auto caps = proxy->sink.wait_for(3);
  ASSERT_EQ(caps.size(), 3u);
  for (const auto& cap : caps) {
    EXPECT_EQ(cap.error, store::exchange_error::upstream_bad_response);
    EXPECT_EQ(store::describe(cap.error), "upstream sent a malformed response");
  }
  EXPECT_EQ(caps[0].status_code + caps[1].status_code + caps[2].status_code, 200 + 200 + 502);
}

}  // namespace
}  // namespace sidecar::testing
