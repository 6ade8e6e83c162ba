// Internal to conf/: reading one TOML table's keys with their types and ranges
// (table_reader.hpp).
#include "conf/table_reader.hpp"

#include <algorithm>

#include "conf/values.hpp"

namespace sidecar::conf::detail {
namespace {

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = up;
    }
  }
  return row[b.size()];
}

}  // namespace

void table_reader::only(std::initializer_list<std::string_view> known) const {
  const toml::key* first = nullptr;
  for (const auto& [k, v] : table_) {
    if (std::find(known.begin(), known.end(), k.str()) != known.end()) continue;
    if (first == nullptr || k.source().begin < first->source().begin) first = &k;
  }
  if (first == nullptr) return;
  // Suggest the nearest known key when it is near enough to be a typo: up to one edit per
  // four characters, at most three.
  std::string_view best;
  std::size_t best_distance = 0;
  for (std::string_view candidate : known) {
    const std::size_t d = edit_distance(first->str(), candidate);
    const std::size_t allowed =
        std::min<std::size_t>(3, std::min(first->str().size(), candidate.size()) / 4);
    if (d <= allowed && (best.empty() || d < best_distance)) {
      best = candidate;
      best_distance = d;
    }
  }
  std::string problem = "unknown key";
  if (!best.empty()) problem += " (did you mean " + std::string(best) + "?)";
  fail_key(first->str(), problem);
}

void table_reader::fail_key(std::string_view key, std::string_view problem) const {
  fail(source_, label_.empty() ? std::string(key) : label_ + " " + std::string(key), problem);
}

void table_reader::wrong_type(std::string_view key, std::string_view wanted,
                              const toml::node& n) const {
  fail_key(key, "must be " + std::string(wanted) + ", not " + std::string(type_name(n.type())));
}

std::optional<std::string> table_reader::string(std::string_view key) const {
  const toml::node* n = find(key);
  if (n == nullptr) return std::nullopt;
  if (!n->is_string()) wrong_type(key, "a string", *n);
  return n->as_string()->get();
}

std::optional<std::string> table_reader::text(std::string_view key) const {
  auto s = string(key);
  if (s && s->empty()) fail_key(key, "must not be empty");
  if (s && has_control(*s)) fail_key(key, quote(*s) + " holds control characters");
  return s;
}

std::optional<bool> table_reader::boolean(std::string_view key) const {
  const toml::node* n = find(key);
  if (n == nullptr) return std::nullopt;
  if (!n->is_boolean()) wrong_type(key, "true or false", *n);
  return n->as_boolean()->get();
}

std::optional<std::int64_t> table_reader::integer(std::string_view key, std::int64_t min,
                                                  std::int64_t max) const {
  const toml::node* n = find(key);
  if (n == nullptr) return std::nullopt;
  if (!n->is_integer()) wrong_type(key, "an integer", *n);
  const std::int64_t v = n->as_integer()->get();
  if (v < min || v > max) {
    fail_key(key, std::to_string(v) + " is out of range (" + std::to_string(min) + " to " +
                      std::to_string(max) + ")");
  }
  return v;
}

std::optional<duration> table_reader::dur(std::string_view key, duration min, duration max) const {
  const toml::node* n = find(key);
  if (n == nullptr) return std::nullopt;
  if (n->is_integer()) {
    fail_key(
        key,
        std::to_string(n->as_integer()->get()) +
            R"( is not a duration: give it a unit, as a string (e.g. "90s", "15m", "48h", "2d"))");
  }
  if (!n->is_string()) wrong_type(key, R"(a duration string like "90s")", *n);
  const std::string& s = n->as_string()->get();
  const auto d = parse_duration(s);
  if (!d) fail_key(key, d.problem);
  if (*d.value < min || *d.value > max) {
    fail_key(key, quote(s) + " is out of range (" + format_duration(min) + " to " +
                      format_duration(max) + ")");
  }
  return *d.value;
}

std::optional<std::uint64_t> table_reader::size(std::string_view key, std::uint64_t min,
                                                std::uint64_t max) const {
  const toml::node* n = find(key);
  if (n == nullptr) return std::nullopt;
  std::uint64_t v = 0;
  std::string shown;
  if (n->is_integer()) {
    const std::int64_t i = n->as_integer()->get();
    shown = std::to_string(i);
    if (i < 0) fail_key(key, shown + R"( is not a size (use e.g. 512, "64KiB", "1GiB"))");
    v = static_cast<std::uint64_t>(i);
  } else if (n->is_string()) {
    const std::string& s = n->as_string()->get();
    const auto p = parse_size(s);
    if (!p) fail_key(key, p.problem);
    v = *p.value;
    shown = quote(s);
  } else {
    wrong_type(key, R"(a size (an integer or a string like "64KiB"))", *n);
  }
  if (v < min || v > max) {
    fail_key(key, shown + " is out of range (" +
                      (max == max_size ? "at least " + format_size(min)
                                       : format_size(min) + " to " + format_size(max)) +
                      ")");
  }
  return v;
}

/// The table under `key` of the top level, or nullptr; anything else there is a type error.
const toml::table* sub_table(const toml::table& top, std::string_view source,
                             std::string_view key) {
  const toml::node* n = top.get(key);
  if (n == nullptr) return nullptr;
  if (!n->is_table()) {
    fail(source, "[" + std::string(key) + "]",
         "must be a table, not " + std::string(type_name(n->type())));
  }
  return n->as_table();
}

/// The tables of an array of tables ([[route]], [[account]]), each with its label.
std::vector<std::pair<std::string, const toml::table*>> table_array(const toml::table& top,
                                                                    std::string_view source,
                                                                    std::string_view key) {
  std::vector<std::pair<std::string, const toml::table*>> out;
  const toml::node* n = top.get(key);
  if (n == nullptr) return out;
  const std::string label = "[[" + std::string(key) + "]]";
  if (n->is_array() && n->as_array()->empty()) return out;  // `route = []`: none
  if (!n->is_array_of_tables()) {
    fail(source, label,
         "must be an array of tables (write each one as " + label + "), not " +
             std::string(n->is_table() ? "a single table" : type_name(n->type())));
  }
  std::size_t i = 0;
  for (const toml::node& item : *n->as_array()) {
    out.emplace_back(label + " #" + std::to_string(++i), item.as_table());
  }
  return out;
}

}  // namespace sidecar::conf::detail
