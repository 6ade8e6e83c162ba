// Writing a recorded request as a curl command line.
#include "api/curl_command.hpp"

#include <array>

#include "support/text.hpp"
#include "support/ascii.hpp"
#include "support/base64.hpp"
#include "support/http_fields.hpp"

namespace sidecar::api {
namespace {

/// Fields curl sets itself (Host, framing) or that belong to one connection only.
bool left_to_curl(std::string_view name) {
  return ascii::iequals(name, "host") || http_fields::is_framing(name) ||
         http_fields::is_hop_by_hop(name);
}

/// A byte printf's format may hold as it is inside single quotes.
bool printf_plain(unsigned char c) {
  return c >= 0x20 && c < 0x7f && c != '\'' && c != '\\' && c != '%';
}

void append_printf_escaped(std::string& out, std::string_view bytes) {
  out.reserve(out.size() + bytes.size() + 16);
  for (const char ch : bytes) {
    const auto c = static_cast<unsigned char>(ch);
    if (printf_plain(c)) {
      out.push_back(ch);
    } else {
      out.push_back('\\');
      out.push_back(static_cast<char>('0' + ((c >> 6) & 7)));
      out.push_back(static_cast<char>('0' + ((c >> 3) & 7)));
      out.push_back(static_cast<char>('0' + (c & 7)));
    }
  }
}

bool recorded(const store::header_list& headers, std::string_view name) {
  for (const auto& h : headers) {
    if (ascii::iequals(h.first, name)) return true;
  }
  return false;
}

}  // namespace

void append_shell_quoted(std::string& out, std::string_view s) {
  out.push_back('\'');
  for (const char c : s) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out.push_back(c);
    }
  }
  out.push_back('\'');
}

std::string curl_command(const store::trace_record& r) {
  const auto& q = r.request;
  std::string body;
  if (q.body.base64) {
    body = base64::decode(q.body.body).value_or(std::string());
  } else {
    body = q.body.body;
  }
  const bool with_body = !body.empty();

  std::string out;
  out += "# trace ";
  out += r.sid;  // "TR" + hex: nothing to quote
  out += '\n';
  if (q.body.truncated) {
    out += "# the request body was cut when recorded: ";
    out += std::to_string(body.size());
    out += " of ";
    out += std::to_string(q.body.size);
    out += " bytes kept, and sent below\n";
  }
  if (with_body) {
    out += "printf '";
    append_printf_escaped(out, body);
    out += "' | \\\n";
  }
  out += "curl --globoff --path-as-is --http1.1 --silent --show-error";
  if (q.method == "HEAD") {
    out += " --head";
  } else {
    out += " -X ";
    append_shell_quoted(out, q.method);
  }
  out += " \\\n";
  for (const auto& [name, value] : q.headers) {
    if (left_to_curl(name)) continue;
    out += "  -H ";
    // "name;" is curl's way of sending a header with an empty value.
    append_shell_quoted(out, value.empty() ? name + ";" : name + ": " + value);
    out += " \\\n";
  }
  for (const std::string_view own : {"Accept", "User-Agent", "Expect"}) {
    if (!recorded(q.headers, own)) {
      out += "  -H '";
      out += own;
      out += ":' \\\n";
    }
  }
  if (with_body) {
    if (!recorded(q.headers, "content-type")) out += "  -H 'Content-Type:' \\\n";
    out += "  --data-binary @- \\\n";
  }
  out += "  ";
  append_shell_quoted(out, q.url);
  out += '\n';
  return out;
}

}  // namespace sidecar::api
