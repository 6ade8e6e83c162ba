// The streaming form scanner: see form_scan.hpp.
#include "store/form_scan.hpp"

#include <algorithm>
#include <array>

#include "support/ascii.hpp"
#include "support/percent.hpp"

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
constexpr std::array<std::string_view, 4> attribution_names = {"AccountSid", "CallSid",
                                                               "MessageSid", "SmsSid"};

/// The length of the run before the first '&' or '='.
std::size_t name_run(std::string_view bytes) {
  return static_cast<std::size_t>(
      std::find_if(bytes.begin(), bytes.end(), [](char c) { return c == '&' || c == '='; }) -
      bytes.begin());
}

bool escaped(std::string_view raw) {
  return raw.find('%') != std::string_view::npos || raw.find('+') != std::string_view::npos;
}

/// The slot of a raw (still escaped) name, or null for a name of no interest.
std::optional<std::string>* slot_of(form_attribution& found, std::string_view raw) {
  if (!escaped(raw)) return found.find(raw);
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
    if (bytes.front() == '&') {
      end_pair();
      bytes.remove_prefix(1);
      continue;
    }
    // The run up to this state's next delimiter: '&' in a value or a skipped pair (memchr),
    // '&' or '=' in a name (a byte loop: find_first_of calls memchr once per byte).
    const std::string_view run =
        bytes.substr(0, in_value_ || overlong_ ? bytes.find('&') : name_run(bytes));
    bytes.remove_prefix(run.size());
    if (!overlong_) {
      std::string& part = in_value_ ? value_ : name_;
      if (run.size() > (in_value_ ? max_value : max_name) - part.size()) {
        overlong_ = true;
      } else {
        part.append(run);
      }
    }
    if (!bytes.empty() && bytes.front() == '=' && !in_value_ && !overlong_) {
      bytes.remove_prefix(1);
      in_value_ = true;
      overlong_ = !may_be_of_interest(name_);
    }
  }
}

bool form_scanner::may_be_of_interest(std::string_view name) {
  if (escaped(name)) return true;  // decoded in end_pair
  return std::find(attribution_names.begin(), attribution_names.end(), name) !=
         attribution_names.end();
}

void form_scanner::finish() { end_pair(); }

void form_scanner::end_pair() {
  if (in_value_ && !overlong_) {
    std::optional<std::string>* slot = slot_of(found_, name_);
    if (slot != nullptr && !*slot) *slot = percent::decode_lenient(value_, true);
  }
  name_.clear();
  value_.clear();
  in_value_ = false;
  overlong_ = false;
}

form_attribution scan_form(std::string_view body) {
  form_scanner scanner;
  scanner.feed(body);
  scanner.finish();
  return scanner.found();
}

}  // namespace sidecar::store
