// The proxy's state derived from one configuration snapshot: the route table, each route's
// upstream strings, and the listener's TLS context. Built whole at startup and at each
// reload, then swapped in one atomic store; a connection takes the TLS context when it is
// accepted, an exchange takes the rest when its request head has arrived, and both keep what
// they took to their end (docs/operations.md).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "conf/config.hpp"
#include "proxy/routing.hpp"
#include "support/net.hpp"

namespace sidecar::proxy {

/// An upstream's names, computed once: a route's in its snapshot, a forward-proxy target's
/// when its request is read.
struct upstream_names {
  std::string host{};         // for connecting, SNI and verification
  std::string pool_key{};     // the upstream pool's key
  std::string host_header{};  // the upstream's Host value
  std::string url_prefix{};   // scheme://authority
};

struct snapshot {
  explicit snapshot(std::shared_ptr<const conf::config> c);

  std::shared_ptr<const conf::config> cfg;  // first: the table points into it
  route_table routes;
  /// Per route, its upstream's names.
  std::unordered_map<const conf::route*, upstream_names> route_infos;
  /// The listener's TLS context (null: plain HTTP). Shared: a connection holds it while it
  /// lives, however many reloads happen meanwhile.
  std::shared_ptr<ssl::context> server_tls;
};

/// Builds the snapshot of `cfg`. Throws conf::config_error when the TLS pair cannot be used
/// (the loader has checked it already; this is the last word).
[[nodiscard]] std::shared_ptr<const snapshot> make_snapshot(
    std::shared_ptr<const conf::config> cfg);

/// "host[:port]" with brackets around an IPv6 literal and no port when it is the scheme's.
[[nodiscard]] std::string authority(std::string_view host, std::uint16_t port, bool https);

}  // namespace sidecar::proxy
