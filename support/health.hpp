// The sidecar's parts and their state, for the probes and the status page (docs/operations.md):
// GET /ready asks the phase (starting, serving, draining); GET /status asks every part
// whether it is ok, and since when it is in that state.
//
//   health::board b;
//   b.add_part("store", [&store] { auto h = store.health(); return health::state{h.ok, h.reason};
//   }); b.set_phase(health::phase::serving);   // both listeners accept b.report(); // {"proxy": ok
//   since ..., "store": failing ...}
//
// Nothing here waits on a part: a probe function must answer at once (a lock held briefly at
// most), so that the probes never queue behind the store or the API's queries.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace sidecar::health {

enum class phase : std::uint8_t { starting, serving, draining };

/// A part's state as its probe sees it.
struct state {
  bool ok = true;
  std::string reason;   // why not ok; for an ok part, a note ("disabled") or nothing
  bool enabled = true;  // false: the part is not configured (cache off, no fleet)
};

/// One part in a report.
struct part_report {
  std::string name;
  state now;
  std::chrono::system_clock::time_point since;  // when it entered this state (ok or failing)
};

class board {
 public:
  board();

  void set_phase(phase p) noexcept;
  [[nodiscard]] phase current_phase() const noexcept;
  /// Whether the proxy carries traffic: serving, neither starting nor draining.
  [[nodiscard]] bool ready() const noexcept { return current_phase() == phase::serving; }

  /// Adds a part (before the API serves). Its probe is called on each report().
  void add_part(std::string name, std::function<state()> probe);

  /// Every part's state, in order: "proxy" first (from the phase), then the added parts.
  /// A part's `since` is the moment the board first saw it in its present state (the
  /// sidecar's start for a part that never changed).
  [[nodiscard]] std::vector<part_report> report();

 private:
  struct part {
    std::string name;
    std::function<state()> probe;
    bool last_ok = true;
    std::chrono::system_clock::time_point since;
  };
  std::atomic<phase> phase_{phase::starting};
  std::atomic<std::int64_t> phase_since_ms_;
  std::mutex mu_;
  std::vector<part> parts_;
};

[[nodiscard]] const char* to_string(phase p);

}  // namespace sidecar::health
