// The media cache's entry file (docs/cache.md): one stored response per file, its metadata
// as text lines at the head and the body after it on a page boundary. Writing a new entry,
// reading one back and checking it; nothing here knows the index or the policy.
//
// <key>.entry, where key is the SHA-256 hex of the URL:
//   bytes 0..7    magic and format version "TSCACHE1"
//   bytes 8..11   metadata length M, little endian
//   bytes 12..19  body length B, little endian (written last, just before the rename)
//   bytes 20..    M bytes of metadata (text lines, see encode_meta), then B bytes of body
// The metadata ends with a "pad" line that puts the body on a page boundary (entries written
// before it have none, and are read alike). The file size must be exactly 20 + M + B. A fill
// is written to <key>.<pid>-<n>.tmp and renamed over <key>.entry only when complete.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "cache/policy.hpp"

namespace sidecar::cache {

/// Header fields in stored order, names as received.
using header_list = std::vector<std::pair<std::string, std::string>>;

/// What is known of a stored response (kept in memory for every entry, and on disk at the
/// head of its file).
struct entry_meta {
  std::string url;  // the full upstream URL it was fetched from
  int status = 200;
  std::string reason;
  header_list headers;  // as received, without hop-by-hop fields, Content-Length and Age
  clock::time_point stored_at;
  clock::time_point expires_at;         // no longer served from this instant on
  std::chrono::seconds initial_age{0};  // the upstream's Age when it was stored
  std::uint64_t body_size = 0;
  std::uint64_t body_offset = 0;  // where the body starts in the file
};

/// An open file descriptor, closed on destruction.
class file_handle {
 public:
  file_handle() = default;
  explicit file_handle(int fd) noexcept : fd_(fd) {}
  file_handle(file_handle&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  file_handle& operator=(file_handle&& o) noexcept;
  ~file_handle();
  [[nodiscard]] int get() const noexcept { return fd_; }
  [[nodiscard]] explicit operator bool() const noexcept { return fd_ >= 0; }
  void reset() noexcept;
  /// Gives up ownership: the caller closes the descriptor.
  [[nodiscard]] int release() noexcept { return std::exchange(fd_, -1); }

 private:
  int fd_ = -1;
};

namespace entry_file {

/// The file name suffixes: a complete entry, and a fill being written.
inline constexpr std::string_view entry_suffix = ".entry";
inline constexpr std::string_view temp_suffix = ".tmp";

/// Whether `name` is an entry's key: the SHA-256 hex (64 lower-case hex digits) of its URL.
[[nodiscard]] bool is_key(std::string_view name);

/// Whether a URL, reason, header name or value can be kept in the metadata's text lines.
[[nodiscard]] bool storable(std::string_view value);

/// The metadata's text lines, padded so that the body starts on a page boundary.
[[nodiscard]] std::string encode_meta(const entry_meta& m);

/// The metadata parsed back; nullopt when a line is malformed or a required tag is missing
/// (unknown tags are skipped: a newer writer may add some).
[[nodiscard]] std::optional<entry_meta> decode_meta(std::string_view text);

/// The first bytes of a new entry file: the prefix (body length 0 until set_body_size) and
/// `m`'s metadata; nullopt when the metadata is larger than an entry may hold. The body
/// starts right after them.
[[nodiscard]] std::optional<std::string> head_bytes(const entry_meta& m);

/// Writes all of `data` at the descriptor's position; false on an error (errno says which).
[[nodiscard]] bool write_all(int fd, std::string_view data);

/// Writes the body's length into the prefix, as the last step before the rename.
[[nodiscard]] bool set_body_size(int fd, std::uint64_t body_bytes);

/// Reads and checks the open entry file `fd` of `file_bytes` bytes: the prefix, sizes that add
/// up exactly, a body of at most `max_body` bytes, and its metadata (with body_size and
/// body_offset set). nullopt when it is not such a complete entry.
[[nodiscard]] std::optional<entry_meta> read(int fd, std::uint64_t file_bytes,
                                             std::uint64_t max_body);

}  // namespace entry_file
}  // namespace sidecar::cache
