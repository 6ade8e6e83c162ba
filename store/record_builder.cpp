// Capture -> trace record, by the rules of docs/records.md. Runs on the store's writer
// thread; the capture holds raw bytes from the network, so nothing here trusts its input.
#include "store/record_builder.hpp"

#include <openssl/rand.h>
#include <simdjson.h>
#include <zlib.h>

#include <algorithm>
#include <array>
#include <optional>
#include <stdexcept>
#include <unordered_map>
#include <utility>

#include "store/redact.hpp"
#include "support/ascii.hpp"
#include "support/base64.hpp"
#include "support/percent.hpp"
#include "support/text.hpp"

namespace sidecar::store {

namespace {

using namespace std::literals;

using ascii::iends_with;
using ascii::iequals;
using ascii::istarts_with;
using ascii::to_lower;
using ascii::trim;

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

char first_non_space(std::string_view s) {
  for (const char c : s) {
    if (!is_space(c)) return c;
  }
  return '\0';
}

/// The first value of a header (case-insensitive name), or nullopt.
std::optional<std::string_view> find_header(const field_list& headers, std::string_view name) {
  for (const auto& [n, v] : headers) {
    if (iequals(n, name)) return v;
  }
  return std::nullopt;
}

// --- URLs -------------------------------------------------------------------------------

/// The target sent upstream, split: the proxy says where it starts in the URL, so only the
/// query (and a fragment, which a client may send) remains to find. By hand, not with a strict
/// parser: a target may hold any bytes, and one that a parser refuses would leave nothing to
/// record.
struct target_parts {
  std::string_view path;   // "/a/b"
  std::string_view query;  // without '?'; empty when none
  bool has_query = false;
};

target_parts split_target(std::string_view target) {
  target_parts p;
  target = target.substr(0, std::min(target.find('#'), target.size()));
  const auto q = target.find('?');
  p.path = target.substr(0, std::min(q, target.size()));
  if (q != std::string_view::npos) {
    p.has_query = true;
    p.query = target.substr(q + 1);
  }
  return p;
}

/// The value of `name` (exact, after percent-decoding) in a query string.
std::optional<std::string> query_value(std::string_view query, std::string_view name) {
  std::size_t i = 0;
  while (i <= query.size()) {
    const auto amp = query.find('&', i);
    const bool last = amp == std::string_view::npos;
    const std::string_view pair = query.substr(i, last ? query.size() - i : amp - i);
    const auto eq = pair.find('=');
    if (eq != std::string_view::npos && percent::decoded_equals(pair.substr(0, eq), name)) {
      return percent::decode_lenient(pair.substr(eq + 1), true);
    }
    if (last) break;
    i = amp + 1;
  }
  return std::nullopt;
}

/// The path segment after `marker` ("/Accounts/"), without a .json or .xml suffix.
std::string segment_after(std::string_view path, std::string_view marker) {
  const auto at = path.find(marker);
  if (at == std::string_view::npos) return {};
  std::string_view seg = path.substr(at + marker.size());
  seg = seg.substr(0, std::min(seg.find('/'), seg.size()));
  if (iends_with(seg, ".json")) {
    seg.remove_suffix(5);
  } else if (iends_with(seg, ".xml")) {
    seg.remove_suffix(4);
  }
  return std::string(seg);
}

/// The user name of a Basic Authorization header, or "".
std::string basic_user(const field_list& headers) {
  const auto auth = find_header(headers, "authorization");
  if (!auth) return {};
  std::string_view v = trim(*auth);
  if (!istarts_with(v, "basic ")) return {};
  const auto decoded = base64::decode(trim(v.substr(6)));
  if (!decoded) return {};
  return decoded->substr(0, std::min(decoded->find(':'), decoded->size()));
}

// --- bodies ------------------------------------------------------------------------------

struct content_info {
  std::string type;      // lower case "type/subtype", "" when none
  std::string charset;   // lower case, unquoted, "" when none
  bool encoded = false;  // a Content-Encoding other than identity
  std::string coding;    // that coding, lower case, when it is the only one ("gzip")
};

/// The charset parameter of a Content-Type's parameters ("" when none), lower case, unquoted.
std::string charset_param(std::string_view params) {
  std::string charset;
  while (!params.empty()) {
    const auto next = params.find(';');
    const std::string_view param = trim(params.substr(0, std::min(next, params.size())));
    params = next == std::string_view::npos ? ""sv : params.substr(next + 1);
    if (const auto eq = param.find('=');
        eq != std::string_view::npos && iequals(trim(param.substr(0, eq)), "charset")) {
      std::string_view cs = trim(param.substr(eq + 1));
      if (cs.size() >= 2 && cs.front() == '"' && cs.back() == '"') cs = cs.substr(1, cs.size() - 2);
      charset = to_lower(cs);
    }
  }
  return charset;
}

/// The codings of one Content-Encoding value into `ci` (identity is none).
void add_codings(std::string_view list, content_info& ci) {
  while (!list.empty()) {
    const auto comma = list.find(',');
    const std::string_view coding = trim(list.substr(0, std::min(comma, list.size())));
    if (!coding.empty() && !iequals(coding, "identity")) {
      ci.coding = ci.encoded ? std::string() : to_lower(coding);  // several: none named
      ci.encoded = true;
    }
    list = comma == std::string_view::npos ? ""sv : list.substr(comma + 1);
  }
}

content_info content_of(const field_list& headers) {
  content_info ci;
  if (const auto ct = find_header(headers, "content-type")) {
    const std::string_view v = *ct;
    const auto semi = v.find(';');
    ci.type = to_lower(trim(v.substr(0, std::min(semi, v.size()))));
    if (semi != std::string_view::npos) ci.charset = charset_param(v.substr(semi + 1));
  }
  for (const auto& [n, v] : headers) {
    if (iequals(n, "content-encoding")) add_codings(v, ci);
  }
  return ci;
}

bool is_form_type(std::string_view t) { return t == "application/x-www-form-urlencoded"; }
bool is_json_type(std::string_view t) {
  return t == "application/json" || (t.starts_with("application/") && t.ends_with("+json"));
}
bool is_xml_type(std::string_view t) {
  return t == "application/xml" || t == "text/xml" ||
         (t.starts_with("application/") && t.ends_with("+xml"));
}
bool is_text_type(std::string_view t) {
  return t.starts_with("text/") || is_json_type(t) || is_xml_type(t) || is_form_type(t) ||
         t == "application/javascript";
}
bool is_text_charset(std::string_view cs) {
  return cs.empty() || cs == "utf-8" || cs == "utf8" || cs == "us-ascii" || cs == "ascii";
}
// Charsets in which ASCII field names are not ASCII bytes: no textual redaction can work.
bool is_wide_charset(std::string_view cs) {
  return cs.starts_with("utf-16") || cs.starts_with("utf-32") || cs.starts_with("ucs-") ||
         cs.starts_with("utf-7") || cs.starts_with("utf16") || cs.starts_with("utf32");
}

enum class structure : std::uint8_t { none, form, json, xml };

// Which redaction a body needs: by its declared type, else by a look at its first byte
// (a secret does not stop being one because the Content-Type is missing or wrong).
structure structure_of(const content_info& ci, std::string_view body) {
  if (is_form_type(ci.type)) return structure::form;
  if (is_json_type(ci.type)) return structure::json;
  if (is_xml_type(ci.type)) return structure::xml;
  const char first = first_non_space(body);
  if (first == '{' || first == '[') return structure::json;
  if (first == '<') return structure::xml;
  if (ci.type.empty()) return structure::form;
  return structure::none;
}

/// Appends `body` redacted by its structure to `out`; false (nothing appended) for none.
bool redact_into(std::string& out, structure kind, std::string_view body,
                 const redact::secret_fields& secrets) {
  switch (kind) {
    case structure::form:
      redact::append_form(out, body, secrets);
      return true;
    case structure::json:
      redact::append_json(out, body, secrets);
      return true;
    case structure::xml:
      redact::append_xml(out, body, secrets);
      return true;
    case structure::none:
      break;
  }
  return false;
}

// Past this many inflated bytes a compressed body is not inspected further (and not kept).
constexpr std::size_t max_inflated = 16u << 20;

/// The start of a gzip or deflate (zlib) body, inflated as far as the bytes at hand go; nullopt
/// for another coding, corrupt data, more than max_inflated bytes, or data after the end of
/// the compressed stream (a second gzip member would go unchecked).
std::optional<std::string> inflate_prefix(std::string_view in, std::string_view coding) {
  if (coding != "gzip" && coding != "x-gzip" && coding != "deflate") return std::nullopt;
  z_stream zs{};
  if (inflateInit2(&zs, 32 + MAX_WBITS) != Z_OK) return std::nullopt;  // gzip or zlib header
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  std::string out;
  std::array<char, 16384> buf{};
  bool ok = false;
  for (;;) {
    zs.next_out = reinterpret_cast<Bytef*>(buf.data());
    zs.avail_out = static_cast<uInt>(buf.size());
    const int rc = inflate(&zs, Z_NO_FLUSH);
    out.append(buf.data(), buf.size() - zs.avail_out);
    if (out.size() > max_inflated) break;
    if (rc == Z_STREAM_END) {
      ok = zs.avail_in == 0;
      break;
    }
    // The input ran out (a body cut at body_limit): what it held is inflated.
    if (rc == Z_BUF_ERROR || (rc == Z_OK && zs.avail_in == 0 && zs.avail_out != 0)) {
      ok = true;
      break;
    }
    if (rc != Z_OK) break;  // corrupt
  }
  inflateEnd(&zs);
  if (!ok) return std::nullopt;
  return out;
}

std::size_t count_of(std::string_view text, std::string_view what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string_view::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

/// Whether a compressed JSON, form or XML body holds no secret field, so that its bytes may be
/// kept as they are (base64): it is inflated and redacted, and redaction must find nothing.
bool compressed_without_secrets(std::string_view head, const content_info& ci,
                                const redact::secret_fields& secrets) {
  const auto plain = inflate_prefix(head, ci.coding);
  if (!plain) return false;
  std::string redacted;
  redact_into(redacted, structure_of(ci, *plain), *plain, secrets);  // by the declared type
  constexpr std::string_view mark = "[REDACTED]";
  return count_of(redacted, mark) == count_of(*plain, mark);
}

/// The recorded body into `rb`, whose text's capacity (the record's before) is reused.
void make_body(const captured_body& cb, const field_list& headers, bool capture_bodies,
               std::size_t limit, const redact::secret_fields& secrets, recorded_body& rb) {
  rb.body.clear();
  rb.base64 = false;
  rb.size = std::max<std::uint64_t>(cb.size, cb.head.size());
  if (!capture_bodies) {
    rb.truncated = rb.size > 0;  // nothing kept of a body that existed
    return;
  }
  std::string_view head = std::string_view(cb.head).substr(0, limit);
  rb.truncated = rb.size > head.size();

  const content_info ci = content_of(headers);
  const bool declared_structured =
      is_form_type(ci.type) || is_json_type(ci.type) || is_xml_type(ci.type);
  if (!head.empty() && declared_structured && (ci.encoded || is_wide_charset(ci.charset))) {
    // A compressed body is kept as its original bytes (base64, docs/records.md) once it is
    // known to hold no secret field. One that does, or that cannot be read (an unknown coding,
    // UTF-16/32), cannot be redacted in place: it is not kept, rather than stored with them.
    const bool checked =
        ci.encoded && !is_wide_charset(ci.charset) && compressed_without_secrets(head, ci, secrets);
    if (!checked) {
      rb.truncated = true;
      return;
    }
  }
  const bool text = !ci.encoded && is_text_charset(ci.charset) &&
                    (ci.type.empty() ? (rb.truncated ? text::is_valid_utf8_prefix(head)
                                                     : text::is_valid_utf8(head))
                                     : is_text_type(ci.type));
  if (text && rb.truncated) head.remove_suffix(text::incomplete_tail(head));

  // A text body is redacted straight into the record (and kept as it is when the result is
  // valid UTF-8, as nearly every one is); a binary one is redacted aside, then base64-encoded.
  std::string aside;
  std::string& redacted = text ? rb.body : aside;
  const bool structured =
      !ci.encoded && redact_into(redacted, structure_of(ci, head), head, secrets);
  const std::string_view kept = structured ? std::string_view(redacted) : head;
  if (text) {
    if (!structured) {
      text::append_utf8(rb.body, head);
    } else if (!text::is_valid_utf8(rb.body)) {
      const std::string raw = std::exchange(rb.body, {});
      text::append_utf8(rb.body, raw);
    }
  } else if (!kept.empty()) {
    base64::append_encoded(rb.body, kept);
    rb.base64 = true;
  }
}

// --- headers -----------------------------------------------------------------------------

/// The place of `name` among the first `used` entries of `out`, or `used`: a linear search
/// while `index` is empty (a head of few fields), else the map.
std::size_t place_of(const header_list& out, std::size_t used, std::string_view name,
                     const std::unordered_map<std::string_view, std::size_t>& index) {
  if (index.empty()) {
    const auto end = out.begin() + static_cast<std::ptrdiff_t>(used);
    const auto it = std::find_if(out.begin(), end, [&](const auto& h) { return h.first == name; });
    return static_cast<std::size_t>(it - out.begin());
  }
  const auto it = index.find(name);
  return it == index.end() ? used : it->second;
}

/// The next entry of `out` to fill: one left from the record this list held before (its
/// strings keep their capacity), else a new one.
std::pair<std::string, std::string>& next_entry(header_list& out, std::size_t used) {
  return used < out.size() ? out[used] : out.emplace_back();
}

/// A field's value into a record's: redacted when its (lower-case) name is a secret one.
void append_value(std::string& out, std::string_view lname, std::string_view value,
                  const std::vector<std::string>& redact_headers) {
  if (!redact::is_secret_header(lname, redact_headers)) {
    out += value;
    return;
  }
  const bool scheme = lname == "authorization" || lname == "proxy-authorization";
  out += redact::header_value(value, scheme);
}

/// One bit per (length, last byte) of a name, letter case aside.
std::uint64_t name_bit(std::string_view name) {
  const unsigned last = name.empty() ? 0u : static_cast<unsigned char>(ascii::lower(name.back()));
  return std::uint64_t{1} << ((name.size() * 7 + last) & 63);
}

/// The record's headers into `out`, reusing the entries (and their strings' capacity) of the
/// record it held before: lower-case names, repeats joined with ", ", secrets redacted.
void make_headers(const field_list& in, const std::vector<std::string>& redact_headers,
                  header_list& out) {
  if (out.capacity() < in.size()) out.reserve(in.size());
  std::size_t used = 0;
  // Name -> index in `out`, once there are enough headers for a linear search to matter: a
  // head of max_header_bytes can hold thousands of tiny fields.
  constexpr std::size_t linear_limit = 32;
  std::unordered_map<std::string_view, std::size_t> index;
  // The name bits so far: a name whose bit is clear is not a repeat, and most heads have no
  // repeat at all, so most names are never searched for (nor lower-cased aside).
  std::uint64_t seen = 0;
  std::string lowered;
  for (const auto& [name, value] : in) {
    const std::uint64_t bit = name_bit(name);
    std::size_t at = used;
    if ((seen & bit) != 0) {
      ascii::assign_lower(lowered, name);
      at = place_of(out, used, lowered, index);
    }
    seen |= bit;
    if (at != used) {
      out[at].second += ", ";
      append_value(out[at].second, out[at].first, value, redact_headers);
      continue;
    }
    auto& [lname, v] = next_entry(out, used);
    ascii::assign_lower(lname, name);
    v.clear();
    append_value(v, lname, value, redact_headers);
    ++used;
    if (used == linear_limit + 1) {
      // Switching to the map: index everything so far. The names live in `out`, whose
      // capacity was reserved above, so the views stay valid.
      for (std::size_t k = 0; k < used; ++k) index.emplace(out[k].first, k);
    } else if (used > linear_limit + 1) {
      index.emplace(out[used - 1].first, used - 1);
    }
  }
  out.resize(used);
}

// --- the session of an api exchange found in its response --------------------------------

std::string json_sid(std::string_view body) {
  // simdjson needs padding after the text: copy it (a response head is at most body_limit).
  static thread_local simdjson::ondemand::parser parser;
  const simdjson::padded_string padded(body);
  simdjson::ondemand::document doc;
  if (parser.iterate(padded).get(doc) != simdjson::SUCCESS) return {};
  simdjson::ondemand::object obj;
  if (doc.get_object().get(obj) != simdjson::SUCCESS) return {};
  std::string_view sid;
  if (obj["sid"].get_string().get(sid) != simdjson::SUCCESS) return {};
  return std::string(sid);
}

std::string xml_sid(std::string_view body) {
  const auto open = body.find("<Sid>");
  if (open == std::string_view::npos) return {};
  const auto start = open + 5;
  const auto close = body.find('<', start);
  if (close == std::string_view::npos || body.substr(close, 6) != "</Sid>") return {};
  return std::string(trim(body.substr(start, close - start)));
}

std::string response_sid(const capture& c) {
  const std::string_view body = c.response_body.head;
  const content_info ci = content_of(c.response_headers);
  if (body.empty() || ci.encoded) return {};
  const char first = first_non_space(body);
  if (first == '{' || is_json_type(ci.type)) return json_sid(body);
  if (first == '<' || is_xml_type(ci.type)) return xml_sid(body);
  return {};
}

std::string_view default_phrase(int code) {
  switch (code) {
    case 502:
      return "Bad Gateway";
    case 504:
      return "Gateway Timeout";
    default:
      return "";
  }
}

// --- the steps of build ---------------------------------------------------------------

/// A parameter of the exchange: from the URL's query, else from a form body as the proxy
/// scanned all of it (the kept head may be cut, or empty), or from the whole form body that
/// the head holds and the proxy left to scan here.
class exchange_parameters {
 public:
  exchange_parameters(const capture& c, const target_parts& target) : target_(target) {
    if (c.request_form) {
      form_ = &*c.request_form;
    } else if (c.request_form_in_head) {
      scanned_ = scan_form(c.request_body.head);
      form_ = &scanned_;
    }
  }
  exchange_parameters(const exchange_parameters&) = delete;  // form_ may point at scanned_
  exchange_parameters& operator=(const exchange_parameters&) = delete;

  /// The value, valid until the next call.
  std::optional<std::string_view> operator()(std::string_view name) const {
    if (target_.has_query) {
      if (auto v = query_value(target_.query, name)) {
        decoded_ = std::move(*v);
        return decoded_;
      }
    }
    if (form_ != nullptr) {
      if (const auto& v = *form_->find(name)) return std::string_view(*v);
    }
    return std::nullopt;
  }

 private:
  const target_parts& target_;
  mutable std::string decoded_;  // a query's value, percent-decoded
  form_attribution scanned_;
  const form_attribution* form_ = nullptr;
};

/// Attribution: the first source that names an account decides (no fallback past an account
/// that is unknown or not traced). Into `account_sid`, whose capacity is reused.
void attribute_account(std::string& account_sid, const capture& c, const target_parts& target,
                       const exchange_parameters& parameter) {
  account_sid.clear();
  if (c.direction == conf::direction::webhook) {
    if (const auto v = parameter("AccountSid")) account_sid.assign(*v);
  } else {
    // Only an AC... user name names an account (Restcomm also accepts an e-mail address as
    // the Basic user; that falls through to the route's account).
    account_sid = segment_after(target.path, "/Accounts/");
    if (!account_sid.starts_with("AC")) account_sid = basic_user(c.request_headers);
    if (!account_sid.starts_with("AC")) account_sid.clear();
  }
  if (account_sid.empty()) account_sid = c.route_account;
  if (c.replay) account_sid = c.replay->account_sid;  // a replay stays with its original
}

/// The traced account of `account_sid`, or null with the reason it is skipped in `skipped`.
const conf::account* traced_account(const conf::config& cfg, std::string_view account_sid,
                                    std::optional<skip_reason>& skipped) {
  if (account_sid.empty()) {
    skipped = skip_reason::no_account;
    return nullptr;
  }
  const conf::account* account = cfg.find_account(account_sid);
  if (account == nullptr) {
    skipped = skip_reason::unknown_account;
    return nullptr;
  }
  if (!account->traces) {
    skipped = skip_reason::traces_not_enabled;
    return nullptr;
  }
  return account;
}

/// The session (call or message) the exchange belongs to: a webhook's parameters, a REST
/// call's path, else the sid in its response. Into `sid`, whose capacity is reused.
void set_session(std::string& sid, const capture& c, const target_parts& target,
                 const exchange_parameters& parameter) {
  sid.clear();
  if (c.direction == conf::direction::webhook) {
    for (const std::string_view name : {"CallSid"sv, "MessageSid"sv, "SmsSid"sv}) {
      if (const auto v = parameter(name); v && !v->empty()) {
        sid.assign(*v);
        return;
      }
    }
    return;
  }
  for (const std::string_view marker : {"/Calls/"sv, "/SMS/Messages/"sv, "/Messages/"sv}) {
    sid = segment_after(target.path, marker);
    if (!sid.empty()) return;
  }
  sid = response_sid(c);
}

/// Whether the exchange completed, and what failed when it did not.
void set_outcome(trace_record& r, const capture& c) {
  const bool ran_to_end = c.error == exchange_error::none;
  r.completed =
      ran_to_end && !c.sidecar_answered &&
      ((c.status_code >= 200 && c.status_code < 300) || (c.status_code == 101 && c.upgraded));
  r.error = describe(c.error);
  if (r.error.empty() && c.sidecar_answered) r.error = "upstream failed";  // never a silent failure
}

/// The secret field list of this config, built once per thread and config contents.
const redact::secret_fields& secrets_of(const conf::config& cfg) {
  static thread_local std::vector<std::string> secrets_source;
  static thread_local redact::secret_fields secrets;
  if (secrets_source != cfg.store.redact_fields) {
    secrets_source = cfg.store.redact_fields;
    secrets = redact::secret_fields(secrets_source);
  }
  return secrets;
}

void set_request(trace_record& r, const capture& c, const target_parts& target,
                 const conf::config& cfg, const redact::secret_fields& secrets) {
  r.request.path.assign(target.path);
  if (target.has_query) {
    r.request.path += '?';
    redact::append_form(r.request.path, target.query, secrets);
  }
  const std::string_view origin = c.upstream_origin();
  r.request.url.clear();
  r.request.url.append(origin).append(r.request.path);
  r.request.method = c.method;
  if (c.replay && !c.replay->redact_headers.empty()) {
    std::vector<std::string> names = cfg.store.redact_headers;
    names.insert(names.end(), c.replay->redact_headers.begin(), c.replay->redact_headers.end());
    make_headers(c.request_headers, names, r.request.headers);
  } else {
    make_headers(c.request_headers, cfg.store.redact_headers, r.request.headers);
  }
  make_body(c.request_body, c.request_headers, c.capture_bodies, cfg.store.body_limit, secrets,
            r.request.body);
}

void set_response(trace_record& r, const capture& c, const conf::config& cfg,
                  const redact::secret_fields& secrets) {
  r.response.code.clear();
  r.response.phrase.clear();
  if (c.status_code > 0) {
    r.response.code = std::to_string(c.status_code);
    r.response.phrase = c.reason;
    if (r.response.phrase.empty() && c.sidecar_answered) {
      r.response.phrase = default_phrase(c.status_code);
    }
  }
  make_headers(c.response_headers, cfg.store.redact_headers, r.response.headers);
  make_body(c.response_body, c.response_headers, c.capture_bodies, cfg.store.body_limit, secrets,
            r.response.body);
}

}  // namespace

std::string_view to_string(skip_reason r) {
  switch (r) {
    case skip_reason::no_account:
      return "no_account";
    case skip_reason::unknown_account:
      return "unknown_account";
    case skip_reason::traces_not_enabled:
      return "traces_not_enabled";
  }
  return "unknown";
}

record_builder::record_builder(std::shared_ptr<const conf::config> cfg) : cfg_(std::move(cfg)) {}

std::span<const std::uint8_t, 10> record_builder::sid_random() {
  // A sid's 80 random bits must not be guessable from other sids (docs/records.md): a
  // cryptographic generator, not a seeded PRNG whose state its outputs reveal.
  if (random_at_ + 10 > random_.size()) {
    if (RAND_bytes(random_.data(), static_cast<int>(random_.size())) != 1) {
      throw std::runtime_error("no random bytes for a trace sid (OpenSSL RAND_bytes failed)");
    }
    random_at_ = 0;
  }
  const std::span<const std::uint8_t, 10> out(random_.data() + random_at_, 10);
  random_at_ += 10;
  return out;
}

void record_builder::next_sid(std::int64_t ms, std::string& out) {
  std::array<std::uint8_t, 10> bits{};
  std::ranges::copy(sid_random(), bits.begin());
  if (ms > place_ms_) {
    place_ms_ = ms;
    next_place_ = 0;
  }
  // A capture of an earlier millisecond than the last (another proxy thread's, queued late)
  // keeps 80 random bits; so does the 65 537th sid of one millisecond.
  if (ms == place_ms_ && next_place_ <= 0xFFFF) {
    bits[0] = static_cast<std::uint8_t>(next_place_ >> 8);
    bits[1] = static_cast<std::uint8_t>(next_place_);
    ++next_place_;
  }
  assign_trace_sid(out, ms, bits);
}

build_result record_builder::build(const capture& c) {
  build_result result;
  trace_record r;
  if (const auto skipped = build_into(c, r)) {
    result.skipped = *skipped;
  } else {
    result.record = std::move(r);
  }
  return result;
}

std::optional<skip_reason> record_builder::build_into(const capture& c, trace_record& r) {
  // The configuration of the exchange (a reload since then changes nothing of its record).
  const conf::config& cfg = c.config ? *c.config : *cfg_;
  const target_parts target = split_target(c.upstream_target());
  const exchange_parameters parameter(c, target);

  std::optional<skip_reason> skipped;
  attribute_account(account_, c, target, parameter);
  const conf::account* account = traced_account(cfg, account_, skipped);
  if (account == nullptr) return skipped;

  // Every field is assigned: `r` may hold an earlier record, whose strings keep their capacity.
  // Clamped to what a sid's 12 hex digits hold, so that the sid and date_created always agree
  // (the store places and expires a record by its sid's time).
  r.created_ms = clamp_sid_ms(
      std::chrono::duration_cast<std::chrono::milliseconds>(c.completed_at.time_since_epoch())
          .count());
  if (c.replay && !c.replay->sid.empty()) {
    r.sid = c.replay->sid;
  } else {
    next_sid(r.created_ms, r.sid);
  }
  r.account_sid = account->sid;
  r.account_friendly_name = account->friendly_name;
  r.org_sid = account->org_sid;
  r.org_name = account->org_name;
  r.direction = c.direction;
  r.latency_ms = std::max<std::int64_t>(
      0, std::chrono::duration_cast<std::chrono::milliseconds>(c.latency).count());
  set_session(r.session_sid, c, target, parameter);
  set_outcome(r, c);
  r.node.clear();
  if (cfg_->fleet) r.node = cfg_->fleet->node;
  r.replay_of.clear();
  if (c.replay) {
    r.session_sid = c.replay->session_sid;
    r.replay_of = c.replay->of;
  }
  const redact::secret_fields& secrets = secrets_of(cfg);
  set_request(r, c, target, cfg, secrets);
  set_response(r, c, cfg, secrets);
  return std::nullopt;
}

}  // namespace sidecar::store
