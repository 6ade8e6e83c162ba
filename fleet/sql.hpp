// The one way a value reaches ClickHouse SQL (docs/fleet.md): every string literal the fleet
// module writes into a query goes through quote(); names go through identifier(). Filters then
// match values as data (equality, position(), startsWith()), never as a pattern.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace sidecar::fleet::sql {

/// `text` as a ClickHouse string literal: in single quotes, with `\` and `'` escaped and every
/// byte below 0x20 and 0x7f written as \xHH, so that no byte of `text` can end the literal or
/// change the query; other bytes (UTF-8 or not) are kept as they are.
[[nodiscard]] std::string quote(std::string_view text);
void append_quoted(std::string& out, std::string_view text);

/// A database, table or column name in backquotes. The configuration only admits
/// [A-Za-z_][A-Za-z0-9_]*, so this never needs an escape; it refuses anything else
/// (std::invalid_argument) rather than write it.
[[nodiscard]] std::string identifier(std::string_view name);

/// A signed integer as a SQL literal.
[[nodiscard]] std::string number(std::int64_t v);

}  // namespace sidecar::fleet::sql
