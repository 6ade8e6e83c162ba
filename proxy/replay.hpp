// Replays (docs/api.md, "Replay"): the proxy's implementation of store::trace_replayer. A
// recorded request goes again to its URL through the proxy's own destination choice and
// checks (routes by upstream origin, forward_hosts with the address checks, path
// normalisation), connection code (TLS verified, timeouts) and upstream pool, never through
// the media cache and never to the sidecar's own listeners; the exchange is captured like any
// other, and the answer waits until its record is committed.
//
// Built by proxy::server::make_replayer() once the proxy has started; it borrows the server's
// parts, so it must be destroyed before the server (main stops the API first).
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "conf/config.hpp"
#include "proxy/snapshot.hpp"
#include "proxy/upstream_pool.hpp"
#include "store/capture.hpp"
#include "store/commit_feed.hpp"
#include "store/replayer.hpp"
#include "support/net.hpp"

namespace sidecar::proxy {

/// What a replayer borrows from the proxy server.
struct replay_parts {
  net::any_io_executor executor;  // the proxy's first event loop
  const std::atomic<std::shared_ptr<const snapshot>>& current;
  upstream_pool& pool;
  ssl::context& client_tls;
  std::vector<tcp::endpoint> own_listeners;  // the proxy's and the API's
  store::capture_sink& sink;
  const conf::proxy_config& pc;  // the startup's timeouts and sizes
};

class replayer final : public store::trace_replayer {
 public:
  /// `feed` tells when a replay's record is committed (readable); it must outlive this.
  replayer(replay_parts parts, store::commit_feed& feed);

  [[nodiscard]] net::awaitable<store::replay_outcome> replay(store::replay_request r) override;

 private:
  [[nodiscard]] net::awaitable<store::replay_outcome> run(store::replay_request r);
  /// Submits the replay's capture and waits for its record's commit: the outcome says 201
  /// with the record, 502/504 for a failed exchange, 503 when the store did not take it.
  [[nodiscard]] net::awaitable<store::replay_outcome> record_and_wait(store::capture cap,
                                                                      store::exchange_error err,
                                                                      std::string sid);

  replay_parts parts_;
  store::commit_feed& feed_;
};

}  // namespace sidecar::proxy
