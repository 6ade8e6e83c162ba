// Test harness for the media cache through a real proxy::server: an upstream app (a small
// Beast server that counts what reaches it), a capture sink that keeps what it is given, an
// HTTP client, and a fixture that starts (and restarts) cache and proxy on 127.0.0.1:0.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <atomic>
#include <filesystem>
#include <map>
#include <mutex>
#include <thread>

#include "cache/media_cache.hpp"
#include "conf/load.hpp"
#include "proxy/server.hpp"
#include "store/capture.hpp"
#include "tests/common/temp_dir.hpp"

namespace sidecar::cache::testing {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

using testing_support::temp_dir;

/// What the upstream app answers for one path.
struct resource {
  std::string body;           // the body, unless `file` is set
  fs::path file;              // streamed from this file (big media)
  std::string content_type = "audio/wav";
  std::vector<std::pair<std::string, std::string>> headers;
  std::chrono::milliseconds delay{0};  // before the response head: a slow app
};

/// A resource with a body in memory.
inline resource media(std::string body, std::string content_type = "audio/wav",
                      std::vector<std::pair<std::string, std::string>> headers = {},
                      std::chrono::milliseconds delay = {}) {
  resource r;
  r.body = std::move(body);
  r.content_type = std::move(content_type);
  r.headers = std::move(headers);
  r.delay = delay;
  return r;
}

/// The customer app: serves registered resources (404 otherwise), keep-alive, and counts the
/// requests that reach it, per path.
class test_upstream {
 public:
  test_upstream() : acceptor_(io_, {net::ip::make_address("127.0.0.1"), 0}) {
    net::co_spawn(io_, accept_loop(this), net::detached);
    for (int i = 0; i < 2; ++i) threads_.emplace_back([this] { io_.run(); });
  }
  ~test_upstream() {
    io_.stop();
    for (auto& t : threads_) t.join();
  }
  test_upstream(const test_upstream&) = delete;
  test_upstream& operator=(const test_upstream&) = delete;

  void add(const std::string& path, resource r) {
    const std::lock_guard lock(mu_);
    resources_[path] = std::move(r);
  }
  [[nodiscard]] int requests(const std::string& path) const {
    const std::lock_guard lock(mu_);
    const auto it = counts_.find(path);
    return it == counts_.end() ? 0 : it->second;
  }
  [[nodiscard]] std::uint16_t port() const { return acceptor_.local_endpoint().port(); }

 private:
  static net::awaitable<void> accept_loop(test_upstream* self) {
    for (;;) {
      auto [ec, socket] = co_await self->acceptor_.async_accept(
          net::make_strand(self->io_), net::as_tuple(net::use_awaitable));
      if (ec) co_return;
      auto ex = socket.get_executor();
      net::co_spawn(ex, serve(self, std::move(socket)), net::detached);
    }
  }

  static net::awaitable<void> serve(test_upstream* self, tcp::socket socket) {
    beast::flat_buffer buffer;
    for (;;) {
      http::request<http::empty_body> req;
      auto [ec, n] = co_await http::async_read(socket, buffer, req, net::as_tuple(net::use_awaitable));
      if (ec) co_return;
      std::string path(req.target().substr(0, req.target().find('?')));
      std::optional<resource> r;
      {
        const std::lock_guard lock(self->mu_);
        ++self->counts_[path];
        if (const auto it = self->resources_.find(path); it != self->resources_.end()) r = it->second;
      }
      if (r && r->delay.count() > 0) {
        net::steady_timer t(socket.get_executor(), r->delay);
        co_await t.async_wait(net::as_tuple(net::use_awaitable));
      }
      const auto prepare = [&](auto& res) {
        res.version(req.version());
        res.keep_alive(req.keep_alive());
        if (r) {
          res.set(http::field::content_type, r->content_type);
          for (const auto& [name, value] : r->headers) res.insert(name, value);
        }
      };
      beast::error_code wec;
      if (r && !r->file.empty()) {
        http::response<http::file_body> res{http::status::ok, req.version()};
        beast::error_code fec;
        res.body().open(r->file.c_str(), beast::file_mode::scan, fec);
        prepare(res);
        res.prepare_payload();
        std::tie(wec, n) = co_await http::async_write(socket, res, net::as_tuple(net::use_awaitable));
      } else {
        http::response<http::string_body> res{r ? http::status::ok : http::status::not_found,
                                              req.version()};
        res.body() = r ? r->body : std::string("no such media");
        prepare(res);
        res.prepare_payload();
        std::tie(wec, n) = co_await http::async_write(socket, res, net::as_tuple(net::use_awaitable));
      }
      if (wec || !req.keep_alive()) co_return;
    }
  }

