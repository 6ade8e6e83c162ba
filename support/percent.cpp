// Percent-encoding on Boost.URL (see percent.hpp).
#include "support/percent.hpp"

#include <boost/url/decode_view.hpp>
#include <boost/url/encode.hpp>
#include <boost/url/pct_string_view.hpp>
#include <boost/url/rfc/unreserved_chars.hpp>

#include "support/hex.hpp"

namespace sidecar::percent {
namespace {

namespace urls = boost::urls;

/// Whether the '%' at `at` starts a well-formed escape.
bool escape_at(std::string_view s, std::size_t at) {
  return at + 2 < s.size() && hex::value(s[at + 1]) >= 0 && hex::value(s[at + 2]) >= 0;
}

void append_decoded(std::string& out, std::string_view valid, bool plus_is_space) {
  urls::encoding_opts opt;
  opt.space_as_plus = plus_is_space;
  // `valid` holds well-formed escapes only: make_pct_string_view cannot fail on it.
  out += urls::make_pct_string_view(valid).value().decode(opt);
}

}  // namespace

std::optional<std::string> decode(std::string_view s, bool plus_is_space) {
  const auto pct = urls::make_pct_string_view(s);
  if (!pct) return std::nullopt;
  urls::encoding_opts opt;
  opt.space_as_plus = plus_is_space;
  return pct->decode(opt);
}

std::string decode_lenient(std::string_view s, bool plus_is_space) {
  // Most values (a sid, a number) hold nothing to decode.
  if (s.find('%') == std::string_view::npos &&
      (!plus_is_space || s.find('+') == std::string_view::npos)) {
    return std::string(s);
  }
  std::string out;
  out.reserve(s.size());
  std::size_t from = 0;
  for (std::size_t at = s.find('%'); at != std::string_view::npos; at = s.find('%', at + 1)) {
    if (escape_at(s, at)) continue;
    append_decoded(out, s.substr(from, at - from), plus_is_space);
    out += '%';
    from = at + 1;
  }
  append_decoded(out, s.substr(from), plus_is_space);
  return out;
}

bool decoded_equals(std::string_view raw, std::string_view decoded) {
  if (raw.find('%') == std::string_view::npos && raw.find('+') == std::string_view::npos) {
    return raw == decoded;
  }
  const auto pct = urls::make_pct_string_view(raw);
  if (!pct) return decode_lenient(raw, true) == decoded;  // a malformed escape: rare
  urls::encoding_opts opt;
  opt.space_as_plus = true;
  return urls::decode_view(*pct, opt).compare(decoded) == 0;
}

void append_query_value(std::string& out, std::string_view s) {
  static constexpr urls::grammar::lut_chars plain = urls::unreserved_chars + ':' + '/';
  out += urls::encode(s, plain);
}

}  // namespace sidecar::percent
