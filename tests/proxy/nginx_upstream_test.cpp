// The proxy in front of a real nginx (started by the test with a generated config): keep-alive
// reuse seen by nginx itself ($connection), a static file with its length, and a chunked
// upload read by nginx.
#include <gtest/gtest.h>

#include <fstream>

#include "tests/proxy_support/nginx.hpp"

namespace sidecar::testing {
namespace {

// The locations of these tests: $connection as a header, a static file, and an upload.
class nginx_upstream : public nginx_server {
 public:
  nginx_upstream()
      : nginx_server(
            "    location = /conn { add_header X-Conn $connection always; return 200 \"ok\"; }\n"
            "    location = /upload { client_max_body_size 10m; add_header X-Len $request_length "
            "always;\n      return 200 \"$http_transfer_encoding\"; }") {
    std::ofstream(dir() / "www" / "file.bin") << std::string(300000, 'n');
  }
};

TEST(proxy_nginx, UpstreamConnectionIsReusedAsNginxSeesIt) {
  nginx_upstream ngx;
  auto c = base_config();
  c->proxy.threads = 1;  // both clients on one event loop, whose pooled connection they share
  c->routes.push_back(route_to("/", upstream_at(ngx.port())));
  running_proxy proxy(c);
  const auto first = round_trip(proxy.port(), "GET /conn HTTP/1.1\r\nHost: a\r\n\r\n");
  const auto second = round_trip(proxy.port(), "GET /conn HTTP/1.1\r\nHost: b\r\n\r\n");
  ASSERT_EQ(first.res.result_int(), 200);
  ASSERT_FALSE(first.res["X-Conn"].empty());
  EXPECT_EQ(first.res["X-Conn"], second.res["X-Conn"]);
}

TEST(proxy_nginx, StaticFileKeepsItsLength) {
  nginx_upstream ngx;
  auto c = base_config();
  c->routes.push_back(route_to("/static/", upstream_at(ngx.port())));
  running_proxy proxy(c);
  const auto r = round_trip(proxy.port(), "GET /static/file.bin HTTP/1.1\r\nHost: a\r\n\r\n");
  ASSERT_EQ(r.res.result_int(), 200);
  EXPECT_EQ(r.res[http::field::content_length], "300000");
  EXPECT_EQ(r.res.body(), std::string(300000, 'n'));
}

TEST(proxy_nginx, ChunkedUploadReachesNginxChunked) {
  nginx_upstream ngx;
  auto c = base_config();
  c->routes.push_back(route_to("/", upstream_at(ngx.port())));
  running_proxy proxy(c);
  const auto r = round_trip(proxy.port(),
                            "POST /upload HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                            "4\r\nabcd\r\n0\r\n\r\n");
  ASSERT_EQ(r.res.result_int(), 200);
  EXPECT_EQ(r.res.body(), "chunked");
}

}  // namespace
}  // namespace sidecar::testing
