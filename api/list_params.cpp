// Parsing and validating the query string of a Traces list request.
#include "api/list_params.hpp"

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

std::optional<std::int64_t> parse_instant(std::string_view s) {
  // YYYY-MM-DD
  const auto y = fixed_digits(s, 0, 4);
  const auto mo = fixed_digits(s, 5, 2);
  const auto d = fixed_digits(s, 8, 2);
  if (!y || !mo || !d || s[4] != '-' || s[7] != '-') return std::nullopt;
  const auto days =
      utc::days_from_civil(*y, static_cast<unsigned>(*mo), static_cast<unsigned>(*d));
  if (!days) return std::nullopt;
  std::int64_t ms = *days * 86'400'000;
  if (s.size() == 10) return ms;

  // THH:MM:SS
  if (s.size() < 19 || s[10] != 'T' || s[13] != ':' || s[16] != ':') return std::nullopt;
  const auto h = fixed_digits(s, 11, 2);
  const auto mi = fixed_digits(s, 14, 2);
  const auto sec = fixed_digits(s, 17, 2);
  if (!h || !mi || !sec || *h > 23 || *mi > 59 || *sec > 59) return std::nullopt;
  ms += ((*h * 60LL + *mi) * 60LL + *sec) * 1000LL;

  std::size_t pos = 19;
  if (pos < s.size() && s[pos] == '.') {
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
    ms += frac_ms;
  }
  if (pos == s.size()) return ms;  // no zone: UTC
  if (s[pos] == 'Z') return pos + 1 == s.size() ? std::optional<std::int64_t>(ms) : std::nullopt;
  const char sign = s[pos];
  if (sign != '+' && sign != '-' && sign != ' ') return std::nullopt;
  if (s.size() != pos + 6 || s[pos + 3] != ':') return std::nullopt;
  const auto oh = fixed_digits(s, pos + 1, 2);
  const auto om = fixed_digits(s, pos + 4, 2);
  if (!oh || !om || *oh > 23 || *om > 59) return std::nullopt;
  const std::int64_t offset_ms = (*oh * 60LL + *om) * 60'000LL;
  // Local time = UTC + offset, so UTC = local - offset.
  return sign == '-' ? ms + offset_ms : ms - offset_ms;
}

list_params_result parse_list_params(std::string_view raw_query) {
  auto query = parse_query(raw_query);
  if (!query) {
    return fail("The query string is malformed: a '%' must be followed by two hex digits");
  }
  list_params lp;
  std::vector<std::string_view> seen;
  const auto first_time = [&seen](std::string_view name) {
    for (const auto s : seen) {
      if (s == name) return false;
    }
    seen.push_back(name);
    return true;
  };

  for (const query_param& p : *query) {
    const std::string& n = p.name;
    const std::string& v = p.value;
    bool keep = true;  // a filter that page URIs repeat
    if (n == "Page" || n == "PageSize" || n == "AfterSid") {
      if (!first_time(n)) continue;
      keep = false;
      if (n == "Page") {
        const auto page = parse_count(v);
        if (!page) return fail("Page must be a non-negative integer (the zero-based page index)");
        lp.page = *page;
        lp.page_sent = v;
      } else if (n == "PageSize") {
        const auto size = parse_count(v);
        if (!size || *size < 1 || *size > max_page_size) {
          return fail("PageSize must be an integer from 1 to 1000");
        }
        lp.page_size = static_cast<std::uint32_t>(*size);
      } else if (!v.empty()) {
        lp.after_sid = v;
      }
    } else if (n == "Status") {
      if (!first_time(n)) continue;
      if (v == "completed") {
        lp.filter.completed = true;
      } else if (v == "failed") {
        lp.filter.completed = false;
      } else {
        return fail("Status must be completed or failed");
      }
    } else if (n == "DateCreated" || n == "DateCreatedBefore") {
      if (!first_time(n)) continue;
      const auto at = parse_instant(v);
      if (!at) return fail(n + " must be " + std::string(date_syntax));
      (n == "DateCreated" ? lp.filter.created_from_ms : lp.filter.created_before_ms) = *at;
    } else if (n == "Latency") {
      if (!first_time(n)) continue;
      const auto latency = parse_count(v);
      if (!latency) return fail("Latency must be a non-negative integer (milliseconds)");
      lp.filter.min_latency_ms = static_cast<std::int64_t>(*latency);
    } else if (n == "Direction") {
      if (!first_time(n)) continue;
      if (iequals(v, "webhook")) {
        lp.filter.direction = conf::direction::webhook;
      } else if (iequals(v, "api")) {
        lp.filter.direction = conf::direction::api;
      } else {
        return fail("Direction must be webhook or api");
      }
    } else if (n == "ResponseCode") {
      if (!first_time(n)) continue;
      if (!all_digits(v) || v.size() > 3) {
        return fail("ResponseCode must be 1 to 3 digits (a prefix of the response code)");
      }
      lp.filter.response_code_prefix = v;
    } else if (n == "SessionSid" || n == "ResponseBody" || n == "RequestPath" ||
               n == "AccountSid" || n == "OrgSid" || n == "Method" || n == "RequestBody") {
      if (v.empty() || !first_time(n)) continue;
      auto& slot = n == "SessionSid"     ? lp.filter.session_sid
                   : n == "ResponseBody" ? lp.filter.response_body_contains
                   : n == "RequestPath"  ? lp.filter.request_path_prefix
                   : n == "AccountSid"   ? lp.filter.account_sid
                   : n == "Method"       ? lp.filter.method
                   : n == "RequestBody"  ? lp.filter.request_body_contains
                                         : lp.filter.org_sid;
      slot = v;
    } else {
      continue;  // unknown parameters are ignored, as Restcomm does
    }
    if (keep) lp.filters.push_back(p);
  }
  return {std::move(lp), {}};
}

}  // namespace sidecar::api
