// Redaction for trace records: credential headers, and secret fields in query strings, form
// bodies, JSON and XML. Every function works on arbitrary bytes (cut or malformed input
// included) and errs on the side of removing too much rather than letting a secret through.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace sidecar::store::redact {

inline constexpr std::string_view marker = "[REDACTED]";

/// Field names whose values are secrets, matched without regard to letter case.
class secret_fields {
 public:
  /// The defaults of docs/records.md plus `extra` (any case).
  explicit secret_fields(const std::vector<std::string>& extra = {});
  [[nodiscard]] bool matches(std::string_view name) const;

 private:
  std::vector<std::string> names_;  // lower case
  // Bit n is set when a name has n bytes (bit 63: 63 or more): most of a form's names have a
  // length no secret has, and are passed over without a comparison.
  std::uint64_t lengths_ = 0;
};

/// Whether a header (lower-case name) is redacted: the four defaults or one of `extra`
/// (lower case).
[[nodiscard]] bool is_secret_header(std::string_view lower_name,
                                    const std::vector<std::string>& extra);

/// One redacted header value: "[REDACTED]", or "<scheme> [REDACTED]" when `keep_scheme` and
/// the value starts with a known HTTP authentication scheme.
[[nodiscard]] std::string header_value(std::string_view value, bool keep_scheme);

/// A query string or form body (`a=1&b=2`, without the '?') with the values of secret
/// fields replaced. Names are compared after percent- and '+'-decoding.
void append_form(std::string& out, std::string_view form, const secret_fields& secrets);

/// JSON text (possibly cut or invalid) with the value of every member whose name is a secret
/// field, at any depth, replaced by the string "[REDACTED]". Valid JSON stays valid.
void append_json(std::string& out, std::string_view json, const secret_fields& secrets);

/// XML text with the character content of every element whose (local) name is a secret
/// field replaced by "[REDACTED]".
void append_xml(std::string& out, std::string_view xml, const secret_fields& secrets);

}  // namespace sidecar::store::redact
