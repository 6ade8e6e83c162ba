// UTF-8 validation and repair, and base64 (through OpenSSL's encoder).
#include "support/text.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <cstdint>
#include <cstring>

namespace sidecar::text {

namespace {

constexpr std::string_view replacement = "\xEF\xBF\xBD";  // U+FFFD

bool is_continuation(unsigned char c) { return (c & 0xC0) == 0x80; }

}  // namespace

std::size_t utf8_sequence(std::string_view s, std::size_t* invalid_len) {
  auto fail = [&](std::size_t subpart) -> std::size_t {
    if (invalid_len != nullptr) *invalid_len = subpart;
    return 0;
  };
  if (s.empty()) return fail(0);
  const auto b0 = static_cast<unsigned char>(s[0]);
  if (b0 < 0x80) return 1;
  std::size_t len = 0;
  // The range allowed for the second byte excludes overlong forms, surrogates and code
  // points above U+10FFFF (Unicode 15, table 3-7).
  unsigned char lo = 0x80;
  unsigned char hi = 0xBF;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    len = 2;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    len = 3;
    if (b0 == 0xE0) lo = 0xA0;
    if (b0 == 0xED) hi = 0x9F;
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    len = 4;
    if (b0 == 0xF0) lo = 0x90;
    if (b0 == 0xF4) hi = 0x8F;
  } else {
    return fail(1);
  }
  if (s.size() < 2) return fail(1);
  const auto b1 = static_cast<unsigned char>(s[1]);
  if (b1 < lo || b1 > hi) return fail(1);
  for (std::size_t i = 2; i < len; ++i) {
    if (i >= s.size() || !is_continuation(static_cast<unsigned char>(s[i]))) return fail(i);
  }
  return len;
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

bool is_valid_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    i = ascii_run(s, i);
    if (i == s.size()) break;
    const std::size_t n = utf8_sequence(s.substr(i));
    if (n == 0) return false;
    i += n;
  }
  return true;
}

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
