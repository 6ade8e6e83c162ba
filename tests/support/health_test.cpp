// The health board (support/health.hpp, docs/operations.md "Probes"): the phase that /ready
// answers, and each part's state with the moment it entered it, as /status reports them.
#include "support/health.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <string>

namespace sidecar::health {
namespace {

TEST(health, TheProxyIsReadyOnlyWhileServing) {
  board b;
  EXPECT_EQ(b.current_phase(), phase::starting);
  EXPECT_FALSE(b.ready());
  b.set_phase(phase::serving);
  EXPECT_TRUE(b.ready());
  b.set_phase(phase::draining);
  EXPECT_FALSE(b.ready());
  EXPECT_STREQ(to_string(phase::starting), "starting");
  EXPECT_STREQ(to_string(phase::serving), "serving");
  EXPECT_STREQ(to_string(phase::draining), "draining");
}

TEST(health, TheReportNamesTheProxyFirstThenEachPartInOrder) {
  board b;
  b.add_part("store", [] { return state{}; });
  b.add_part("cache", [] { return state{true, "disabled", false}; });
  const auto r = b.report();
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(r[0].name, "proxy");
  EXPECT_FALSE(r[0].now.ok) << "not serving yet";
  EXPECT_EQ(r[0].now.reason, "starting");
  EXPECT_EQ(r[1].name, "store");
  EXPECT_TRUE(r[1].now.ok);
  EXPECT_EQ(r[2].name, "cache");
  EXPECT_FALSE(r[2].now.enabled);
  EXPECT_EQ(r[2].now.reason, "disabled");
  b.set_phase(phase::serving);
  EXPECT_TRUE(b.report()[0].now.ok);
  EXPECT_EQ(b.report()[0].now.reason, "");
}

TEST(health, SinceMovesWhenAPartChangesStateAndOnlyThen) {
  board b;
  bool ok = true;
  b.add_part("store", [&] { return state{ok, ok ? "" : "disk full"}; });
  const auto first = b.report()[1].since;
  EXPECT_EQ(b.report()[1].since, first) << "the same state: the same since";
  // The clock must move for a new since to be seen.
  const auto later = std::chrono::system_clock::now() + std::chrono::milliseconds(2);
  while (std::chrono::system_clock::now() < later) {
  }
  ok = false;
  const auto failing = b.report()[1];
  EXPECT_FALSE(failing.now.ok);
  EXPECT_EQ(failing.now.reason, "disk full");
  EXPECT_GT(failing.since, first);
  EXPECT_EQ(b.report()[1].since, failing.since) << "still failing: since stays";
  ok = true;
  EXPECT_GE(b.report()[1].since, failing.since);
  EXPECT_TRUE(b.report()[1].now.ok);
}

TEST(health, ThePhaseKeepsItsSinceWhenSetAgainToTheSame) {
  board b;
  b.set_phase(phase::serving);
  const auto since = b.report()[0].since;
  b.set_phase(phase::serving);
  EXPECT_EQ(b.report()[0].since, since);
}

}  // namespace
}  // namespace sidecar::health
