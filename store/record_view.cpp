// Viewing a stored record's JSON in place with simdjson's On Demand API: one pass over the
// record in the order the encoder wrote it, no DOM and no copies of its strings.
#include "store/record_view.hpp"

#include <simdjson.h>

#include <cstring>
#include <string>

#include "store/trace_sid.hpp"
#include "support/ascii.hpp"

namespace sidecar::store {
namespace {

namespace od = simdjson::ondemand;

/// The per-thread parser and the padded copy of the record it reads (On Demand may read up to
/// SIMDJSON_PADDING bytes past the end). Both grow to the largest record once.
struct thread_state {
  od::parser parser;
  std::string padded;
};

thread_state& state() {
  static thread_local thread_state s;
  return s;
}

/// A token without the whitespace On Demand counts up to the next structural character.
std::string_view trimmed(std::string_view token) {
  while (!token.empty() && (token.back() == ' ' || token.back() == '\n' || token.back() == '\r' ||
                            token.back() == '\t')) {
    token.remove_suffix(1);
  }
  return token;
}

/// The token of a string value; false when the value is not a string.
bool string_token(od::value& v, std::string_view& out) {
  od::json_type type;
  if (v.type().get(type) != simdjson::SUCCESS || type != od::json_type::string) return false;
  out = trimmed(v.raw_json_token());
  return out.size() >= 2 && out.front() == '"' && out.back() == '"';
}

/// The bytes standard base64 of `n` characters (padding included) decodes to.
std::uint64_t base64_size(std::string_view b64) {
  while (!b64.empty() && b64.back() == '=') b64.remove_suffix(1);
  const std::uint64_t n = b64.size();
  const std::uint64_t tail = n % 4 == 2 ? 1 : n % 4 == 3 ? 2 : 0;
  return n % 4 == 1 ? 0 : n / 4 * 3 + tail;
}

bool read_headers(od::value& v, std::vector<header_view>& out) {
  od::object headers;
  if (v.get_object().get(headers) != simdjson::SUCCESS) return false;
  for (auto field : headers) {
    header_view h;
    if (field.unescaped_key().get(h.name) != simdjson::SUCCESS) return false;
    od::value value;
    if (field.value().get(value) != simdjson::SUCCESS) return false;
    if (string_token(value, h.value)) out.push_back(h);  // as decode_record: strings only
  }
  return true;
}

/// One field of "request" or of "response"."status"; false on a malformed value. A field of
/// the wrong type is left at its default, as decode_record does.
bool read_message_field(std::string_view key, od::value& v, message_view& m,
                        std::string_view& body_text) {
  if (key == "method") {
    if (!string_token(v, m.method)) m.method = empty_token;
  } else if (key == "url") {
    if (!string_token(v, m.url)) {
      m.url = empty_token;
      return true;
    }
    return v.get_string().get(m.url_text) == simdjson::SUCCESS;
  } else if (key == "code") {
    if (v.get_string().get(m.code) != simdjson::SUCCESS) m.code = {};
  } else if (key == "phrase") {
    if (!string_token(v, m.phrase)) m.phrase = empty_token;
  } else if (key == "headers") {
    return read_headers(v, m.headers);
  } else if (key == "body") {
    if (!string_token(v, m.body.text)) {
      m.body.text = empty_token;
      return true;
    }
    return v.get_string().get(body_text) == simdjson::SUCCESS;
  } else if (key == "body_encoding") {
    std::string_view e;
    m.body.base64 = v.get_string().get(e) == simdjson::SUCCESS && e == "base64";
  } else if (key == "body_truncated") {
    bool t = false;
    m.body.truncated = v.get_bool().get(t) == simdjson::SUCCESS && t;
  } else if (key == "body_size") {
    std::int64_t n = 0;
    if (v.get_int64().get(n) == simdjson::SUCCESS && n > 0) {
      m.body.size = static_cast<std::uint64_t>(n);
    }
  }
  return true;  // other fields (path) are not needed
}

/// Reads a message's object: the fields of "request", or of "status" inside "response"
/// (`nested` names that object; `found` says whether it was there).
bool read_message(od::value& v, message_view& m, std::string_view nested, bool& found) {
  od::object o;
  if (v.get_object().get(o) != simdjson::SUCCESS) return false;
  std::string_view body_text;
  for (auto field : o) {
    std::string_view key;
    if (field.unescaped_key().get(key) != simdjson::SUCCESS) return false;
    od::value value;
    if (field.value().get(value) != simdjson::SUCCESS) return false;
    if (nested.empty()) {
      if (!read_message_field(key, value, m, body_text)) return false;
    } else if (key == nested) {
      bool unused = false;
      if (!read_message(value, m, {}, unused)) return false;
      found = true;
    }
  }
  if (nested.empty()) {
    found = true;
    if (!m.body.truncated) m.body.size = m.body.base64 ? base64_size(body_text) : body_text.size();
  }
  return true;
}

/// Empties `out` (the views of a previous record would dangle).
void clear_view(record_view& out) {
  out.sid = {};
  out.created_ms = 0;
  out.account_sid = out.session_sid = out.direction = empty_token;
  out.error = {};
  out.latency_ms = 0;
  for (message_view* m : {&out.request, &out.response}) {
    m->method = m->url = m->phrase = empty_token;
    m->url_text = m->code = {};
    m->headers.clear();
    m->body = {};
  }
}

/// One top-level field of the record; false when it does not decode. `request` and
/// `response` say whether those were found.
bool read_record_field(std::string_view key, od::value& v, record_view& out, bool& request,
                       bool& response) {
  if (key == "sid") return v.get_string().get(out.sid) == simdjson::SUCCESS;
  if (key == "account_sid") {
    (void)string_token(v, out.account_sid);
  } else if (key == "session_sid") {
    (void)string_token(v, out.session_sid);
  } else if (key == "direction") {
    (void)string_token(v, out.direction);
  } else if (key == "error") {
    if (!string_token(v, out.error) || out.error == empty_token) out.error = {};
  } else if (key == "latency_ms") {
    std::int64_t n = 0;
    if (v.get_int64().get(n) == simdjson::SUCCESS) out.latency_ms = n;
  } else if (key == "request") {
    return read_message(v, out.request, {}, request);
  } else if (key == "response") {
    return read_message(v, out.response, "status", response);
  }
  return true;
}

}  // namespace

bool view_record(std::string_view json, record_view& out) {
  clear_view(out);
  thread_state& s = state();
  s.padded.assign(json);
  s.padded.reserve(json.size() + simdjson::SIMDJSON_PADDING);
  od::document doc;
  if (s.parser.iterate(s.padded.data(), json.size(), s.padded.capacity()).get(doc) !=
      simdjson::SUCCESS) {
    return false;
  }
  od::object o;
  if (doc.get_object().get(o) != simdjson::SUCCESS) return false;
  bool request = false, response = false;
  for (auto field : o) {
    std::string_view key;
    if (field.unescaped_key().get(key) != simdjson::SUCCESS) return false;
    od::value v;
    if (field.value().get(v) != simdjson::SUCCESS) return false;
    if (!read_record_field(key, v, out, request, response)) return false;
  }
  if (!request || !response) return false;
  const auto created = sid_time_ms(out.sid);
  if (!created) return false;
  out.created_ms = *created;
  return true;
}

std::string_view header_token(const std::vector<header_view>& headers, std::string_view name) {
  for (const auto& h : headers) {
    if (ascii::iequals(h.name, name)) return h.value;
  }
  return {};
}

}  // namespace sidecar::store
