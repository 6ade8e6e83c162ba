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

#include "cache/entry_file.hpp"
#include "cache/hit_writer.hpp"
#include "cache/policy.hpp"
#include "conf/config.hpp"
#include "support/head_fields.hpp"
#include "support/metrics.hpp"
#include "support/net.hpp"

namespace sidecar::cache {

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
  bool start(const response_head& head);
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
  [[nodiscard]] evaluation evaluate(std::string_view upstream_url, const response_head& head) const;

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

}  // namespace sidecar::cache
