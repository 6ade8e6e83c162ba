// The proxy listener (docs/proxy.md): forward and reverse HTTP/1.x proxying, streaming,
// keep-alive, TLS, and one capture per exchange handed to the store without waiting.
#pragma once

#include <chrono>
#include <memory>
#include <vector>

#include "conf/config.hpp"
#include "store/capture.hpp"
#include "store/commit_feed.hpp"
#include "store/replayer.hpp"
#include "support/metrics.hpp"
#include "support/net.hpp"

namespace sidecar::cache {
class media_cache;
}

namespace sidecar::proxy {

class server {
 public:
  /// `cache` may be null (cache disabled). Nothing runs until start().
  server(std::shared_ptr<const conf::config> cfg, store::capture_sink& sink,
         metrics::registry& metrics, cache::media_cache* cache);
  ~server();
  server(const server&) = delete;
  server& operator=(const server&) = delete;

  /// Binds the listener and starts the threads. `own_listeners` are addresses the
  /// forward proxy must never connect to (the API listener). Returns the bound address.
  /// Throws conf::config_error when the address cannot be bound or TLS files are bad.
  tcp::endpoint start(std::vector<tcp::endpoint> own_listeners);

  /// Swaps in a reloaded configuration (after start()): routes, forward_hosts,
  /// forward_account, allowed_clients, max_connections, body_limit and the TLS pair. New
  /// connections and the next exchanges use it; an exchange in flight keeps the one it
  /// started with. Throws conf::config_error (nothing changed) when a route points at the
  /// sidecar's own listeners or the TLS pair cannot be used. Thread-safe.
  void reconfigure(std::shared_ptr<const conf::config> next);

  /// A replayer (docs/api.md, "Replay") that sends through this server's destination checks,
  /// connection code and pool, and waits on `feed` for its records. After start(); it borrows
  /// this server's parts: destroy it before stopping this server.
  [[nodiscard]] std::unique_ptr<store::trace_replayer> make_replayer(store::commit_feed& feed);

  /// Stops accepting, lets in-flight exchanges finish for up to `drain`, then cancels
  /// what is left and joins the threads. Every exchange has been handed to the sink when
  /// this returns.
  void stop(std::chrono::milliseconds drain);

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace sidecar::proxy
