// Opening a connection to an upstream: resolution (a route's host), TCP connect, and TLS with
// the peer verified against the destination's host name (docs/proxy.md). Shared by the proxy's
// exchanges and by replays.
#pragma once

#include "proxy/destination.hpp"
#include "proxy/upstream_pool.hpp"
#include "store/capture.hpp"
#include "support/net.hpp"
#include "support/watchdog.hpp"

namespace sidecar::proxy {

/// Connects `conn` (fresh: its plain socket unopened) to `dest`: to dest.checked when it holds
/// addresses (checked already), else to what dest.host() resolves to now. The caller bounds the
/// whole by a deadline of `dog` that cancels conn.socket(); its timed_out() is read after each
/// step (a timeout reads as upstream_connect_timeout).
[[nodiscard]] net::awaitable<store::exchange_error> connect_upstream(upstream_connection& conn,
                                                                     const destination& dest,
                                                                     ssl::context& tls,
                                                                     const support::watchdog& dog);

}  // namespace sidecar::proxy
