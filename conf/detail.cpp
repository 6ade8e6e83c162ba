// Internal helpers of conf/: see detail.hpp.
#include "conf/detail.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "conf/config_error.hpp"
#include "conf/values.hpp"

namespace sidecar::conf::detail {

[[noreturn]] void fail(std::string_view source, std::string_view where, std::string_view problem) {
  std::string line(source);
  line += ": ";
  if (!where.empty()) {
    line += where;
    line += ": ";
  }
  line += problem;
  // One line whatever the inputs held (a file name with a newline, say).
  for (char& c : line) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
  }
  throw config_error(line);
}

std::string errno_text(int err) { return std::strerror(err); }

std::optional<std::string> read_small_file(const std::filesystem::path& path, std::size_t limit,
                                           std::string& why) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    why = "cannot read it: " + errno_text(errno);
    return std::nullopt;
  }
  std::string out;
  char buf[16384];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      why = "cannot read it: " + errno_text(errno);
      ::close(fd);
      return std::nullopt;
    }
    if (n == 0) break;
    out.append(buf, static_cast<std::size_t>(n));
    if (out.size() > limit) {
      why = "is larger than " + format_size(limit) + ", too large for this file";
      ::close(fd);
      return std::nullopt;
    }
  }
  ::close(fd);
  return out;
}

toml::table parse_toml(std::string_view text, std::string_view source) {
  try {
    return toml::parse(text, source);
  } catch (const toml::parse_error& e) {
    fail(std::string(source) + ":" + std::to_string(e.source().begin.line) + ":" +
             std::to_string(e.source().begin.column),
         "", e.description());
  }
}

std::string_view type_name(toml::node_type t) {
  switch (t) {
    case toml::node_type::table:
      return "a table";
    case toml::node_type::array:
      return "an array";
    case toml::node_type::string:
      return "a string";
    case toml::node_type::integer:
      return "an integer";
    case toml::node_type::floating_point:
      return "a float";
    case toml::node_type::boolean:
      return "a boolean";
    case toml::node_type::date:
      return "a date";
    case toml::node_type::time:
      return "a time";
    case toml::node_type::date_time:
      return "a date-time";
    default:
      return "nothing";
  }
}

bool has_control(std::string_view s) {
  return std::any_of(s.begin(), s.end(),
                     [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; });
}

}  // namespace sidecar::conf::detail
