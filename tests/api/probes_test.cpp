// The probes answer at once while list queries keep every store slot of the API busy
// (docs/operations.md): /healthz, /ready, /status and /metrics never queue behind them.
#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <future>
#include <mutex>
#include <thread>

#include "api/server.hpp"
#include "tests/api/test_support.hpp"

namespace sidecar::api {
namespace {

using testing::accounts;
using testing::http_client;

/// A reader whose list() blocks until released (a slow query), counting the ones waiting.
class stuck_reader final : public store::trace_reader {
 public:
  store::trace_lookup get(std::string_view) override { return {}; }
  store::list_result list(const store::list_query&) override {
    std::unique_lock lock(mu_);
    ++waiting_;
    cv_.notify_all();
    cv_.wait(lock, [this] { return released_; });
    return {store::query_status::timed_out, 0, nullptr};
  }
  bool wait_for(int n) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, std::chrono::seconds(20), [&] { return waiting_ >= n; });
  }
  void release() {
    const std::lock_guard lock(mu_);
    released_ = true;
    cv_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int waiting_ = 0;
  bool released_ = false;
};

TEST(api_probes, AnswerAtOnceWhileSlowQueriesHoldEveryThread) {
  auto cfg = testing::make_config();
  cfg->api.threads = 2;
  stuck_reader reader;
  metrics::registry registry;
  health::board board;
  board.set_phase(health::phase::serving);
  server s(cfg, reader, registry, [] { return store::store_health{}; });
  s.attach(&board);
  const std::uint16_t port = s.start().port();

  // Four slow list queries: two hold the store slots, two wait for one.
  std::vector<std::future<unsigned>> slow;
  for (int i = 0; i < 4; ++i) {
    slow.push_back(std::async(std::launch::async, [port] {
      return http_client(port)
          .get("/2012-04-24/Accounts/" + accounts::parent + "/Traces", accounts::parent)
          .status;
    }));
  }
  ASSERT_TRUE(reader.wait_for(2));
  for (const char* probe : {"/healthz", "/ready", "/status", "/metrics"}) {
    const auto started = std::chrono::steady_clock::now();
    EXPECT_EQ(http_client(port).request("GET", probe).status, 200u) << probe;
    EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(2)) << probe;
  }
  board.set_phase(health::phase::draining);
  EXPECT_EQ(http_client(port).request("GET", "/ready").status, 503u);
  EXPECT_EQ(http_client(port).request("GET", "/healthz").status, 200u);
  reader.release();
  for (auto& f : slow) EXPECT_EQ(f.get(), 503u);  // the queries' own answer, unchanged
  s.stop();
}

}  // namespace
}  // namespace sidecar::api
