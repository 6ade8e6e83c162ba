// The Trace record of docs/records.md, its sid, and its JSON encoding: the one definition
// used by the producer (the store's writer, from a capture) and the reader (the API).
#pragma once

#include <cstdint>
#include <random>
#include <span>
#include <string>
#include <string_view>

#include "conf/config.hpp"
#include "store/capture.hpp"
#include "store/trace_sid.hpp"

namespace sidecar::store {

/// A recorded body: text (valid UTF-8) or base64, cut to body_limit bytes of the original.
struct recorded_body {
  std::string body;        // as it goes into the JSON "body"
  bool base64 = false;     // "body_encoding": "base64"
  bool truncated = false;  // "body_truncated": true, and then "body_size"
  std::uint64_t size = 0;  // full size of the original body in bytes
};

struct recorded_request {
  std::string path;  // path and query as sent upstream, credentials removed
  std::string url;   // full upstream URL, credentials removed
  std::string method;
  header_list headers;  // lower-case names, repeats joined with ", ", secrets redacted
  recorded_body body;
};

struct recorded_response {
  std::string code;    // "200", or "" when there was no response
  std::string phrase;  // "OK", or ""
  header_list headers;
  recorded_body body;
};

struct trace_record {
  std::string sid;  // TR + 32 lower-case hex; the first 12 are created_ms
  std::string account_sid;
  std::string account_friendly_name;
  std::string org_sid;
  std::string org_name;
  std::int64_t created_ms = 0;  // date_created, ms since the epoch (UTC)
  std::string session_sid;      // "" when none
  bool completed = false;       // "completed" or "failed"
  conf::direction direction = conf::direction::webhook;
  std::int64_t latency_ms = 0;
  recorded_request request;
  recorded_response response;
  std::string error;  // "" when the exchange ran to its end
  std::string node;   // the sidecar's [fleet] node name; "" when no [fleet] (docs/fleet.md)
  std::string replay_of;  // the sid of the record this one replays; "" when not a replay
};

/// The record as the API returns it (docs/records.md, field order as in the example).
[[nodiscard]] std::string to_json(const trace_record& r);
void append_json(std::string& out, const trace_record& r);
/// The same JSON without the response body's value (its string literal): returns where in
/// `out` that value belongs. The store keeps the body apart and puts it back there when read
/// (store/store_codec.hpp, encode_record_value).
[[nodiscard]] std::size_t append_json_without_response_body(std::string& out,
                                                            const trace_record& r);

}  // namespace sidecar::store
