// One timer per connection for every deadline it has: the timeout idiom of both listeners,
// the proxy's connections and replays and the API's connections (docs/architecture.md,
// "Timeouts"). Each operation sets its own deadline with
// arm(); a deadline moved later costs nothing (the watchdog looks again when it wakes), only an
// earlier one re-arms the timer; when a deadline passes, the connection is told which operation
// it was set for, and cancels it. A per-operation timer (Beast's tcp_stream) re-arms a timer
// for every read and write.
#pragma once

#include <chrono>
#include <cstdint>

#include "support/net.hpp"

namespace sidecar::support {

class watchdog {
 public:
  using clock = std::chrono::steady_clock;

  /// `strand` is the connection's: arm() and the loop run on it.
  explicit watchdog(const net::any_io_executor& strand) : timer_(strand) {}

  /// Sets the deadline of the next operation, tagged `what`; clears timed_out().
  void arm(std::chrono::milliseconds d, std::uint8_t what) {
    deadline_ = clock::now() + d;
    what_ = what;
    timed_out_ = false;
    if (deadline_ < timer_at_) {
      timer_at_ = deadline_;
      timer_.expires_at(deadline_);
    }
  }

  /// No deadline until the next arm(): for a connection that may rightly wait without end
  /// (a live stream between its events).
  void disarm() {
    deadline_ = clock::time_point::max();
    timed_out_ = false;
  }

  /// Whether the deadline of the operation armed last has passed (a result that arrived just
  /// as it passed counts as timed out: the cancel may have found nothing to cancel).
  [[nodiscard]] bool timed_out() const { return timed_out_; }

  /// Ends run().
  void stop() {
    stopped_ = true;
    timer_.cancel();
  }

  /// The loop: until stop(), calls `on_expiry(what)` once for each deadline that passes. The
  /// caller keeps the watchdog alive until it returns (it spawns it holding its connection).
  template <class OnExpiry>
  net::awaitable<void> run(OnExpiry on_expiry) {
    while (!stopped_) {
      timer_.expires_at(timer_at_);
      auto [ec] = co_await timer_.async_wait(awaited);
      if (stopped_) break;
      if (ec == net::error::operation_aborted && clock::now() < timer_at_) continue;
      if (clock::now() >= deadline_) {
        timed_out_ = true;
        deadline_ = clock::time_point::max();
        on_expiry(what_);
      }
      timer_at_ = deadline_;
    }
  }

 private:
  net::steady_timer timer_;
  clock::time_point deadline_ = clock::time_point::max();
  clock::time_point timer_at_ = clock::time_point::max();
  std::uint8_t what_ = 0;
  bool timed_out_ = false;
  bool stopped_ = false;
};

}  // namespace sidecar::support
