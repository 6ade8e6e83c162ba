// Rendering trace records as HAR 1.2 entries.
#include "api/har.hpp"

#include <algorithm>

#include "api/list_params.hpp"
#include "support/json.hpp"
#include "store/record_view.hpp"
#include "support/utc_time.hpp"

#ifndef SIDECAR_VERSION
#define SIDECAR_VERSION "0"
#endif

namespace sidecar::api {
namespace {

using json::append_int;
using json::append_string;

/// A token, or "" when the record does not hold the field.
std::string_view or_empty(std::string_view token) {
  return token.empty() ? store::empty_token : token;
}

void append_headers(std::string& out, const std::vector<store::header_view>& headers) {
  out += R"("headers":[)";
  bool first = true;
  for (const auto& h : headers) {
    out += first ? R"({"name":)" : R"(,{"name":)";
    first = false;
    append_string(out, h.name);
    out += R"(,"value":)";
    out += h.value;
    out += '}';
  }
  out += ']';
}

void append_pair(std::string& out, bool& first, std::string_view name, std::string_view value) {
  out += first ? R"({"name":)" : R"(,{"name":)";
  first = false;
  append_string(out, name);
  out += R"(,"value":)";
  append_string(out, value);
  out += '}';
}

/// The query of `url` as name/value pairs, decoded like the API's own query strings (once,
/// '+' a space); a query that does not decode (or needs no decoding) is given as it is.
void append_query_string(std::string& out, std::string_view url) {
  out += R"("queryString":[)";
  const auto hash = url.find('#');
  if (hash != std::string_view::npos) url = url.substr(0, hash);
  const auto q = url.find('?');
  bool first = true;
  if (q != std::string_view::npos) {
    const std::string_view raw = url.substr(q + 1);
    // Without '%' or '+' decoding changes nothing: the pairs are split in place below.
    const bool encoded = raw.find_first_of("%+") != std::string_view::npos;
    std::optional<std::vector<query_param>> params;
    if (encoded) params = parse_query(raw);
    if (params) {
      for (const auto& p : *params) append_pair(out, first, p.name, p.value);
    } else {
      for (std::string_view rest = raw; !rest.empty();) {
        const auto amp = rest.find('&');
        const std::string_view pair = rest.substr(0, amp);
        rest = amp == std::string_view::npos ? std::string_view{} : rest.substr(amp + 1);
        if (pair.empty()) continue;
        const auto eq = pair.find('=');
        append_pair(out, first, pair.substr(0, eq),
                    eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1));
      }
    }
  }
  out += ']';
}

void append_request(std::string& out, const store::message_view& q) {
  out += R"("request":{"method":)";
  out += q.method;
  out += R"(,"url":)";
  out += q.url;
  out += R"(,"httpVersion":"HTTP/1.1","cookies":[],)";
  append_headers(out, q.headers);
  out += ',';
  append_query_string(out, q.url_text);
  if (q.body.text != store::empty_token || q.body.size > 0) {
    out += R"(,"postData":{"mimeType":)";
    out += or_empty(store::header_token(q.headers, "content-type"));
    out += R"(,"params":[],"text":)";
    out += q.body.text;
    if (q.body.base64) out += R"(,"_encoding":"base64")";
    out += '}';
  }
  out += R"(,"headersSize":-1,"bodySize":)";
  append_int(out, static_cast<std::int64_t>(q.body.size));
  if (q.body.truncated) out += R"(,"_body_truncated":true)";
  out += '}';
}

/// The status code as a number; 0 when there is none (or it is not one).
std::int64_t status_number(std::string_view code) {
  std::int64_t n = 0;
  for (const char c : code) {
    if (c < '0' || c > '9' || n > 999) return 0;
    n = n * 10 + (c - '0');
  }
  return n;
}

void append_response(std::string& out, const store::message_view& s) {
  out += R"("response":{"status":)";
  append_int(out, status_number(s.code));
  out += R"(,"statusText":)";
  out += s.phrase;
  out += R"(,"httpVersion":"HTTP/1.1","cookies":[],)";
  append_headers(out, s.headers);
  out += R"(,"content":{"size":)";
  append_int(out, static_cast<std::int64_t>(s.body.size));
  out += R"(,"mimeType":)";
  out += or_empty(store::header_token(s.headers, "content-type"));
  out += R"(,"text":)";
  out += s.body.text;
  if (s.body.base64) out += R"(,"encoding":"base64")";
  out += R"(},"redirectURL":)";
  out += or_empty(store::header_token(s.headers, "location"));
  out += R"(,"headersSize":-1,"bodySize":)";
  append_int(out, static_cast<std::int64_t>(s.body.size));
  if (s.body.truncated) out += R"(,"_body_truncated":true)";
  out += '}';
}

/// One entry, written straight from the stored record's tokens: its strings are copied as
/// the store encoded them, never decoded and escaped again (docs/api.md, "Performance").
void append_entry(std::string& out, const store::record_view& r) {
  const std::int64_t latency = std::max<std::int64_t>(r.latency_ms, 0);
  out += R"({"startedDateTime":")";
  utc::append_iso8601(out, r.created_ms - latency, true);
  out += R"(","time":)";
  append_int(out, latency);
  out += ',';
  append_request(out, r.request);
  out += ',';
  append_response(out, r.response);
  out += R"(,"cache":{},"timings":{"send":0,"wait":)";
  append_int(out, latency);
  out += R"(,"receive":0},"_trace_sid":)";
  append_string(out, r.sid);
  out += R"(,"_session_sid":)";
  out += r.session_sid;
  out += R"(,"_direction":)";
  out += r.direction;
  out += R"(,"_account_sid":)";
  out += r.account_sid;
  if (r.request.body.truncated || r.response.body.truncated) out += R"(,"_body_truncated":true)";
  if (!r.error.empty()) {
    out += R"(,"_error":)";
    out += r.error;
  }
  out += '}';
}

}  // namespace

void append_har_head(std::string& out) {
  out += R"({"log":{"version":"1.2","creator":{"name":"trace-sidecar","version":)";
  append_string(out, SIDECAR_VERSION);
  out += R"(},"entries":[)";
}

void append_har_tail(std::string& out) { out += "]}}"; }

bool append_har_entry(std::string& out, std::string_view record_json, bool first) {
  // One view per thread, its vectors reused from record to record.
  static thread_local store::record_view view;
  if (!store::view_record(record_json, view)) return false;
  if (!first) out += ',';
  append_entry(out, view);
  return true;
}

std::optional<std::string> har_of(std::string_view record_json) {
  std::string out;
  out.reserve(512 + 2 * record_json.size());
  append_har_head(out);
  if (!append_har_entry(out, record_json, true)) return std::nullopt;
  append_har_tail(out);
  return out;
}

}  // namespace sidecar::api
