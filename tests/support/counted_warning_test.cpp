// A warning that may happen thousands of times a second (support/counted_warning.hpp): the
// first occurrence is written at once, the rest are counted and written as one line per
// interval with their count, from any number of threads.
#include "support/counted_warning.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

namespace sidecar::log {
namespace {

int lines_with(const std::string& text, const std::string& what) {
  int n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

TEST(counted_warning, TheFirstIsWrittenAtOnceTheRestWaitForTheInterval) {
  counted_warning w("records skipped", "no_account", std::chrono::seconds(3600));
  ::testing::internal::CaptureStderr();
  w.add();
  for (int i = 0; i < 1000; ++i) w.add();
  const std::string out = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(lines_with(out, "msg=\"records skipped\""), 1) << out;
  EXPECT_NE(out.find("reason=no_account"), std::string::npos) << out;
  EXPECT_NE(out.find("count=1"), std::string::npos) << out;
  EXPECT_NE(out.find("level=warn"), std::string::npos) << out;
}

TEST(counted_warning, OnceTheIntervalHasPassedOneLineCarriesTheCountSinceTheLast) {
  counted_warning w("records dropped", "queue_full", std::chrono::seconds(1));
  ::testing::internal::CaptureStderr();
  w.add();   // written at once
  w.add(5);  // counted
  w.add(4);  // counted
  const auto due = std::chrono::steady_clock::now() + std::chrono::milliseconds(1100);
  std::this_thread::sleep_until(due);
  w.add();  // the interval passed: one line with 5 + 4 + 1
  const std::string out = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(lines_with(out, "msg=\"records dropped\""), 2) << out;
  EXPECT_NE(out.find("count=10"), std::string::npos) << out;
}

TEST(counted_warning, ManyThreadsCountEveryOccurrenceAndWriteOneLine) {
  counted_warning w("records skipped", "threads", std::chrono::seconds(3600));
  ::testing::internal::CaptureStderr();
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10'000; ++i) w.add();
    });
  }
  for (auto& t : threads) t.join();
  const std::string out = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(lines_with(out, "reason=threads"), 1) << out;
}

}  // namespace
}  // namespace sidecar::log
