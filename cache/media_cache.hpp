// The media cache in front of the apps (docs/cache.md): cacheable GETs on webhook routes
// are answered from files under [cache] dir without contacting the app and without a Trace
// record. The proxy calls it; it knows nothing of the proxy or the store. Design: docs/cache.md.
//
// How the proxy uses it, per request:
//
//   if (cache && cache::cacheable_request(method, route.dir, forward_proxy, req)) {
//     cache::acquisition a = co_await cache->acquire(upstream_url, cfg.proxy.upstream_timeout);
//     if (a.hit) {                       // served from disk: not forwarded, not captured
//       auto head = a.hit->head();       // stored status and headers, Age, X-Cache: HIT
//       co_await cache::write_hit(stream, head, *a.hit);
//       ...
//     }
//     // a.fill: forward as usual, answer with X-Cache: MISS, and feed the fill:
//     a.fill->start(upstream_response_head);   // false: not storable, nothing more to do
//     a.fill->write(chunk) ...                  // as each body chunk is relayed
//     a.fill->commit();                         // after the last byte; destruction aborts
//   }
#pragma once

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "cache/policy.hpp"
#include "conf/config.hpp"
#include "support/metrics.hpp"
#include "support/net.hpp"

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
  clock::time_point expires_at;  // no longer served from this instant on
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

class media_cache;

/// One response being written into the cache while the proxy relays it. Move-only; used by
/// one coroutine at a time. Destroying it before commit() aborts the fill (the temporary file
/// is removed, requests waiting on it fetch for themselves).
class cache_fill {
 public:
  cache_fill(cache_fill&& o) noexcept;
  cache_fill& operator=(cache_fill&&) = delete;
  cache_fill(const cache_fill&) = delete;
  ~cache_fill();

  /// Decides on the upstream's response head. True: storable, the temporary file is open,
  /// feed it with write(). False: nothing is stored, and later calls do nothing.
  bool start(const http::response_header<>& head);
  /// Appends body bytes (after de-chunking). False when the fill is not (or no longer)
  /// active: a write error, or the body outgrew max_object_bytes; then it has been aborted.
  bool write(net::const_buffer chunk);
  /// The body is complete: checks its size against Content-Length, moves the file into
  /// place, indexes it and evicts least-recently-used entries beyond max_bytes. True when
  /// stored.
  bool commit();
  /// Gives up: nothing is stored. Safe to call at any time, and more than once.
  void abort();

  /// Between a successful start() and commit()/abort().
  [[nodiscard]] bool active() const { return state_ == state::writing; }
  /// Why start() refused (storable until then, or when it accepted).
  [[nodiscard]] verdict refusal() const { return verdict_; }
  [[nodiscard]] const std::string& key() const { return key_; }
  [[nodiscard]] const std::string& url() const { return url_; }

 private:
  friend class media_cache;
  struct flight;
  enum class state : std::uint8_t { idle, writing, done };
  cache_fill(media_cache* cache, std::string key, std::string url, std::shared_ptr<flight> f);
  void finish(bool stored);

  media_cache* cache_;
  std::string key_;
  std::string url_;
  std::shared_ptr<flight> flight_;  // null for a fill nobody waits on
  state state_ = state::idle;
  verdict verdict_ = verdict::storable;
  std::shared_ptr<entry_meta> meta_;
  std::string temp_path_;
  file_handle file_;
  std::uint64_t written_ = 0;
  std::optional<std::uint64_t> expected_size_;  // the response's Content-Length
};

/// The outcome of media_cache::acquire(): exactly one of the two is set.
struct acquisition {
  std::optional<cache_hit> hit;    // answer from the cache
  std::optional<cache_fill> fill;  // fetch from the app, and feed this while relaying
};

/// The media cache. Thread-safe; one per process (or per test).
class media_cache {
 public:
  using clock_fn = std::function<clock::time_point()>;

  /// Opens (creating it owner-only if needed) `cfg->cache.dir` (default `<store.path>/media`),
  /// removes crash leftovers and broken or expired entries, and rebuilds the index. `now`
  /// replaces the wall clock (tests). Throws conf::config_error when the directory cannot be
  /// created or read.
  media_cache(std::shared_ptr<const conf::config> cfg, metrics::registry& metrics,
              clock_fn now = {});
  ~media_cache();
  media_cache(const media_cache&) = delete;
  media_cache& operator=(const media_cache&) = delete;

  /// Swaps in a reloaded configuration: max_bytes (a lower one evicts at once),
  /// max_object_bytes, ttl and extensions. The directory stays. Thread-safe.
  void reconfigure(std::shared_ptr<const conf::config> next);

  /// Whether a response may be stored, and for how long (policy.hpp, with this cache's
  /// configuration and clock).
  [[nodiscard]] evaluation evaluate(std::string_view upstream_url,
                                    const http::response_header<>& head) const;

  /// The fresh entry for `upstream_url` (bumped to most recently used, counted as a hit),
  /// or nullopt. Never waits. Misses are counted by cache_fill::start() when the response
  /// turns out storable: only requests the cache could have served count.
  [[nodiscard]] std::optional<cache_hit> lookup(std::string_view upstream_url);

  /// A fill for `upstream_url` that nobody waits on (several may run at once; the last to
  /// commit wins).
  [[nodiscard]] cache_fill begin_fill(std::string upstream_url);

  /// A hit, or a fill for the caller to feed. Concurrent misses for one URL fetch from the
  /// app once: the first becomes the filler, the others wait (asynchronously, on their own
  /// executor) for it, up to `max_wait`, then take the stored entry. When that fill fails,
  /// turns out not storable, or takes longer than `max_wait`, they each get a fill of their
  /// own (and fetch for themselves). Counts one hit or one miss.
  [[nodiscard]] net::awaitable<acquisition> acquire(std::string upstream_url,
                                                    std::chrono::milliseconds max_wait);

  /// Bytes on disk of the indexed entries, and how many there are.
  [[nodiscard]] std::uint64_t bytes() const;
  [[nodiscard]] std::size_t entries() const;
  /// Whether an entry for this URL is indexed (fresh or not); does not count or bump.
  [[nodiscard]] bool contains(std::string_view upstream_url) const;
  [[nodiscard]] const std::filesystem::path& dir() const;

 private:
  friend class cache_fill;
  struct impl;
  std::unique_ptr<impl> impl_;
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
