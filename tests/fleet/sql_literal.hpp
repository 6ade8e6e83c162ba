// Reads a ClickHouse string literal back the way ClickHouse's lexer does (backslash escapes,
// \xHH, a doubled quote), for the tests of fleet::sql::quote: the literal must end exactly
// where quote() ended it and give back the original bytes.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace sidecar::fleet::testing {

/// The value of the literal at the start of `sql` and how many bytes it took; nullopt when
/// `sql` does not start with a complete literal.
inline std::optional<std::string> read_literal(std::string_view sql, std::size_t& used) {
  if (sql.empty() || sql[0] != '\'') return std::nullopt;
  std::string out;
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (std::size_t i = 1; i < sql.size(); ++i) {
    const char c = sql[i];
    if (c == '\'') {
      if (i + 1 < sql.size() && sql[i + 1] == '\'') {
        out += '\'';
        ++i;
        continue;
      }
      used = i + 1;
      return out;
    }
    if (c != '\\') {
      out += c;
      continue;
    }
    if (++i >= sql.size()) return std::nullopt;
    switch (sql[i]) {
      case 'b':
        out += '\b';
        break;
      case 'f':
        out += '\f';
        break;
      case 'n':
        out += '\n';
        break;
      case 'r':
        out += '\r';
        break;
      case 't':
        out += '\t';
        break;
      case '0':
        out += '\0';
        break;
      case 'a':
        out += '\a';
        break;
      case 'v':
        out += '\v';
        break;
      case 'x': {
        if (i + 2 >= sql.size()) return std::nullopt;
        const int hi = hex(sql[i + 1]), lo = hex(sql[i + 2]);
        if (hi < 0 || lo < 0) return std::nullopt;
        out += static_cast<char>(hi * 16 + lo);
        i += 2;
        break;
      }
      default:
        out += sql[i];
        break;  // \\ \' and any other escaped byte: itself
    }
  }
  return std::nullopt;
}

}  // namespace sidecar::fleet::testing
