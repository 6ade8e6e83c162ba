// The value syntaxes of the configuration: see values.hpp.
#include "conf/values.hpp"

#include <algorithm>
#include <array>
#include <boost/asio/ip/address.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>
#include <charconv>
#include <limits>

#include "support/ascii.hpp"
#include "support/hex.hpp"

namespace sidecar::conf {
namespace {

namespace ip = boost::asio::ip;

constexpr std::string_view duration_hint = R"((use e.g. "90s", "15m", "48h", "2d"))";
constexpr std::string_view size_hint = R"((use e.g. 512, "64KiB", "1GiB"))";
constexpr std::string_view listen_hint = R"((use e.g. "127.0.0.1:8080" or "[::1]:8080"))";

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_hex_lower(char c) { return hex::lower_value(c) >= 0; }
using ascii::to_lower;

/// A whole decimal number (digits only, no sign), or nullopt (also on overflow, with
/// `overflow` set).
std::optional<std::uint64_t> parse_uint(std::string_view digits, bool& overflow) {
  overflow = false;
  if (digits.empty()) return std::nullopt;
  for (char c : digits) {
    if (!is_digit(c)) return std::nullopt;
  }
  std::uint64_t v = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
  if (ec == std::errc::result_out_of_range) {
    overflow = true;
    return std::nullopt;
  }
  if (ec != std::errc{} || end != digits.data() + digits.size()) return std::nullopt;
  return v;
}

std::optional<std::uint16_t> parse_port(std::string_view digits) {
  bool overflow = false;
  const auto v = parse_uint(digits, overflow);
  if (!v || *v > 65535 || digits.size() > 5) return std::nullopt;
  return static_cast<std::uint16_t>(*v);
}

/// Splits "host:port" / "[v6]:port" / "host" / "[v6]" into its parts; `bracketed` says
/// whether the host was written in brackets. False when the brackets do not pair up.
bool split_host_port(std::string_view text, std::string_view& host,
                     std::optional<std::string_view>& port, bool& bracketed) {
  bracketed = false;
  port.reset();
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string_view::npos) return false;
    host = text.substr(1, close - 1);
    bracketed = true;
    const std::string_view rest = text.substr(close + 1);
    if (rest.empty()) return true;
    if (rest.front() != ':') return false;
    port = rest.substr(1);
    return true;
  }
  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos) {
    host = text;
    return true;
  }
  if (text.find(':') != colon) {
    // More than one colon: an IPv6 address without brackets (and so without a port).
    host = text;
    return true;
  }
  host = text.substr(0, colon);
  port = text.substr(colon + 1);
  return true;
}

std::optional<ip::address> parse_address(std::string_view text) {
  boost::system::error_code ec;
  const ip::address a = ip::make_address(std::string(text), ec);
  if (ec) return std::nullopt;
  return a;
}

bool is_host_name(std::string_view name) {
  if (name.empty() || name.size() > 253) return false;
  std::size_t label = 0;
  char prev = '.';
  for (char c : name) {
    if (c == '.') {
      if (label == 0 || prev == '-') return false;
      label = 0;
    } else {
      const bool ok = is_digit(c) || (c >= 'a' && c <= 'z') || c == '-' || c == '_';
      if (!ok || (label == 0 && c == '-') || ++label > 63) return false;
    }
    prev = c;
  }
  return label != 0 && prev != '-';
}

/// The address with every bit after the first `length` cleared.
ip::address masked(const ip::address& a, unsigned length) {
  if (a.is_v4()) {
    const std::uint32_t mask = length == 0 ? 0 : ~std::uint32_t{0} << (32 - length);
    return ip::address_v4(a.to_v4().to_uint() & mask);
  }
  auto b = a.to_v6().to_bytes();
  for (unsigned i = 0; i < b.size(); ++i) {
    const unsigned keep = length > i * 8 ? std::min(8u, length - i * 8) : 0;
    b[i] &= static_cast<unsigned char>((0xff00u >> keep) & 0xff);
  }
  return ip::address_v6(b);
}

}  // namespace

std::string quote(std::string_view text) {
  constexpr std::size_t max_shown = 80;
  std::string out = "\"";
  std::size_t shown = 0;
  for (char ch : text) {
    if (shown++ == max_shown) {
      out += "...";
      break;
    }
    const auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20 || c == 0x7f) {
          out += "\\u00";
          hex::append_byte(out, c);
        } else {
          out += ch;
        }
    }
  }
  out += '"';
  return out;
}

