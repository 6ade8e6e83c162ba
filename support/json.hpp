// The one JSON encoder of the project, used for trace records (store) and for every API
// answer (api). Correct for any byte sequence: strings are escaped per RFC 8259 and bytes
// that are not valid UTF-8 become U+FFFD, so the output is always valid JSON.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>

namespace sidecar::json {

/// Appends `s` as a JSON string literal (with its quotes).
void append_string(std::string& out, std::string_view s);

/// Appends an integer.
void append_int(std::string& out, std::int64_t v);

/// A key written in the source as a string literal, checked when compiled to need no escaping
/// (printable ASCII, no '"' or '\\'): a writer copies it as it is, where a key held in a
/// string is scanned for bytes to escape. A record has two dozen keys; every API answer too.
class key_literal {
 public:
  template <std::size_t N>
  consteval key_literal(const char (&k)[N]) : text_(k, N - 1) {  // implicit: w.key("sid")
    for (const char c : text_) {
      const auto u = static_cast<unsigned char>(c);
      if (u < 0x20 || u >= 0x80 || c == '"' || c == '\\')
        throw "a key literal must need no escaping";
    }
  }
  [[nodiscard]] constexpr std::string_view text() const { return text_; }

 private:
  std::string_view text_;
};

/// A key held in a string (anything that views as one but an array, which is a literal).
template <class S>
concept key_text = !std::is_array_v<S> && std::is_convertible_v<const S&, std::string_view>;

/// Builds one JSON value into a string, with commas handled. Key literals are checked when
/// compiled and copied; other keys and every value are escaped.
class writer {
 public:
  explicit writer(std::string& out) : out_(out) {}

  writer& begin_object();
  writer& end_object();
  writer& begin_array();
  writer& end_array();
  /// A key written in the source (checked when compiled): copied as it is.
  writer& key(key_literal k);
  /// Any other key: escaped like a value.
  template <key_text S>
  writer& key(const S& k) {
    return escaped_key(std::string_view(k));
  }
  writer& value(std::string_view s);
  writer& value(const char* s) { return value(std::string_view(s)); }
  writer& value(std::int64_t v);
  writer& value(bool b);
  /// Inserts already-encoded JSON (a stored record) as the next value.
  writer& raw(std::string_view encoded);

 private:
  void separate();
  writer& escaped_key(std::string_view k);
  std::string& out_;
  bool need_comma_ = false;
};

}  // namespace sidecar::json
