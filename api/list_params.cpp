// Parsing and validating the query string of a Traces list request.
#include "api/list_params.hpp"

#include <algorithm>
#include <chrono>

#include "support/ascii.hpp"
#include "support/percent.hpp"
#include "support/utc_time.hpp"

namespace sidecar::api {
namespace {

bool all_digits(std::string_view s) {
  if (s.empty()) return false;
  for (const char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

/// A non-negative integer of any length; values past 18 digits saturate at 10^18 - 1, which
/// is beyond every page, page size and latency there can be (and fits every type it goes into).
std::optional<std::uint64_t> parse_count(std::string_view s) {
  if (!all_digits(s)) return std::nullopt;
  s.remove_prefix(std::min(s.find_first_not_of('0'), s.size()));
  if (s.size() > 18) return 999'999'999'999'999'999ULL;
  std::uint64_t v = 0;
  for (const char c : s) v = v * 10 + static_cast<std::uint64_t>(c - '0');
  return v;
}

/// Exactly `n` digits at `s[pos]`.
std::optional<int> fixed_digits(std::string_view s, std::size_t pos, std::size_t n) {
  if (pos + n > s.size()) return std::nullopt;
  int v = 0;
  for (std::size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return std::nullopt;
    v = v * 10 + (s[i] - '0');
  }
  return v;
}

using ascii::iequals;

list_params_result fail(std::string message) { return {std::nullopt, std::move(message)}; }

constexpr std::string_view date_syntax =
    "a date YYYY-MM-DD or a date and time YYYY-MM-DDTHH:MM:SS, optionally with fractional "
    "seconds and Z or an offset +HH:MM/-HH:MM";

}  // namespace

std::optional<std::vector<query_param>> parse_query(std::string_view raw) {
  std::vector<query_param> out;
  while (!raw.empty()) {
    const auto amp = raw.find('&');
    const std::string_view pair = raw.substr(0, amp);
    raw = amp == std::string_view::npos ? std::string_view{} : raw.substr(amp + 1);
    if (pair.empty()) continue;
    const auto eq = pair.find('=');
    auto name = percent::decode(pair.substr(0, eq), true);
    auto value = eq == std::string_view::npos ? std::optional<std::string>(std::in_place)
                                              : percent::decode(pair.substr(eq + 1), true);
    if (!name || !value) return std::nullopt;
    out.push_back({std::move(*name), std::move(*value)});
  }
  return out;
}

namespace {

/// "YYYY-MM-DD" at the start of `s`: midnight UTC of that day, in milliseconds.
std::optional<std::int64_t> parse_date(std::string_view s) {
  const auto y = fixed_digits(s, 0, 4);
  const auto mo = fixed_digits(s, 5, 2);
  const auto d = fixed_digits(s, 8, 2);
  if (!y || !mo || !d || s[4] != '-' || s[7] != '-') return std::nullopt;
  const auto days =
      utc::days_from_civil(*y, static_cast<unsigned>(*mo), static_cast<unsigned>(*d));
  if (!days) return std::nullopt;
  return *days * 86'400'000;
}

/// "THH:MM:SS" at `s[10]`: the time of day in milliseconds.
std::optional<std::int64_t> parse_time_of_day(std::string_view s) {
  if (s.size() < 19 || s[10] != 'T' || s[13] != ':' || s[16] != ':') return std::nullopt;
  const auto h = fixed_digits(s, 11, 2);
  const auto mi = fixed_digits(s, 14, 2);
  const auto sec = fixed_digits(s, 17, 2);
  if (!h || !mi || !sec || *h > 23 || *mi > 59 || *sec > 59) return std::nullopt;
  return ((*h * 60LL + *mi) * 60LL + *sec) * 1000LL;
}

/// An optional ".fraction" (1 to 9 digits) at `s[pos]`: its milliseconds (the digits past the
/// third are dropped), advancing `pos` past it; nullopt when malformed.
std::optional<std::int64_t> parse_fraction(std::string_view s, std::size_t& pos) {
  if (pos >= s.size() || s[pos] != '.') return 0;
  ++pos;
  const std::size_t first = pos;
  std::int64_t frac_ms = 0;
  while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
    if (pos - first < 3) frac_ms = frac_ms * 10 + (s[pos] - '0');
    ++pos;
  }
  const std::size_t digits = pos - first;
  if (digits == 0 || digits > 9) return std::nullopt;
  for (std::size_t k = digits; k < 3; ++k) frac_ms *= 10;
  return frac_ms;
}

/// The zone that ends the instant at `s[pos]`: none or "Z" (UTC) or "±HH:MM" (a space for
/// '+'). The milliseconds to add to the local time to get UTC, or nullopt when malformed.
std::optional<std::int64_t> parse_zone(std::string_view s, std::size_t pos) {
  if (pos == s.size()) return 0;  // no zone: UTC
  if (s[pos] == 'Z') return pos + 1 == s.size() ? std::optional<std::int64_t>(0) : std::nullopt;
  const char sign = s[pos];
  if (sign != '+' && sign != '-' && sign != ' ') return std::nullopt;
  if (s.size() != pos + 6 || s[pos + 3] != ':') return std::nullopt;
  const auto oh = fixed_digits(s, pos + 1, 2);
  const auto om = fixed_digits(s, pos + 4, 2);
  if (!oh || !om || *oh > 23 || *om > 59) return std::nullopt;
  const std::int64_t offset_ms = (*oh * 60LL + *om) * 60'000LL;
  // Local time = UTC + offset, so UTC = local - offset.
  return sign == '-' ? offset_ms : -offset_ms;
}

}  // namespace

std::optional<std::int64_t> parse_instant(std::string_view s) {
  const auto date_ms = parse_date(s);
  if (!date_ms) return std::nullopt;
  if (s.size() == 10) return date_ms;
  const auto time_ms = parse_time_of_day(s);
  if (!time_ms) return std::nullopt;
  std::size_t pos = 19;
  const auto frac_ms = parse_fraction(s, pos);
  if (!frac_ms) return std::nullopt;
  const auto to_utc_ms = parse_zone(s, pos);
  if (!to_utc_ms) return std::nullopt;
  return *date_ms + *time_ms + *frac_ms + *to_utc_ms;
}

namespace {

/// What a parameter handler made of one query parameter.
enum class param_outcome {
  applied,         // a filter: page URIs repeat it
  applied_paging,  // Page, PageSize or AfterSid: page URIs set their own
  ignored,         // an empty text filter: as if absent
};

/// A parameter handler: applies one value to `lp`, or the message of a 400 answer.
struct param_result {
  param_outcome outcome = param_outcome::applied;
  std::string error;
};

param_result invalid(std::string message) { return {param_outcome::applied, std::move(message)}; }

param_result set_page(list_params& lp, const query_param& p) {
  const auto page = parse_count(p.value);
  if (!page) return invalid("Page must be a non-negative integer (the zero-based page index)");
  lp.page = *page;
  lp.page_sent = p.value;
  return {param_outcome::applied_paging, {}};
}

param_result set_page_size(list_params& lp, const query_param& p) {
  const auto size = parse_count(p.value);
  if (!size || *size < 1 || *size > max_page_size) {
    return invalid("PageSize must be an integer from 1 to 1000");
  }
  lp.page_size = static_cast<std::uint32_t>(*size);
  return {param_outcome::applied_paging, {}};
}

param_result set_after_sid(list_params& lp, const query_param& p) {
  if (!p.value.empty()) lp.after_sid = p.value;
  return {param_outcome::applied_paging, {}};
}

param_result set_status(list_params& lp, const query_param& p) {
  if (p.value == "completed") {
    lp.filter.completed = true;
  } else if (p.value == "failed") {
    lp.filter.completed = false;
  } else {
    return invalid("Status must be completed or failed");
  }
  return {};
}

param_result set_date(list_params& lp, const query_param& p) {
  const auto at = parse_instant(p.value);
  if (!at) return invalid(p.name + " must be " + std::string(date_syntax));
  (p.name == "DateCreated" ? lp.filter.created_from_ms : lp.filter.created_before_ms) = *at;
  return {};
}

param_result set_latency(list_params& lp, const query_param& p) {
  const auto latency = parse_count(p.value);
  if (!latency) return invalid("Latency must be a non-negative integer (milliseconds)");
  lp.filter.min_latency_ms = static_cast<std::int64_t>(*latency);
  return {};
}

param_result set_direction(list_params& lp, const query_param& p) {
  if (iequals(p.value, "webhook")) {
    lp.filter.direction = conf::direction::webhook;
  } else if (iequals(p.value, "api")) {
    lp.filter.direction = conf::direction::api;
  } else {
    return invalid("Direction must be webhook or api");
  }
  return {};
}

param_result set_response_code(list_params& lp, const query_param& p) {
  if (!all_digits(p.value) || p.value.size() > 3) {
    return invalid("ResponseCode must be 1 to 3 digits (a prefix of the response code)");
  }
  lp.filter.response_code_prefix = p.value;
  return {};
}

/// The text filters: matched as given; an empty value is as if absent.
template <auto Slot>
param_result set_text(list_params& lp, const query_param& p) {
  if (p.value.empty()) return {param_outcome::ignored, {}};
  lp.filter.*Slot = p.value;
  return {};
}

using store::trace_filter;

/// Each known parameter and its handler; any other parameter is ignored, as Restcomm does.
struct param_handler {
  std::string_view name;
  param_result (*apply)(list_params&, const query_param&);
};
constexpr param_handler param_handlers[] = {
    {"Page", set_page},
    {"PageSize", set_page_size},
    {"AfterSid", set_after_sid},
    {"Status", set_status},
    {"DateCreated", set_date},
    {"DateCreatedBefore", set_date},
    {"Latency", set_latency},
    {"Direction", set_direction},
    {"ResponseCode", set_response_code},
    {"SessionSid", set_text<&trace_filter::session_sid>},
    {"ResponseBody", set_text<&trace_filter::response_body_contains>},
    {"RequestPath", set_text<&trace_filter::request_path_prefix>},
    {"AccountSid", set_text<&trace_filter::account_sid>},
    {"OrgSid", set_text<&trace_filter::org_sid>},
    {"Method", set_text<&trace_filter::method>},
    {"RequestBody", set_text<&trace_filter::request_body_contains>},
};

const param_handler* find_handler(std::string_view name) {
  for (const param_handler& h : param_handlers) {
    if (h.name == name) return &h;
  }
  return nullptr;
}

}  // namespace

list_params_result parse_list_params(std::string_view raw_query) {
  auto query = parse_query(raw_query);
  if (!query) {
    return fail("The query string is malformed: a '%' must be followed by two hex digits");
  }
  list_params lp;
  // Of a repeated parameter the first is used: the handlers already applied, by name.
  std::vector<std::string_view> seen;
  for (const query_param& p : *query) {
    const param_handler* handler = find_handler(p.name);
    if (handler == nullptr || std::find(seen.begin(), seen.end(), handler->name) != seen.end()) {
      continue;
    }
    param_result r = handler->apply(lp, p);
    if (!r.error.empty()) return fail(std::move(r.error));
    if (r.outcome == param_outcome::ignored) continue;
    seen.push_back(handler->name);
    if (r.outcome == param_outcome::applied) lp.filters.push_back(p);
  }
  return {std::move(lp), {}};
}

}  // namespace sidecar::api
