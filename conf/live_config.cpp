// The running configuration's snapshot and its reload listeners: see live_config.hpp.
#include "conf/live_config.hpp"

#include <cassert>
#include <utility>

namespace sidecar::conf {

live_config::live_config(std::shared_ptr<const config> initial) : current_(std::move(initial)) {
  assert(current_.load() != nullptr);
}

void live_config::set(std::shared_ptr<const config> next) {
  assert(next != nullptr);
  const std::lock_guard lock(mu_);
  current_.store(next);
  for (const auto& l : listeners_) l(next);
}

void live_config::on_change(listener l) {
  const std::lock_guard lock(mu_);
  listeners_.push_back(std::move(l));
}

}  // namespace sidecar::conf
