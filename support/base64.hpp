// Base64 (RFC 4648, standard alphabet, '=' padding) on OpenSSL: the one home of both
// directions.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace sidecar::base64 {

/// Appends the padded base64 of `s`.
void append_encoded(std::string& out, std::string_view s);

/// Decodes padded base64 (a multiple of 4 characters, '=' only at the end); nullopt on
/// anything else, white space included.
[[nodiscard]] std::optional<std::string> decode(std::string_view s);

}  // namespace sidecar::base64
