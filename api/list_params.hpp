// The query string of a Traces list request (docs/api.md): the filters, strictly
// validated, and the paging parameters Page, PageSize and AfterSid.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "store/trace_query.hpp"

namespace sidecar::api {

/// One name=value pair of a query string, both percent-decoded once ('+' is a space).
struct query_param {
  std::string name;
  std::string value;
};

/// Splits and decodes a raw query string. nullopt when an escape is malformed ("%zz", "%4").
[[nodiscard]] std::optional<std::vector<query_param>> parse_query(std::string_view raw);

/// An instant of DateCreated / DateCreatedBefore: "YYYY-MM-DD" (midnight UTC) or
/// "YYYY-MM-DDTHH:MM:SS" with optional fraction and "Z" or "±HH:MM" (none: UTC). A space in
/// place of '+' is accepted before an offset, since an unencoded '+' in a query is a space.
/// Milliseconds since the epoch, or nullopt when malformed or out of range.
[[nodiscard]] std::optional<std::int64_t> parse_instant(std::string_view text);

/// Everything a list request asks for.
struct list_params {
  store::trace_filter filter;
  std::uint64_t page = 0;  // past 18 digits, saturated (see parse_count)
  std::string page_sent;   // Page as the request gave it, for messages ("" when absent)
  std::uint32_t page_size = 50;
  std::optional<std::string> after_sid;
  /// The filters that were applied, decoded, in the order the request gave them; page URIs
  /// repeat them.
  std::vector<query_param> filters;
};

inline constexpr std::uint32_t default_page_size = 50;
inline constexpr std::uint32_t max_page_size = 1000;

/// A list_params or the message of a 400 answer (naming the parameter and what it accepts).
struct list_params_result {
  std::optional<list_params> params;
  std::string error;
};

/// Reads the filters and paging parameters from a raw query string. Unknown parameters are
/// ignored; of a repeated parameter the first is used; an empty value of a text filter
/// (SessionSid, ResponseBody, RequestPath, AccountSid, OrgSid, Method, RequestBody) is as if
/// absent.
[[nodiscard]] list_params_result parse_list_params(std::string_view raw_query);

}  // namespace sidecar::api
