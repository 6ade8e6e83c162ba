// Internal to conf/: reading one TOML table's keys, each checked for its type and range, and
// the top level's sub-tables and arrays of tables. Every problem throws the one config_error
// line naming the file, the table's label ("[proxy]", "[[route]] #2") and the key.
#pragma once

#include <toml++/toml.h>

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "conf/config.hpp"
#include "conf/detail.hpp"

namespace sidecar::conf::detail {

/// The largest size any key accepts (what parse_size accepts at most).
inline constexpr std::uint64_t max_size = 1ull << 62;

/// Reads the keys of one table. Each getter answers nullopt for a missing key and throws for a
/// present one of the wrong type or out of range.
class table_reader {
 public:
  table_reader(std::string_view source, std::string label, const toml::table& t)
      : source_(source), label_(std::move(label)), table_(t) {}

  /// Refuses any key not in `known` (the first in file order), suggesting a near one.
  void only(std::initializer_list<std::string_view> known) const;

  /// Throws "<source>: <label> <key>: <problem>".
  [[noreturn]] void fail_key(std::string_view key, std::string_view problem) const;

  [[nodiscard]] const toml::node* find(std::string_view key) const { return table_.get(key); }

  [[nodiscard]] std::optional<std::string> string(std::string_view key) const;
  /// A string that must not be empty nor hold control characters (paths, names, tokens).
  [[nodiscard]] std::optional<std::string> text(std::string_view key) const;
  [[nodiscard]] std::optional<bool> boolean(std::string_view key) const;
  [[nodiscard]] std::optional<std::int64_t> integer(std::string_view key, std::int64_t min,
                                                    std::int64_t max) const;
  /// A duration string with its unit ("90s", "15m"); a bare integer is refused with a hint.
  [[nodiscard]] std::optional<duration> dur(std::string_view key, duration min, duration max) const;
  /// A size: an integer of bytes or a string with its unit ("64KiB").
  [[nodiscard]] std::optional<std::uint64_t> size(std::string_view key, std::uint64_t min,
                                                  std::uint64_t max) const;

  /// An array of strings, each passed to `each` (which throws on a bad one); false when the
  /// key is missing.
  template <class F>
  bool strings(std::string_view key, F&& each) const {
    const toml::node* n = find(key);
    if (n == nullptr) return false;
    if (!n->is_array()) wrong_type(key, "an array of strings", *n);
    for (const toml::node& item : *n->as_array()) {
      if (!item.is_string()) {
        fail_key(key, "must hold only strings, not " + std::string(type_name(item.type())));
      }
      each(item.as_string()->get());
    }
    return true;
  }

  [[nodiscard]] const std::string& label() const { return label_; }

 private:
  [[noreturn]] void wrong_type(std::string_view key, std::string_view wanted,
                               const toml::node& n) const;

  std::string_view source_;
  std::string label_;
  const toml::table& table_;
};

/// The table under `key` of the top level, or nullptr; anything else there is a type error.
[[nodiscard]] const toml::table* sub_table(const toml::table& top, std::string_view source,
                                           std::string_view key);

/// The tables of an array of tables ([[route]], [[account]]), each with its label
/// ("[[route]] #2").
[[nodiscard]] std::vector<std::pair<std::string, const toml::table*>> table_array(
    const toml::table& top, std::string_view source, std::string_view key);

}  // namespace sidecar::conf::detail
