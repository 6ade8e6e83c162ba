// The JSON encoder: RFC 8259 string escaping with UTF-8 repair, so that any bytes at all
// come out as valid JSON.
#include "support/json.hpp"

#include <array>
#include <bit>
#include <charconv>
#include <cstring>

#include "support/hex.hpp"
#include "support/text.hpp"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace sidecar::json {

namespace {

// The index of the first byte at or after `from` that cannot be copied as it is (a control
// byte, '"', '\\' or non-ASCII). With SSE2 (every x86-64), sixteen bytes at a time: as signed
// bytes, non-ASCII ones are negative, so one "less than 0x20" finds them with the control
// bytes, and the mask's lowest bit is the byte itself. The last bytes too: the final sixteen
// of the string again (its bytes before `from` masked off), or, in a string shorter than
// sixteen, the rest copied into sixteen bytes padded with plain ones, since most keys and
// values are short. Elsewhere, eight at a time (the classic "has a zero / has less than" word
// tricks, exact for telling whether such a byte exists), then byte by byte.
#if defined(__SSE2__)
unsigned special_mask(const char* sixteen) {
  const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(sixteen));
  const __m128i special = _mm_or_si128(
      _mm_cmplt_epi8(v, _mm_set1_epi8(0x20)),
      _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('"')), _mm_cmpeq_epi8(v, _mm_set1_epi8('\\'))));
  return static_cast<unsigned>(_mm_movemask_epi8(special));
}

std::size_t plain_run(std::string_view s, std::size_t from) {
  std::size_t i = from;
  for (; i + 16 <= s.size(); i += 16) {
    if (const unsigned mask = special_mask(s.data() + i); mask != 0) {
      return i + static_cast<std::size_t>(std::countr_zero(mask));
    }
  }
  if (i == s.size()) return i;
  unsigned mask = 0;
  if (s.size() >= 16) {
    const std::size_t last = s.size() - 16;
    mask = special_mask(s.data() + last) >> (i - last);
  } else {
    std::array<char, 16> padded;
    padded.fill('a');
    std::memcpy(padded.data(), s.data() + i, s.size() - i);
    mask = special_mask(padded.data());
  }
  return mask == 0 ? s.size() : i + static_cast<std::size_t>(std::countr_zero(mask));
}
#else
// Bytes that can be copied as they are: printable ASCII other than '"' and '\\'.
constexpr std::array<bool, 256> plain_table = [] {
  std::array<bool, 256> t{};
  for (int c = 0x20; c < 0x80; ++c) t[static_cast<std::size_t>(c)] = c != '"' && c != '\\';
  return t;
}();

std::size_t plain_run(std::string_view s, std::size_t from) {
  std::size_t i = from;
  constexpr std::uint64_t ones = 0x0101010101010101ull;
  constexpr std::uint64_t highs = 0x8080808080808080ull;
  auto has_zero = [](std::uint64_t v) { return (v - ones) & ~v & highs; };
  for (; i + 8 <= s.size(); i += 8) {
    std::uint64_t w = 0;
    std::memcpy(&w, s.data() + i, 8);
    const std::uint64_t special = (w & highs) | ((w - ones * 0x20) & ~w & highs) |
                                  has_zero(w ^ (ones * '"')) | has_zero(w ^ (ones * '\\'));
    if (special != 0) break;
  }
  while (i < s.size() && plain_table[static_cast<unsigned char>(s[i])]) ++i;
  return i;
}
#endif

void append_escape(std::string& out, unsigned char c) {
  // Two-byte escapes where JSON has one, \u00XX for the other control bytes.
  static constexpr std::array<char, 32> short_escape = [] {
    std::array<char, 32> t{};
    t['\b'] = 'b';
    t['\f'] = 'f';
    t['\n'] = 'n';
    t['\r'] = 'r';
    t['\t'] = 't';
    return t;
  }();
  if (c == '"' || c == '\\') {
    const char e[2] = {'\\', static_cast<char>(c)};
    out.append(e, 2);
  } else if (short_escape[c] != 0) {
    const char e[2] = {'\\', short_escape[c]};
    out.append(e, 2);
  } else {
    out += "\\u00";
    hex::append_byte(out, c);
  }
}

