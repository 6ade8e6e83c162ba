// ASCII text helpers for HTTP: header names and tokens compare case-insensitively, and field
// values are trimmed of optional whitespace (RFC 9110 5.6.3). Locale-free, unlike <cctype>.
#pragma once

#include <algorithm>
#include <string>
#include <string_view>

namespace sidecar::ascii {

[[nodiscard]] constexpr char lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

/// `s` in lower case into `out`, whose capacity is reused.
inline void assign_lower(std::string& out, std::string_view s) {
  out.assign(s);
  for (auto& c : out) c = lower(c);
}

[[nodiscard]] inline std::string to_lower(std::string_view s) {
  std::string out;
  assign_lower(out, s);
  return out;
}

[[nodiscard]] constexpr bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  // Equal bytes first, compared whole: most names and values compared arrive in the case they
  // are compared with, and then nothing is folded.
  if (a == b) return true;
  return std::equal(a.begin(), a.end(), b.begin(),
                    [](char x, char y) { return x == y || lower(x) == lower(y); });
}

[[nodiscard]] constexpr bool istarts_with(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && iequals(s.substr(0, prefix.size()), prefix);
}

[[nodiscard]] constexpr bool iends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && iequals(s.substr(s.size() - suffix.size()), suffix);
}

/// Without leading and trailing spaces and tabs (HTTP's optional whitespace).
[[nodiscard]] constexpr std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace sidecar::ascii
