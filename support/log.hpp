// Structured logging: one logfmt line per event on stderr, with a process-wide level.
//
//   log::info("listening", {{"proxy", "127.0.0.1:8080"}, {"api", "127.0.0.1:8081"}});
//   -> ts=2026-11-28T02:21:38.123Z level=info msg=listening proxy=127.0.0.1:8080 api=...
//
// Values are quoted when they hold spaces, quotes or '='; control bytes are escaped, so a
// line is always one line. Never pass a token, an Authorization value or a cookie.
#pragma once

#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace sidecar::log {

enum class level { debug, info, warn, error };

/// Parses "debug", "info", "warn" or "error".
[[nodiscard]] std::optional<level> parse_level(std::string_view text);
[[nodiscard]] std::string_view to_string(level l);

/// Lines below this level are dropped. Thread-safe.
void set_level(level l);
[[nodiscard]] level current_level();
[[nodiscard]] inline bool enabled(level l) { return l >= current_level(); }

/// Whether access lines are written ([log] access): one line per exchange and per API
/// request at info. Thread-safe; a reload changes it.
void set_access(bool on);
[[nodiscard]] bool access_enabled();

using field = std::pair<std::string_view, std::string_view>;

/// Writes one line if `l` is enabled; the line is written with a single write(2).
void write(level l, std::string_view msg, std::initializer_list<field> fields = {});

/// Formats a line without writing it (tests, and callers that batch).
[[nodiscard]] std::string format(level l, std::string_view msg, std::initializer_list<field> fields);

inline void debug(std::string_view m, std::initializer_list<field> f = {}) { write(level::debug, m, f); }
inline void info(std::string_view m, std::initializer_list<field> f = {}) { write(level::info, m, f); }
inline void warn(std::string_view m, std::initializer_list<field> f = {}) { write(level::warn, m, f); }
inline void error(std::string_view m, std::initializer_list<field> f = {}) { write(level::error, m, f); }

}  // namespace sidecar::log
