// Where one request goes upstream: a route's upstream or a forward-proxy target whose every
// address passed the checks (docs/proxy.md). Shared by the proxy's exchanges and by replays.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "conf/config.hpp"
#include "proxy/snapshot.hpp"
#include "support/net.hpp"

namespace sidecar::proxy {

struct destination {
  bool https = false;
  std::uint16_t port = 0;
  std::string target;                  // path and query sent upstream
  std::vector<tcp::endpoint> checked;  // forward proxy: the addresses that passed the checks
  const conf::route* route = nullptr;  // null for the forward proxy

  /// The route's direction; a forward-proxy exchange is a webhook (the platform calling out).
  [[nodiscard]] conf::direction direction() const {
    return route != nullptr ? route->dir : conf::direction::webhook;
  }

  /// The upstream's names (snapshot.hpp): for connecting, SNI and verification; the pool's
  /// key; the Host value; scheme://authority.
  [[nodiscard]] const std::string& host() const { return names_->host; }
  [[nodiscard]] const std::string& pool_key() const { return names_->pool_key; }
  [[nodiscard]] const std::string& host_header() const { return names_->host_header; }
  [[nodiscard]] const std::string& url_prefix() const { return names_->url_prefix; }

  /// A route's names, held by its snapshot, which every exchange keeps to its end: no copy
  /// per request.
  void use_names(const upstream_names& route_names) {
    names_ = &route_names;
    owned_.reset();
  }
  /// A forward target's names, its own (copies of the destination share them).
  void own_names(upstream_names names) {
    owned_ = std::make_shared<const upstream_names>(std::move(names));
    names_ = owned_.get();
  }

 private:
  static inline const upstream_names no_names{};
  const upstream_names* names_ = &no_names;
  std::shared_ptr<const upstream_names> owned_;
};

/// The destination of `route` (which points into `snap`) for a target already rewritten.
[[nodiscard]] destination route_destination(const snapshot& snap, const conf::route& route,
                                            std::string target);

/// An absolute-form target (http or https) read for the forward proxy: its destination before
/// any address is checked, and the forward_hosts entry that allows it (null: not allowed).
struct forward_target {
  enum class problem : std::uint8_t { none, not_absolute, asterisk, path } status = problem::none;
  destination dest;
  const conf::forward_host* allowed = nullptr;
};
/// Reads `target` against `forward_hosts`. `status` is `path` when the path does not normalise
/// (proxy/path_normalise.hpp): the proxy answers that 400 after the address checks.
[[nodiscard]] forward_target read_forward_target(
    std::string_view target, const std::vector<conf::forward_host>& forward_hosts);

/// Resolves a forward destination now and checks every address: the upstream is then reached
/// by one of these very addresses (no second lookup that a DNS rebinding could answer
/// differently). Loopback, private... addresses and the sidecar's own listeners are refused
/// unless the host is listed by address (the operator's explicit choice); `never_own` refuses
/// the own listeners even then. Fills dest.checked (left empty when resolution failed).
/// Returns whether the destination was refused. The caller bounds the time it takes.
[[nodiscard]] net::awaitable<bool> resolve_forward(destination& dest,
                                                   const conf::forward_host& allowed,
                                                   const std::vector<tcp::endpoint>& own_listeners,
                                                   bool never_own);

/// Whether `ep` is one of the sidecar's own listeners (an unspecified listener address, such
/// as 0.0.0.0, stands for every address on its port, and so does 0.0.0.0 as a destination).
[[nodiscard]] bool is_own_listener(const tcp::endpoint& ep,
                                   const std::vector<tcp::endpoint>& own_listeners);

}  // namespace sidecar::proxy
