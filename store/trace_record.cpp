// Trace sids, RFC 2822 dates and the record's JSON, in the field order of the contract's
// example (section 4), extensions beside what they describe.
#include "store/trace_record.hpp"

#include <algorithm>
#include <array>
#include <cstring>
#include <ctime>

#include "store/json.hpp"

namespace sidecar::store {

namespace {

constexpr std::string_view hex_digits = "0123456789abcdef";
constexpr std::int64_t max_sid_ms = (std::int64_t{1} << 48) - 1;  // what 12 hex digits hold
constexpr std::string_view api_version = "2012-04-24";

void append_hex(std::string& out, std::uint64_t v, int digits) {
  for (int i = digits - 1; i >= 0; --i) out += hex_digits[(v >> (4 * i)) & 0xF];
}

void append_2(std::string& out, int v) {
  out += static_cast<char>('0' + v / 10);
  out += static_cast<char>('0' + v % 10);
}

void write_body(json::writer& w, const recorded_body& b) {
  w.key("body").value(b.body);
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

}  // namespace

std::string make_trace_sid(std::int64_t created_ms, std::span<const std::uint8_t, 10> random) {
  const auto ms = static_cast<std::uint64_t>(std::clamp<std::int64_t>(created_ms, 0, max_sid_ms));
  std::string sid;
  sid.reserve(34);
  sid += "TR";
  append_hex(sid, ms, 12);
  for (const std::uint8_t b : random) append_hex(sid, b, 2);
  return sid;
}

std::string make_trace_sid(std::int64_t created_ms, std::mt19937_64& rng) {
  std::array<std::uint8_t, 10> random{};
  const std::uint64_t a = rng(), b = rng();
  std::memcpy(random.data(), &a, 8);
  std::memcpy(random.data() + 8, &b, 2);
  return make_trace_sid(created_ms, std::span<const std::uint8_t, 10>(random));
}

std::optional<std::int64_t> sid_time_ms(std::string_view sid) {
  if (sid.size() != 34 || sid[0] != 'T' || sid[1] != 'R') return std::nullopt;
  std::int64_t ms = 0;
  for (std::size_t i = 2; i < sid.size(); ++i) {
    const char c = sid[i];
    int v = 0;
    if (c >= '0' && c <= '9') {
      v = c - '0';
    } else if (c >= 'a' && c <= 'f') {
      v = c - 'a' + 10;
    } else {
      return std::nullopt;
    }
    if (i < 14) ms = ms * 16 + v;
  }
  return ms;
}

std::string rfc2822_date(std::int64_t epoch_ms, bool with_millis) {
  static constexpr std::string_view days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr std::string_view months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  // Floor division, so that instants before 1970 still get a millisecond part in [0, 999].
  std::int64_t secs = epoch_ms / 1000;
  std::int64_t millis = epoch_ms % 1000;
  if (millis < 0) {
    millis += 1000;
    secs -= 1;
  }
  const auto t = static_cast<std::time_t>(secs);
  std::tm tm{};
  if (gmtime_r(&t, &tm) == nullptr) return {};
  std::string out;
  out.reserve(36);
  out += days[tm.tm_wday];
  out += ", ";
  append_2(out, tm.tm_mday);
  out += ' ';
  out += months[tm.tm_mon];
  out += ' ';
  json::append_int(out, std::int64_t{tm.tm_year} + 1900);
  out += ' ';
  append_2(out, tm.tm_hour);
  out += ':';
  append_2(out, tm.tm_min);
  out += ':';
  append_2(out, tm.tm_sec);
  if (with_millis) {
    out += '.';
    out += static_cast<char>('0' + millis / 100);
    append_2(out, static_cast<int>(millis % 100));
  }
  out += " +0000";
  return out;
}

void append_json(std::string& out, const trace_record& r) {
  json::writer w(out);
  w.begin_object();
  w.key("sid").value(r.sid);
  w.key("api_version").value(api_version);
  w.key("account_sid").value(r.account_sid);
  w.key("account_friendly_name").value(r.account_friendly_name);
  w.key("org_sid").value(r.org_sid);
  w.key("org_name").value(r.org_name);
  w.key("date_created").value(rfc2822_date(r.created_ms, false));
  w.key("date_created_ms").value(rfc2822_date(r.created_ms, true));
  w.key("session_sid").value(r.session_sid);
  std::string uri;
  uri.reserve(80);
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
  write_body(w, r.request.body);
  w.end_object();

  w.key("response").begin_object();
  w.key("status").begin_object();
  w.key("code").value(r.response.code);
  w.key("phrase").value(r.response.phrase);
  write_headers(w, r.response.headers);
  write_body(w, r.response.body);
  w.end_object();
  w.end_object();

  w.end_object();
}

std::string to_json(const trace_record& r) {
  std::string out;
  out.reserve(512 + r.request.body.body.size() + r.response.body.body.size());
  append_json(out, r);
  return out;
}

}  // namespace sidecar::store
