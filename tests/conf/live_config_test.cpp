// The running configuration as a swappable snapshot (conf/live_config.hpp, docs/operations.md
// "Reload"): a unit of work keeps the snapshot it took while a reload swaps in the next, the
// listeners hear each swap in their order, and concurrent reloads are serialised.
#include "conf/live_config.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

namespace sidecar::conf {
namespace {

std::shared_ptr<const config> named(const std::string& source) {
  auto c = std::make_shared<config>();
  c->source = source;
  return c;
}

TEST(live_config, AUnitOfWorkKeepsItsSnapshotWhileTheNextIsSwappedIn) {
  live_config live(named("first.toml"));
  const auto taken = live.get();  // an exchange starts
  live.set(named("second.toml"));
  EXPECT_EQ(taken->source, "first.toml") << "what was taken stays whole to its end";
  EXPECT_EQ(live.get()->source, "second.toml") << "the next unit sees the new snapshot";
}

TEST(live_config, ListenersHearEachSwapInTheirOrderWithTheNewSnapshot) {
  live_config live(named("a"));
  std::vector<std::string> heard;
  live.on_change([&](const auto& c) { heard.push_back("1:" + c->source); });
  live.on_change([&](const auto& c) { heard.push_back("2:" + c->source); });
  live.set(named("b"));
  live.set(named("c"));
  EXPECT_EQ(heard, (std::vector<std::string>{"1:b", "2:b", "1:c", "2:c"}));
}

TEST(live_config, AListenerSeesTheSnapshotAlreadyInstalled) {
  live_config live(named("a"));
  std::string seen_by_get;
  live.on_change([&](const auto&) { seen_by_get = live.get()->source; });
  live.set(named("b"));
  EXPECT_EQ(seen_by_get, "b");
}

TEST(live_config, ReadersNeverSeeATornOrNullSnapshotWhileReloadsRun) {
  live_config live(named("0"));
  std::atomic<int> in_listener{0};
  std::atomic<bool> overlapped{false};
  live.on_change([&](const auto&) {
    if (in_listener.fetch_add(1) != 0) overlapped = true;
    std::this_thread::yield();
    in_listener.fetch_sub(1);
  });
  std::atomic<bool> stop{false};
  std::atomic<long> reads{0};
  std::thread reader([&] {
    while (!stop) {
      const auto c = live.get();
      ASSERT_NE(c, nullptr);
      ASSERT_FALSE(c->source.empty());
      ++reads;
    }
  });
  std::vector<std::thread> reloaders;
  for (int t = 0; t < 3; ++t) {
    reloaders.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) live.set(named(std::to_string(t) + "-" + std::to_string(i)));
    });
  }
  for (auto& r : reloaders) r.join();
  stop = true;
  reader.join();
  EXPECT_FALSE(overlapped) << "a second set() waits for the first one's listeners";
  EXPECT_GT(reads.load(), 0);
}

}  // namespace
}  // namespace sidecar::conf
