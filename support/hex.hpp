// Hexadecimal digits: the one home of hex encoding and decoding (sids, digests, escapes in
// JSON, SQL and percent-encoding all use these).
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace sidecar::hex {

inline constexpr std::string_view lower_digits = "0123456789abcdef";
inline constexpr std::string_view upper_digits = "0123456789ABCDEF";

namespace detail {

/// Every byte's value as a hex digit, or -1: one load per digit where decoding a sid's 32
/// digits with comparisons took about 700 instructions (the store decodes one per record).
/// `upper`: whether A-F are digits.
constexpr std::array<std::int8_t, 256> digit_values(bool upper) {
  std::array<std::int8_t, 256> t{};
  for (int c = 0; c < 256; ++c) {
    int v = -1;
    if (c >= '0' && c <= '9') v = c - '0';
    if (c >= 'a' && c <= 'f') v = c - 'a' + 10;
    if (upper && c >= 'A' && c <= 'F') v = c - 'A' + 10;
    t[static_cast<std::size_t>(c)] = static_cast<std::int8_t>(v);
  }
  return t;
}
inline constexpr auto any_case_values = digit_values(true);
inline constexpr auto lower_case_values = digit_values(false);

}  // namespace detail

/// The value of a hex digit of either case, or -1.
[[nodiscard]] constexpr int value(char c) {
  return detail::any_case_values[static_cast<unsigned char>(c)];
}

/// The value of a lower-case hex digit, or -1 (for formats that are lower case only).
[[nodiscard]] constexpr int lower_value(char c) {
  return detail::lower_case_values[static_cast<unsigned char>(c)];
}

/// Decodes exactly 2 × out.size() digits into `out`, most significant first; false when `s`
/// has another length or holds a non-digit (with `lower_only`, an upper-case one too).
[[nodiscard]] constexpr bool decode(std::string_view s, std::span<std::uint8_t> out,
                                    bool lower_only = false) {
  if (s.size() != 2 * out.size()) return false;
  const auto& values = lower_only ? detail::lower_case_values : detail::any_case_values;
  for (std::size_t i = 0; i < out.size(); ++i) {
    const int hi = values[static_cast<unsigned char>(s[2 * i])];
    const int lo = values[static_cast<unsigned char>(s[2 * i + 1])];
    if ((hi | lo) < 0) return false;
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
