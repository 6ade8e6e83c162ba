// Decoding a stored record's JSON with simdjson (DOM: a record is read whole, once).
#include "store/record_decode.hpp"

#include <simdjson.h>

#include "support/text.hpp"
#include "support/base64.hpp"

namespace sidecar::store {
namespace {

using simdjson::dom::element;
using simdjson::dom::object;

/// One parser per thread: its buffers grow to the largest record once and are reused.
simdjson::dom::parser& thread_parser() {
  static thread_local simdjson::dom::parser parser;
  return parser;
}

std::string text_of(const object& o, std::string_view key) {
  std::string_view s;
  if (o[key].get_string().get(s) != simdjson::SUCCESS) return {};
  return std::string(s);
}

std::int64_t int_of(const object& o, std::string_view key) {
  std::int64_t v = 0;
  if (o[key].get_int64().get(v) != simdjson::SUCCESS) return 0;
  return v;
}

bool flag_of(const object& o, std::string_view key) {
  bool v = false;
  if (o[key].get_bool().get(v) != simdjson::SUCCESS) return false;
  return v;
}

header_list headers_of(const object& o) {
  header_list out;
  object h;
  if (o["headers"].get_object().get(h) != simdjson::SUCCESS) return out;
  for (const auto field : h) {
    std::string_view v;
    if (field.value.get_string().get(v) != simdjson::SUCCESS) continue;
    out.emplace_back(std::string(field.key), std::string(v));
  }
  return out;
}

recorded_body body_of(const object& o) {
  recorded_body b;
  b.body = text_of(o, "body");
  std::string_view encoding;
  b.base64 =
      o["body_encoding"].get_string().get(encoding) == simdjson::SUCCESS && encoding == "base64";
  b.truncated = flag_of(o, "body_truncated");
  if (b.truncated) {
    b.size = static_cast<std::uint64_t>(int_of(o, "body_size"));
  } else if (b.base64) {
    const auto raw = base64::decode(b.body);
    b.size = raw ? raw->size() : 0;
  } else {
    b.size = b.body.size();
  }
  return b;
}

}  // namespace

std::optional<trace_record> decode_record(std::string_view json) {
  element doc;
  if (thread_parser().parse(json.data(), json.size()).get(doc) != simdjson::SUCCESS) {
    return std::nullopt;
  }
  object o, req, res, status;
  if (doc.get_object().get(o) != simdjson::SUCCESS ||
      o["request"].get_object().get(req) != simdjson::SUCCESS ||
      o["response"].get_object().get(res) != simdjson::SUCCESS ||
      res["status"].get_object().get(status) != simdjson::SUCCESS) {
    return std::nullopt;
  }
  trace_record r;
  r.sid = text_of(o, "sid");
  const auto created = sid_time_ms(r.sid);
  if (!created) return std::nullopt;
  r.created_ms = *created;
  r.account_sid = text_of(o, "account_sid");
  r.account_friendly_name = text_of(o, "account_friendly_name");
  r.org_sid = text_of(o, "org_sid");
  r.org_name = text_of(o, "org_name");
  r.session_sid = text_of(o, "session_sid");
  r.completed = text_of(o, "status") == "completed";
  r.direction = text_of(o, "direction") == "api" ? conf::direction::api : conf::direction::webhook;
  r.latency_ms = int_of(o, "latency_ms");
  r.error = text_of(o, "error");
  r.node = text_of(o, "node");
  r.replay_of = text_of(o, "replay_of");  // absent from records written before replay existed
  r.request.path = text_of(req, "path");
  r.request.url = text_of(req, "url");
  r.request.method = text_of(req, "method");
  r.request.headers = headers_of(req);
  r.request.body = body_of(req);
  r.response.code = text_of(status, "code");
  r.response.phrase = text_of(status, "phrase");
  r.response.headers = headers_of(status);
  r.response.body = body_of(status);
  return r;
}

bool decode_request_parts(std::string_view json, std::string& method, std::string& body) {
  element doc;
  object req;
  if (thread_parser().parse(json.data(), json.size()).get(doc) != simdjson::SUCCESS ||
      doc["request"].get_object().get(req) != simdjson::SUCCESS) {
    return false;
  }
  method = text_of(req, "method");
  body = text_of(req, "body");
  return true;
}

std::string decode_session_sid(std::string_view json) {
  // On Demand stops at the field (the encoder writes it near the start): a purge reads one
  // per record it deletes.
  static thread_local simdjson::ondemand::parser parser;
  static thread_local std::string padded;
  padded.assign(json);
  padded.reserve(json.size() + simdjson::SIMDJSON_PADDING);
  simdjson::ondemand::document doc;
  std::string_view session;
  if (parser.iterate(padded.data(), json.size(), padded.capacity()).get(doc) != simdjson::SUCCESS ||
      doc["session_sid"].get_string().get(session) != simdjson::SUCCESS) {
    return {};
  }
  return std::string(session);
}

}  // namespace sidecar::store
