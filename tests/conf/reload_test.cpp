// What a reload may change (conf/reload.hpp), and the defaults a reload file is read with.
#include "conf/reload.hpp"

#include <gtest/gtest.h>

#include "conf/live_config.hpp"
#include "conf/load.hpp"

namespace sidecar::conf {
namespace {

constexpr std::string_view base = R"(
[proxy]
listen = "127.0.0.1:8080"
[store]
path = "/var/lib/a"
body_limit = "1KiB"
[[account]]
sid = "ACae6e420f425248d6a26948c17a9e2acf"
auth_token = "one"
traces = true
[[route]]
prefix = "/"
upstream = "http://127.0.0.1:9000/"
)";

TEST(conf_reload, WhatReloadsAppliesAndWhatNeedsARestartIsKeptAndNamed) {
  const auto running = parse(base, "a.toml");
  std::string text(base);
  text.replace(text.find("127.0.0.1:8080"), 14, "127.0.0.1:9090");
  text.replace(text.find("/var/lib/a"), 10, "/var/lib/b");
  text.replace(text.find("1KiB"), 4, "2KiB");
  text.replace(text.find("\"one\""), 5, "\"two\"");
  const auto loaded = parse(text, "a.toml");
  const reload_plan plan = plan_reload(*running, *loaded);
  EXPECT_EQ(plan.ignored, (std::vector<std::string>{"[proxy] listen", "[store] path"}));
  EXPECT_EQ(plan.next->proxy.listen.port, 8080);
  EXPECT_EQ(plan.next->store.path, "/var/lib/a");
  EXPECT_EQ(plan.next->store.body_limit, 2048u);
  EXPECT_EQ(plan.next->accounts.front().auth_token, "two");
}

TEST(conf_reload, AnUnchangedFileIgnoresNothing) {
  const auto running = parse(base, "a.toml");
  EXPECT_TRUE(plan_reload(*running, *parse(base, "a.toml")).ignored.empty());
}

TEST(conf_reload, FleetNeedsARestartWhetherAddedChangedOrRemoved) {
  const auto plain = parse(base, "a.toml");
  const std::string with_fleet = std::string(base) +
                                 "[fleet]\nclickhouse = \"http://127.0.0.1:8123/\"\n"
                                 "node = \"node-1\"\n";
  const auto fleet = parse(with_fleet, "a.toml");
  std::string other_node = with_fleet;
  other_node.replace(other_node.find("node-1"), 6, "node-2");

  const reload_plan added = plan_reload(*plain, *fleet);
  EXPECT_EQ(added.ignored, (std::vector<std::string>{"[fleet]"}));
  EXPECT_FALSE(added.next->fleet.has_value());
  const reload_plan changed = plan_reload(*fleet, *parse(other_node, "a.toml"));
  EXPECT_EQ(changed.ignored, (std::vector<std::string>{"[fleet]"}));
  EXPECT_EQ(changed.next->fleet->node, "node-1");
  EXPECT_EQ(plan_reload(*fleet, *plain).ignored, (std::vector<std::string>{"[fleet]"}));
  EXPECT_TRUE(plan_reload(*fleet, *parse(with_fleet, "a.toml")).ignored.empty());
}

TEST(conf_reload, LiveConfigSwapsWholeAndTellsItsListeners) {
  live_config live(parse(base, "a.toml"));
  const auto before = live.get();
  std::shared_ptr<const config> seen;
  live.on_change([&seen](const std::shared_ptr<const config>& next) { seen = next; });
  const auto next = parse(base, "b.toml");
  live.set(next);
  EXPECT_EQ(live.get(), next);
  EXPECT_EQ(seen, next);
  EXPECT_EQ(before->source, "a.toml");  // a snapshot taken before stays what it was
}

TEST(conf_reload, SmallCacheMaxBytesAloneIsAcceptedAndBoundsObjects) {
  const auto c = parse("[cache]\nmax_bytes = \"16MiB\"\n", "a.toml");
  EXPECT_EQ(c->cache.max_object_bytes, 16ull << 20);
  const auto big = parse("[cache]\nmax_bytes = \"1GiB\"\n", "a.toml");
  EXPECT_EQ(big->cache.max_object_bytes, 64ull << 20);
}

}  // namespace
}  // namespace sidecar::conf
