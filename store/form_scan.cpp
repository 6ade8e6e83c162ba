// The streaming form scanner: see form_scan.hpp.
#include "store/form_scan.hpp"

#include <algorithm>
#include <array>
#include <bit>

#include "support/ascii.hpp"
#include "support/percent.hpp"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace sidecar::store {
namespace {

// Raw (still percent-encoded) lengths beyond which a pair cannot be one of interest: the
// longest name is "MessageSid" (30 bytes if every letter were escaped), and a sid is a few
// dozen characters; the value bound leaves room for escaped or unusual ones.
constexpr std::size_t max_name = 64;
constexpr std::size_t max_value = 256;

// A webhook's form holds a dozen or more pairs and only these four names matter: a name is
// compared as it is (one of these, or it holds an escape), and the value of any other pair is
// skipped to its '&' without being copied (bench/README.md, "The proxy thread's instructions").
// A name is compared where it arrived, and copied only when it spans two pieces.
constexpr std::array<std::string_view, 4> attribution_names = {"AccountSid", "CallSid",
                                                               "MessageSid", "SmsSid"};

/// A name's run up to its first '&' or '=' (or the piece's end), and whether it holds an
/// escape ('%', or '+' for a space), in one pass.
struct name_run {
  std::size_t length = 0;
  bool escaped = false;
};

name_run scan_name(std::string_view bytes) {
  name_run run;
#if defined(__SSE2__)
  // Sixteen bytes at a time (a webhook's names are short: most end in the first sixteen).
  const __m128i amp = _mm_set1_epi8('&');
  const __m128i eq = _mm_set1_epi8('=');
  const __m128i pct = _mm_set1_epi8('%');
  const __m128i plus = _mm_set1_epi8('+');
  for (; run.length + 16 <= bytes.size(); run.length += 16) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(bytes.data() + run.length));
    const auto ends = static_cast<unsigned>(
        _mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(v, amp), _mm_cmpeq_epi8(v, eq))));
    auto escapes = static_cast<unsigned>(
        _mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(v, pct), _mm_cmpeq_epi8(v, plus))));
    if (ends != 0) {
      const int at = std::countr_zero(ends);
      escapes &= (1U << at) - 1;  // only those before the delimiter
      run.escaped |= escapes != 0;
      run.length += static_cast<std::size_t>(at);
      return run;
    }
    run.escaped |= escapes != 0;
  }
#endif
  for (; run.length < bytes.size(); ++run.length) {
    const char c = bytes[run.length];
    if (c == '&' || c == '=') break;
    run.escaped |= c == '%' || c == '+';
  }
  return run;
}

/// The slot of a raw name, or null for a name of no interest: one that holds an escape is
/// decoded to be compared.
std::optional<std::string>* slot_of(form_attribution& found, std::string_view raw, bool escaped) {
  if (!escaped) return found.find(raw);
  for (const std::string_view name : attribution_names) {
    if (percent::decoded_equals(raw, name)) return found.find(name);
  }
  return nullptr;
}

}  // namespace

std::optional<std::string>* form_attribution::find(std::string_view name) {
  if (name == "AccountSid") return &account_sid;
  if (name == "CallSid") return &call_sid;
  if (name == "MessageSid") return &message_sid;
  if (name == "SmsSid") return &sms_sid;
  return nullptr;
}

const std::optional<std::string>* form_attribution::find(std::string_view name) const {
  return const_cast<form_attribution*>(this)->find(name);
}

bool is_form_body(std::string_view content_type, std::string_view content_encoding) {
  const std::string_view type = ascii::trim(content_type.substr(0, content_type.find(';')));
  const std::string_view coding = ascii::trim(content_encoding);
  return ascii::iequals(type, "application/x-www-form-urlencoded") &&
         (coding.empty() || ascii::iequals(coding, "identity"));
}

void form_scanner::feed(std::string_view bytes) {
  while (!bytes.empty()) {
    switch (state_) {
      case state::name:
        bytes = read_name(bytes);
        break;
      case state::value:
        bytes = read_value(bytes);
        break;
      case state::skip:
        bytes = skip_pair(bytes);
        break;
    }
  }
}

std::string_view form_scanner::read_name(std::string_view bytes) {
  const name_run part = scan_name(bytes);
  const std::string_view run = bytes.substr(0, part.length);
  name_escaped_ |= part.escaped;
  if (run.size() > max_name - name_.size()) {  // longer than any of the four: skipped
    name_.clear();
    name_escaped_ = false;
    state_ = state::skip;
    return bytes.substr(run.size());
  }
  if (part.length == bytes.size()) {  // the name goes on in the next piece
    name_.append(run);
    return {};
  }
  const char delimiter = bytes[part.length];
  const std::string_view name = name_.empty() ? run : std::string_view(name_.append(run));
  // A name without '=' ends a pair without a value: nothing to find there.
  slot_ = delimiter == '=' ? slot_for(name) : nullptr;
  name_.clear();
  name_escaped_ = false;
  if (delimiter == '=') state_ = slot_ != nullptr ? state::value : state::skip;
  return bytes.substr(part.length + 1);
}

std::string_view form_scanner::read_value(std::string_view bytes) {
  const std::size_t amp = bytes.find('&');
  const std::string_view run = bytes.substr(0, amp);
  if (run.size() > max_value - value_.size()) {  // longer than any sid: the pair is skipped
    value_.clear();
    slot_ = nullptr;
    state_ = state::skip;
    return bytes.substr(run.size());
  }
  if (amp == std::string_view::npos) {  // the value goes on in the next piece
    value_.append(run);
    return {};
  }
  // A value whole in this piece is decoded from it, not copied first.
  end_value(value_.empty() ? run : std::string_view(value_.append(run)));
  return bytes.substr(amp + 1);
}

std::string_view form_scanner::skip_pair(std::string_view bytes) {
  const std::size_t amp = bytes.find('&');
  if (amp == std::string_view::npos) return {};
  state_ = state::name;
  return bytes.substr(amp + 1);
}

std::optional<std::string>* form_scanner::slot_for(std::string_view raw_name) {
  std::optional<std::string>* slot = slot_of(found_, raw_name, name_escaped_);
  return slot != nullptr && !slot->has_value() ? slot : nullptr;  // the first occurrence wins
}

void form_scanner::end_value(std::string_view raw_value) {
  *slot_ = percent::decode_lenient(raw_value, true);
  value_.clear();
  slot_ = nullptr;
  state_ = state::name;
}

void form_scanner::finish() {
  if (state_ == state::value) end_value(value_);
  name_.clear();
  name_escaped_ = false;
  state_ = state::name;
}

form_attribution scan_form(std::string_view body) {
  form_scanner scanner;
  scanner.feed(body);
  scanner.finish();
  return std::move(scanner).found();
}

}  // namespace sidecar::store