// Appends `n` bytes, all `fill`, and returns where they begin: one call into the string for a
// whole piece (comma, quotes, text, colon) that the caller then fills in.
char* extend(std::string& out, std::size_t n, char fill) {
  const std::size_t at = out.size();
  out.append(n, fill);
  return out.data() + at;
}

/// Appends `s` as a string literal, after a comma when `comma` and followed by a colon when
/// `colon` (a key). A string with nothing to escape, nearly every one, is copied in one piece.
void append_quoted(std::string& out, std::string_view s, bool comma, bool colon) {
  std::size_t i = plain_run(s, 0);
  if (i == s.size()) {
    char* p = extend(out, s.size() + 2 + static_cast<std::size_t>(comma) + colon, '"');
    if (comma) *p++ = ',';
    if (!s.empty()) std::memcpy(p + 1, s.data(), s.size());
    if (colon) p[s.size() + 2] = ':';
    return;
  }
  out.reserve(out.size() + s.size() + 4);
  if (comma) out += ',';
  out += '"';
  out.append(s.data(), i);
  while (i < s.size()) {
    const std::size_t run = plain_run(s, i);
    out.append(s.data() + i, run - i);
    i = run;
    if (i == s.size()) break;
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      append_escape(out, c);
      ++i;
      continue;
    }
    std::size_t bad = 0;
    const std::size_t n = text::utf8_sequence(s.substr(i), &bad);
    if (n == 0) {
      out += "\xEF\xBF\xBD";  // U+FFFD
      i += bad;
    } else if (n == 3 && c == 0xE2 && static_cast<unsigned char>(s[i + 1]) == 0x80 &&
               (static_cast<unsigned char>(s[i + 2]) & 0xFE) == 0xA8) {
      // U+2028 and U+2029 are valid JSON but end a line in JavaScript: escape them so the
      // output can also be embedded in a script.
      out += (s[i + 2] == '\xA8') ? "\\u2028" : "\\u2029";
      i += 3;
    } else {
      out.append(s.data() + i, n);
      i += n;
    }
  }
  out.append(colon ? "\":" : "\"", colon ? 2 : 1);
}

}  // namespace

void append_string(std::string& out, std::string_view s) { append_quoted(out, s, false, false); }

void append_int(std::string& out, std::int64_t v) {
  char buf[24];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

void writer::separate() {
  if (need_comma_) out_ += ',';
}

writer& writer::begin_object() {
  separate();
  out_ += '{';
  need_comma_ = false;
  return *this;
}

writer& writer::end_object() {
  out_ += '}';
  need_comma_ = true;
  return *this;
}

writer& writer::begin_array() {
  separate();
  out_ += '[';
  need_comma_ = false;
  return *this;
}

writer& writer::end_array() {
  out_ += ']';
  need_comma_ = true;
  return *this;
}

writer& writer::key(key_literal k) {
  const std::string_view text = k.text();
  char* p = extend(out_, text.size() + 3 + static_cast<std::size_t>(need_comma_), '"');
  if (need_comma_) *p++ = ',';
  std::memcpy(p + 1, text.data(), text.size());
  p[text.size() + 2] = ':';
  need_comma_ = false;
  return *this;
}

writer& writer::escaped_key(std::string_view k) {
  append_quoted(out_, k, need_comma_, true);
  need_comma_ = false;
  return *this;
}

writer& writer::value(std::string_view s) {
  append_quoted(out_, s, need_comma_, false);
  need_comma_ = true;
  return *this;
}

writer& writer::value(std::int64_t v) {
  separate();
  append_int(out_, v);
  need_comma_ = true;
  return *this;
}

writer& writer::value(bool b) {
  separate();
  out_ += b ? "true" : "false";
  need_comma_ = true;
  return *this;
}

writer& writer::raw(std::string_view encoded) {
  separate();
  out_ += encoded;
  need_comma_ = true;
  return *this;
}

}  // namespace sidecar::json
