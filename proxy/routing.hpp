// Which upstream a request goes to: reverse routes (longest prefix, host routes first), and
// the forward-proxy rules for absolute-form targets (forward_hosts, ports, public addresses).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "conf/config.hpp"
#include "support/net.hpp"

namespace sidecar::proxy {

/// The routes of a config in match order: routes with a host before those without, then
/// longest prefix first. Holds pointers into the config, which must outlive it.
class route_table {
 public:
  explicit route_table(const std::vector<conf::route>& routes);

  /// The route for a request, or nullptr. `host` is the Host header without its port, in
  /// any case; `path` the origin-form target.
  [[nodiscard]] const conf::route* match(std::string_view host, std::string_view path) const;

  /// The route for a target whose dot-segments were resolved (proxy/path_normalise.hpp):
  /// chosen by the `normalised` path. `escapes` when the `raw` target was addressed to a
  /// route whose prefix the normalised path leaves ("/pub/../x" under route "/pub/"): a
  /// dot-segment may move inside the prefix it was sent to, never out of it (400).
  struct choice {
    const conf::route* route = nullptr;
    bool escapes = false;
  };
  [[nodiscard]] choice choose(std::string_view host, std::string_view raw,
                              std::string_view normalised) const;

 private:
  std::vector<const conf::route*> ordered_;
};

/// The target sent upstream, into `out` (replacing what it held, its capacity kept: a
/// connection's next request reuses it): the route's prefix replaced by the upstream's base
/// path ("/apps/acme/voice?x=1" with prefix "/apps/acme/" and base "/base/" -> "/base/voice?x=1").
void rewrite_target(const conf::route& r, std::string_view target, std::string& out);

/// The host part of a Host header value ("Example.com:8080" -> "Example.com", "[::1]:80" ->
/// "::1").
[[nodiscard]] std::string_view host_without_port(std::string_view host_header);

/// Whether an address is one a forward-proxy request may reach without being listed by
/// address: not loopback, link-local, private, unique-local, shared (CGNAT), multicast,
/// broadcast, reserved or unspecified (IPv4-mapped IPv6 addresses are judged as IPv4).
[[nodiscard]] bool is_public_address(const net::ip::address& a);

/// The forward_hosts entry allowing host:port, or nullptr.
[[nodiscard]] const conf::forward_host* match_forward_host(
    const std::vector<conf::forward_host>& hosts, std::string_view host, std::uint16_t port);

}  // namespace sidecar::proxy
