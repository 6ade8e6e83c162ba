// ClickHouse string literals and names (see sql.hpp).
#include "fleet/sql.hpp"

#include <stdexcept>

#include "support/hex.hpp"

namespace sidecar::fleet::sql {

void append_quoted(std::string& out, std::string_view text) {
  out.reserve(out.size() + text.size() + 2);
  out += '\'';
  for (const char ch : text) {
    const auto b = static_cast<unsigned char>(ch);
    if (ch == '\\' || ch == '\'') {
      out += '\\';
      out += ch;
    } else if (b < 0x20 || b == 0x7f) {
      out += "\\x";
      hex::append_byte(out, b);
    } else {
      out += ch;
    }
  }
  out += '\'';
}

std::string quote(std::string_view text) {
  std::string out;
  append_quoted(out, text);
  return out;
}

std::string identifier(std::string_view name) {
  bool ok = !name.empty() && !(name.front() >= '0' && name.front() <= '9');
  for (const char ch : name) {
    ok = ok && ((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                ch == '_');
  }
  if (!ok) throw std::invalid_argument("not a ClickHouse name");
  std::string out;
  out.reserve(name.size() + 2);
  out += '`';
  out += name;
  out += '`';
  return out;
}

std::string number(std::int64_t v) { return std::to_string(v); }

}  // namespace sidecar::fleet::sql
