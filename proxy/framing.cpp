// Strict request-head checks: see framing.hpp for why they exist beside Beast's parser.
#include "proxy/framing.hpp"

#include <charconv>
#include <cstdint>
#include <limits>
#include <string>

#include "support/ascii.hpp"
#include "support/head_syntax.hpp"

namespace sidecar::proxy {

namespace {

using head_syntax::is_token;
using head_syntax::next_control_byte;

// method SP request-target SP HTTP-version, nothing else. The line holds no control byte but
// HTAB (scan_request_head refused any other before calling this).
bool valid_request_line(std::string_view line, std::size_t max_header_bytes, bool& target_long) {
  const auto sp1 = line.find(' ');
  if (sp1 == std::string_view::npos || sp1 == 0 || !is_token(line.substr(0, sp1))) return false;
  const auto sp2 = line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || sp2 == sp1 + 1) return false;
  if (sp2 - sp1 - 1 > max_header_bytes) {
    target_long = true;
    return false;
  }
  // Visible characters only: with spaces and control bytes out already, a tab is what is left.
  if (line.substr(sp1 + 1, sp2 - sp1 - 1).find('\t') != std::string_view::npos) return false;
  const std::string_view version = line.substr(sp2 + 1);
  return version.size() == 8 && version.starts_with("HTTP/1.") &&
         (version[7] == '0' || version[7] == '1');
}

// name ":" value. The value's bytes need no check here: scan_request_head refused every
// control byte but HTAB before calling this.
bool valid_field_line(std::string_view line) {
  const auto colon = line.find(':');
  return colon != std::string_view::npos && colon != 0 && is_token(line.substr(0, colon));
}

// RFC 9112 2.2: a server SHOULD ignore at least one empty line before the request line (some
// clients send a CRLF after a POST body). Advances `skip` past them; false past four.
bool skip_empty_lines(std::string_view data, std::size_t& skip) {
  while (data.size() - skip >= 2 && data[skip] == '\r' && data[skip + 1] == '\n') {
    skip += 2;
    if (skip > 8) return false;
  }
  return true;
}

// A byte that may not appear in a head outside a line's CRLF: a bare LF, NUL or another
// control byte (HTAB is allowed, in values).
bool is_forbidden_head_byte(unsigned char c) { return (c < 0x20 && c != '\t') || c == 0x7f; }

enum class line_verdict { next, end_of_head, bad, target_long };

// One CRLF-ended line of the head (CRLF excluded): the request line first, then field lines
// until the empty one.
line_verdict check_head_line(std::string_view line, bool first_line, std::size_t max_header_bytes) {
  if (first_line) {
    bool target_long = false;
    if (valid_request_line(line, max_header_bytes, target_long)) return line_verdict::next;
    return target_long ? line_verdict::target_long : line_verdict::bad;
  }
  if (line.empty()) return line_verdict::end_of_head;
  if (line.front() == ' ' || line.front() == '\t') return line_verdict::bad;  // obs-fold
  return valid_field_line(line) ? line_verdict::next : line_verdict::bad;
}

// The framing fields of a parsed request head, counted.
struct framing_fields {
  std::size_t content_lengths = 0;
  bool content_length_list = false;  // a value holds a comma
  std::string_view first_length;
  std::size_t transfer_encodings = 0;
  std::string_view transfer_encoding;  // the last one
  std::size_t hosts = 0;
};

framing_fields count_framing_fields(const head_fields& fields) {
  framing_fields out;
  for (const auto& f : fields) {
    switch (f.name()) {
      case http::field::content_length:
        if (out.content_lengths++ == 0) out.first_length = f.value();
        if (f.value().find(',') != std::string_view::npos) out.content_length_list = true;
        break;
      case http::field::transfer_encoding:
        ++out.transfer_encodings;
        out.transfer_encoding = f.value();
        break;
      case http::field::host:
        ++out.hosts;
        break;
      default:
        break;
    }
  }
  return out;
}

// Only one Transfer-Encoding, exactly "chunked", on HTTP/1.1, without a Content-Length.
bool transfer_encoding_acceptable(const framing_fields& ff, unsigned version) {
  if (ff.transfer_encodings == 0) return true;
  if (ff.content_lengths > 0 || version < 11 || ff.transfer_encodings > 1) return false;
  const std::string_view te = ascii::trim(ff.transfer_encoding);
  return te.size() == 7 && beast::iequals(te, "chunked");
}

// Exactly one Host on HTTP/1.1, at most one on HTTP/1.0.
bool host_acceptable(const framing_fields& ff, unsigned version) {
  if (version >= 11 && ff.hosts != 1) return false;
  return ff.hosts <= 1;
}

// Beast has checked that every Content-Length value is the same number: forward it once, as
// digits without leading zeros. False for a value that is not a number below 2^63.
bool canonicalise_content_length(head_fields& fields, const framing_fields& ff) {
  const std::string_view v = ascii::trim(ff.first_length.substr(0, ff.first_length.find(',')));
  std::uint64_t length = 0;
  const auto [end, err] = std::from_chars(v.data(), v.data() + v.size(), length);
  if (err != std::errc() || end != v.data() + v.size()) return false;
  if (length > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) return false;
  const std::string canonical = std::to_string(length);
  if (ff.content_lengths > 1 || ff.content_length_list || canonical != ff.first_length) {
    fields.erase(http::field::content_length);
    fields.set(http::field::content_length, canonical);
  }
  return true;
}

}  // namespace

