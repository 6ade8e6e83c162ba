// The Traces API listener (docs/api.md) on threads of its own, plus /healthz and
// /metrics.
#pragma once

#include <functional>
#include <memory>

#include "api/stream.hpp"
#include "conf/config.hpp"
#include "store/commit_feed.hpp"
#include "store/replayer.hpp"
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
  /// them), query_timeout, and the TLS pair for new connections; open live streams that the
  /// new configuration no longer authorises end. Throws conf::config_error, nothing changed,
  /// when the TLS pair cannot be used. Thread-safe.
  void reconfigure(std::shared_ptr<const conf::config> next);

  /// Serves the live stream (…/Traces/Stream, docs/api.md) from `feed`, which must outlive the
  /// server; without it the stream answers 503. Call before start().
  void enable_streams(store::commit_feed& feed, stream_options opts = {});

  /// Answers …/Traces/{TraceSid}/Replay (docs/api.md) through `replayer`, which must outlive
  /// the server; until then the resource answers 503. Once; may be called after start() (the
  /// proxy's replayer exists once the proxy has started, after this listener).
  void enable_replay(store::trace_replayer& replayer);

  /// Ends the live streams whose caller `cfg` no longer authorises (token changed or gone,
  /// visibility revoked, traces off); for a configuration reload. Returns how many. Any thread.
  std::size_t reauthorise(const conf::config& cfg);

  /// Stops accepting and closes connections (answers in progress finish first, briefly).
  void stop();

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace sidecar::api
