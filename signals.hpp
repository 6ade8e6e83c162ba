// trace-sidecar's signals (docs/operations.md): SIGHUP reloads the configuration, SIGTERM and
// SIGINT stop. One thread waits for them (blocked in every other thread) and stays until the
// end, so that a SIGHUP during a reload or during shutdown gets its log line too; reloads run
// one at a time on a thread of their own.
#pragma once

#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

namespace sidecar {

class signal_handling {
 public:
  /// Blocks the signals in the calling thread and every thread started after it (call it
  /// before any other thread starts); until start(), they wait.
  signal_handling();
  ~signal_handling();
  signal_handling(const signal_handling&) = delete;
  signal_handling& operator=(const signal_handling&) = delete;

  /// Starts the signal and reload threads. `reload` runs on the reload thread for each
  /// SIGHUP; a SIGHUP that arrives while it runs makes it run once more afterwards.
  void start(std::function<void()> reload);

  /// Waits for SIGTERM or SIGINT; returns it. From then on a SIGHUP is refused with a log
  /// line, and a reload in progress has finished when this returns.
  int wait_for_stop();

 private:
  void signal_loop();
  void reload_loop();

  std::function<void()> reload_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool reload_pending_ = false;
  bool reloading_ = false;
  int stop_signal_ = 0;
  bool quit_ = false;
  std::thread signals_;
  std::thread reloads_;
};

}  // namespace sidecar
