// What every connection of the proxy shares with its listener (proxy/server.hpp): the
// configuration, the upstream pools and TLS client context, the sink of captures, the media
// cache, the metrics and the stop flag. Owned by the server; connections hold a reference and
// the server outlives them (stop() waits for every one).
#pragma once

#include <atomic>
#include <cstddef>
#include <memory>
#include <vector>

#include "conf/config.hpp"
#include "proxy/proxy_metrics.hpp"
#include "proxy/snapshot.hpp"
#include "proxy/upstream_pool.hpp"
#include "store/capture.hpp"
#include "support/net.hpp"

namespace sidecar::cache {
class media_cache;
}

namespace sidecar::proxy {

struct proxy_context {
  proxy_context(std::shared_ptr<const conf::config> c, store::capture_sink& s,
                metrics::registry& registry, cache::media_cache* mc, net::any_io_executor ex,
                std::size_t loop_count)
      : cfg(std::move(c)),
        pc(cfg->proxy),
        current(std::make_shared<const snapshot>(cfg)),
        sink(s),
        media_cache(mc),
        executor(std::move(ex)),
        metrics(registry) {
    for (std::size_t i = 0; i < loop_count; ++i) {
      pools.push_back(std::make_unique<upstream_pool>(max_idle_per_upstream, pc.idle_timeout));
    }
  }

  static constexpr std::size_t max_idle_per_upstream = 256;  // kept per loop, as nginx's workers

  /// The configuration at startup: what needs a restart (listen, threads, timeouts, sizes) is
  /// read from it. What reloads is read from `current`.
  std::shared_ptr<const conf::config> cfg;
  const conf::proxy_config& pc;
  std::atomic<std::shared_ptr<const snapshot>> current;
  store::capture_sink& sink;
  cache::media_cache* media_cache;  // null when [cache] enabled = false
  net::any_io_executor executor;    // the io_context's, for upstream connections
  // One keep-alive pool per event loop (pools[i] for the loop of proxy thread i + 1): a
  // connection serves only client connections of its own loop, so a pool is used by one
  // thread and its lock is never contended (docs/proxy.md, "Threads"). The replays, which run
  // on the first loop, use the first pool.
  std::vector<std::unique_ptr<upstream_pool>> pools;
  ssl::context client_tls{ssl::context::tls_client};  // set up by server::start()
  std::vector<tcp::endpoint> own_listeners;           // never a forward destination
  std::atomic<bool> stopping{false};
  proxy_metrics metrics;

  [[nodiscard]] bool is_stopping() const { return stopping.load(std::memory_order_relaxed); }
};

}  // namespace sidecar::proxy
