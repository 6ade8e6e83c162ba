// Dot-segments through the real proxy with a real nginx behind it, nginx itself in front of an
// app (the test upstream): route /pub/ -> http://nginx/static/, which nginx passes to the app.
// nginx resolves "/static/../ret200" to its own /ret200, outside what the route exposes: the
// sidecar must never send it such a path.
#include <gtest/gtest.h>

#include "conf/values.hpp"
#include "tests/proxy_support/nginx.hpp"
#include "tests/proxy_support/test_upstream.hpp"

namespace sidecar::testing {
namespace {

class dot_segments : public ::testing::Test {
 protected:
  dot_segments()
      : ngx_("    location /static/ { proxy_pass http://127.0.0.1:" + std::to_string(app_.port()) +
             "; }\n    location = /ret200 { return 200 \"outside the route\"; }\n"
             "    location / { return 404; }") {
    auto c = base_config();
    c->routes.push_back(route_to("/pub/", upstream_at(ngx_.port(), "/static/")));
    c->proxy.forward_hosts.push_back(
        *conf::parse_forward_host("127.0.0.1:" + std::to_string(ngx_.port())).value);
    proxy_.emplace(c);
  }

  response_result get(const std::string& target) {
    return round_trip(proxy_->port(), "GET " + target + " HTTP/1.1\r\nHost: a\r\n\r\n");
  }
  std::string absolute(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(ngx_.port()) + path;
  }

  test_upstream app_;
  nginx_server ngx_;
  std::optional<running_proxy> proxy_;
};

TEST_F(dot_segments, NginxAloneResolvesTheClimbOutOfStatic) {
  // The hole this guards against: nginx, asked directly, serves /ret200 for these paths.
  const auto r = round_trip(ngx_.port(), "GET /static/../ret200 HTTP/1.1\r\nHost: a\r\n\r\n");
  EXPECT_EQ(r.res.body(), "outside the route");
}

TEST_F(dot_segments, ClimbingOutOfTheRoutePrefixIsRefused) {
  for (const std::string target :
       {"/pub/../ret200", "/pub/%2e%2e/ret200", "/pub/%2E%2E/ret200", "/pub/..%2fret200",
        "/pub/.%2e/ret200", "/pub/%2e./ret200", "/pub/a/../../ret200", "/pub/..\\ret200",
        "/pub/%252e%252e/ret200", "/pub/..%5cret200", "/pub/a%2f..%2f..%2fret200"}) {
    const auto r = get(target);
    ASSERT_FALSE(r.ec) << target << ": " << r.ec.message();
    EXPECT_EQ(r.res.result_int(), 400) << target;
    EXPECT_NE(r.res.body(), "outside the route") << target;
  }
  EXPECT_EQ(app_.request_count(), 0u);
  EXPECT_EQ(proxy_->sink.size(), 0u);  // local answers are counted, not recorded
  EXPECT_GE(proxy_->metric("sidecar_proxy_local_answers_total{status=\"400\"}"), 11);
}

TEST_F(dot_segments, DotSegmentsInsideThePrefixKeepWorkingNormalised) {
  const auto dot = get("/pub/./file");
  EXPECT_EQ(dot.res.result_int(), 200);
  EXPECT_EQ(dot.res.body(), "hello /static/file");
  const auto up_and_down = get("/pub/a/../file?x=/../y");
  EXPECT_EQ(up_and_down.res.result_int(), 200);
  EXPECT_EQ(up_and_down.res.body(), "hello /static/file");
  const auto encoded = get("/pub/a/%2e%2e/b/./c");
  EXPECT_EQ(encoded.res.body(), "hello /static/b/c");

  const auto targets = app_.requests();
  ASSERT_EQ(targets.size(), 3u);
  EXPECT_EQ(targets[0].target, "/static/file");
  EXPECT_EQ(targets[1].target, "/static/file?x=/../y");
  EXPECT_EQ(targets[2].target, "/static/b/c");
  // The record shows what was forwarded.
  const auto caps = proxy_->sink.wait_for(3);
  ASSERT_EQ(caps.size(), 3u);
  const std::string base = "http://127.0.0.1:" + std::to_string(ngx_.port());
  std::vector<std::string> urls;
  for (const auto& c : caps) urls.push_back(c.upstream_url);
  std::sort(urls.begin(), urls.end());
  EXPECT_EQ(urls, (std::vector<std::string>{base + "/static/b/c", base + "/static/file",
                                            base + "/static/file?x=/../y"}));
}

TEST_F(dot_segments, AbsoluteFormTargetsAreNormalisedToo) {
  const auto r = get(absolute("/static/x/../file"));
  EXPECT_EQ(r.res.result_int(), 200);
  EXPECT_EQ(r.res.body(), "hello /static/file");
  const auto caps = proxy_->sink.wait_for(1);
  ASSERT_EQ(caps.size(), 1u);
  EXPECT_TRUE(caps[0].upstream_url.ends_with(":" + std::to_string(ngx_.port()) + "/static/file"))
      << caps[0].upstream_url;

  for (const std::string path :
       {"/../static/file", "/static/..%2fret200", "/static/%2e%2e%2fret200", "/%2e%2e/ret200"}) {
    const auto bad = get(absolute(path));
    EXPECT_EQ(bad.res.result_int(), 400) << path;
  }
  EXPECT_EQ(app_.request_count(), 1u);
}

}  // namespace
}  // namespace sidecar::testing
