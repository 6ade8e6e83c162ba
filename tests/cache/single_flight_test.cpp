// Concurrent misses for one URL, from Asio coroutines on several threads: one fetch from the
// app, the others wait for it and are served from the cache; a failed or refused fill sends
// the waiters to the app themselves; a waiter gives up after max_wait.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <atomic>
#include <future>
#include <mutex>

#include "cache/media_cache.hpp"
#include "tests/common/temp_dir.hpp"

namespace sidecar::cache {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

using testing_support::temp_dir;

const std::string url = "http://127.0.0.1:9000/media/hold-music.wav";

/// The customer app, as the cache sees it: a response head, then the body in paced chunks.
struct fake_app {
  std::atomic<int> fetches{0};
  std::atomic<int> fail_first{0};  // this many fetches reset mid-body
  std::string cache_control;
  std::string body = std::string(200'000, 'm');
};

struct outcome {
  bool hit = false;
  std::string body;
};

/// One platform request through the cache, as the proxy would run it.
net::awaitable<outcome> request(media_cache* cache, fake_app* app,
                                std::chrono::milliseconds max_wait) {
  acquisition a = co_await cache->acquire(url, max_wait);
  outcome out;
  if (a.hit) {
    out.hit = true;
    std::array<char, 16 * 1024> buf{};
    for (;;) {
      beast::error_code ec;
      const std::size_t n = a.hit->read(out.body.size(), net::buffer(buf), ec);
      if (ec || n == 0) break;
      out.body.append(buf.data(), n);
    }
    co_return out;
  }
  // A miss: fetch from the app, relay (here: collect) and feed the fill chunk by chunk.
  const bool fails = app->fail_first.fetch_sub(1) > 0;
  app->fetches.fetch_add(1);
  cache_fill& fill = *a.fill;
  response_head head;
  head.result(http::status::ok);
  head.set(http::field::content_type, "audio/wav");
  head.set(http::field::content_length, std::to_string(app->body.size()));
  if (!app->cache_control.empty()) head.set(http::field::cache_control, app->cache_control);
  fill.start(head);
  net::steady_timer pace(co_await net::this_coro::executor);
  for (std::size_t at = 0; at < app->body.size(); at += 20'000) {
    pace.expires_after(1ms);  // the app's pace: gives the other requests time to pile up
    co_await pace.async_wait(net::as_tuple(net::use_awaitable));
    if (fails && at >= 100'000) co_return out;  // reset mid-body: `fill` aborts on destruction
    const std::string_view chunk = std::string_view(app->body).substr(at, 20'000);
    fill.write(net::buffer(chunk));
    out.body.append(chunk);
  }
  fill.commit();
  co_return out;
}

class single_flight_test : public ::testing::Test {
 protected:
  single_flight_test() {
    auto c = std::make_shared<conf::config>();
    c->cache.dir = dir_.path();
    cache_ = std::make_unique<media_cache>(c, registry_);
  }

  /// Runs `n` concurrent requests, each on its own strand of a 4-thread pool.
  std::vector<outcome> run_concurrently(int n, std::chrono::milliseconds max_wait) {
    net::thread_pool pool(4);
    std::vector<std::future<outcome>> futures;
    for (int i = 0; i < n; ++i) {
      futures.push_back(net::co_spawn(net::make_strand(pool), request(cache_.get(), &app_, max_wait),
                                      net::use_future));
    }
    std::vector<outcome> results;
    for (auto& f : futures) results.push_back(f.get());
    pool.join();
    return results;
  }

  [[nodiscard]] std::string metric(std::string_view name) const {
    const std::string text = registry_.render();
    const auto at = text.find("\n" + std::string(name) + " ");
    if (at == std::string::npos) return "<absent>";
    const auto start = at + name.size() + 2;
    return text.substr(start, text.find('\n', start) - start);
  }

  temp_dir dir_;
  metrics::registry registry_;
  std::unique_ptr<media_cache> cache_;
  fake_app app_;
};

TEST_F(single_flight_test, TwentyConcurrentMissesFetchFromTheAppOnce) {
  const auto results = run_concurrently(20, 30s);
  EXPECT_EQ(app_.fetches.load(), 1);
  int hits = 0;
  for (const auto& r : results) {
    EXPECT_TRUE(r.body == app_.body);  // every request got the whole, uncorrupted body
    hits += r.hit ? 1 : 0;
  }
  EXPECT_EQ(hits, 19);
  EXPECT_EQ(metric("sidecar_cache_hits_total"), "19");
  EXPECT_EQ(metric("sidecar_cache_misses_total"), "1");
  EXPECT_EQ(cache_->entries(), 1u);
  EXPECT_EQ(std::distance(fs::directory_iterator(dir_.path()), fs::directory_iterator()), 1);
}

TEST_F(single_flight_test, FailedFillWakesTheWaitersWhoFetchThemselves) {
  app_.fail_first = 1;
  const auto results = run_concurrently(20, 30s);
  // The first fetch broke mid-body; each waiter went to the app itself (none waited 30 s for
  // a fill that was never coming), and the cache ends up filled by one of them.
  EXPECT_GE(app_.fetches.load(), 2);
  int complete = 0;
  for (const auto& r : results) complete += (r.body == app_.body) ? 1 : 0;
  EXPECT_EQ(complete, 19);  // all but the one whose upstream reset
  EXPECT_TRUE(cache_->contains(url));
  EXPECT_EQ(std::distance(fs::directory_iterator(dir_.path()), fs::directory_iterator()), 1);
}

TEST_F(single_flight_test, UnstorableResponseReleasesTheWaitersAtOnce) {
  app_.cache_control = "no-store";
  const auto results = run_concurrently(20, 30s);
  EXPECT_EQ(app_.fetches.load(), 20);
  for (const auto& r : results) {
    EXPECT_FALSE(r.hit);
    EXPECT_TRUE(r.body == app_.body);
  }
  EXPECT_EQ(cache_->entries(), 0u);
  // Not one of them could have been served from the cache: no miss is counted.
  EXPECT_EQ(metric("sidecar_cache_misses_total"), "0");
}

TEST_F(single_flight_test, WaiterFetchesItselfAfterMaxWait) {
  net::thread_pool pool(2);
  // The filler takes the flight and holds it (its app is slow).
  auto first = net::co_spawn(
      pool, [](media_cache* c) -> net::awaitable<acquisition> { co_return co_await c->acquire(url, 30s); }(cache_.get()),
      net::use_future);
  acquisition filler = first.get();
  ASSERT_TRUE(filler.fill);

  auto second = net::co_spawn(
      net::make_strand(pool),
      [](media_cache* c) -> net::awaitable<acquisition> { co_return co_await c->acquire(url, 20ms); }(cache_.get()),
      net::use_future);
  acquisition waiter = second.get();
  EXPECT_FALSE(waiter.hit);
  ASSERT_TRUE(waiter.fill);  // gave up waiting: fetches from the app itself

  // Both may fill; the entry is whole whichever commits last.
  response_head head;
  head.result(http::status::ok);
  head.set(http::field::content_type, "audio/wav");
  for (acquisition* a : {&waiter, &filler}) {
    ASSERT_TRUE(a->fill->start(head));
    ASSERT_TRUE(a->fill->write(net::buffer("sound", 5)));
    ASSERT_TRUE(a->fill->commit());
  }
  pool.join();
  const auto hit = cache_->lookup(url);
  ASSERT_TRUE(hit);
  EXPECT_EQ(hit->size(), 5u);
  EXPECT_EQ(cache_->entries(), 1u);
}

TEST_F(single_flight_test, LaterRequestsAfterTheFillAreHits) {
  run_concurrently(1, 1s);
  const auto results = run_concurrently(5, 1s);
  EXPECT_EQ(app_.fetches.load(), 1);
  for (const auto& r : results) EXPECT_TRUE(r.hit);
}

}  // namespace
}  // namespace sidecar::cache
