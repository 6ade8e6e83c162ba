// Thread names: see thread_name.hpp.
#include "support/thread_name.hpp"

#include <pthread.h>

namespace sidecar::support {

void name_this_thread(const std::string& name) noexcept {
  pthread_setname_np(pthread_self(), name.substr(0, 15).c_str());
}

}  // namespace sidecar::support
