// Hexadecimal digits: the one home of hex encoding and decoding (sids, digests, escapes in
// JSON, SQL and percent-encoding all use these).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace sidecar::hex {

inline constexpr std::string_view lower_digits = "0123456789abcdef";
inline constexpr std::string_view upper_digits = "0123456789ABCDEF";

/// The value of a hex digit of either case, or -1.
[[nodiscard]] constexpr int value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/// The value of a lower-case hex digit, or -1 (for formats that are lower case only).
[[nodiscard]] constexpr int lower_value(char c) { return c >= 'A' && c <= 'F' ? -1 : value(c); }

/// Decodes exactly 2 × out.size() digits into `out`, most significant first; false when `s`
/// has another length or holds a non-digit (with `lower_only`, an upper-case one too).
[[nodiscard]] constexpr bool decode(std::string_view s, std::span<std::uint8_t> out,
                                    bool lower_only = false) {
  if (s.size() != 2 * out.size()) return false;
  for (std::size_t i = 0; i < out.size(); ++i) {
    const int hi = lower_only ? lower_value(s[2 * i]) : value(s[2 * i]);
    const int lo = lower_only ? lower_value(s[2 * i + 1]) : value(s[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    out[i] = static_cast<std::uint8_t>(hi << 4 | lo);
  }
  return true;
}

/// Appends the two digits of one byte.
inline void append_byte(std::string& out, std::uint8_t b, std::string_view digits = lower_digits) {
  const char pair[2] = {digits[b >> 4], digits[b & 0xf]};
  out.append(pair, 2);
}

/// Appends two lower-case digits per byte.
inline void append_bytes(std::string& out, std::span<const std::uint8_t> bytes) {
  out.reserve(out.size() + 2 * bytes.size());
  for (const std::uint8_t b : bytes) append_byte(out, b);
}

/// Appends the low `width` digits of `v`, most significant first, lower case.
inline void append_fixed(std::string& out, std::uint64_t v, int width) {
  for (int i = width - 1; i >= 0; --i) out += lower_digits[(v >> (4 * i)) & 0xf];
}

}  // namespace sidecar::hex
