// trace-sidecar's signal and reload threads: see signals.hpp.
#include "signals.hpp"

#include <pthread.h>

#include <csignal>

#include "support/log.hpp"
#include "support/thread_name.hpp"

namespace sidecar {
namespace {

// Sent by the destructor to end the signal thread's sigwait().
constexpr int quit_signal = SIGUSR2;

sigset_t handled_signals() {
  sigset_t set;
  sigemptyset(&set);
  for (const int s : {SIGHUP, SIGINT, SIGTERM, quit_signal}) sigaddset(&set, s);
  return set;
}

const char* signal_name(int sig) {
  switch (sig) {
    case SIGHUP:
      return "SIGHUP";
    case SIGINT:
      return "SIGINT";
    case SIGTERM:
      return "SIGTERM";
    default:
      return "signal";
  }
}

}  // namespace

signal_handling::signal_handling() {
  const sigset_t set = handled_signals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  std::signal(SIGPIPE, SIG_IGN);
}

signal_handling::~signal_handling() {
  {
    const std::lock_guard lock(mu_);
    quit_ = true;
  }
  cv_.notify_all();
  if (reloads_.joinable()) reloads_.join();
  if (signals_.joinable()) {
    pthread_kill(signals_.native_handle(), quit_signal);
    signals_.join();
  }
}

void signal_handling::start(std::function<void()> reload) {
  reload_ = std::move(reload);
  signals_ = std::thread([this] { signal_loop(); });
  reloads_ = std::thread([this] { reload_loop(); });
}

void signal_handling::signal_loop() {
  support::name_this_thread("signals");
  const sigset_t set = handled_signals();
  for (;;) {
    int sig = 0;
    if (sigwait(&set, &sig) != 0) continue;
    std::unique_lock lock(mu_);
    if (quit_ && sig == quit_signal) return;
    if (sig == quit_signal) continue;
    if (sig == SIGHUP) {
      if (stop_signal_ != 0) {
        lock.unlock();
        log::warn("reload refused: shutting down", {{"signal", "SIGHUP"}});
      } else if (reloading_) {
        reload_pending_ = true;
        lock.unlock();
        log::info("reload requested while one is in progress: it runs again when that one is done",
                  {{"signal", "SIGHUP"}});
      } else {
        reload_pending_ = true;
        lock.unlock();
        cv_.notify_all();
      }
      continue;
    }
    if (stop_signal_ != 0) {
      lock.unlock();
      log::info("already shutting down", {{"signal", signal_name(sig)}});
      continue;
    }
    stop_signal_ = sig;
    lock.unlock();
    cv_.notify_all();
  }
}

void signal_handling::reload_loop() {
  support::name_this_thread("reload");
  std::unique_lock lock(mu_);
  for (;;) {
    cv_.wait(lock, [this] { return quit_ || stop_signal_ != 0 || reload_pending_; });
    if (quit_ || stop_signal_ != 0) return;
    reload_pending_ = false;
    reloading_ = true;
    lock.unlock();
    reload_();
    lock.lock();
    reloading_ = false;
    cv_.notify_all();
  }
}

int signal_handling::wait_for_stop() {
  std::unique_lock lock(mu_);
  cv_.wait(lock, [this] { return stop_signal_ != 0 && !reloading_; });
  return stop_signal_;
}

}  // namespace sidecar
