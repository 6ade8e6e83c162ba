// The Traces API listener (contract section 5) on threads of its own, plus /healthz and
// /metrics.
#pragma once

#include <functional>
#include <memory>

#include "conf/config.hpp"
#include "store/trace_query.hpp"
#include "store/trace_store.hpp"
#include "support/health.hpp"
#include "support/metrics.hpp"
#include "support/net.hpp"

namespace sidecar::api {

class server {
 public:
  /// `health` reports the store's state for /status (when no board is attached).
  server(std::shared_ptr<const conf::config> cfg, store::trace_reader& reader,
         metrics::registry& metrics, std::function<store::store_health()> health);
  ~server();
  server(const server&) = delete;
  server& operator=(const server&) = delete;

  /// Binds the listener and starts the API threads; returns the bound address. Throws
  /// conf::config_error when it cannot bind, the TLS files are bad, or a plain listener on
  /// a non-loopback address lacks allow_insecure.
  tcp::endpoint start();

  /// The board that /ready and /status read (main's); before start().
  void attach(health::board* board);

  /// Swaps in a reloaded configuration: accounts and tokens (the next request's auth sees
  /// them), query_timeout, and the TLS pair for new connections. Throws conf::config_error,
  /// nothing changed, when the TLS pair cannot be used. Thread-safe.
  void reconfigure(std::shared_ptr<const conf::config> next);

  /// Stops accepting and closes connections (answers in progress finish first, briefly).
  void stop();

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace sidecar::api
