// The trace writer's queue (store/segmented_queue.hpp): order kept across segments, items that
// never move once queued, and emptied segments kept for the next fill, up to the bound.
#include "store/segmented_queue.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

namespace sidecar::store {
namespace {

using queue = segmented_queue<std::string, 4>;

std::vector<std::string> drained(queue& q) {
  std::vector<std::string> out;
  q.for_each([&](std::string& s) { out.push_back(s); });
  return out;
}

TEST(segmented_queue, KeepsTheOrderAcrossSegments) {
  queue q(8);
  EXPECT_TRUE(q.empty());
  std::vector<std::string> expected;
  for (int i = 0; i < 11; ++i) {
    expected.push_back("item " + std::to_string(i));
    EXPECT_EQ(q.emplace_back(expected.back()), expected.back());
  }
  EXPECT_EQ(q.size(), 11u);
  EXPECT_EQ(q.segments_held(), 3u);
  EXPECT_EQ(drained(q), expected);
}

TEST(segmented_queue, QueuedItemsNeverMove) {
  queue q(8);
  std::vector<const std::string*> addresses;
  for (int i = 0; i < 20; ++i) addresses.push_back(&q.emplace_back(std::to_string(i)));
  std::size_t i = 0;
  q.for_each([&](std::string& s) { EXPECT_EQ(&s, addresses[i++]); });
  EXPECT_EQ(i, 20u);
}

TEST(segmented_queue, AClearedQueueFillsItsSparesFirst) {
  queue q(8);
  for (int i = 0; i < 8; ++i) q.emplace_back("x");
  std::vector<const std::string*> before;
  q.for_each([&](std::string& s) { before.push_back(&s); });
  q.clear();
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(q.segments_held(), 2u);
  for (int i = 0; i < 8; ++i) q.emplace_back("y");
  EXPECT_EQ(q.segments_held(), 2u) << "no new segment while spares last";
  std::vector<const std::string*> after;
  q.for_each([&](std::string& s) { after.push_back(&s); });
  // The spares are taken last-kept first, so the same storage comes back a segment at a time.
  std::sort(before.begin(), before.end());
  std::sort(after.begin(), after.end());
  EXPECT_EQ(after, before);
}

TEST(segmented_queue, KeepsAtMostItsBoundOfSpares) {
  queue q(2);
  for (int i = 0; i < 40; ++i) q.emplace_back("z");
  EXPECT_EQ(q.segments_held(), 10u);
  q.clear();
  EXPECT_EQ(q.segments_held(), 2u);
}

TEST(segmented_queue, SwapTradesItemsAndSpares) {
  queue filling(8);
  queue drained_one(8);
  for (int i = 0; i < 6; ++i) filling.emplace_back(std::to_string(i));
  drained_one.swap(filling);
  EXPECT_TRUE(filling.empty());
  EXPECT_EQ(filling.segments_held(), 0u);
  EXPECT_EQ(drained(drained_one), (std::vector<std::string>{"0", "1", "2", "3", "4", "5"}));
  drained_one.clear();
  // The next swap gives the filling side the drained side's spares.
  filling.emplace_back("late");
  filling.swap(drained_one);
  EXPECT_EQ(filling.segments_held(), 2u);
  EXPECT_EQ(drained(drained_one), std::vector<std::string>{"late"});
}

}  // namespace
}  // namespace sidecar::store
