// Structured logging: see log.hpp.
#include "support/log.hpp"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>

#include "support/utc_time.hpp"

namespace sidecar::log {
namespace {

std::atomic<level> g_level{level::info};
std::atomic<bool> g_access{false};

bool needs_quotes(std::string_view v) {
  if (v.empty()) return true;
  for (unsigned char c : v) {
    if (c <= ' ' || c == '"' || c == '=' || c == '\\' || c == 0x7f) return true;
  }
  return false;
}

void append_value(std::string& out, std::string_view v) {
  if (!needs_quotes(v)) {
    out.append(v);
    return;
  }
  out.push_back('"');
  for (unsigned char c : v) {
    switch (c) {
      case '"': out.append("\\\""); break;
      case '\\': out.append("\\\\"); break;
      case '\n': out.append("\\n"); break;
      case '\r': out.append("\\r"); break;
      case '\t': out.append("\\t"); break;
      default:
        if (c < 0x20 || c == 0x7f) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\x%02x", c);
          out.append(buf);
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
  }
  out.push_back('"');
}

}  // namespace

std::optional<level> parse_level(std::string_view text) {
  if (text == "debug") return level::debug;
  if (text == "info") return level::info;
  if (text == "warn") return level::warn;
  if (text == "error") return level::error;
  return std::nullopt;
}

std::string_view to_string(level l) {
  switch (l) {
    case level::debug: return "debug";
    case level::info: return "info";
    case level::warn: return "warn";
    case level::error: return "error";
  }
  return "info";
}

void set_level(level l) { g_level.store(l, std::memory_order_relaxed); }
level current_level() { return g_level.load(std::memory_order_relaxed); }
void set_access(bool on) { g_access.store(on, std::memory_order_relaxed); }
bool access_enabled() { return g_access.load(std::memory_order_relaxed) && enabled(level::info); }

std::string format(level l, std::string_view msg, std::initializer_list<field> fields) {
  std::string line;
  line.reserve(96 + msg.size());
  line.append("ts=");
  utc::append_iso8601(line, utc::now_ms(), true);
  line.append(" level=");
  line.append(to_string(l));
  line.append(" msg=");
  append_value(line, msg);
  for (const auto& [k, v] : fields) {
    line.push_back(' ');
    line.append(k);
    line.push_back('=');
    append_value(line, v);
  }
  line.push_back('\n');
  return line;
}

void write(level l, std::string_view msg, std::initializer_list<field> fields) {
  if (!enabled(l)) return;
  const std::string line = format(l, msg, fields);
  // One write(2) per line keeps lines from different threads whole (stderr is unbuffered,
  // and writes below PIPE_BUF to a pipe are atomic).
  const char* p = line.data();
  std::size_t left = line.size();
  while (left > 0) {
    const ssize_t n = ::write(STDERR_FILENO, p, left);
    if (n <= 0) return;
    p += n;
    left -= static_cast<std::size_t>(n);
  }
}

}  // namespace sidecar::log
