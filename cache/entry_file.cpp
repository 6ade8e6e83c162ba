// The media cache's entry file (entry_file.hpp): its prefix, metadata lines and checks.
#include "cache/entry_file.hpp"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>

#include "support/hex.hpp"

namespace sidecar::cache {

// --- file_handle ------------------------------------------------------------------------------

file_handle& file_handle::operator=(file_handle&& o) noexcept {
  if (this != &o) {
    reset();
    fd_ = std::exchange(o.fd_, -1);
  }
  return *this;
}

file_handle::~file_handle() { reset(); }

void file_handle::reset() noexcept {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

namespace entry_file {
namespace {

constexpr std::string_view magic = "TSCACHE1";
constexpr std::size_t prefix_bytes = 20;
constexpr std::size_t meta_size_offset = 8;
constexpr std::size_t body_size_offset = 12;
constexpr std::uint32_t max_meta_bytes = 1u << 20;
// The body starts on a page boundary: sendfile(2) then moves whole page-cache pages, and a
// 64 KiB body is 16 pages rather than 17 (one pass through sendfile's internal pipe, whose
// 16 slots an unaligned 64 KiB body overflows by one).
constexpr std::size_t body_alignment = 4096;

void put_le(char* out, std::uint64_t v, std::size_t bytes) {
  for (std::size_t i = 0; i < bytes; ++i) out[i] = static_cast<char>((v >> (8 * i)) & 0xff);
}

std::uint64_t get_le(const char* in, std::size_t bytes) {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < bytes; ++i) {
    v |= static_cast<std::uint64_t>(static_cast<unsigned char>(in[i])) << (8 * i);
  }
  return v;
}

bool write_bytes(int fd, const char* data, std::size_t n) {
  while (n > 0) {
    const ssize_t w = ::write(fd, data, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data += w;
    n -= static_cast<std::size_t>(w);
  }
  return true;
}

bool pwrite_all(int fd, const char* data, std::size_t n, std::uint64_t offset) {
  while (n > 0) {
    const ssize_t w = ::pwrite(fd, data, n, static_cast<off_t>(offset));
    if (w < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data += w;
    n -= static_cast<std::size_t>(w);
    offset += static_cast<std::uint64_t>(w);
  }
  return true;
}

/// Reads exactly n bytes at offset; false on error or a short file.
bool pread_all(int fd, char* data, std::size_t n, std::uint64_t offset) {
  while (n > 0) {
    const ssize_t r = ::pread(fd, data, n, static_cast<off_t>(offset));
    if (r < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    if (r == 0) return false;
    data += r;
    n -= static_cast<std::size_t>(r);
    offset += static_cast<std::uint64_t>(r);
  }
  return true;
}

std::int64_t to_ms(clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

clock::time_point from_ms(std::int64_t ms) {
  return clock::time_point{
      std::chrono::duration_cast<clock::duration>(std::chrono::milliseconds{ms})};
}

template <class Int>
bool parse_number(std::string_view s, Int& out) {
  const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc{} && p == s.data() + s.size();
}

}  // namespace

/// Metadata text: one "tag value" per line; headers as "header Name: value".
std::string encode_meta(const entry_meta& m) {
  std::string out;
  out.reserve(256 + m.url.size());
  const auto line = [&out](std::string_view tag, std::string_view value) {
    out.append(tag).append(" ").append(value).append("\n");
  };
  line("url", m.url);
  line("status", std::to_string(m.status));
  line("reason", m.reason);
  line("stored_ms", std::to_string(to_ms(m.stored_at)));
  line("expires_ms", std::to_string(to_ms(m.expires_at)));
  line("initial_age", std::to_string(m.initial_age.count()));
  for (const auto& [name, value] : m.headers) {
    out.append("header ").append(name).append(": ").append(value).append("\n");
  }
  // A "pad" line (an unknown tag to older readers, which skip it) fills the metadata up to
  // the next page boundary of the file, so that the body starts on one.
  constexpr std::size_t pad_line = 5;  // "pad \n"
  const std::size_t end = prefix_bytes + out.size() + pad_line;
  out.append("pad ").append((body_alignment - end % body_alignment) % body_alignment, ' ');
  out.push_back('\n');
  return out;
}

namespace {

// The tags an entry cannot be read without.
struct required_tags {
  bool url = false, status = false, stored = false, expires = false;
  [[nodiscard]] bool all() const { return url && status && stored && expires; }
};

// Reads one "tag value" line into `m`; false when a known tag's value is malformed. Unknown
// tags are ignored: a newer writer may add some.
bool apply_meta_line(entry_meta& m, std::string_view tag, std::string_view value,
                     required_tags& seen) {
  std::int64_t n = 0;
  if (tag == "url") {
    m.url = value;
    seen.url = true;
  } else if (tag == "status") {
    seen.status = parse_number(value, m.status);
    return seen.status;
  } else if (tag == "reason") {
    m.reason = value;
  } else if (tag == "stored_ms") {
    if (!parse_number(value, n)) return false;
    m.stored_at = from_ms(n);
    seen.stored = true;
  } else if (tag == "expires_ms") {
    if (!parse_number(value, n)) return false;
    m.expires_at = from_ms(n);
    seen.expires = true;
  } else if (tag == "initial_age") {
    if (!parse_number(value, n)) return false;
    m.initial_age = std::chrono::seconds{n};
  } else if (tag == "header") {
    const auto colon = value.find(": ");
    if (colon == std::string_view::npos || colon == 0) return false;
    m.headers.emplace_back(value.substr(0, colon), value.substr(colon + 2));
  }
  return true;
}

}  // namespace

std::optional<entry_meta> decode_meta(std::string_view text) {
  entry_meta m;
  required_tags seen;
  while (!text.empty()) {
    const auto eol = text.find('\n');
    if (eol == std::string_view::npos) return std::nullopt;  // every line ends with \n
    const std::string_view line = text.substr(0, eol);
    text.remove_prefix(eol + 1);
    const auto space = line.find(' ');
    if (space == std::string_view::npos) return std::nullopt;
    if (!apply_meta_line(m, line.substr(0, space), line.substr(space + 1), seen)) {
      return std::nullopt;
    }
  }
  if (!seen.all()) return std::nullopt;
  return m;
}

bool is_key(std::string_view name) {
  return name.size() == 64 &&
         std::all_of(name.begin(), name.end(), [](char c) { return hex::lower_value(c) >= 0; });
}

bool storable(std::string_view value) {
  return value.find_first_of("\r\n") == std::string_view::npos;
}

std::optional<std::string> head_bytes(const entry_meta& m) {
  const std::string text = encode_meta(m);
  if (text.size() > max_meta_bytes) return std::nullopt;
  std::string out(prefix_bytes, '\0');
  std::memcpy(out.data(), magic.data(), magic.size());
  put_le(out.data() + meta_size_offset, text.size(), 4);  // the body length stays 0 until commit
  out += text;
  return out;
}

bool write_all(int fd, std::string_view data) { return write_bytes(fd, data.data(), data.size()); }

bool set_body_size(int fd, std::uint64_t body_bytes) {
  char size_bytes[8];
  put_le(size_bytes, body_bytes, sizeof size_bytes);
  return pwrite_all(fd, size_bytes, sizeof size_bytes, body_size_offset);
}

std::optional<entry_meta> read(int fd, std::uint64_t file_bytes, std::uint64_t max_body) {
  char prefix[prefix_bytes];
  if (!pread_all(fd, prefix, prefix_bytes, 0)) return std::nullopt;
  if (std::string_view(prefix, magic.size()) != magic) return std::nullopt;
  const auto meta_bytes = static_cast<std::uint32_t>(get_le(prefix + meta_size_offset, 4));
  const std::uint64_t body_bytes = get_le(prefix + body_size_offset, 8);
  if (meta_bytes > max_meta_bytes || body_bytes > max_body ||
      file_bytes != prefix_bytes + meta_bytes + body_bytes) {
    return std::nullopt;
  }
  std::string text(meta_bytes, '\0');
  if (!pread_all(fd, text.data(), meta_bytes, prefix_bytes)) return std::nullopt;
  auto meta = decode_meta(text);
  if (!meta) return std::nullopt;
  meta->body_size = body_bytes;
  meta->body_offset = prefix_bytes + meta_bytes;
  return meta;
}

}  // namespace entry_file
}  // namespace sidecar::cache
