// The parts' states for the probes and the status page: see health.hpp.
#include "support/health.hpp"

#include "support/utc_time.hpp"

namespace sidecar::health {
namespace {

using sys_clock = std::chrono::system_clock;

}  // namespace

const char* to_string(phase p) {
  switch (p) {
    case phase::starting:
      return "starting";
    case phase::serving:
      return "serving";
    case phase::draining:
      return "draining";
  }
  return "starting";
}

board::board() : phase_since_ms_(utc::now_ms()) {}

void board::set_phase(phase p) noexcept {
  if (phase_.exchange(p) != p) phase_since_ms_.store(utc::now_ms());
}

phase board::current_phase() const noexcept { return phase_.load(); }

void board::add_part(std::string name, std::function<state()> probe) {
  const std::lock_guard lock(mu_);
  parts_.push_back({std::move(name), std::move(probe), true, sys_clock::now()});
}

std::vector<part_report> board::report() {
  std::vector<part_report> out;
  const phase p = current_phase();
  state proxy;
  proxy.ok = p == phase::serving;
  if (!proxy.ok) proxy.reason = to_string(p);
  out.push_back(
      {"proxy", proxy, sys_clock::time_point(std::chrono::milliseconds(phase_since_ms_.load()))});
  const std::lock_guard lock(mu_);
  for (auto& each : parts_) {
    state s = each.probe();
    if (s.ok != each.last_ok) {
      each.last_ok = s.ok;
      each.since = sys_clock::now();
    }
    out.push_back({each.name, std::move(s), each.since});
  }
  return out;
}

}  // namespace sidecar::health
