// The media cache: the in-memory index with LRU order, fills, and the single flight of
// concurrent misses. See media_cache.hpp and docs/cache.md; the entry files' format is
// entry_file.cpp's, serving a hit hit_writer.cpp's.
#include "cache/media_cache.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <list>
#include <mutex>
#include <unordered_map>

#include "conf/config_error.hpp"
#include "support/ascii.hpp"
#include "support/hex.hpp"
#include "support/http_fields.hpp"
#include "support/log.hpp"

namespace sidecar::cache {

namespace fs = std::filesystem;

namespace {

// A URL whose response was not storable is not coalesced for this long: concurrent requests
// for it go to the app side by side instead of queueing behind each other.
constexpr std::chrono::seconds uncacheable_hint{30};
constexpr std::size_t max_uncacheable_hints = 4096;
// Entries keep their file open (saving an open and a close per hit) up to this many; beyond,
// a hit opens the file for itself.
constexpr std::size_t max_open_files = 512;

using ascii::iequals;

/// Fields that describe one connection, not the response, plus the ones the cache sets itself
/// on a hit.
bool stored_field(std::string_view name, const head_fields& head) {
  return !http_fields::is_hop_by_hop(name) && !http_fields::is_framing(name) &&
         !iequals(name, "age") && !iequals(name, "x-cache") &&
         !http_fields::named_by_connection(head, name);
}

}  // namespace

// --- shared state -----------------------------------------------------------------------------

enum class flight_outcome : std::uint8_t { pending, stored, not_storable, failed };

/// One request waiting for another's fill. Its timer is both the timeout and the wake-up: the
/// filler cancels it, through the waiter's own executor (timers are not thread-safe).
struct waiter {
  explicit waiter(const net::any_io_executor& ex) : timer(ex) {}
  net::steady_timer timer;
  bool done = false;  // guarded by the cache mutex
  flight_outcome result = flight_outcome::pending;
};

/// The fill of one key that other requests wait on.
struct cache_fill::flight {
  std::vector<std::shared_ptr<waiter>> waiters;  // guarded by the cache mutex
};

struct media_cache::impl {
  struct entry {
    std::shared_ptr<const entry_meta> meta;
    std::uint64_t file_bytes = 0;
    std::list<std::string>::iterator lru;
    std::shared_ptr<const file_handle> file;  // opened at the first hit; may stay null
  };

  impl(std::shared_ptr<const conf::config> c, metrics::registry& m, clock_fn clk)
      : cfg(c),
        now(clk ? std::move(clk) : clock_fn{[] { return clock::now(); }}),
        hits(m.add_counter("sidecar_cache_hits_total", "Requests answered from the media cache")),
        misses(m.add_counter("sidecar_cache_misses_total",
                             "Cacheable requests not answered from the media cache")),
        evictions(m.add_counter("sidecar_cache_evictions_total",
                                "Media cache entries removed to stay within max_bytes")),
        fills_aborted(m.add_counter("sidecar_cache_fills_aborted_total",
                                    "Media cache fills abandoned (error, size, short body)")),
        bytes_gauge(m.add_gauge("sidecar_cache_bytes", "Bytes of the media cache on disk")),
        entries_gauge(m.add_gauge("sidecar_cache_entries", "Entries in the media cache")) {
    dir = c->cache.dir.empty() ? c->store.path / "media" : c->cache.dir;
  }

  // Swapped whole by a reload (the limits, ttl and extensions); `dir` stays.
  std::atomic<std::shared_ptr<const conf::config>> cfg;
  fs::path dir;
  clock_fn now;
  metrics::counter& hits;
  metrics::counter& misses;
  metrics::counter& evictions;
  metrics::counter& fills_aborted;
  metrics::gauge& bytes_gauge;
  metrics::gauge& entries_gauge;
  std::atomic<std::uint64_t> temp_seq{0};
  std::size_t open_files = 0;  // entries holding a descriptor; guarded by mu

  mutable std::mutex mu;
  std::unordered_map<std::string, entry> index;               // guarded by mu
  std::list<std::string> lru;                                 // front: most recently used
  std::uint64_t bytes = 0;                                    // sum of file_bytes
  std::unordered_map<std::string, std::shared_ptr<cache_fill::flight>> flights;
  std::unordered_map<std::string, clock::time_point> uncacheable;  // key -> hint ends

  [[nodiscard]] fs::path entry_path(std::string_view key) const {
    return dir / (std::string(key) + std::string(entry_file::entry_suffix));
  }