head_scan scan_request_head(std::string_view data, std::size_t max_header_bytes) {
  head_scan scan;
  if (!skip_empty_lines(data, scan.skip)) {
    scan.result = head_scan_result::bad;
    return scan;
  }
  data.remove_prefix(scan.skip);

  std::size_t line_start = 0;
  bool first_line = true;
  for (std::size_t i = next_control_byte(data, 0); i < data.size();
       i = next_control_byte(data, i + 1)) {
    const auto c = static_cast<unsigned char>(data[i]);
    if (c != '\r') {
      if (!is_forbidden_head_byte(c)) continue;  // a tab
      scan.result = head_scan_result::bad;
      return scan;
    }
    if (i + 1 == data.size()) break;  // the LF has not arrived yet
    if (data[i + 1] != '\n') {
      scan.result = head_scan_result::bad;  // a bare CR
      return scan;
    }
    const std::string_view line = data.substr(line_start, i - line_start);
    switch (check_head_line(line, first_line, max_header_bytes)) {
      case line_verdict::next:
        break;
      case line_verdict::end_of_head:
        scan.head_size = i + 2;
        scan.result = scan.head_size > max_header_bytes ? head_scan_result::head_large
                                                        : head_scan_result::complete;
        return scan;
      case line_verdict::bad:
        scan.result = head_scan_result::bad;
        return scan;
      case line_verdict::target_long:
        scan.result = head_scan_result::target_long;
        return scan;
    }
    first_line = false;
    ++i;
    line_start = i + 1;
  }
  if (data.size() > max_header_bytes) {
    // Still inside the request line: the target is what is too long.
    scan.result = first_line ? head_scan_result::target_long : head_scan_result::head_large;
  }
  return scan;
}

bool normalise_request_framing(head_fields& fields, unsigned version) {
  const framing_fields ff = count_framing_fields(fields);
  if (!transfer_encoding_acceptable(ff, version) || !host_acceptable(ff, version)) return false;
  return ff.content_lengths == 0 || canonicalise_content_length(fields, ff);
}

bool normalise_response_framing(head_fields& fields, int status) {
  const auto te = fields.find(http::field::transfer_encoding);
  if (te != fields.end()) {
    bool all_identity = true;
    std::string_view last;
    for (auto token : http::token_list{te->value()}) {
      all_identity = all_identity && beast::iequals(token, "identity");
      last = token;
    }
    if (all_identity) {
      fields.erase(http::field::transfer_encoding);
    } else if (!beast::iequals(last, "chunked") &&
               fields.find(http::field::content_length) != fields.end()) {
      return false;
    }
  }
  if (status == 204) fields.erase(http::field::content_length);
  return true;
}

bool is_malformed_message(const beast::error_code& ec) {
  static const auto& http_errors = beast::error_code(http::error::bad_chunk).category();
  return ec.category() == http_errors && ec != http::error::partial_message &&
         ec != http::error::end_of_stream && ec != http::error::need_more &&
         ec != http::error::need_buffer;
}

}  // namespace sidecar::proxy
