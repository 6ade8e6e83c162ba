// Strict checks of a client's request head, on top of Beast's parser: Beast accepts some
// forms (obs-fold, duplicate Content-Length, unknown Transfer-Encoding) that a proxy must not
// pass on, because the upstream might frame the same bytes differently (request smuggling).
#pragma once

#include <cstddef>
#include <string_view>

#include "support/head_fields.hpp"
#include "support/net.hpp"

namespace sidecar::proxy {

/// The verdict on the bytes read so far from a client, before any parsing.
enum class head_scan_result {
  incomplete,   // no end of head yet, and still within the limit
  complete,     // head_size bytes hold a well-formed request head
  bad,          // malformed: 400
  target_long,  // the request target alone exceeds the limit: 414
  head_large,   // the head exceeds the limit: 431
};

struct head_scan {
  head_scan_result result = head_scan_result::incomplete;
  std::size_t skip = 0;       // leading empty lines to drop before the request line
  std::size_t head_size = 0;  // bytes of the head (after `skip`), final CRLF included
};

/// Scans the start of `data` for a complete request head. Every line must end in CRLF (no
/// bare LF or CR), no byte of the head may be a control byte other than HTAB in a value,
/// header names are tokens, continuation lines (obs-fold) are refused, and the request line
/// is exactly `method SP target SP HTTP/x.y`.
[[nodiscard]] head_scan scan_request_head(std::string_view data, std::size_t max_header_bytes);

/// Semantic checks after Beast has parsed the head. Normalises what can be made unambiguous
/// (identical duplicate Content-Length values become one field, leading zeros are dropped)
/// and returns false for what cannot: both Content-Length and Transfer-Encoding, a
/// Transfer-Encoding other than exactly "chunked" (or any on HTTP/1.0), a Content-Length of
/// 2^63 or more (beyond nginx's and most servers' limit), a missing or repeated Host on
/// HTTP/1.1.
[[nodiscard]] bool normalise_request_framing(head_fields& fields, unsigned version);

/// The same for an upstream's response head, once Beast has parsed it: a Transfer-Encoding of
/// only "identity" is removed (the body is then framed by Content-Length, or by the close),
/// a 204's Content-Length is removed (it has no body). Returns false for a Transfer-Encoding
/// that does not end in chunked beside a Content-Length: which one frames the body depends on
/// who reads it.
[[nodiscard]] bool normalise_response_framing(head_fields& fields, int status);

/// Whether a read error is the peer's malformed message (bad chunk, bad field...) rather than
/// a connection that ended.
[[nodiscard]] bool is_malformed_message(const beast::error_code& ec);

}  // namespace sidecar::proxy
