// The loaded configuration: the small queries every module asks of it (see config.hpp).
#include "conf/config.hpp"

#include <algorithm>

#include "support/ascii.hpp"

namespace sidecar::conf {
namespace {

namespace ip = boost::asio::ip;

/// An IPv4-mapped IPv6 address (::ffff:10.0.0.1, as a dual-stack socket reports an IPv4
/// client) in its IPv4 form, so that IPv4 CIDRs match it.
ip::address unmapped(const ip::address& a) {
  if (a.is_v6() && a.to_v6().is_v4_mapped()) {
    return ip::make_address_v4(ip::v4_mapped, a.to_v6());
  }
  return a;
}

bool ends_with_label(std::string_view name, std::string_view suffix) {
  return name.size() > suffix.size() && name.substr(name.size() - suffix.size()) == suffix &&
         name[name.size() - suffix.size() - 1] == '.';
}

using ascii::iequals;

}  // namespace

std::string_view to_string(direction d) { return d == direction::api ? "api" : "webhook"; }

std::string endpoint::to_string() const {
  if (address.is_v6()) return "[" + address.to_string() + "]:" + std::to_string(port);
  return address.to_string() + ":" + std::to_string(port);
}

bool cidr::contains(const ip::address& a) const {
  const ip::address candidate = unmapped(a);
  const ip::address net = unmapped(network);
  if (candidate.is_v4() != net.is_v4()) return false;
  if (candidate.is_v4()) {
    const unsigned length = std::min(prefix_length, 32u);
    if (length == 0) return true;
    const std::uint32_t mask = ~std::uint32_t{0} << (32 - length);
    return (candidate.to_v4().to_uint() & mask) == (net.to_v4().to_uint() & mask);
  }
  const auto x = candidate.to_v6().to_bytes();
  const auto y = net.to_v6().to_bytes();
  const unsigned length = std::min(prefix_length, 128u);
  for (unsigned i = 0; i < 16; ++i) {
    const unsigned keep = length > i * 8 ? std::min(8u, length - i * 8) : 0;
    const auto mask = static_cast<unsigned char>((0xff00u >> keep) & 0xff);
    if ((x[i] & mask) != (y[i] & mask)) return false;
  }
  return true;
}

bool forward_host::matches(std::string_view h, std::uint16_t p) const {
  if (port ? *port != p : (p != 80 && p != 443)) return false;
  if (is_address) {
    // Compare as addresses, so that "::1" and "0:0::1" are the same host.
    boost::system::error_code ec;
    std::string_view bare = h;
    if (bare.size() >= 2 && bare.front() == '[' && bare.back() == ']') {
      bare = bare.substr(1, bare.size() - 2);
    }
    const ip::address a = ip::make_address(std::string(bare), ec);
    return !ec && a.to_string() == host;
  }
  if (wildcard) {
    std::string name(h);
    for (char& c : name) c = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    return ends_with_label(name, host);
  }
  return iequals(h, host);
}

const account* config::find_account(std::string_view sid) const {
  for (const account& a : accounts) {
    if (a.sid == sid) return &a;
  }
  return nullptr;
}

bool config::may_read(const account& reader, std::string_view target) const {
  if (reader.administrator || reader.sid == target) return true;
  // Walk up from the target: the reader may read it when the reader is an ancestor. Loading
  // refuses cycles; the bound keeps a hand-built config with one from looping.
  const account* at = find_account(target);
  for (std::size_t steps = 0; at != nullptr && steps <= accounts.size(); ++steps) {
    if (at->parent.empty()) return false;
    if (at->parent == reader.sid) return true;
    at = find_account(at->parent);
  }
  return false;
}

std::vector<std::string> config::subtree(std::string_view root) const {
  std::vector<std::string> out{std::string(root)};
  // Breadth first over parent links; `out` doubles as the queue. Each account is added once
  // (a hand-built config with a cycle cannot loop).
  for (std::size_t next = 0; next < out.size(); ++next) {
    for (const account& a : accounts) {
      if (a.parent == out[next] && std::find(out.begin(), out.end(), a.sid) == out.end()) {
        out.push_back(a.sid);
      }
    }
  }
  return out;
}

}  // namespace sidecar::conf
