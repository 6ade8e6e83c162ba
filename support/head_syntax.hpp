// The bytes of an HTTP/1 head, as RFC 9110 and 9112 allow them: which bytes make a token (a
// method, a field name), where the next control byte is (a line's CR, or a byte no head may
// hold), and which of Beast's fields a name is. The request-head scan (proxy/framing.cpp) and
// the plain-head split (head_fields::split_plain) read heads with these rules.
#pragma once

#include <array>
#include <cstddef>
#include <string_view>

#include "support/net.hpp"

namespace sidecar::head_syntax {

/// RFC 9110 5.6.2's tchar, one lookup per byte (header names are most of a head's bytes).
inline constexpr std::array<bool, 256> token_chars = [] {
  std::array<bool, 256> t{};
  for (int c = '0'; c <= '9'; ++c) t[c] = true;
  for (int c = 'a'; c <= 'z'; ++c) t[c] = t[c - 'a' + 'A'] = true;
  for (const char c : std::string_view("!#$%&'*+-.^_`|~")) t[static_cast<unsigned char>(c)] = true;
  return t;
}();

[[nodiscard]] constexpr bool is_token_char(char c) {
  return token_chars[static_cast<unsigned char>(c)];
}

[[nodiscard]] constexpr bool is_token(std::string_view s) {
  for (const char c : s) {
    if (!is_token_char(c)) return false;
  }
  return true;
}

/// The offset of the first byte at or after `from` that is not a token byte (or data.size()):
/// where a field name that starts at `from` ends. Sixteen bytes at a time with SSE2 while they
/// are letters, digits and hyphens, as names almost always are; byte by byte past any other.
[[nodiscard]] std::size_t token_end(std::string_view data, std::size_t from);

/// Beast's http::string_to_field, the same answer for every token name: the field whose name
/// this is, in any case, or field::unknown. One hash of the name's first and last eight bytes
/// into a table of Beast's names, then one comparison, where Beast's walks the whole name twice.
[[nodiscard]] http::field field_of(std::string_view name);

/// The offset of the first control byte (below 0x20, or DEL; HTAB included) at or after `from`,
/// or data.size(). Sixteen bytes at a time with SSE2.
[[nodiscard]] std::size_t next_control_byte(std::string_view data, std::size_t from);

}  // namespace sidecar::head_syntax