parsed<duration> parse_duration(std::string_view text) {
  parsed<duration> r;
  const std::string bad = quote(text) + " is not a duration " + std::string(duration_hint);
  std::size_t i = 0;
  while (i < text.size() && is_digit(text[i])) ++i;
  const std::string_view number = text.substr(0, i);
  const std::string_view unit = text.substr(i);
  struct unit_info {
    std::string_view name;
    std::uint64_t ms;
  };
  static constexpr std::array<unit_info, 5> units{
      {{"ms", 1}, {"s", 1000}, {"m", 60'000}, {"h", 3'600'000}, {"d", 86'400'000}}};
  const unit_info* found = nullptr;
  for (const auto& u : units) {
    if (u.name == unit) found = &u;
  }
  bool overflow = false;
  const auto n = parse_uint(number, overflow);
  if (found == nullptr || (!n && !overflow)) {
    r.problem = bad;
    return r;
  }
  constexpr std::uint64_t max_ms = 100ull * 365 * 86'400'000;  // a hundred years
  if (overflow || *n > max_ms / found->ms) {
    r.problem = quote(text) + " is too long (at most 100 years)";
    return r;
  }
  r.value = duration(static_cast<duration::rep>(*n * found->ms));
  return r;
}

parsed<std::uint64_t> parse_size(std::string_view text) {
  parsed<std::uint64_t> r;
  std::size_t i = 0;
  while (i < text.size() && is_digit(text[i])) ++i;
  const std::string_view number = text.substr(0, i);
  const std::string_view unit = text.substr(i);
  int shift = -1;
  if (unit.empty() || unit == "B") shift = 0;
  if (unit == "KiB") shift = 10;
  if (unit == "MiB") shift = 20;
  if (unit == "GiB") shift = 30;
  if (unit == "TiB") shift = 40;
  bool overflow = false;
  const auto n = parse_uint(number, overflow);
  if (shift < 0 || (!n && !overflow)) {
    const std::string u = to_lower(unit);
    const bool decimal_unit = u == "k" || u == "kb" || u == "m" || u == "mb" || u == "g" ||
                              u == "gb" || u == "t" || u == "tb" || u == "kib" || u == "mib" ||
                              u == "gib" || u == "tib";
    r.problem = quote(text) + " is not a size " +
                std::string(decimal_unit && (n || overflow)
                                ? R"((units are B, KiB, MiB, GiB, TiB: e.g. "64KiB", "1GiB"))"
                                : size_hint);
    return r;
  }
  constexpr std::uint64_t max_bytes = 1ull << 62;
  if (overflow || *n > (max_bytes >> shift)) {
    r.problem = quote(text) + " is too large";
    return r;
  }
  r.value = *n << shift;
  return r;
}

parsed<endpoint> parse_endpoint(std::string_view text) {
  parsed<endpoint> r;
  const std::string bad = quote(text) + " is not a listen address " + std::string(listen_hint);
  std::string_view host;
  std::optional<std::string_view> port;
  bool bracketed = false;
  if (!split_host_port(text, host, port, bracketed) || !port) {
    r.problem = bad;
    return r;
  }
  const auto address = parse_address(host);
  if (!address || address->is_v6() != bracketed) {
    r.problem = host.empty() || address || !is_host_name(to_lower(host))
                    ? bad
                    : quote(text) + " is not a listen address: use an IP address, not a name " +
                          std::string(listen_hint);
    return r;
  }
  const auto p = parse_port(*port);
  if (!p) {
    r.problem = quote(text) + " has a bad port (0 to 65535; 0 picks a free port)";
    return r;
  }
  r.value = endpoint{*address, *p};
  return r;
}

parsed<upstream_url> parse_upstream_url(std::string_view text) {
  parsed<upstream_url> r;
  const std::string hint =
      R"((use e.g. "http://127.0.0.1:9000/" or "https://app.example.com/base/"))";
  auto fail = [&](std::string_view why) {
    r.problem = quote(text) + " " + std::string(why);
    return r;
  };
  const auto u = boost::urls::parse_uri(text);
  if (!u) return fail("is not a URL " + hint);
  const std::string scheme = to_lower(u->scheme());
  if (scheme != "http" && scheme != "https") return fail("is not an http or https URL");
  if (!u->has_authority() || u->encoded_host().empty()) return fail("has no host " + hint);
  if (u->has_userinfo()) {
    return fail(
        "carries credentials: they would be sent to every request's upstream and "
        "cannot be redacted; remove the user:password@ part");
  }
  if (u->has_query()) return fail("has a query string: an upstream is a base URL");
  if (u->has_fragment()) return fail("has a fragment: an upstream is a base URL");
  upstream_url out;
  out.text = std::string(text);
  out.https = scheme == "https";
  switch (u->host_type()) {
    case boost::urls::host_type::ipv4:
    case boost::urls::host_type::ipv6:
      out.host = to_lower(std::string(u->encoded_host_address()));
      break;
    case boost::urls::host_type::name: {
      out.host = to_lower(std::string(u->encoded_host()));
      if (!is_host_name(out.host)) return fail("has a bad host name");
      break;
    }
    default:
      return fail("has a bad host");
  }
  out.port = out.https ? 443 : 80;
  if (u->has_port() && !u->port().empty()) {
    const auto p = parse_port(u->port());
    if (!p || *p == 0) return fail("has a bad port (1 to 65535)");
    out.port = *p;
  }
  out.base_path = std::string(u->encoded_path());
  if (out.base_path.empty()) out.base_path = "/";
  if (out.base_path.front() != '/') return fail("has a bad path " + hint);
  if (out.base_path.back() != '/') out.base_path += '/';
  r.value = std::move(out);
  return r;
}

parsed<cidr> parse_cidr(std::string_view text) {
  parsed<cidr> r;
  const std::string bad =
      quote(text) + R"( is not an address or CIDR (use e.g. "10.0.0.0/8", "127.0.0.1", "::1/128"))";
  const auto slash = text.find('/');
  const auto address = parse_address(text.substr(0, slash));
  if (!address) {
    r.problem = bad;
    return r;
  }
  const unsigned bits = address->is_v4() ? 32 : 128;
  unsigned length = bits;
  if (slash != std::string_view::npos) {
    bool overflow = false;
    const auto n = parse_uint(text.substr(slash + 1), overflow);
    if (!n || *n > bits || text.size() - slash - 1 > 3) {
      r.problem = quote(text) + " has a bad prefix length (0 to " + std::to_string(bits) + ")";
      return r;
    }
    length = static_cast<unsigned>(*n);
  }
  if (masked(*address, length) != *address) {
    r.problem = quote(text) + " has host bits set after the prefix length (the network is " +
                masked(*address, length).to_string() + "/" + std::to_string(length) + ")";
    return r;
  }
  const cidr c{*address, length};
  r.value = c;
  return r;
}

parsed<std::string> parse_host(std::string_view text) {
  parsed<std::string> r;
  std::string_view inner = text;
  if (inner.size() >= 2 && inner.front() == '[' && inner.back() == ']') {
    inner = inner.substr(1, inner.size() - 2);
    if (const auto a = parse_address(inner); a && a->is_v6()) {
      r.value = a->to_string();
      return r;
    }
  } else if (const auto a = parse_address(inner)) {
    r.value = a->to_string();
    return r;
  }
  const std::string name = to_lower(text);
  if (!is_host_name(name)) {
    r.problem = quote(text) + " is not a host name or address";
    return r;
  }
  r.value = name;
  return r;
}

parsed<forward_host> parse_forward_host(std::string_view text) {
  parsed<forward_host> r;
  const std::string bad =
      quote(text) +
      R"( is not a host (use e.g. "app.example.com", "*.example.org", "app.example.com:8443", "203.0.113.7"))";
  std::string_view host;
  std::optional<std::string_view> port;
  bool bracketed = false;
  if (!split_host_port(text, host, port, bracketed)) {
    r.problem = bad;
    return r;
  }
  forward_host out;
  if (port) {
    if (port->empty() || port->find_first_not_of("0123456789") != std::string_view::npos) {
      r.problem = bad;
      return r;
    }
    const auto p = parse_port(*port);
    if (!p || *p == 0) {
      r.problem = quote(text) + " has a bad port (1 to 65535)";
      return r;
    }
    out.port = *p;
  }
  if (const auto a = parse_address(host)) {
    if (a->is_v6() && port && !bracketed) {
      r.problem = bad;
      return r;
    }
    out.host = a->to_string();
    out.is_address = true;
    r.value = std::move(out);
    return r;
  }
  if (bracketed) {
    r.problem = bad;
    return r;
  }
  std::string name = to_lower(host);
  if (name.rfind("*.", 0) == 0) {
    out.wildcard = true;
    name.erase(0, 2);
  }
  if (!is_host_name(name)) {
    r.problem = bad;
    return r;
  }
  out.host = std::move(name);
  r.value = std::move(out);
  return r;
}

bool is_sid(std::string_view text, std::string_view prefix) {
  if (text.size() != prefix.size() + 32 || text.substr(0, prefix.size()) != prefix) return false;
  const std::string_view digits = text.substr(prefix.size());
  return std::all_of(digits.begin(), digits.end(), is_hex_lower);
}

std::string format_duration(duration d) {
  const auto ms = static_cast<std::uint64_t>(d.count());
  if (ms != 0 && ms % 86'400'000 == 0) return std::to_string(ms / 86'400'000) + "d";
  if (ms != 0 && ms % 3'600'000 == 0) return std::to_string(ms / 3'600'000) + "h";
  if (ms != 0 && ms % 60'000 == 0) return std::to_string(ms / 60'000) + "m";
  if (ms % 1000 == 0) return std::to_string(ms / 1000) + "s";
  return std::to_string(ms) + "ms";
}

std::string format_size(std::uint64_t bytes) {
  static constexpr std::array<std::string_view, 4> names{"TiB", "GiB", "MiB", "KiB"};
  for (std::size_t i = 0; i < names.size(); ++i) {
    const int shift = 40 - 10 * static_cast<int>(i);
    const std::uint64_t unit = 1ull << shift;
    if (bytes != 0 && bytes % unit == 0)
      return std::to_string(bytes >> shift) + std::string(names[i]);
  }
  return std::to_string(bytes);
}

}  // namespace sidecar::conf
