// The streaming form scanner: see form_scan.hpp.
#include "store/form_scan.hpp"

#include "store/redact.hpp"
#include "support/ascii.hpp"
#include "support/percent.hpp"

namespace sidecar::store {
namespace {

// Raw (still percent-encoded) lengths beyond which a pair cannot be one of interest: the
// longest name is "MessageSid" (30 bytes if every letter were escaped), and a sid is a few
// dozen characters; the value bound leaves room for escaped or unusual ones.
constexpr std::size_t max_name = 64;
constexpr std::size_t max_value = 256;

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
  for (const char c : bytes) {
    if (c == '&') {
      end_pair();
    } else if (overlong_) {
      // the rest of a skipped pair
    } else if (c == '=' && !in_value_) {
      in_value_ = true;
    } else {
      std::string& part = in_value_ ? value_ : name_;
      if (part.size() == (in_value_ ? max_value : max_name)) {
        overlong_ = true;
      } else {
        part.push_back(c);
      }
    }
  }
}

void form_scanner::finish() { end_pair(); }

void form_scanner::end_pair() {
  if (in_value_ && !overlong_) {
    for (const std::string_view name : {"AccountSid", "CallSid", "MessageSid", "SmsSid"}) {
      if (!percent::decoded_equals(name_, name)) continue;
      std::optional<std::string>& slot = *found_.find(name);
      if (!slot) slot = percent::decode_lenient(value_, true);
      break;
    }
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
