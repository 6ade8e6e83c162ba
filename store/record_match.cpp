// The list filters applied to one record in memory (docs/api.md, "Filters").
#include "store/record_match.hpp"

#include "support/ascii.hpp"

namespace sidecar::store {

namespace {

/// The filters on the record's summary: times, session, latency, direction, code, account.
bool summary_matches(const trace_filter& f, const trace_record& r) {
  if (f.completed && *f.completed != r.completed) return false;
  if (f.created_from_ms && r.created_ms < *f.created_from_ms) return false;
  if (f.created_before_ms && r.created_ms >= *f.created_before_ms) return false;
  if (f.session_sid && *f.session_sid != r.session_sid) return false;
  if (f.min_latency_ms && r.latency_ms < *f.min_latency_ms) return false;
  if (f.direction && *f.direction != r.direction) return false;
  if (f.response_code_prefix && !r.response.code.starts_with(*f.response_code_prefix)) {
    return false;
  }
  if (f.account_sid && *f.account_sid != r.account_sid) return false;
  if (f.org_sid && *f.org_sid != r.org_sid) return false;
  return true;
}

/// Whether `text` holds the filter's text; an empty text filter is as if absent (the API drops
/// them; the store ignores them too).
bool holds(const std::optional<std::string>& filter, const std::string& text) {
  return !filter || filter->empty() || text.find(*filter) != std::string::npos;
}

/// The filters on the request's path, method and body, and on the response's body.
bool content_matches(const trace_filter& f, const trace_record& r) {
  if (!holds(f.response_body_contains, r.response.body.body)) return false;
  if (f.request_path_prefix && !r.request.path.starts_with(*f.request_path_prefix) &&
      !r.request.url.starts_with(*f.request_path_prefix)) {
    return false;
  }
  if (f.method && !f.method->empty() && !ascii::iequals(*f.method, r.request.method)) {
    return false;
  }
  return holds(f.request_body_contains, r.request.body.body);
}

}  // namespace

bool matches(const trace_filter& f, const trace_record& r) {
  return summary_matches(f, r) && content_matches(f, r);
}

}  // namespace sidecar::store
