// The value syntaxes of the configuration (durations, sizes, listen addresses, upstream URLs,
// CIDRs, forward hosts, SIDs), parsed without exceptions: each returns the value or the
// problem, worded for the one-line config error.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "conf/config.hpp"

namespace sidecar::conf {

/// A parsed value, or the problem with the text (e.g. `"5 parsecs" is not a duration ...`).
template <class T>
struct parsed {
  std::optional<T> value;
  std::string problem;
  explicit operator bool() const { return value.has_value(); }
};

/// "500ms", "90s", "15m", "48h", "2d": a whole number and one unit, at most 100 years.
[[nodiscard]] parsed<duration> parse_duration(std::string_view text);
/// 512, "512", "512B", "64KiB", "64MiB", "1GiB", "1TiB" (binary units only; "KB" and friends
/// are refused as ambiguous). At most 2^62 bytes.
[[nodiscard]] parsed<std::uint64_t> parse_size(std::string_view text);
/// "127.0.0.1:8080", "[::1]:8080", "0.0.0.0:0": an address literal and a port.
[[nodiscard]] parsed<endpoint> parse_endpoint(std::string_view text);
/// "http://host[:port][/base/path]", http or https, no credentials, query or fragment.
[[nodiscard]] parsed<upstream_url> parse_upstream_url(std::string_view text);
/// "10.0.0.0/8", "::1/128", or a bare address (a /32 or /128).
[[nodiscard]] parsed<cidr> parse_cidr(std::string_view text);
/// "app.example.com", "*.example.org", "app.example.com:8443", "203.0.113.7", "[2001:db8::1]:443".
[[nodiscard]] parsed<forward_host> parse_forward_host(std::string_view text);
/// A host name (letters, digits, '-', '_', dot-separated labels) or an address literal;
/// returns it lower-cased, without brackets.
[[nodiscard]] parsed<std::string> parse_host(std::string_view text);

/// `prefix` ("AC", "OR") followed by exactly 32 lower-case hex digits.
[[nodiscard]] bool is_sid(std::string_view text, std::string_view prefix);

/// "90s", "2d", "500ms": the largest unit that divides evenly.
[[nodiscard]] std::string format_duration(duration d);
/// "64KiB", "1GiB", "100": the largest binary unit that divides evenly.
[[nodiscard]] std::string format_size(std::uint64_t bytes);
/// A string as TOML writes it: in double quotes, control bytes escaped, cut after 80 bytes.
[[nodiscard]] std::string quote(std::string_view text);

}  // namespace sidecar::conf
