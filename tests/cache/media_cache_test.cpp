// The media cache as the proxy sees it: fills, hits with Age and X-Cache, expiry on an
// injected clock, LRU eviction at max_bytes, restarts, crash leftovers, streaming from disk.
#include "cache/media_cache.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <atomic>
#include <fstream>
#include <thread>

#include "tests/common/temp_dir.hpp"

namespace sidecar::cache {
namespace {

namespace fs = std::filesystem;
using std::chrono::seconds;

using testing_support::temp_dir;

/// The wall clock of the cache, moved by the test.
struct fake_clock {
  std::atomic<std::int64_t> secs{1'700'000'000};
  clock::time_point now() const { return clock::time_point{seconds{secs.load()}}; }
  void advance(seconds s) { secs += s.count(); }
};

std::string body_of(std::size_t n, char seed = 'a') {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>(seed + (i * 7 + i / 251) % 26);
  return s;
}

response_head media_head(std::size_t length, std::string_view cache_control = {}) {
  response_head h;
  h.result(http::status::ok);
  h.set(http::field::content_type, "audio/wav");
  h.set(http::field::content_length, std::to_string(length));
  h.set(http::field::connection, "keep-alive, x-hop");
  h.set("X-Hop", "per-connection");
  h.set("X-Origin", "app");
  if (!cache_control.empty()) h.set(http::field::cache_control, cache_control);
  return h;
}

std::string read_all(const cache_hit& hit) {
  std::string out;
  std::array<char, 1000> buf{};
  for (;;) {
    beast::error_code ec;
    const std::size_t n = hit.read(out.size(), net::buffer(buf), ec);
    EXPECT_FALSE(ec) << ec.message();
    if (n == 0 || ec) return out;
    out.append(buf.data(), n);
  }
}

std::size_t files_in(const fs::path& dir) {
  return static_cast<std::size_t>(
      std::distance(fs::directory_iterator(dir), fs::directory_iterator()));
}

class media_cache_test : public ::testing::Test {
 protected:
  media_cache_test() {
    auto c = std::make_shared<conf::config>();
    c->cache.dir = dir_.path() / "media";
    c->cache.ttl = std::chrono::hours(24);
    cfg_ = c;
  }

  /// A cache on the test's directory (a second call is a restart).
  std::unique_ptr<media_cache> open() {
    registry_ = std::make_unique<metrics::registry>();
    return std::make_unique<media_cache>(cfg_, *registry_, [this] { return clock_.now(); });
  }

  conf::config& cfg() { return const_cast<conf::config&>(*cfg_); }

  /// Stores `body` for `url` in chunks, as the proxy would while relaying it.
  static bool store(media_cache& c, const std::string& url, const std::string& body,
                    std::string_view cache_control = {}) {
    cache_fill fill = c.begin_fill(url);
    if (!fill.start(media_head(body.size(), cache_control))) return false;
    for (std::size_t at = 0; at < body.size(); at += 4096) {
      if (!fill.write(net::buffer(body.data() + at, std::min<std::size_t>(4096, body.size() - at)))) {
        return false;
      }
    }
    return fill.commit();
  }

  [[nodiscard]] std::string metric(std::string_view name) const {
    const std::string text = registry_->render();
    const auto at = text.find("\n" + std::string(name) + " ");
    if (at == std::string::npos) return "<absent>";
    const auto start = at + name.size() + 2;
    return text.substr(start, text.find('\n', start) - start);
  }

