// Serving a media cache hit (docs/cache.md): the stored head with Age and X-Cache, then the
// body from the entry file, with sendfile(2) on plain TCP and in chunks through user space on
// TLS. The whole body is never in memory.
#pragma once

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "cache/entry_file.hpp"
#include "support/net.hpp"

namespace sidecar::cache {

/// A fresh stored response, ready to be streamed from disk. The file stays readable through
/// this handle even if the entry is evicted or replaced meanwhile.
class cache_hit {
 public:
  cache_hit(std::shared_ptr<const entry_meta> meta, std::shared_ptr<const file_handle> file,
            std::chrono::seconds age)
      : meta_(std::move(meta)), file_(std::move(file)), age_(age) {}

  [[nodiscard]] const entry_meta& meta() const { return *meta_; }
  /// Body bytes.
  [[nodiscard]] std::uint64_t size() const { return meta_->body_size; }
  /// The response's age now (its upstream Age plus the time it has been stored).
  [[nodiscard]] std::chrono::seconds age() const { return age_; }
  /// The head to send: stored status, reason and headers, `Content-Length`, `Age` and
  /// `X-Cache: HIT` (HTTP/1.1; the proxy adjusts version() and keep_alive()). A message
  /// without body, so that keep_alive() is at hand; write_hit() sends the body.
  [[nodiscard]] http::response<http::empty_body> head() const;
  /// head() with `version` (10 or 11) and keep_alive(`keep_alive`), serialised: exactly the
  /// text serialize_head() gives for it, built straight into one string (a hit's head is
  /// per-request work on the proxy's hot path; Beast's fields cost an allocation per field).
  [[nodiscard]] std::string head_text(unsigned version, bool keep_alive) const;
  /// Reads up to `buffer.size()` body bytes starting at body position `offset`; 0 at the
  /// end. A short read before the end is an error (the file changed under us).
  [[nodiscard]] std::size_t read(std::uint64_t offset, net::mutable_buffer buffer,
                                 beast::error_code& ec) const;
  /// For sendfile(2)-style serving: the descriptor and where the body starts in it.
  [[nodiscard]] int native_handle() const { return file_->get(); }
  [[nodiscard]] std::uint64_t body_offset() const { return meta_->body_offset; }

 private:
  std::shared_ptr<const entry_meta> meta_;
  // Shared with the index while the entry is indexed: reads use explicit offsets (pread,
  // sendfile with an offset), so any number of hits can use one descriptor at once.
  std::shared_ptr<const file_handle> file_;
  std::chrono::seconds age_;
};

/// The head of a response as HTTP/1.x text ("HTTP/1.1 200 OK\r\n...\r\n\r\n").
[[nodiscard]] std::string serialize_head(const http::response_header<>& head);

/// The plain-TCP form of write_hit(): the body goes from the page cache to the socket with
/// sendfile(2), without passing through user space. `head_text` is the serialised head.
net::awaitable<beast::error_code> write_hit_sendfile(tcp::socket& socket,
                                                     const std::string& head_text,
                                                     const cache_hit& hit,
                                                     std::function<void()> before_write);

/// Writes `head_text` (a serialised head, as from cache_hit::head_text()) and, unless
/// `head_only` (HEAD), the hit's body read from disk in chunks of `chunk_bytes`: the whole
/// file is never in memory. The head and the first chunk go out in one write.
/// `before_write()` runs before each write (the proxy re-arms its idle deadline there).
/// Returns the first error (a read error included). `head_text` must outlive the call.
template <class AsyncWriteStream, class BeforeWrite>
net::awaitable<beast::error_code> write_hit(AsyncWriteStream& stream, const std::string& head_text,
                                            const cache_hit& hit, bool head_only,
                                            std::size_t chunk_bytes, BeforeWrite before_write) {
  if constexpr (std::is_same_v<AsyncWriteStream, tcp::socket>) {
    if (!head_only && hit.size() > 0) {
      co_return co_await write_hit_sendfile(stream, head_text, hit, std::move(before_write));
    }
  }
  const std::uint64_t size = head_only ? 0 : hit.size();
  std::vector<char> buffer(static_cast<std::size_t>(std::min<std::uint64_t>(chunk_bytes, size)));
  std::uint64_t offset = 0;
  bool head_sent = false;
  do {
    beast::error_code ec;
    std::size_t n = 0;
    if (offset < size) {
      n = hit.read(offset, net::buffer(buffer), ec);
      if (ec) co_return ec;
    }
    const std::array<net::const_buffer, 2> parts{
        head_sent ? net::const_buffer{} : net::buffer(head_text), net::buffer(buffer.data(), n)};
    before_write();
    auto [wec, written] =
        co_await net::async_write(stream, parts, net::as_tuple(net::use_awaitable));
    if (wec) co_return wec;
    head_sent = true;
    offset += n;
  } while (offset < size);
  co_return beast::error_code{};
}

/// The same with a head given as a message: serialised first.
template <class AsyncWriteStream, class BeforeWrite>
net::awaitable<beast::error_code> write_hit(AsyncWriteStream& stream,
                                            const http::response_header<>& head,
                                            const cache_hit& hit, bool head_only,
                                            std::size_t chunk_bytes, BeforeWrite before_write) {
  // A local: it outlives the inner coroutine, which refers to it.
  const std::string head_text = serialize_head(head);
  co_return co_await write_hit(stream, head_text, hit, head_only, chunk_bytes,
                               std::move(before_write));
}

template <class AsyncWriteStream>
net::awaitable<beast::error_code> write_hit(AsyncWriteStream& stream,
                                            const http::response_header<>& head,
                                            const cache_hit& hit, bool head_only = false,
                                            std::size_t chunk_bytes = 64 * 1024) {
  return write_hit(stream, head, hit, head_only, chunk_bytes, [] {});
}

}  // namespace sidecar::cache