  net::io_context io_;
  tcp::acceptor acceptor_;
  std::vector<std::thread> threads_;
  mutable std::mutex mu_;
  std::map<std::string, resource> resources_;
  std::map<std::string, int> counts_;
};

/// The store's side of the proxy, reduced to what the tests look at.
class recording_sink : public store::capture_sink {
 public:
  bool submit(store::capture&& c) noexcept override {
    const std::lock_guard lock(mu_);
    captures_.push_back(std::move(c));
    return true;
  }
  [[nodiscard]] std::size_t count() const {
    const std::lock_guard lock(mu_);
    return captures_.size();
  }
  /// Waits (polling, with a deadline) until at least `n` captures arrived; returns the count.
  std::size_t wait_for(std::size_t n, std::chrono::seconds deadline = 10s) const {
    const auto until = std::chrono::steady_clock::now() + deadline;
    while (count() < n && std::chrono::steady_clock::now() < until) {
      std::this_thread::sleep_for(2ms);  // polling, not synchronisation
    }
    return count();
  }
  [[nodiscard]] std::vector<std::string> urls() const {
    const std::lock_guard lock(mu_);
    std::vector<std::string> out;
    for (const auto& c : captures_) out.push_back(c.upstream_url);
    return out;
  }

 private:
  mutable std::mutex mu_;
  std::vector<store::capture> captures_;
};

struct reply {
  int status = 0;
  http::fields headers;
  std::string body;
  [[nodiscard]] std::string header(std::string_view name) const {
    const auto it = headers.find(name);
    return it == headers.end() ? std::string("<none>") : std::string(it->value());
  }
};

/// One GET on a fresh connection (plus `extra` header fields).
inline reply get(std::uint16_t port, const std::string& target,
                 const std::vector<std::pair<std::string, std::string>>& extra = {}) {
  net::io_context io;
  tcp::socket socket(io);
  socket.connect({net::ip::make_address("127.0.0.1"), port});
  http::request<http::empty_body> req{http::verb::get, target, 11};
  req.set(http::field::host, "127.0.0.1");
  for (const auto& [name, value] : extra) req.set(name, value);
  http::write(socket, req);
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(64 << 20);
  beast::error_code ec;
  http::read(socket, buffer, parser, ec);
  reply r;
  if (ec) return r;
  r.status = parser.get().result_int();
  for (const auto& f : parser.get()) r.headers.insert(f.name_string(), f.value());
  r.body = std::move(parser.get().body());
  return r;
}

/// A proxy::server with a media cache in front of a test_upstream, started on 127.0.0.1:0.
class cache_through_proxy : public ::testing::Test {
 protected:
  /// The wall clock of the cache (freshness and Age), moved by the tests.
  std::atomic<std::int64_t> now_s{1'700'000'000};
  void advance(std::chrono::seconds s) { now_s += s.count(); }

  /// `cache_toml`: extra lines of the [cache] table.
  void start(const std::string& cache_toml = {}) {
    cache_toml_ = cache_toml;
    const std::string up = "http://127.0.0.1:" + std::to_string(upstream.port()) + "/media/";
    const std::string toml = "[proxy]\nlisten = \"127.0.0.1:0\"\nthreads = 2\n"
                             "[api]\nlisten = \"127.0.0.1:0\"\n"
                             "[store]\npath = \"" + (dir.path() / "data").string() + "\"\n"
                             "[[route]]\nprefix = \"/media/\"\nupstream = \"" + up + "\"\n"
                             "direction = \"webhook\"\n"
                             "[[route]]\nprefix = \"/api/\"\nupstream = \"" + up + "\"\n"
                             "direction = \"api\"\n"
                             "[cache]\ndir = \"" + cache_dir().string() + "\"\n" + cache_toml;
    cfg = conf::parse(toml, "cache-test.toml");
    registry = std::make_unique<metrics::registry>();
    cache = std::make_unique<media_cache>(
        cfg, *registry, [this] { return clock::time_point{std::chrono::seconds{now_s.load()}}; });
    proxy = std::make_unique<proxy::server>(cfg, sink, *registry, cache.get());
    port = proxy->start({}).port();
  }

  void stop() {
    if (proxy) proxy->stop(2s);
    proxy.reset();
    cache.reset();
  }

  /// Stops and starts again on the same cache directory: a restart of the sidecar.
  void restart() {
    stop();
    start(cache_toml_);
  }

  void TearDown() override { stop(); }

  [[nodiscard]] fs::path cache_dir() const { return dir.path() / "media-cache"; }

  [[nodiscard]] std::string metric(std::string_view name) const {
    const std::string text = registry->render();
    const auto at = text.find("\n" + std::string(name) + " ");
    if (at == std::string::npos) return "<absent>";
    const auto start_at = at + name.size() + 2;
    return text.substr(start_at, text.find('\n', start_at) - start_at);
  }

  temp_dir dir;
  test_upstream upstream;
  recording_sink sink;
  std::shared_ptr<const conf::config> cfg;
  std::unique_ptr<metrics::registry> registry;
  std::unique_ptr<media_cache> cache;
  std::unique_ptr<proxy::server> proxy;
  std::uint16_t port = 0;

 private:
  std::string cache_toml_;
};

}  // namespace sidecar::cache::testing
