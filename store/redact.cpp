// Textual redaction: small scanners rather than parsers, so that cut or malformed input is
// handled too (a body kept to body_limit is usually cut mid-value), always by removing.
#include "store/redact.hpp"

#include <algorithm>
#include <array>

#include "support/ascii.hpp"
#include "support/hex.hpp"
#include "support/percent.hpp"

namespace sidecar::store::redact {

namespace {

using ascii::iequals;
using ascii::to_lower;

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// HTTP authentication schemes (the IANA registry and common private ones). Only these are
// kept in front of "[REDACTED]": an unknown first word might itself be a credential.
constexpr std::array<std::string_view, 18> auth_schemes = {
    "basic",       "bearer",        "digest",       "negotiate",        "ntlm",  "hoba",  "mutual",
    "scram-sha-1", "scram-sha-256", "vapid",        "aws4-hmac-sha256", "oauth", "token", "apikey",
    "dpop",        "gnap",          "privatetoken", "concealed"};

constexpr std::array<std::string_view, 4> default_secret_headers = {
    "authorization", "proxy-authorization", "cookie", "set-cookie"};

// Index one past the JSON string starting at `i` (a '"'), or in.size() when it is cut.
std::size_t skip_json_string(std::string_view in, std::size_t i) {
  for (++i; i < in.size(); ++i) {
    if (in[i] == '\\') {
      ++i;
    } else if (in[i] == '"') {
      return i + 1;
    }
  }
  return in.size();
}

// The name a JSON key string stands for, escapes decoded well enough to compare it with
// ASCII field names (a non-ASCII escape becomes '?', which matches none of them).
std::string json_key_name(std::string_view quoted) {
  std::string name;
  for (std::size_t i = 1; i < quoted.size(); ++i) {
    char c = quoted[i];
    if (c == '"') break;
    if (c != '\\') {
      name += c;
      continue;
    }
    if (++i >= quoted.size()) break;
    c = quoted[i];
    if (c == 'u' && i + 4 < quoted.size()) {
      int v = 0;
      bool ok = true;
      for (std::size_t k = 1; k <= 4; ++k) {
        const int h = hex::value(quoted[i + k]);
        ok = ok && h >= 0;
        v = v * 16 + std::max(h, 0);
      }
      name += (ok && v < 0x80) ? static_cast<char>(v) : '?';
      i += 4;
    } else {
      name += c;  // \" \\ \/ and the control escapes, none of which occur in a field name
    }
  }
  return name;
}

// Index one past the JSON value starting at `i`. Containers are skipped to their matching
// close (strings inside them respected); anything else runs to the next ',', '}' or ']'.
// On cut input this is in.size(): the rest of the body goes with the secret.
std::size_t skip_json_value(std::string_view in, std::size_t i) {
  if (i >= in.size()) return i;
  if (in[i] == '"') return skip_json_string(in, i);
  if (in[i] == '{' || in[i] == '[') {
    int depth = 0;
    while (i < in.size()) {
      const char c = in[i];
      if (c == '"') {
        i = skip_json_string(in, i);
        continue;
      }
      if (c == '{' || c == '[') ++depth;
      if ((c == '}' || c == ']') && --depth == 0) return i + 1;
      ++i;
    }
    return i;
  }
  while (i < in.size() && in[i] != ',' && in[i] != '}' && in[i] != ']') ++i;
  return i;
}

}  // namespace

secret_fields::secret_fields(const std::vector<std::string>& extra)
    : names_{"authtoken", "auth_token", "password", "secret", "api_key"} {
  for (const auto& e : extra) names_.push_back(to_lower(e));
  for (const auto& n : names_) lengths_ |= std::uint64_t{1} << std::min<std::size_t>(n.size(), 63);
}

bool secret_fields::matches(std::string_view name) const {
  auto listed = [&](std::string_view n) {
    if ((lengths_ >> std::min<std::size_t>(n.size(), 63) & 1) == 0) return false;
    return std::any_of(names_.begin(), names_.end(), [&](const auto& s) { return iequals(s, n); });
  };
  if (listed(name)) return true;
  // A nested form name ("user[password]") is a secret when its innermost part is.
  if (!name.empty() && name.back() == ']') {
    const auto open = name.rfind('[');
    if (open != std::string_view::npos)
      return listed(name.substr(open + 1, name.size() - open - 2));
  }
  return false;
}

bool is_secret_header(std::string_view lower_name, const std::vector<std::string>& extra) {
  return std::find(default_secret_headers.begin(), default_secret_headers.end(), lower_name) !=
             default_secret_headers.end() ||
         std::any_of(extra.begin(), extra.end(),
                     [&](const auto& e) { return iequals(e, lower_name); });
}

std::string header_value(std::string_view value, bool keep_scheme) {
  if (keep_scheme) {
    std::size_t b = 0;
    while (b < value.size() && is_space(value[b])) ++b;
    std::size_t e = b;
    while (e < value.size() && !is_space(value[e])) ++e;
    const std::string_view scheme = value.substr(b, e - b);
    if (std::any_of(auth_schemes.begin(), auth_schemes.end(),
                    [&](std::string_view s) { return iequals(s, scheme); })) {
      std::string out(scheme);
      out += ' ';
      out += marker;
      return out;
    }
  }
  return std::string(marker);
}

void append_form(std::string& out, std::string_view form, const secret_fields& secrets) {
  out.reserve(out.size() + form.size());
  // ';' separates pairs too for some servers: treating it as one removes more, never less.
  // Each separator's next place is searched again only once a pair has passed it (a form
  // without ';' is searched for it once, not from every pair to its end).
  // What is kept goes out in runs: from `kept` up to a secret's value, appended when one is
  // found, and the rest at the end.
  constexpr auto npos = std::string_view::npos;
  std::size_t amp = form.find('&');
  std::size_t semi = form.find(';');
  std::size_t kept = 0;
  std::size_t i = 0;
  while (true) {
    if (amp < i) amp = form.find('&', i);
    if (semi < i) semi = form.find(';', i);
    const std::size_t end = std::min(amp, semi);
    const std::string_view pair = form.substr(i, end == npos ? end : end - i);
    const std::size_t eq = pair.find('=');
    const std::string_view raw_name = pair.substr(0, eq == npos ? 0 : eq);
    const bool plain = raw_name.find('%') == npos && raw_name.find('+') == npos;
    if (eq != npos && (plain ? secrets.matches(raw_name)
                             : secrets.matches(percent::decode_lenient(raw_name, true)))) {
      out.append(form.substr(kept, i + eq + 1 - kept));
      out += marker;
      kept = end == npos ? form.size() : end;
    }
    if (end == npos) break;
    i = end + 1;
  }
  out.append(form.substr(kept));
}

void append_json(std::string& out, std::string_view json, const secret_fields& secrets) {
  out.reserve(out.size() + json.size());
  std::size_t i = 0;
  while (i < json.size()) {
    const std::size_t next = json.find('"', i);
    if (next == std::string_view::npos) {
      out.append(json.substr(i));
      break;
    }
    out.append(json.substr(i, next - i));
    const std::size_t end = skip_json_string(json, next);
    const std::string_view str = json.substr(next, end - next);
    out.append(str);
    i = end;
    std::size_t k = end;
    while (k < json.size() && is_space(json[k])) ++k;
    if (k >= json.size() || json[k] != ':' || !secrets.matches(json_key_name(str))) continue;
    // A member whose name is a secret: keep the colon, replace the whole value.
    out.append(json.substr(end, k + 1 - end));
    std::size_t v = k + 1;
    while (v < json.size() && is_space(json[v])) ++v;
    out.append(json.substr(k + 1, v - (k + 1)));
    out += '"';
    out += marker;
    out += '"';
    i = skip_json_value(json, v);
  }
}

namespace {

/// Where the element name that starts at `from` ends (a space, '>' or '/').
std::size_t name_end_of(std::string_view xml, std::size_t from) {
  std::size_t end = from;
  while (end < xml.size() && !is_space(xml[end]) && xml[end] != '>' && xml[end] != '/') ++end;
  return end;
}

/// Where the end tag of `qname` starts at or after `from`; npos when there is none.
std::size_t end_tag_of(std::string_view xml, std::size_t from, std::string_view qname) {
  std::size_t close = from;
  while (true) {
    close = xml.find("</", close);
    if (close == std::string_view::npos) return close;
    const std::string_view rest = xml.substr(close + 2);
    if (rest.size() >= qname.size() && iequals(rest.substr(0, qname.size()), qname) &&
        (rest.size() == qname.size() || rest[qname.size()] == '>' || is_space(rest[qname.size()])))
      return close;
    close += 2;
  }
}

/// A qualified name without its namespace prefix.
std::string_view local_name(std::string_view qname) {
  const std::size_t colon = qname.rfind(':');
  return colon == std::string_view::npos ? qname : qname.substr(colon + 1);
}

}  // namespace

void append_xml(std::string& out, std::string_view xml, const secret_fields& secrets) {
  out.reserve(out.size() + xml.size());
  std::size_t i = 0;
  while (i < xml.size()) {
    const std::size_t lt = xml.find('<', i);
    if (lt == std::string_view::npos || lt + 1 >= xml.size()) {
      out.append(xml.substr(i));
      break;
    }
    const char first = xml[lt + 1];
    if (first == '/' || first == '!' || first == '?') {
      out.append(xml.substr(i, lt + 1 - i));
      i = lt + 1;
      continue;
    }
    const std::size_t name_end = name_end_of(xml, lt + 1);
    const std::string_view qname = xml.substr(lt + 1, name_end - lt - 1);
    const std::size_t gt = xml.find('>', name_end);
    if (gt == std::string_view::npos) {
      out.append(xml.substr(i));
      break;
    }
    out.append(xml.substr(i, gt + 1 - i));
    i = gt + 1;
    if (xml[gt - 1] == '/' || !secrets.matches(local_name(qname))) continue;
    // Everything up to this element's end tag goes (CDATA and child elements included).
    const std::size_t close = end_tag_of(xml, i, qname);
    out += marker;
    i = close == std::string_view::npos ? xml.size() : close;
  }
}

}  // namespace sidecar::store::redact
