// Route matching, target rewriting and the forward proxy's address rules.
#include "proxy/routing.hpp"

#include <algorithm>

namespace sidecar::proxy {

route_table::route_table(const std::vector<conf::route>& routes) {
  ordered_.reserve(routes.size());
  for (const auto& r : routes) ordered_.push_back(&r);
  std::stable_sort(ordered_.begin(), ordered_.end(), [](const conf::route* a, const conf::route* b) {
    if (a->host.has_value() != b->host.has_value()) return a->host.has_value();
    return a->prefix.size() > b->prefix.size();
  });
}

const conf::route* route_table::match(std::string_view host, std::string_view path) const {
  for (const conf::route* r : ordered_) {
    if (!path.starts_with(r->prefix)) continue;
    if (r->host && !beast::iequals(*r->host, host)) continue;
    return r;
  }
  return nullptr;
}

route_table::choice route_table::choose(std::string_view host, std::string_view raw,
                                        std::string_view normalised) const {
  choice c;
  c.route = match(host, normalised);
  if (raw != normalised) {
    const conf::route* addressed = match(host, raw);
    c.escapes = addressed != nullptr && !normalised.starts_with(addressed->prefix);
  }
  return c;
}

void rewrite_target(const conf::route& r, std::string_view target, std::string& out) {
  std::string_view rest = target.substr(std::min(r.prefix.size(), target.size()));
  const std::string& base = r.upstream.base_path;  // starts and ends with '/'
  if (!rest.empty() && rest.front() == '/') rest.remove_prefix(1);
  out.clear();
  out.reserve(base.size() + rest.size());
  out.append(base);
  out.append(rest);
}

std::string_view host_without_port(std::string_view h) {
  if (!h.empty() && h.front() == '[') {
    const auto close = h.find(']');
    return close == std::string_view::npos ? h : h.substr(1, close - 1);
  }
  const auto colon = h.rfind(':');
  return colon == std::string_view::npos ? h : h.substr(0, colon);
}

namespace {

bool is_public_v4(const net::ip::address_v4& a) {
  const auto b = a.to_bytes();
  if (b[0] == 0 || b[0] == 10 || b[0] == 127) return false;               // this net, private, loopback
  if (b[0] == 169 && b[1] == 254) return false;                           // link-local
  if (b[0] == 172 && (b[1] & 0xf0) == 16) return false;                   // private
  if (b[0] == 192 && b[1] == 168) return false;                           // private
  if (b[0] == 100 && (b[1] & 0xc0) == 64) return false;                   // shared (CGNAT)
  if (b[0] == 192 && b[1] == 0 && (b[2] == 0 || b[2] == 2)) return false;  // IETF, TEST-NET-1
  if (b[0] == 198 && (b[1] & 0xfe) == 18) return false;                   // benchmarking
  if (b[0] == 198 && b[1] == 51 && b[2] == 100) return false;             // TEST-NET-2
  if (b[0] == 203 && b[1] == 0 && b[2] == 113) return false;              // TEST-NET-3
  if (b[0] >= 224) return false;  // multicast, reserved, broadcast
  return true;
}

}  // namespace

bool is_public_address(const net::ip::address& a) {
  if (a.is_v4()) return is_public_v4(a.to_v4());
  const auto v6 = a.to_v6();
  if (v6.is_v4_mapped()) return is_public_v4(net::ip::make_address_v4(net::ip::v4_mapped, v6));
  const auto b = v6.to_bytes();
  if (v6.is_unspecified() || v6.is_loopback() || v6.is_multicast()) return false;
  if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) return false;  // link-local fe80::/10
  if (b[0] == 0xfe && (b[1] & 0xc0) == 0xc0) return false;  // site-local fec0::/10
  if ((b[0] & 0xfe) == 0xfc) return false;                  // unique local fc00::/7
  if (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0d && b[3] == 0xb8) return false;  // documentation
  // NAT64 (64:ff9b::/96) and IPv4-compatible addresses: judge the embedded IPv4 address.
  const bool nat64 = b[0] == 0 && b[1] == 0x64 && b[2] == 0xff && b[3] == 0x9b &&
                     std::all_of(b.begin() + 4, b.begin() + 12, [](auto x) { return x == 0; });
  const bool v4_compatible = std::all_of(b.begin(), b.begin() + 12, [](auto x) { return x == 0; });
  if (nat64 || v4_compatible) {
    return is_public_v4(net::ip::address_v4({b[12], b[13], b[14], b[15]}));
  }
  return true;
}

const conf::forward_host* match_forward_host(const std::vector<conf::forward_host>& hosts,
                                             std::string_view host, std::uint16_t port) {
  for (const auto& h : hosts) {
    if (h.matches(host, port)) return &h;
  }
  return nullptr;
}

}  // namespace sidecar::proxy
