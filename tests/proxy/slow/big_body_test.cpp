// Slow: a 1 GiB body streamed through the proxy each way, with the process's peak memory
// (VmHWM) checked to stay far below the body size: the proxy never holds a whole body.
#include <fstream>

#include <gtest/gtest.h>

#include "tests/proxy_support/harness.hpp"
#include "tests/proxy_support/test_upstream.hpp"

namespace sidecar::testing {
namespace {

constexpr std::uint64_t gib = 1ull << 30;
constexpr std::uint64_t allowed_growth = 64ull << 20;  // buffers, not bodies

std::uint64_t peak_rss_bytes() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.starts_with("VmHWM:")) return std::stoull(line.substr(6)) * 1024;
  }
  return 0;
}

TEST(proxy_big_body, OneGibUploadAndDownloadStreamWithBoundedMemory) {
  test_upstream up;
  auto c = base_config();
  c->routes.push_back(route_to("/", upstream_at(up.port())));
  c->proxy.idle_timeout = std::chrono::seconds(30);
  running_proxy proxy(c);
  net::io_context ioc;
  auto s = connect_to(ioc, proxy.port());
  const std::uint64_t before = peak_rss_bytes();

  // Upload: 1 GiB with a Content-Length, written in 64 KiB pieces.
  send_all(s, "POST /sink HTTP/1.1\r\nHost: a\r\nContent-Length: " + std::to_string(gib) + "\r\n\r\n");
  const std::string piece(64 * 1024, 'u');
  for (std::uint64_t sent = 0; sent < gib; sent += piece.size()) send_all(s, piece);
  beast::flat_buffer buf;
  auto r = read_response(s, buf);
  ASSERT_FALSE(r.ec) << r.ec.message();
  EXPECT_EQ(r.res.body(), std::to_string(gib));

  // Download: 1 GiB chunked, read in pieces and counted.
  send_all(s, "GET /bigchunked/" + std::to_string(gib) + " HTTP/1.1\r\nHost: a\r\n\r\n");
  http::response_parser<http::buffer_body> p;
  p.body_limit(boost::none);
  std::vector<char> chunk(64 * 1024);
  std::uint64_t got = 0;
  beast::error_code ec;
  http::read_header(s, buf, p, ec);
  ASSERT_FALSE(ec) << ec.message();
  while (!p.is_done()) {
    p.get().body().data = chunk.data();
    p.get().body().size = chunk.size();
    http::read(s, buf, p, ec);
    if (ec == http::error::need_buffer) ec = {};
    ASSERT_FALSE(ec) << ec.message();
    got += chunk.size() - p.get().body().size;
  }
  EXPECT_EQ(got, gib);

  const std::uint64_t growth = peak_rss_bytes() - before;
  EXPECT_LT(growth, allowed_growth) << "peak RSS grew by " << (growth >> 20) << " MiB";
  const auto caps = proxy.sink.wait_for(2);
  ASSERT_EQ(caps.size(), 2u);
  EXPECT_EQ(caps[0].request_body.size, gib);
  EXPECT_EQ(caps[0].request_body.head.size(), c->store.body_limit);
  EXPECT_EQ(caps[1].response_body.size, gib);
}

}  // namespace
}  // namespace sidecar::testing
