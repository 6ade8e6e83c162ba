// The running configuration: an immutable snapshot (conf::config) that a reload replaces
// whole. Each unit of work takes the snapshot once at its start and keeps it to its end (an
// exchange, an API request, a TLS handshake), so it never sees two configurations; the next
// one sees the new snapshot. Nothing is locked on the request path: get() is one atomic load.
//
//   conf::live_config live(conf::load(options));
//   live.on_change([](const auto& next) { /* rebuild what is derived from it */ });
//   auto cfg = live.get();   // at the start of an exchange; used to its end
//   live.set(next);          // SIGHUP, after next loaded and checked whole
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "conf/config.hpp"

namespace sidecar::conf {

class live_config {
 public:
  /// Called after each swap with the new snapshot, on the thread that called set(), in the
  /// order of registration. Modules that derive state from the configuration (the proxy's
  /// route table and TLS context, the API's authenticator, a live stream's authorisations)
  /// rebuild it here. A listener must not throw: set() is only called with a snapshot that
  /// loaded and was checked whole.
  using listener = std::function<void(const std::shared_ptr<const config>&)>;

  explicit live_config(std::shared_ptr<const config> initial);
  live_config(const live_config&) = delete;
  live_config& operator=(const live_config&) = delete;

  /// The current snapshot. Never null.
  [[nodiscard]] std::shared_ptr<const config> get() const noexcept { return current_.load(); }

  /// Installs `next` (not null), then calls every listener with it. Reloads are serialised:
  /// a second set() waits for the first one's listeners.
  void set(std::shared_ptr<const config> next);

  /// Adds a listener (thread-safe; usually at wiring time, before any reload).
  void on_change(listener l);

 private:
  std::atomic<std::shared_ptr<const config>> current_;
  std::mutex mu_;  // serialises set() and guards listeners_
  std::vector<listener> listeners_;
};

}  // namespace sidecar::conf
