// UTF-8 validation and repair. The whole-string check is simdjson's (SIMD, and a library that
// is already linked); the byte-at-a-time walk below is for what simdjson does not do: finding
// where a cut body's last character starts, and replacing each ill-formed sequence with U+FFFD.
#include "support/text.hpp"

#include <simdjson.h>

#include <algorithm>
#include <cstdint>
#include <cstring>

namespace sidecar::text {

namespace {

constexpr std::string_view replacement = "\xEF\xBF\xBD";  // U+FFFD

bool is_continuation(unsigned char c) { return (c & 0xC0) == 0x80; }

// What a lead byte announces: the sequence's length (0: not a lead byte) and the range allowed
// for its second byte, which excludes overlong forms, surrogates and code points above
// U+10FFFF (Unicode 15, table 3-7).
struct lead_shape {
  std::size_t length = 0;
  unsigned char second_lo = 0x80;
  unsigned char second_hi = 0xBF;
};

lead_shape shape_of(unsigned char b0) {
  if (b0 >= 0xC2 && b0 <= 0xDF) return {.length = 2};
  if (b0 >= 0xE0 && b0 <= 0xEF) {
    return {.length = 3,
            .second_lo = static_cast<unsigned char>(b0 == 0xE0 ? 0xA0 : 0x80),
            .second_hi = static_cast<unsigned char>(b0 == 0xED ? 0x9F : 0xBF)};
  }
  if (b0 >= 0xF0 && b0 <= 0xF4) {
    return {.length = 4,
            .second_lo = static_cast<unsigned char>(b0 == 0xF0 ? 0x90 : 0x80),
            .second_hi = static_cast<unsigned char>(b0 == 0xF4 ? 0x8F : 0xBF)};
  }
  return {};
}

}  // namespace

std::size_t utf8_sequence(std::string_view s, std::size_t* invalid_len) {
  auto fail = [&](std::size_t subpart) -> std::size_t {
    if (invalid_len != nullptr) *invalid_len = subpart;
    return 0;
  };
  if (s.empty()) return fail(0);
  const auto b0 = static_cast<unsigned char>(s[0]);
  if (b0 < 0x80) return 1;
  const lead_shape shape = shape_of(b0);
  if (shape.length == 0 || s.size() < 2) return fail(1);
  const auto b1 = static_cast<unsigned char>(s[1]);
  if (b1 < shape.second_lo || b1 > shape.second_hi) return fail(1);
  for (std::size_t i = 2; i < shape.length; ++i) {
    if (i >= s.size() || !is_continuation(static_cast<unsigned char>(s[i]))) return fail(i);
  }
  return shape.length;
}

std::size_t ascii_run(std::string_view s, std::size_t from) {
  constexpr std::uint64_t high_bits = 0x8080808080808080ull;
  std::size_t i = from;
  for (; i + 8 <= s.size(); i += 8) {
    std::uint64_t w = 0;
    std::memcpy(&w, s.data() + i, 8);
    if ((w & high_bits) != 0) break;
  }
  while (i < s.size() && static_cast<unsigned char>(s[i]) < 0x80) ++i;
  return i;
}

bool is_valid_utf8(std::string_view s) { return simdjson::validate_utf8(s.data(), s.size()); }

bool is_valid_utf8_prefix(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    if (static_cast<unsigned char>(s[i]) < 0x80) {
      ++i;
      continue;
    }
    std::size_t bad = 0;
    const std::size_t n = utf8_sequence(s.substr(i), &bad);
    if (n == 0) {
      // A valid lead byte whose well-formed continuation runs to the very end is a sequence
      // the cut interrupted.
      const auto lead = static_cast<unsigned char>(s[i]);
      return lead >= 0xC2 && lead <= 0xF4 && i + bad == s.size();
    }
    i += n;
  }
  return true;
}

std::size_t incomplete_tail(std::string_view s) {
  for (std::size_t back = 1; back <= 3 && back <= s.size(); ++back) {
    const auto c = static_cast<unsigned char>(s[s.size() - back]);
    if (is_continuation(c)) continue;
    if (c < 0xC2 || c > 0xF4) return 0;
    std::size_t bad = 0;
    const std::size_t n = utf8_sequence(s.substr(s.size() - back), &bad);
    return (n == 0 && bad == back) ? back : 0;
  }
  return 0;
}

void append_utf8(std::string& out, std::string_view s) {
  out.reserve(out.size() + s.size());
  std::size_t i = 0;
  while (i < s.size()) {
    const std::size_t run = ascii_run(s, i);
    out.append(s.data() + i, run - i);
    i = run;
    if (i == s.size()) break;
    std::size_t bad = 0;
    const std::size_t n = utf8_sequence(s.substr(i), &bad);
    if (n != 0) {
      out.append(s.data() + i, n);
      i += n;
    } else {
      out.append(replacement);
      i += bad;
    }
  }
}

}  // namespace sidecar::text
