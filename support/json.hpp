// The one JSON encoder of the project, used for trace records (store) and for every API
// answer (api). Correct for any byte sequence: strings are escaped per RFC 8259 and bytes
// that are not valid UTF-8 become U+FFFD, so the output is always valid JSON.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace sidecar::json {

/// Appends `s` as a JSON string literal (with its quotes).
void append_string(std::string& out, std::string_view s);

/// Appends an integer.
void append_int(std::string& out, std::int64_t v);

/// Builds one JSON value into a string, with commas handled. Keys are trusted literals;
/// values are escaped.
class writer {
 public:
  explicit writer(std::string& out) : out_(out) {}

  writer& begin_object();
  writer& end_object();
  writer& begin_array();
  writer& end_array();
  writer& key(std::string_view k);
  writer& value(std::string_view s);
  writer& value(const char* s) { return value(std::string_view(s)); }
  writer& value(std::int64_t v);
  writer& value(bool b);
  /// Inserts already-encoded JSON (a stored record) as the next value.
  writer& raw(std::string_view encoded);

 private:
  void separate();
  std::string& out_;
  bool need_comma_ = false;
};

}  // namespace sidecar::json
