// The SCHED_IDLE class for background threads: see thread_priority.hpp.
#include "support/thread_priority.hpp"

#include <pthread.h>
#include <sched.h>

namespace sidecar::support {

bool run_this_thread_when_idle() noexcept {
  const sched_param param{.sched_priority = 0};  // the only priority SCHED_IDLE has
  return pthread_setschedparam(pthread_self(), SCHED_IDLE, &param) == 0;
}

}  // namespace sidecar::support
