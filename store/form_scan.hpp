// The attribution parameters of a form body (docs/records.md: `AccountSid`, and `CallSid`,
// `MessageSid` or `SmsSid` for the session), found while the body streams through the proxy,
// whatever its size and whether or not the route keeps bodies. A record is attributed by the
// whole body, not by the part of it that `body_limit` lets the record keep.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace sidecar::store {

/// The first value of each parameter, percent-decoded ('+' as space); nullopt when absent.
struct form_attribution {
  std::optional<std::string> account_sid;
  std::optional<std::string> call_sid;
  std::optional<std::string> message_sid;
  std::optional<std::string> sms_sid;

  /// The slot of `name` ("AccountSid", "CallSid", ...); null for any other name.
  [[nodiscard]] const std::optional<std::string>* find(std::string_view name) const;
  [[nodiscard]] std::optional<std::string>* find(std::string_view name);

  bool operator==(const form_attribution&) const = default;
};

/// Whether a request body with this Content-Type and Content-Encoding is a form whose
/// parameters attribute a webhook: application/x-www-form-urlencoded (parameters after ';'
/// and letter case ignored), not encoded. The one rule: whoever makes a capture asks it and
/// scans such a body; the record builder reads only what was scanned.
[[nodiscard]] bool is_form_body(std::string_view content_type, std::string_view content_encoding);

/// Reads a form body piece by piece, keeping only what attribution needs: memory stays a few
/// hundred bytes for a body of any size. A pair with a name or value longer than any
/// parameter of interest can be is skipped.
class form_scanner {
 public:
  void feed(std::string_view bytes);
  /// The body is complete: its last pair (no '&' after it) counts too. Without this call a
  /// body that was cut short keeps only its complete pairs.
  void finish();
  [[nodiscard]] const form_attribution& found() const& { return found_; }
  /// What was found, moved out of a scanner that is done.
  [[nodiscard]] form_attribution found() && { return std::move(found_); }

 private:
  enum class state : std::uint8_t {
    name,   // in a name: its bytes so far in name_ when it began in an earlier piece
    value,  // in the value of a parameter still to find: its bytes so far in value_
    skip,   // in a pair of no interest (or too long to be one): up to its '&'
  };
  // Each reads what its state expects from the start of `bytes` and returns the rest.
  [[nodiscard]] std::string_view read_name(std::string_view bytes);
  [[nodiscard]] std::string_view read_value(std::string_view bytes);
  [[nodiscard]] std::string_view skip_pair(std::string_view bytes);
  /// A name is complete (at '='): the slot its value goes to, or null to skip the value.
  [[nodiscard]] std::optional<std::string>* slot_for(std::string_view raw_name);
  void end_value(std::string_view raw_value);

  state state_ = state::name;
  std::string name_;                            // a name that spans pieces
  bool name_escaped_ = false;                   // the name holds '%' or '+' (so far)
  std::string value_;                           // the value being kept
  std::optional<std::string>* slot_ = nullptr;  // where value_ goes at its end
  form_attribution found_;
};

/// The attribution parameters of a whole form body at hand (a replay's, a test's).
[[nodiscard]] form_attribution scan_form(std::string_view body);

}  // namespace sidecar::store
