// The record's JSON, in the field order of the example in docs/records.md, extensions beside
// what they describe.
#include "store/trace_record.hpp"

#include <algorithm>
#include <array>
#include <cstring>
#include <ctime>

#include "support/json.hpp"
#include "support/utc_time.hpp"

namespace sidecar::store {

namespace {

constexpr std::string_view api_version = "2012-04-24";

/// The body's members; with `left_out`, the body's value is not written and its place in
/// `out` (the writer's string) is kept there instead.
void write_body(json::writer& w, const recorded_body& b, const std::string& out,
                std::size_t* left_out = nullptr) {
  w.key("body");
  if (left_out != nullptr) {
    *left_out = out.size();
    w.raw({});
  } else {
    w.value(b.body);
  }
  if (b.base64) w.key("body_encoding").value("base64");
  if (b.truncated) {
    w.key("body_truncated").value(true);
    w.key("body_size").value(static_cast<std::int64_t>(b.size));
  }
}

void write_headers(json::writer& w, const header_list& headers) {
  w.key("headers").begin_object();
  for (const auto& [name, value] : headers) w.key(name).value(value);
  w.end_object();
}

void write_record(std::string& out, const trace_record& r, std::size_t* response_body_at) {
  json::writer w(out);
  w.begin_object();
  w.key("sid").value(r.sid);
  w.key("api_version").value(api_version);
  w.key("account_sid").value(r.account_sid);
  w.key("account_friendly_name").value(r.account_friendly_name);
  w.key("org_sid").value(r.org_sid);
  w.key("org_name").value(r.org_name);
  const utc::date_text created = utc::rfc2822(r.created_ms, true);
  w.key("date_created").value(utc::without_millis(created).view());
  w.key("date_created_ms").value(created.view());
  w.key("session_sid").value(r.session_sid);
  // In a buffer each thread keeps: a record is written on the store's encoder thread, once
  // per exchange, and a string of its own would be allocated and freed every time.
  static thread_local std::string uri;
  uri.clear();
  uri += '/';
  uri += api_version;
  uri += "/Accounts/";
  uri += r.account_sid;
  uri += "/Traces/";
  uri += r.sid;
  w.key("uri").value(uri);
  w.key("status").value(r.completed ? "completed" : "failed");
  w.key("direction").value(conf::to_string(r.direction));
  w.key("latency_ms").value(r.latency_ms);
  if (!r.error.empty()) w.key("error").value(r.error);
  if (!r.node.empty()) w.key("node").value(r.node);
  if (!r.replay_of.empty()) w.key("replay_of").value(r.replay_of);

  w.key("request").begin_object();
  w.key("path").value(r.request.path);
  w.key("url").value(r.request.url);
  w.key("method").value(r.request.method);
  write_headers(w, r.request.headers);
  write_body(w, r.request.body, out);
  w.end_object();

  w.key("response").begin_object();
  w.key("status").begin_object();
  w.key("code").value(r.response.code);
  w.key("phrase").value(r.response.phrase);
  write_headers(w, r.response.headers);
  write_body(w, r.response.body, out, response_body_at);
  w.end_object();
  w.end_object();

  w.end_object();
}

}  // namespace

void append_json(std::string& out, const trace_record& r) { write_record(out, r, nullptr); }

std::size_t append_json_without_response_body(std::string& out, const trace_record& r) {
  std::size_t at = 0;
  write_record(out, r, &at);
  return at;
}

std::string to_json(const trace_record& r) {
  std::string out;
  out.reserve(512 + r.request.body.body.size() + r.response.body.body.size());
  append_json(out, r);
  return out;
}

}  // namespace sidecar::store