  temp_dir dir_;
  fake_clock clock_;
  std::shared_ptr<const conf::config> cfg_;
  std::unique_ptr<metrics::registry> registry_;
};

const std::string url_a = "http://127.0.0.1:9000/media/a.wav";
const std::string url_b = "http://127.0.0.1:9000/media/b.wav";
const std::string url_c = "http://127.0.0.1:9000/media/c.wav";
const std::string url_d = "http://127.0.0.1:9000/media/d.wav";

TEST_F(media_cache_test, CreatesItsDirectoryOwnerOnly) {
  auto c = open();
  EXPECT_EQ(c->dir(), dir_.path() / "media");
  EXPECT_EQ(fs::status(c->dir()).permissions() & fs::perms::all, fs::perms::owner_all);
}

TEST_F(media_cache_test, MissThenHitWithStoredHeadersAgeAndXCache) {
  auto c = open();
  EXPECT_FALSE(c->lookup(url_a));
  const std::string body = body_of(10'000);
  ASSERT_TRUE(store(*c, url_a, body));
  clock_.advance(seconds{42});

  const auto hit = c->lookup(url_a);
  ASSERT_TRUE(hit);
  EXPECT_EQ(hit->size(), body.size());
  EXPECT_EQ(hit->age(), seconds{42});
  const auto head = hit->head();
  EXPECT_EQ(head.result(), http::status::ok);
  EXPECT_EQ(head[http::field::content_type], "audio/wav");
  EXPECT_EQ(head[http::field::content_length], "10000");
  EXPECT_EQ(head[http::field::age], "42");
  EXPECT_EQ(head["X-Cache"], "HIT");
  EXPECT_EQ(head["X-Origin"], "app");
  // Hop-by-hop fields belong to the connection they came on, not to the stored response.
  EXPECT_EQ(head.count(http::field::connection), 0u);
  EXPECT_EQ(head.count("X-Hop"), 0u);
  EXPECT_EQ(read_all(*hit), body);

  EXPECT_EQ(metric("sidecar_cache_hits_total"), "1");
  EXPECT_EQ(metric("sidecar_cache_misses_total"), "1");
  EXPECT_EQ(metric("sidecar_cache_bytes"), std::to_string(c->bytes()));
  EXPECT_GT(c->bytes(), body.size());
}

TEST_F(media_cache_test, UpstreamAgeAddsToTheAgeOfAHit) {
  auto c = open();
  cache_fill fill = c->begin_fill(url_a);
  auto head = media_head(3, "max-age=100");
  head.set(http::field::age, "30");
  ASSERT_TRUE(fill.start(head));
  ASSERT_TRUE(fill.write(net::buffer("abc", 3)));
  ASSERT_TRUE(fill.commit());
  clock_.advance(seconds{10});
  ASSERT_TRUE(c->lookup(url_a));
  EXPECT_EQ(c->lookup(url_a)->age(), seconds{40});
  clock_.advance(seconds{60});  // 30 + 70 = its whole lifetime
  EXPECT_FALSE(c->lookup(url_a));
}

TEST_F(media_cache_test, ExpiresAfterMaxAge) {
  auto c = open();
  ASSERT_TRUE(store(*c, url_a, body_of(100), "max-age=60"));
  clock_.advance(seconds{59});
  EXPECT_TRUE(c->lookup(url_a));
  clock_.advance(seconds{1});
  EXPECT_FALSE(c->lookup(url_a));
  EXPECT_EQ(c->entries(), 0u);  // an expired entry is dropped when found
  EXPECT_EQ(files_in(c->dir()), 0u);
}

TEST_F(media_cache_test, ExpiresAfterSMaxAgeOverMaxAge) {
  auto c = open();
  ASSERT_TRUE(store(*c, url_a, body_of(100), "max-age=10, s-maxage=20"));
  clock_.advance(seconds{15});
  EXPECT_TRUE(c->lookup(url_a));
  clock_.advance(seconds{5});
  EXPECT_FALSE(c->lookup(url_a));
}

TEST_F(media_cache_test, ExpiresAfterExpires) {
  auto c = open();
  cache_fill fill = c->begin_fill(url_a);
  auto head = media_head(2);
  head.set(http::field::date, format_http_date(clock_.now()));
  head.set(http::field::expires, format_http_date(clock_.now() + seconds{120}));
  ASSERT_TRUE(fill.start(head));
  ASSERT_TRUE(fill.write(net::buffer("hi", 2)));
  ASSERT_TRUE(fill.commit());
  clock_.advance(seconds{119});
  EXPECT_TRUE(c->lookup(url_a));
  clock_.advance(seconds{1});
  EXPECT_FALSE(c->lookup(url_a));
}

TEST_F(media_cache_test, ExpiresAfterTtlWithoutFreshnessInformation) {
  cfg().cache.ttl = std::chrono::minutes(5);
  auto c = open();
  ASSERT_TRUE(store(*c, url_a, body_of(100)));
  clock_.advance(seconds{299});
  EXPECT_TRUE(c->lookup(url_a));
  clock_.advance(seconds{1});
  EXPECT_FALSE(c->lookup(url_a));
}

TEST_F(media_cache_test, NoStoreAndPrivateLeaveNothingOnDisk) {
  auto c = open();
  for (std::string_view cc : {"no-store", "private"}) {
    cache_fill fill = c->begin_fill(url_a);
    EXPECT_FALSE(fill.start(media_head(3, cc)));
    EXPECT_EQ(fill.refusal(), cc == "private" ? verdict::private_ : verdict::no_store);
    EXPECT_FALSE(fill.write(net::buffer("abc", 3)));
    EXPECT_FALSE(fill.commit());
  }
  EXPECT_FALSE(c->lookup(url_a));
  EXPECT_EQ(files_in(c->dir()), 0u);
}

TEST_F(media_cache_test, ShortBodyAgainstContentLengthIsNotStored) {
  auto c = open();
  cache_fill fill = c->begin_fill(url_a);
  ASSERT_TRUE(fill.start(media_head(100)));
  ASSERT_TRUE(fill.write(net::buffer(body_of(60))));
  EXPECT_FALSE(fill.commit());  // the upstream closed after 60 of 100 bytes
  EXPECT_FALSE(c->lookup(url_a));
  EXPECT_EQ(files_in(c->dir()), 0u);
  EXPECT_EQ(metric("sidecar_cache_fills_aborted_total"), "1");
}

TEST_F(media_cache_test, ChunkedBodyGrowingPastMaxObjectBytesIsAborted) {
  cfg().cache.max_object_bytes = 10'000;
  auto c = open();
  cache_fill fill = c->begin_fill(url_a);
  auto head = media_head(0);
  head.erase(http::field::content_length);  // chunked: size unknown up front
  ASSERT_TRUE(fill.start(head));
  const std::string chunk = body_of(4000);
  EXPECT_TRUE(fill.write(net::buffer(chunk)));
  EXPECT_TRUE(fill.write(net::buffer(chunk)));
  EXPECT_FALSE(fill.write(net::buffer(chunk)));
  EXPECT_FALSE(fill.active());
  EXPECT_FALSE(fill.commit());
  EXPECT_EQ(files_in(c->dir()), 0u);
}

TEST_F(media_cache_test, ChunkedBodyWithinLimitIsStored) {
  auto c = open();
  cache_fill fill = c->begin_fill(url_a);
  auto head = media_head(0);
  head.erase(http::field::content_length);
  head.set(http::field::transfer_encoding, "chunked");
  ASSERT_TRUE(fill.start(head));
  ASSERT_TRUE(fill.write(net::buffer("hello ", 6)));
  ASSERT_TRUE(fill.write(net::buffer("world", 5)));
  ASSERT_TRUE(fill.commit());
  const auto hit = c->lookup(url_a);
  ASSERT_TRUE(hit);
  EXPECT_EQ(read_all(*hit), "hello world");
  EXPECT_EQ(hit->head()[http::field::content_length], "11");
  EXPECT_EQ(hit->head().count(http::field::transfer_encoding), 0u);
}

TEST_F(media_cache_test, AbandonedFillLeavesNoFile) {
  auto c = open();
  {
    cache_fill fill = c->begin_fill(url_a);
    ASSERT_TRUE(fill.start(media_head(100)));
    ASSERT_TRUE(fill.write(net::buffer(body_of(50))));
    EXPECT_EQ(files_in(c->dir()), 1u);  // the temporary file, never served
    EXPECT_FALSE(c->lookup(url_a));
  }  // the client went away mid-body
  EXPECT_EQ(files_in(c->dir()), 0u);
}

TEST_F(media_cache_test, RefillReplacesAnExpiredEntry) {
  auto c = open();
  ASSERT_TRUE(store(*c, url_a, "old!", "max-age=10"));
  clock_.advance(seconds{11});
  EXPECT_FALSE(c->lookup(url_a));
  ASSERT_TRUE(store(*c, url_a, "new body", "max-age=10"));
  const auto hit = c->lookup(url_a);
  ASSERT_TRUE(hit);
  EXPECT_EQ(read_all(*hit), "new body");
  EXPECT_EQ(c->entries(), 1u);
  EXPECT_EQ(files_in(c->dir()), 1u);
}

TEST_F(media_cache_test, HitKeepsStreamingWhileItsEntryIsReplaced) {
  auto c = open();
  ASSERT_TRUE(store(*c, url_a, body_of(5000, 'a')));
  const auto hit = c->lookup(url_a);
  ASSERT_TRUE(hit);
  ASSERT_TRUE(store(*c, url_a, body_of(7000, 'k')));
  EXPECT_EQ(read_all(*hit), body_of(5000, 'a'));  // the open file, not the new one
  EXPECT_EQ(read_all(*c->lookup(url_a)), body_of(7000, 'k'));
}

// After its first hit an entry keeps its file open for later hits; replacing the entry must
// drop that descriptor, or later hits would go on serving the old bytes.
TEST_F(media_cache_test, KeptDescriptorNeverServesAReplacedEntry) {
  auto c = open();
  ASSERT_TRUE(store(*c, url_a, body_of(5000, 'a')));
  ASSERT_EQ(read_all(*c->lookup(url_a)), body_of(5000, 'a'));  // opens and keeps the file
  ASSERT_EQ(read_all(*c->lookup(url_a)), body_of(5000, 'a'));
  ASSERT_TRUE(store(*c, url_a, body_of(5000, 'k')));  // same size: only the bytes differ
  const auto hit = c->lookup(url_a);
  ASSERT_TRUE(hit);
  EXPECT_EQ(read_all(*hit), body_of(5000, 'k'));
  EXPECT_EQ(hit->size(), 5000u);
}

// The same after an eviction: the evicted entry's descriptor goes with it, and a later fill
// of the URL is what hits see.
TEST_F(media_cache_test, KeptDescriptorNeverServesAnEvictedEntry) {
  auto probe = open();
  ASSERT_TRUE(store(*probe, url_a, body_of(10'000)));
  const std::uint64_t one = probe->bytes();
  probe.reset();
  fs::remove_all(dir_.path() / "media");
  cfg().cache.max_bytes = 2 * one + one / 2;  // room for two entries

  auto c = open();
  ASSERT_TRUE(store(*c, url_a, body_of(10'000, 'a')));
  ASSERT_EQ(read_all(*c->lookup(url_a)), body_of(10'000, 'a'));  // its descriptor is kept
  ASSERT_TRUE(store(*c, url_b, body_of(10'000, 'b')));
  ASSERT_TRUE(store(*c, url_c, body_of(10'000, 'c')));  // a is least recently used: evicted
  ASSERT_FALSE(c->contains(url_a));
  EXPECT_FALSE(c->lookup(url_a));
  ASSERT_TRUE(store(*c, url_a, body_of(10'000, 'z')));
  EXPECT_EQ(read_all(*c->lookup(url_a)), body_of(10'000, 'z'));
}

// sendfile(2) is cheapest when the body starts on a page boundary of its file (docs/cache.md,
// benchmark); the metadata is padded up to one. The file size check still holds.
TEST_F(media_cache_test, BodyStartsOnAPageBoundary) {
  auto c = open();
  for (const std::size_t size : {std::size_t{0}, std::size_t{1}, std::size_t{65'536}}) {
    const std::string url = url_a + "?size=" + std::to_string(size);
    ASSERT_TRUE(store(*c, url, body_of(size)));
    const auto hit = c->lookup(url);
    ASSERT_TRUE(hit);
    EXPECT_EQ(hit->body_offset() % 4096, 0u) << size;
    EXPECT_EQ(fs::file_size(c->dir() / (key_of(url) + ".entry")), hit->body_offset() + size);
    EXPECT_EQ(read_all(*hit), body_of(size));
  }
  // A restart reads the padded entries back.
  c.reset();
  c = open();
  EXPECT_EQ(c->entries(), 3u);
  EXPECT_EQ(read_all(*c->lookup(url_a + "?size=65536")), body_of(65'536));
}

// Entries written before the padding (the body right after the metadata) are still served.
TEST_F(media_cache_test, ReadsAnEntryWithoutPadding) {
  const std::string body = body_of(3000);
  const auto ms = [](clock::time_point t) {
    return std::to_string(
        std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count());
  };
  const std::string meta = "url " + url_a + "\nstatus 200\nreason OK\nstored_ms " +
                           ms(clock_.now()) + "\nexpires_ms " + ms(clock_.now() + seconds{3600}) +
                           "\ninitial_age 0\nheader Content-Type: audio/wav\n";
  std::string file = "TSCACHE1";  // magic, metadata length (4 bytes), body length (8 bytes)
  const auto put_le = [&file](std::uint64_t v, std::size_t bytes) {
    for (std::size_t i = 0; i < bytes; ++i) file.push_back(static_cast<char>(v >> (8 * i)));
  };
  put_le(meta.size(), 4);
  put_le(body.size(), 8);
  file += meta + body;
  fs::create_directories(dir_.path() / "media");
  std::ofstream(dir_.path() / "media" / (key_of(url_a) + ".entry"), std::ios::binary) << file;

  auto c = open();
  const auto hit = c->lookup(url_a);
  ASSERT_TRUE(hit);
  EXPECT_EQ(hit->body_offset(), 20 + meta.size());
  EXPECT_EQ(hit->head()[http::field::content_type], "audio/wav");
  EXPECT_EQ(read_all(*hit), body);
}

TEST_F(media_cache_test, EvictsLeastRecentlyUsedBeyondMaxBytes) {
  auto probe = open();
  ASSERT_TRUE(store(*probe, url_a, body_of(10'000)));
  const std::uint64_t one = probe->bytes();  // an entry's size on disk, metadata included
  probe.reset();
  fs::remove_all(dir_.path() / "media");
  cfg().cache.max_bytes = 3 * one + one / 2;  // room for three entries

  auto c = open();
  ASSERT_TRUE(store(*c, url_a, body_of(10'000)));
  ASSERT_TRUE(store(*c, url_b, body_of(10'000)));
  ASSERT_TRUE(store(*c, url_c, body_of(10'000)));
  ASSERT_TRUE(c->lookup(url_a));  // a is now more recently used than b
  ASSERT_TRUE(store(*c, url_d, body_of(10'000)));

  EXPECT_FALSE(c->contains(url_b));
  EXPECT_TRUE(c->contains(url_a));
  EXPECT_TRUE(c->contains(url_c));
  EXPECT_TRUE(c->contains(url_d));
  EXPECT_EQ(c->entries(), 3u);
  EXPECT_LE(c->bytes(), cfg().cache.max_bytes);
  EXPECT_EQ(files_in(c->dir()), 3u);
  EXPECT_FALSE(fs::exists(c->dir() / (key_of(url_b) + ".entry")));
  EXPECT_EQ(metric("sidecar_cache_evictions_total"), "1");
  EXPECT_EQ(metric("sidecar_cache_entries"), "3");
}

TEST_F(media_cache_test, SurvivesARestart) {
  const std::string body = body_of(20'000);
  {
    auto c = open();
    ASSERT_TRUE(store(*c, url_a, body, "max-age=3600"));
  }
  clock_.advance(seconds{100});
  auto c = open();
  EXPECT_EQ(c->entries(), 1u);
  EXPECT_EQ(metric("sidecar_cache_bytes"), std::to_string(c->bytes()));
  const auto hit = c->lookup(url_a);
  ASSERT_TRUE(hit);
  EXPECT_EQ(hit->age(), seconds{100});
  EXPECT_EQ(hit->head()["X-Origin"], "app");
  EXPECT_EQ(read_all(*hit), body);
  clock_.advance(seconds{3500});  // its lifetime still counts from when it was stored
  EXPECT_FALSE(c->lookup(url_a));
}

TEST_F(media_cache_test, RestartDropsExpiredEntriesAndEvictsOldestBeyondMaxBytes) {
  std::uint64_t one = 0;  // an entry's size on disk
  {
    auto c = open();
    ASSERT_TRUE(store(*c, url_a, body_of(10'000), "max-age=10"));
    clock_.advance(seconds{1});
    ASSERT_TRUE(store(*c, url_b, body_of(10'000)));
    clock_.advance(seconds{1});
    ASSERT_TRUE(store(*c, url_c, body_of(10'000)));
    clock_.advance(seconds{1});
    one = c->bytes();
    ASSERT_TRUE(store(*c, url_d, body_of(10'000)));
    one = c->bytes() - one;
  }
  clock_.advance(seconds{20});  // a has expired
  cfg().cache.max_bytes = 2 * one + one / 2;  // only two of b, c, d fit now
  auto c = open();
  EXPECT_EQ(c->entries(), 2u);
  EXPECT_FALSE(c->contains(url_a));
  EXPECT_FALSE(c->contains(url_b));  // the oldest stored goes first
  EXPECT_TRUE(c->contains(url_c));
  EXPECT_TRUE(c->contains(url_d));
  EXPECT_EQ(files_in(c->dir()), 2u);
}

TEST_F(media_cache_test, CrashLeftoversAreIgnoredAndRemoved) {
  const std::string body = body_of(30'000);
  fs::path complete_temp;
  {
    auto c = open();
    ASSERT_TRUE(store(*c, url_a, body));
    ASSERT_TRUE(store(*c, url_b, body));
    // A fill the process never finished: its temporary file stays behind.
    cache_fill fill = c->begin_fill(url_c);
    ASSERT_TRUE(fill.start(media_head(body.size())));
    ASSERT_TRUE(fill.write(net::buffer(body.data(), 1000)));
    for (const auto& e : fs::directory_iterator(c->dir())) {
      if (e.path().extension() == ".tmp") complete_temp = e.path();
    }
    ASSERT_FALSE(complete_temp.empty());
    fs::copy_file(complete_temp, c->dir() / "leftover.tmp");
  }
  const fs::path media = dir_.path() / "media";
  // An entry torn by a crash (shorter than its header says), one whose URL does not match its
  // name, and a file that is not the cache's.
  const fs::path entry_b = media / (key_of(url_b) + ".entry");
  fs::resize_file(entry_b, fs::file_size(entry_b) - 100);
  fs::copy_file(media / (key_of(url_a) + ".entry"), media / (key_of(url_d) + ".entry"));
  std::ofstream(media / "README").put('x');

  auto c = open();
  EXPECT_EQ(c->entries(), 1u);
  EXPECT_TRUE(c->lookup(url_a));
  EXPECT_FALSE(c->lookup(url_b));
  EXPECT_FALSE(c->lookup(url_c));
  EXPECT_FALSE(c->lookup(url_d));
  EXPECT_FALSE(fs::exists(media / "leftover.tmp"));
  EXPECT_FALSE(fs::exists(entry_b));
  EXPECT_FALSE(fs::exists(media / (key_of(url_d) + ".entry")));
  EXPECT_TRUE(fs::exists(media / "README"));
  EXPECT_EQ(files_in(media), 2u);  // a's entry and README
}

}  // namespace
}  // namespace sidecar::cache
