// The bytes of an HTTP/1 head: see head_syntax.hpp.
#include "support/head_syntax.hpp"

#include <algorithm>
#include <bit>
#include <cstdint>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "support/ascii.hpp"

namespace sidecar::head_syntax {

namespace {

// A head is mostly printable text, and each of its lines ends in a CR: sixteen bytes at a time
// with SSE2 (every x86-64), the last sixteen of the data again for its tail (the bytes before
// `from` shifted out), byte by byte only in data shorter than sixteen.
#if defined(__SSE2__)
unsigned control_mask(const char* sixteen) {
  const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(sixteen));
  const __m128i below_space = _mm_cmpeq_epi8(_mm_min_epu8(v, _mm_set1_epi8(0x1f)), v);
  const __m128i del = _mm_cmpeq_epi8(v, _mm_set1_epi8(0x7f));
  return static_cast<unsigned>(_mm_movemask_epi8(_mm_or_si128(below_space, del)));
}

// The bytes of `sixteen` that are not a letter, a digit or a hyphen, as a bit mask.
unsigned not_name_mask(const char* sixteen) {
  const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(sixteen));
  // In [lo, lo + span]: v - lo, as unsigned bytes, no greater than span.
  const auto in_range = [](__m128i bytes, char lo, char span) {
    const __m128i off = _mm_sub_epi8(bytes, _mm_set1_epi8(lo));
    return _mm_cmpeq_epi8(_mm_min_epu8(off, _mm_set1_epi8(span)), off);
  };
  const __m128i letter = in_range(_mm_or_si128(v, _mm_set1_epi8(0x20)), 'a', 'z' - 'a');
  const __m128i digit = in_range(v, '0', '9' - '0');
  const __m128i hyphen = _mm_cmpeq_epi8(v, _mm_set1_epi8('-'));
  const __m128i name = _mm_or_si128(_mm_or_si128(letter, digit), hyphen);
  return ~static_cast<unsigned>(_mm_movemask_epi8(name)) & 0xffffu;
}
#endif

// Beast's field names, by a hash of their first and last eight bytes with each byte's 0x20 bit
// set (so that case does not count), in a table three times their number (open addressing).
// A slot keeps those two words and the length: for a name of up to sixteen bytes, which the
// words cover whole, they are the comparison. Setting 0x20 equates a letter's two cases, and
// among token bytes nothing else ('^' and '~' aside, in none of Beast's names).
struct name_words {
  std::uint64_t first = 0;
  std::uint64_t last = 0;
};

// The n bytes at p (n <= 8) as a little-endian word: from 4 bytes on, two loads that overlap
// (their common bytes are the same bytes), as a string search loads a short needle.
std::uint64_t folded_word(const char* p, std::size_t n) {
  std::uint64_t w = 0;
  if (n == 8) {
    std::memcpy(&w, p, 8);
  } else if (n >= 4) {
    std::uint32_t low = 0;
    std::uint32_t high = 0;
    std::memcpy(&low, p, 4);
    std::memcpy(&high, p + n - 4, 4);
    w = low | (std::uint64_t{high} << (8 * (n - 4)));
  } else {
    for (std::size_t i = 0; i < n; ++i) {
      w |= std::uint64_t{static_cast<unsigned char>(p[i])} << (8 * i);
    }
  }
  return w | 0x2020202020202020u;
}

name_words words_of(std::string_view name) {
  if (name.size() <= 8) {
    const std::uint64_t w = folded_word(name.data(), name.size());
    return {w, w};
  }
  return {folded_word(name.data(), 8), folded_word(name.data() + name.size() - 8, 8)};
}

class field_table {
 public:
  field_table() {
    for (auto i = static_cast<unsigned>(http::field::unknown) + 1;
         i <= static_cast<unsigned>(http::field::xref); ++i) {
      const auto f = static_cast<http::field>(i);
      const std::string_view name = name_of(f);
      const name_words w = words_of(name);
      std::size_t at = slot_of(w, name.size());
      while (slots_[at].field != http::field::unknown) at = (at + 1) % slots_.size();
      slots_[at] = {w, static_cast<std::uint32_t>(name.size()), f};
    }
  }

  [[nodiscard]] http::field find(std::string_view name) const {
    const name_words w = words_of(name);
    for (std::size_t at = slot_of(w, name.size());; at = (at + 1) % slots_.size()) {
      const slot& s = slots_[at];
      if (s.field == http::field::unknown) return s.field;
      if (s.size == name.size() && s.words.first == w.first && s.words.last == w.last &&
          (name.size() <= 16 || ascii::iequals(name_of(s.field), name))) {
        return s.field;
      }
    }
  }

 private:
  struct slot {
    name_words words;
    std::uint32_t size = 0;
    http::field field = http::field::unknown;  // unknown: an empty slot
  };
  static std::size_t slot_of(const name_words& w, std::size_t size) {
    const std::uint64_t h =
        (w.first * 0x9E3779B97F4A7C15u) ^ ((w.last + size) * 0xC2B2AE3D27D4EB4Fu);
    return static_cast<std::size_t>(h >> 54);  // 10 bits: the table's 1024 slots
  }
  static std::string_view name_of(http::field f) {
    const auto s = http::to_string(f);
    return {s.data(), s.size()};
  }
  std::array<slot, 1024> slots_{};
};

const field_table fields;

}  // namespace

std::size_t token_end(std::string_view data, std::size_t from) {
#if defined(__SSE2__)
  for (; from + 16 <= data.size(); from += 16) {
    if (const unsigned mask = not_name_mask(data.data() + from); mask != 0) {
      from += static_cast<std::size_t>(std::countr_zero(mask));
      break;
    }
  }
#endif
  while (from < data.size() && is_token_char(data[from])) ++from;
  return from;
}

http::field field_of(std::string_view name) {
  if (name.empty()) return http::field::unknown;
  return fields.find(name);
}

std::size_t next_control_byte(std::string_view data, std::size_t from) {
#if defined(__SSE2__)
  for (; from + 16 <= data.size(); from += 16) {
    if (const unsigned mask = control_mask(data.data() + from); mask != 0) {
      return from + static_cast<std::size_t>(std::countr_zero(mask));
    }
  }
  if (from < data.size() && data.size() >= 16) {
    const std::size_t last = data.size() - 16;
    const unsigned mask = control_mask(data.data() + last) >> (from - last);
    return mask == 0 ? data.size() : from + static_cast<std::size_t>(std::countr_zero(mask));
  }
#endif
  for (; from < data.size(); ++from) {
    const auto c = static_cast<unsigned char>(data[from]);
    if (c < 0x20 || c == 0x7f) return from;
  }
  return data.size();
}

}  // namespace sidecar::head_syntax
