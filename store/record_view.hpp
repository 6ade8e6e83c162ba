// A stored record's JSON read in place (docs/api.md, "Performance"): its fields as views into
// the JSON, strings mostly as their encoded tokens (quotes and escapes as support/json.hpp wrote
// them), so that a renderer of another form (HAR) copies them out without decoding and
// escaping them again. decode_record (store/record_decode.hpp) is the owning alternative.
//
//   store::record_view v;
//   if (store::view_record(json, v)) out.append(v.request.method);   // "POST", quotes included
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

namespace sidecar::store {

/// A JSON token standing for "" (a field the record does not hold).
inline constexpr std::string_view empty_token = "\"\"";

struct body_view {
  std::string_view text = empty_token;  // the body's token
  bool base64 = false;
  bool truncated = false;
  std::uint64_t size = 0;  // the recorded size: body_size when cut, else the bytes of the body
};

struct header_view {
  std::string_view name;   // decoded (it still needs escaping)
  std::string_view value;  // the token
};

struct message_view {
  std::string_view method = empty_token;  // token (request)
  std::string_view url = empty_token;     // token (request)
  std::string_view url_text;              // decoded (request)
  std::string_view code;                  // decoded (response)
  std::string_view phrase = empty_token;  // token (response)
  std::vector<header_view> headers;
  body_view body;
};

/// Every view points into storage of the calling thread that the next view_record on the same
/// thread reuses: read it before viewing the next record.
struct record_view {
  std::string_view sid;  // decoded
  std::int64_t created_ms = 0;
  std::string_view account_sid = empty_token;  // tokens, from here on
  std::string_view session_sid = empty_token;
  std::string_view direction = empty_token;
  std::string_view error;  // empty when the record has none
  std::int64_t latency_ms = 0;
  message_view request;
  message_view response;
};

/// Views the record `json` encodes (the output of to_json) into `out` (its vectors reused);
/// false when it is not a record.
[[nodiscard]] bool view_record(std::string_view json, record_view& out);

/// The value of the header `name` (lower case) as a token; empty when there is none.
[[nodiscard]] std::string_view header_token(const std::vector<header_view>& headers,
                                            std::string_view name);

}  // namespace sidecar::store
