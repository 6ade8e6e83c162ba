// The SCHED_IDLE class for background threads (support/thread_priority.hpp).
#include "support/thread_priority.hpp"

#include <gtest/gtest.h>
#include <pthread.h>
#include <sched.h>

#include <thread>

namespace sidecar {
namespace {

int policy_of(pthread_t t) {
  int policy = -1;
  sched_param param{};
  EXPECT_EQ(pthread_getschedparam(t, &policy, &param), 0);
  return policy;
}

TEST(thread_priority, TheCallingThreadAloneRunsWhenIdle) {
  const pthread_t caller = pthread_self();
  int inside = -1;
  int caller_meanwhile = -1;
  std::thread background([&] {
    ASSERT_TRUE(support::run_this_thread_when_idle());
    inside = policy_of(pthread_self());
    caller_meanwhile = policy_of(caller);
  });
  background.join();
  EXPECT_EQ(inside, SCHED_IDLE);
  EXPECT_EQ(caller_meanwhile, SCHED_OTHER);  // the class is per thread, not per process
}

}  // namespace
}  // namespace sidecar
