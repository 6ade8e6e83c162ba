// Rendering trace records as HAR 1.2 entries.
#include "api/har.hpp"

#include "api/list_params.hpp"
#include "store/json.hpp"
#include "store/record_decode.hpp"
#include "support/ascii.hpp"
#include "support/utc_time.hpp"

#ifndef SIDECAR_VERSION
#define SIDECAR_VERSION "0"
#endif

namespace sidecar::api {
namespace {

using store::json::writer;

std::string_view header_value(const store::header_list& headers, std::string_view name) {
  for (const auto& [n, v] : headers) {
    if (ascii::iequals(n, name)) return v;
  }
  return {};
}

void write_headers(writer& w, const store::header_list& headers) {
  w.key("headers").begin_array();
  for (const auto& [name, value] : headers) {
    w.begin_object().key("name").value(name).key("value").value(value).end_object();
  }
  w.end_array();
}

/// The query of `url` as name/value pairs, decoded like the API's own query strings (once,
/// '+' a space); a query that does not decode is given as it is.
void write_query_string(writer& w, std::string_view url) {
  w.key("queryString").begin_array();
  const auto hash = url.find('#');
  if (hash != std::string_view::npos) url = url.substr(0, hash);
  const auto q = url.find('?');
  if (q != std::string_view::npos) {
    const std::string_view raw = url.substr(q + 1);
    if (auto params = parse_query(raw)) {
      for (const auto& p : *params) {
        w.begin_object().key("name").value(p.name).key("value").value(p.value).end_object();
      }
    } else {
      for (std::string_view rest = raw; !rest.empty();) {
        const auto amp = rest.find('&');
        const std::string_view pair = rest.substr(0, amp);
        rest = amp == std::string_view::npos ? std::string_view{} : rest.substr(amp + 1);
        if (pair.empty()) continue;
        const auto eq = pair.find('=');
        w.begin_object().key("name").value(pair.substr(0, eq)).key("value");
        w.value(eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1));
        w.end_object();
      }
    }
  }
  w.end_array();
}

std::int64_t body_size(const store::recorded_body& b) { return static_cast<std::int64_t>(b.size); }

void write_request(writer& w, const store::trace_record& r) {
  const auto& q = r.request;
  w.key("request").begin_object();
  w.key("method").value(q.method);
  w.key("url").value(q.url);
  w.key("httpVersion").value("HTTP/1.1");
  w.key("cookies").begin_array().end_array();
  write_headers(w, q.headers);
  write_query_string(w, q.url);
  if (!q.body.body.empty() || q.body.size > 0) {
    w.key("postData").begin_object();
    w.key("mimeType").value(header_value(q.headers, "content-type"));
    w.key("params").begin_array().end_array();
    w.key("text").value(q.body.body);
    if (q.body.base64) w.key("_encoding").value("base64");
    w.end_object();
  }
  w.key("headersSize").value(std::int64_t{-1});
  w.key("bodySize").value(body_size(q.body));
  if (q.body.truncated) w.key("_body_truncated").value(true);
  w.end_object();
}

void write_response(writer& w, const store::trace_record& r) {
  const auto& s = r.response;
  std::int64_t code = 0;
  for (const char c : s.code) {
    if (c < '0' || c > '9' || code > 999) {
      code = 0;
      break;
    }
    code = code * 10 + (c - '0');
  }
  w.key("response").begin_object();
  w.key("status").value(code);
  w.key("statusText").value(s.phrase);
  w.key("httpVersion").value("HTTP/1.1");
  w.key("cookies").begin_array().end_array();
  write_headers(w, s.headers);
  w.key("content").begin_object();
  w.key("size").value(body_size(s.body));
  w.key("mimeType").value(header_value(s.headers, "content-type"));
  w.key("text").value(s.body.body);
  if (s.body.base64) w.key("encoding").value("base64");
  w.end_object();
  w.key("redirectURL").value(header_value(s.headers, "location"));
  w.key("headersSize").value(std::int64_t{-1});
  w.key("bodySize").value(body_size(s.body));
  if (s.body.truncated) w.key("_body_truncated").value(true);
  w.end_object();
}

}  // namespace

void append_har_head(std::string& out) {
  out += R"({"log":{"version":"1.2","creator":{"name":"trace-sidecar","version":)";
  store::json::append_string(out, SIDECAR_VERSION);
  out += R"(},"entries":[)";
}

void append_har_tail(std::string& out) { out += "]}}"; }

void append_har_entry(std::string& out, const store::trace_record& r, bool first) {
  if (!first) out += ',';
  writer w(out);
  const std::int64_t latency = std::max<std::int64_t>(r.latency_ms, 0);
  w.begin_object();
  w.key("startedDateTime").value(utc::iso8601(r.created_ms - latency, true));
  w.key("time").value(latency);
  write_request(w, r);
  write_response(w, r);
  w.key("cache").begin_object().end_object();
  w.key("timings").begin_object();
  w.key("send").value(std::int64_t{0});
  w.key("wait").value(latency);
  w.key("receive").value(std::int64_t{0});
  w.end_object();
  w.key("_trace_sid").value(r.sid);
  w.key("_session_sid").value(r.session_sid);
  w.key("_direction").value(conf::to_string(r.direction));
  w.key("_account_sid").value(r.account_sid);
  if (r.request.body.truncated || r.response.body.truncated) {
    w.key("_body_truncated").value(true);
  }
  if (!r.error.empty()) w.key("_error").value(r.error);
  w.end_object();
}

bool append_har_entry(std::string& out, std::string_view record_json, bool first) {
  const auto r = store::decode_record(record_json);
  if (!r) return false;
  append_har_entry(out, *r, first);
  return true;
}

std::string har_of(const store::trace_record& r) {
  std::string out;
  append_har_head(out);
  append_har_entry(out, r, true);
  append_har_tail(out);
  return out;
}

}  // namespace sidecar::api