  void publish_locked() {
    bytes_gauge.set(static_cast<std::int64_t>(bytes));
    entries_gauge.set(static_cast<std::int64_t>(index.size()));
  }

  /// Forgets an entry; its file is unlinked unless it has already been replaced.
  void erase_locked(std::unordered_map<std::string, entry>::iterator it, bool unlink_file) {
    if (unlink_file) ::unlink(entry_path(it->first).c_str());
    if (it->second.file) --open_files;  // closed once the last hit using it is done
    bytes -= it->second.file_bytes;
    lru.erase(it->second.lru);
    index.erase(it);
  }

  /// The fresh entry for `key`, opened and bumped; expired or vanished entries are dropped.
  std::optional<cache_hit> find_locked(const std::string& key, clock::time_point t) {
    const auto it = index.find(key);
    if (it == index.end()) return std::nullopt;
    const auto& meta = it->second.meta;
    if (t >= meta->expires_at) {
      erase_locked(it, true);
      publish_locked();
      return std::nullopt;
    }
    // Opened under the lock so that eviction (which unlinks under it) cannot slip between.
    std::shared_ptr<const file_handle> file = it->second.file;
    if (!file) {
      auto opened = std::make_shared<file_handle>(::open(entry_path(key).c_str(), O_RDONLY | O_CLOEXEC));
      if (!*opened) {
        log::warn("cache entry unreadable", {{"key", key}, {"error", std::strerror(errno)}});
        erase_locked(it, false);
        publish_locked();
        return std::nullopt;
      }
      file = opened;
      if (open_files < max_open_files) {
        it->second.file = file;
        ++open_files;
      }
    }
    lru.splice(lru.begin(), lru, it->second.lru);
    const auto resident = std::chrono::floor<std::chrono::seconds>(t - meta->stored_at);
    const auto age = meta->initial_age + std::max(resident, std::chrono::seconds{0});
    return cache_hit(meta, std::move(file), age);
  }

  /// Evicts least-recently-used entries until within max_bytes, never `keep` (just stored).
  void evict_locked(const std::string& keep) {
    const std::uint64_t max_bytes = cfg.load()->cache.max_bytes;
    while (bytes > max_bytes && !lru.empty()) {
      const std::string victim = lru.back();
      if (victim == keep) break;  // the only entry left: it fitted alone when admitted
      erase_locked(index.find(victim), true);
      evictions.inc();
    }
  }

  /// Ends the single flight of `key` (if `f` still is it) and wakes its waiters.
  void finish_flight_locked(const std::string& key, const std::shared_ptr<cache_fill::flight>& f,
                            flight_outcome outcome) {
    if (!f) return;
    if (const auto it = flights.find(key); it != flights.end() && it->second == f) flights.erase(it);
    for (const auto& w : f->waiters) {
      w->done = true;
      w->result = outcome;
      // The waiter's coroutine may run on another thread: cancel its timer on its executor.
      net::post(w->timer.get_executor(), [w] { w->timer.cancel(); });
    }
    f->waiters.clear();
  }

  void note_uncacheable_locked(const std::string& key, clock::time_point t) {
    if (uncacheable.size() >= max_uncacheable_hints) uncacheable.clear();
    uncacheable[key] = t + uncacheable_hint;
  }

  /// Reads and checks one entry file; nullopt when it is not a complete, matching entry.
  std::optional<std::pair<entry_meta, std::uint64_t>> load_entry(const fs::path& path,
                                                                 std::string_view key) const {
    const file_handle file(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!file) return std::nullopt;
    struct stat st {};
    if (::fstat(file.get(), &st) != 0) return std::nullopt;
    const auto file_bytes = static_cast<std::uint64_t>(st.st_size);
    auto meta = entry_file::read(file.get(), file_bytes, cfg.load()->cache.max_object_bytes);
    if (!meta || key_of(meta->url) != key) return std::nullopt;
    return std::pair{std::move(*meta), file_bytes};
  }

