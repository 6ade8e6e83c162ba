// A 100 MiB media file through the proxy: filled while streamed on the miss, then served
// from the cache on the hit, with the process's peak memory checked each time (the body is
// never held whole in memory). Label `slow`.
#include <fstream>

#include "harness.hpp"

namespace sidecar::cache::testing {
namespace {

constexpr std::uint64_t big_size = 100ull << 20;

/// This process's peak resident set (VmHWM) in bytes, after an optional reset of the peak.
std::uint64_t peak_rss(bool reset) {
  if (reset) std::ofstream("/proc/self/clear_refs") << "5";  // resets VmHWM to the current RSS
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stoull(line.substr(6)) * 1024;  // in kB
  }
  return 0;
}

/// The byte at `i` of the big file: a pattern that catches shifted or repeated chunks.
char pattern(std::uint64_t i) { return static_cast<char>((i * 2654435761u >> 7) ^ (i >> 20)); }

struct streamed {
  int status = 0;
  std::string x_cache;
  std::uint64_t size = 0;
  bool intact = true;
};

/// GETs `target` and checks the body against the pattern as it arrives, keeping none of it.
streamed stream_get(std::uint16_t port, const std::string& target) {
  net::io_context io;
  tcp::socket socket(io);
  socket.connect({net::ip::make_address("127.0.0.1"), port});
  http::request<http::empty_body> req{http::verb::get, target, 11};
  req.set(http::field::host, "127.0.0.1");
  http::write(socket, req);
  beast::flat_buffer buffer;
  http::response_parser<http::buffer_body> parser;
  parser.body_limit(boost::none);
  streamed out;
  beast::error_code ec;
  http::read_header(socket, buffer, parser, ec);
  if (ec) return out;
  out.status = parser.get().result_int();
  out.x_cache = std::string(parser.get()["X-Cache"]);
  std::vector<char> chunk(256 * 1024);
  while (!parser.is_done()) {
    parser.get().body().data = chunk.data();
    parser.get().body().size = chunk.size();
    http::read(socket, buffer, parser, ec);
    if (ec == http::error::need_buffer) ec = {};
    if (ec) {
      out.intact = false;
      return out;
    }
    const std::size_t n = chunk.size() - parser.get().body().size;
    for (std::size_t i = 0; i < n; ++i) {
      if (chunk[i] != pattern(out.size + i)) out.intact = false;
    }
    out.size += n;
  }
  return out;
}

TEST_F(cache_through_proxy, HundredMiBMediaIsServedFromTheCacheWithBoundedMemory) {
  const fs::path file = dir.path() / "big.mp4";
  {
    std::ofstream f(file, std::ios::binary);
    std::vector<char> block(1 << 20);
    for (std::uint64_t at = 0; at < big_size; at += block.size()) {
      for (std::size_t i = 0; i < block.size(); ++i) block[i] = pattern(at + i);
      f.write(block.data(), static_cast<std::streamsize>(block.size()));
    }
  }
  resource big;
  big.file = file;
  big.content_type = "video/mp4";
  upstream.add("/media/big.mp4", big);
  start("max_bytes = \"256MiB\"\nmax_object_bytes = \"128MiB\"\n");

  const std::uint64_t before_miss = peak_rss(true);
  const streamed miss = stream_get(port, "/media/big.mp4");
  const std::uint64_t miss_peak = peak_rss(false);
  EXPECT_EQ(miss.status, 200);
  EXPECT_EQ(miss.x_cache, "MISS");
  EXPECT_EQ(miss.size, big_size);
  EXPECT_TRUE(miss.intact);
  ASSERT_TRUE(cache->contains("http://127.0.0.1:" + std::to_string(upstream.port()) +
                              "/media/big.mp4"));

  const std::uint64_t before_hit = peak_rss(true);
  const streamed hit = stream_get(port, "/media/big.mp4");
  const std::uint64_t hit_peak = peak_rss(false);
  EXPECT_EQ(hit.status, 200);
  EXPECT_EQ(hit.x_cache, "HIT");
  EXPECT_EQ(hit.size, big_size);
  EXPECT_TRUE(hit.intact);
  EXPECT_EQ(upstream.requests("/media/big.mp4"), 1);

  // Upstream, proxy, cache and client all live in this process: together they stay far
  // below the 100 MiB body.
  const std::uint64_t bound = 24ull << 20;
  EXPECT_LT(miss_peak - std::min(miss_peak, before_miss), bound)
      << "miss: peak " << miss_peak << " from " << before_miss;
  EXPECT_LT(hit_peak - std::min(hit_peak, before_hit), bound)
      << "hit: peak " << hit_peak << " from " << before_hit;
  RecordProperty("miss_peak_rss_delta", std::to_string(miss_peak - std::min(miss_peak, before_miss)));
  RecordProperty("hit_peak_rss_delta", std::to_string(hit_peak - std::min(hit_peak, before_hit)));
}

}  // namespace
}  // namespace sidecar::cache::testing
