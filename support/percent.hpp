// Percent-encoding (RFC 3986 section 2.1) and form-urlencoding's '+' for a space: the one
// home of both directions, on Boost.URL.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace sidecar::percent {

/// `s` with its %XX escapes decoded (and, when `plus_is_space`, each '+' as a space);
/// nullopt when a '%' is not followed by two hex digits.
[[nodiscard]] std::optional<std::string> decode(std::string_view s, bool plus_is_space);

/// The same, but a '%' not followed by two hex digits stays as it is: how the form parsers of
/// web frameworks read a body, which is what redaction must match.
[[nodiscard]] std::string decode_lenient(std::string_view s, bool plus_is_space);

/// Whether `raw`, decoded leniently with '+' as a space, equals `decoded`; without allocating
/// when `raw` is well-formed.
[[nodiscard]] bool decoded_equals(std::string_view raw, std::string_view decoded);

/// Appends `s` with every byte but RFC 3986's unreserved characters, ':' and '/' escaped as
/// %XX (upper-case hex): a value for a query string.
void append_query_value(std::string& out, std::string_view s);

}  // namespace sidecar::percent