  void rebuild() {
    std::error_code ec;
    if (!fs::exists(dir, ec)) {
      fs::create_directories(dir, ec);
      if (!ec) fs::permissions(dir, fs::perms::owner_all, fs::perm_options::replace, ec);
      if (ec) {
        throw conf::config_error(cfg.load()->source + ": [cache] dir: cannot create " +
                                 dir.string() + ": " + ec.message());
      }
    }
    const clock::time_point t = now();
    std::vector<std::pair<std::string, std::pair<entry_meta, std::uint64_t>>> found;
    std::size_t leftovers = 0, broken = 0, expired = 0;
    fs::directory_iterator it(dir, ec);
    if (ec) {
      throw conf::config_error(cfg.load()->source + ": [cache] dir: cannot read " + dir.string() +
                               ": " + ec.message());
    }
    for (; it != fs::directory_iterator(); it.increment(ec)) {
      if (ec) break;
      std::error_code type_ec;
      if (!it->is_regular_file(type_ec)) continue;
      const std::string name = it->path().filename().string();
      if (name.ends_with(entry_file::temp_suffix)) {
        // A fill that never completed (the process died while writing it).
        fs::remove(it->path(), type_ec);
        ++leftovers;
        continue;
      }
      if (!name.ends_with(entry_file::entry_suffix)) continue;  // not ours: left alone
      const std::string key = name.substr(0, name.size() - entry_file::entry_suffix.size());
      if (!entry_file::is_key(key)) continue;
      auto loaded = load_entry(it->path(), key);
      if (!loaded) {
        fs::remove(it->path(), type_ec);
        ++broken;
      } else if (t >= loaded->first.expires_at) {
        fs::remove(it->path(), type_ec);
        ++expired;
      } else {
        found.emplace_back(key, std::move(*loaded));
      }
    }
    // Oldest stored first out: the order of use is not kept across restarts.
    std::sort(found.begin(), found.end(), [](const auto& a, const auto& b) {
      return a.second.first.stored_at < b.second.first.stored_at;
    });
    const std::lock_guard lock(mu);
    for (auto& [key, loaded] : found) {
      lru.push_front(key);
      index[key] = entry{std::make_shared<const entry_meta>(std::move(loaded.first)), loaded.second,
                         lru.begin(), nullptr};
      bytes += loaded.second;
    }
    const std::uint64_t before = evictions.value();
    evict_locked(lru.empty() ? std::string{} : lru.front());
    publish_locked();
    log::info("media cache ready",
              {{"dir", dir.string()},
               {"entries", std::to_string(index.size())},
               {"bytes", std::to_string(bytes)},
               {"removed_leftovers", std::to_string(leftovers)},
               {"removed_broken", std::to_string(broken)},
               {"removed_expired", std::to_string(expired)},
               {"evicted", std::to_string(evictions.value() - before)}});
  }
};

// --- cache_fill -------------------------------------------------------------------------------

cache_fill::cache_fill(media_cache* cache, std::string key, std::string url,
                       std::shared_ptr<flight> f)
    : cache_(cache), key_(std::move(key)), url_(std::move(url)), flight_(std::move(f)) {}

cache_fill::cache_fill(cache_fill&& o) noexcept
    : cache_(std::exchange(o.cache_, nullptr)),
      key_(std::move(o.key_)),
      url_(std::move(o.url_)),
      flight_(std::move(o.flight_)),
      state_(std::exchange(o.state_, state::done)),
      verdict_(o.verdict_),
      meta_(std::move(o.meta_)),
      temp_path_(std::move(o.temp_path_)),
      file_(std::move(o.file_)),
      written_(o.written_),
      expected_size_(o.expected_size_) {}

cache_fill::~cache_fill() { abort(); }

void cache_fill::finish(bool stored) {
  auto& im = *cache_->impl_;
  const std::lock_guard lock(im.mu);
  const auto outcome = stored                             ? flight_outcome::stored
                       : verdict_ != verdict::storable ? flight_outcome::not_storable
                                                        : flight_outcome::failed;
  if (outcome == flight_outcome::not_storable) im.note_uncacheable_locked(key_, im.now());
  im.finish_flight_locked(key_, flight_, outcome);
  flight_.reset();
}

bool cache_fill::start(const response_head& head) {
  if (!cache_ || state_ != state::idle) return false;
  auto& im = *cache_->impl_;
  const clock::time_point t = im.now();
  const evaluation e = evaluate_response(im.cfg.load()->cache, url_, head, t);
  if (!e.storable()) {
    verdict_ = e.why;
    state_ = state::done;
    finish(false);
    return false;
  }
  im.misses.inc();
  auto meta = std::make_shared<entry_meta>();
  meta->url = url_;
  meta->status = static_cast<int>(head.result_int());
  meta->reason = std::string(head.reason());
  meta->stored_at = t;
  meta->initial_age = e.fresh.initial_age;
  meta->expires_at = t + e.fresh.lifetime - e.fresh.initial_age;
  bool clean = entry_file::storable(url_) && entry_file::storable(meta->reason);
  for (const auto& f : head) {
    if (!stored_field(f.name_string(), head)) continue;
    clean = clean && entry_file::storable(f.name_string()) && entry_file::storable(f.value());
    meta->headers.emplace_back(f.name_string(), f.value());
  }
  if (const auto cl = head.find(http::field::content_length); cl != head.end()) {
    const std::string_view v = cl->value();
    std::uint64_t n = 0;
    const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
    if (ec == std::errc{} && end == v.data() + v.size()) expected_size_ = n;
  }
  const auto head_bytes = clean ? entry_file::head_bytes(*meta) : std::nullopt;
  if (!head_bytes) {
    state_ = state::done;
    finish(false);
    return false;
  }
  temp_path_ =
      (im.dir / (key_ + "." + std::to_string(::getpid()) + "-" +
                 std::to_string(im.temp_seq.fetch_add(1)) + std::string(entry_file::temp_suffix)))
          .string();
  file_ = file_handle(::open(temp_path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  meta->body_offset = head_bytes->size();
  meta_ = std::move(meta);
  state_ = state::writing;
  if (!file_ || !entry_file::write_all(file_.get(), *head_bytes)) {
    log::warn("cache fill failed", {{"key", key_}, {"error", std::strerror(errno)}});
    abort();
    return false;
  }
  return true;
}

bool cache_fill::write(net::const_buffer chunk) {
  if (state_ != state::writing) return false;
  const auto snap = cache_->impl_->cfg.load();
  const auto& cfg = snap->cache;
  const std::uint64_t limit = std::min(cfg.max_object_bytes, cfg.max_bytes);
  if (written_ + chunk.size() > limit ||
      (expected_size_ && written_ + chunk.size() > *expected_size_)) {
    abort();
    return false;
  }
  if (!entry_file::write_all(
          file_.get(), std::string_view(static_cast<const char*>(chunk.data()), chunk.size()))) {
    log::warn("cache fill failed", {{"key", key_}, {"error", std::strerror(errno)}});
    abort();
    return false;
  }
  written_ += chunk.size();
  return true;
}

bool cache_fill::commit() {
  if (state_ != state::writing) return false;
  if (expected_size_ && written_ != *expected_size_) {
    abort();  // a short body: the upstream closed early
    return false;
  }
  const bool written = entry_file::set_body_size(file_.get(), written_);
  const bool closed = ::close(file_.release()) == 0;  // closed here to see close's result
  if (!written || !closed) {
    log::warn("cache fill failed", {{"key", key_}, {"error", std::strerror(errno)}});
    abort();
    return false;
  }
  meta_->body_size = written_;
  auto& im = *cache_->impl_;
  const std::uint64_t file_bytes = meta_->body_offset + written_;
  {
    const std::lock_guard lock(im.mu);
    // Renamed under the lock: eviction of the old entry for this key unlinks under it too,
    // and must never remove the new file.
    if (::rename(temp_path_.c_str(), im.entry_path(key_).c_str()) != 0) {
      log::warn("cache fill failed", {{"key", key_}, {"error", std::strerror(errno)}});
      ::unlink(temp_path_.c_str());
      state_ = state::done;
      im.fills_aborted.inc();
      im.finish_flight_locked(key_, flight_, flight_outcome::failed);
      flight_.reset();
      return false;
    }
    if (const auto old = im.index.find(key_); old != im.index.end()) {
      im.erase_locked(old, false);  // its file was just replaced
    }
    im.lru.push_front(key_);
    im.index[key_] =
        media_cache::impl::entry{std::move(meta_), file_bytes, im.lru.begin(), nullptr};
    im.bytes += file_bytes;
    im.evict_locked(key_);
    im.uncacheable.erase(key_);
    im.publish_locked();
    im.finish_flight_locked(key_, flight_, flight_outcome::stored);
    flight_.reset();
  }
  state_ = state::done;
  return true;
}

void cache_fill::abort() {
  if (!cache_) return;
  if (state_ == state::writing) {
    file_.reset();
    ::unlink(temp_path_.c_str());
    cache_->impl_->fills_aborted.inc();
  }
  state_ = state::done;
  if (flight_) finish(false);
}

// --- media_cache ------------------------------------------------------------------------------

media_cache::media_cache(std::shared_ptr<const conf::config> cfg, metrics::registry& metrics,
                         clock_fn now)
    : impl_(std::make_unique<impl>(std::move(cfg), metrics, std::move(now))) {
  impl_->rebuild();
}

media_cache::~media_cache() = default;

evaluation media_cache::evaluate(std::string_view upstream_url, const response_head& head) const {
  return evaluate_response(impl_->cfg.load()->cache, upstream_url, head, impl_->now());
}

void media_cache::reconfigure(std::shared_ptr<const conf::config> next) {
  impl_->cfg.store(std::move(next));
  const std::lock_guard lock(impl_->mu);
  impl_->evict_locked({});  // a lower max_bytes takes effect now
}

std::optional<cache_hit> media_cache::lookup(std::string_view upstream_url) {
  const std::string key = key_of(upstream_url);
  const clock::time_point t = impl_->now();
  std::optional<cache_hit> hit;
  {
    const std::lock_guard lock(impl_->mu);
    hit = impl_->find_locked(key, t);
  }
  if (hit) impl_->hits.inc();  // a miss is counted by the fill, once its response is storable
  return hit;
}

cache_fill media_cache::begin_fill(std::string upstream_url) {
  std::string key = key_of(upstream_url);
  return cache_fill(this, std::move(key), std::move(upstream_url), nullptr);
}

net::awaitable<acquisition> media_cache::acquire(std::string upstream_url,
                                                 std::chrono::milliseconds max_wait) {
  const std::string key = key_of(upstream_url);
  const auto executor = co_await net::this_coro::executor;
  auto& im = *impl_;
  bool waited = false;
  for (;;) {
    std::shared_ptr<waiter> w;
    acquisition result;
    {
      const std::lock_guard lock(im.mu);
      const clock::time_point t = im.now();
      if (auto hit = im.find_locked(key, t)) {
        result.hit.emplace(std::move(*hit));
      } else if (waited || max_wait <= std::chrono::milliseconds::zero()) {
        // After one wait, a miss fetches for itself rather than queueing again.
        result.fill.emplace(cache_fill(this, key, upstream_url, nullptr));
      } else if (const auto f = im.flights.find(key); f != im.flights.end()) {
        w = std::make_shared<waiter>(executor);
        w->timer.expires_after(max_wait);
        f->second->waiters.push_back(w);
      } else if (const auto hint = im.uncacheable.find(key);
                 hint != im.uncacheable.end() && t < hint->second) {
        result.fill.emplace(cache_fill(this, key, upstream_url, nullptr));
      } else {
        auto flight = std::make_shared<cache_fill::flight>();
        im.flights.emplace(key, flight);
        result.fill.emplace(cache_fill(this, key, upstream_url, std::move(flight)));
      }
    }
    if (!w) {
      // A miss is counted when its response turns out storable (cache_fill::start): only
      // requests the cache could have served are misses.
      if (result.hit) im.hits.inc();
      co_return result;
    }
    // Lifetime: `w` is shared with the flight (which may post a cancel after we resume), so
    // the timer outlives both this wait and any wake-up still queued for it.
    co_await w->timer.async_wait(net::as_tuple(net::use_awaitable));
    flight_outcome outcome = flight_outcome::pending;
    {
      const std::lock_guard lock(im.mu);
      if (w->done) {
        outcome = w->result;
      } else if (const auto f = im.flights.find(key); f != im.flights.end()) {
        auto& ws = f->second->waiters;  // timed out (or cancelled): stop waiting
        ws.erase(std::remove(ws.begin(), ws.end(), w), ws.end());
      }
    }
    waited = true;
    // Only a stored entry is worth another look; otherwise fetch for ourselves (the loop's
    // `waited` branch), so that a failing upstream is not retried in single file.
    if (outcome != flight_outcome::stored) {
      co_return acquisition{std::nullopt, cache_fill(this, key, std::move(upstream_url), nullptr)};
    }
  }
}

std::uint64_t media_cache::bytes() const {
  const std::lock_guard lock(impl_->mu);
  return impl_->bytes;
}

std::size_t media_cache::entries() const {
  const std::lock_guard lock(impl_->mu);
  return impl_->index.size();
}

bool media_cache::contains(std::string_view upstream_url) const {
  const std::string key = key_of(upstream_url);
  const std::lock_guard lock(impl_->mu);
  return impl_->index.count(key) != 0;
}

const std::filesystem::path& media_cache::dir() const { return impl_->dir; }

}  // namespace sidecar::cache
