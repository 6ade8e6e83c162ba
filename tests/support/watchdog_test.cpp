// One deadline per connection (support/watchdog.hpp): the operation armed last is told when its
// deadline passes, a later deadline replaces an earlier one, and stop() ends the loop.
#include "support/watchdog.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <vector>

namespace sidecar::testing {
namespace {

using namespace std::chrono_literals;

struct fixture {
  net::io_context ioc;
  net::any_io_executor strand = net::make_strand(ioc);
  support::watchdog dog{strand};
  std::vector<std::uint8_t> expired;

  void start() {
    net::co_spawn(strand, dog.run([this](std::uint8_t what) { expired.push_back(what); }),
                  net::detached);
  }
  // Runs the loop for `d` of wall time (the deadlines are on the steady clock).
  void run_for(std::chrono::milliseconds d) { ioc.run_for(d); }
};

TEST(watchdog, TellsTheOperationWhoseDeadlinePassed) {
  fixture f;
  f.start();
  f.dog.arm(20ms, 7);
  f.run_for(200ms);
  ASSERT_EQ(f.expired, std::vector<std::uint8_t>{7});
  EXPECT_TRUE(f.dog.timed_out());
}

TEST(watchdog, ALaterDeadlineReplacesTheEarlierOne) {
  fixture f;
  f.start();
  f.dog.arm(30ms, 1);
  f.run_for(10ms);
  f.dog.arm(2s, 2);  // the timer still wakes at 30 ms, looks, and waits on
  f.run_for(150ms);
  EXPECT_TRUE(f.expired.empty());
  EXPECT_FALSE(f.dog.timed_out());
  f.dog.arm(10ms, 3);  // earlier: re-arms the timer
  f.run_for(150ms);
  EXPECT_EQ(f.expired, std::vector<std::uint8_t>{3});
}

TEST(watchdog, ArmingClearsTimedOut) {
  fixture f;
  f.start();
  f.dog.arm(5ms, 1);
  f.run_for(100ms);
  ASSERT_TRUE(f.dog.timed_out());
  f.dog.arm(1s, 2);
  EXPECT_FALSE(f.dog.timed_out());
}

TEST(watchdog, DisarmLeavesNoDeadlineUntilTheNextArm) {
  fixture f;
  f.start();
  f.dog.arm(20ms, 1);
  f.dog.disarm();
  f.run_for(150ms);
  EXPECT_TRUE(f.expired.empty());
  f.dog.arm(10ms, 2);
  f.run_for(150ms);
  EXPECT_EQ(f.expired, std::vector<std::uint8_t>{2});
}

TEST(watchdog, StopEndsTheLoopWithoutTellingAnything) {
  fixture f;
  f.start();
  f.dog.arm(50ms, 1);
  f.run_for(5ms);
  net::post(f.strand, [&] { f.dog.stop(); });
  f.ioc.restart();
  f.ioc.run_for(500ms);
  EXPECT_TRUE(f.expired.empty());
  EXPECT_TRUE(f.ioc.stopped());  // the loop ended: nothing is left to run
}

}  // namespace
}  // namespace sidecar::testing
