// What the proxy's tests share: a config built by hand, a capture sink that keeps what it is
// given, a running proxy::server, and blocking raw-socket clients with a receive timeout.
#pragma once

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "conf/config.hpp"
#include "proxy/server.hpp"
#include "store/capture.hpp"
#include "support/metrics.hpp"
#include "support/net.hpp"

namespace sidecar::testing {

/// A test double of the store's writer: keeps every capture.
class collecting_sink : public store::capture_sink {
 public:
  bool submit(store::capture&& c) noexcept override {
    std::lock_guard l(mu_);
    captures_.push_back(std::move(c));
    cv_.notify_all();
    return true;
  }
  /// Waits (up to 10 s) until at least n captures arrived; returns them.
  std::vector<store::capture> wait_for(std::size_t n) {
    std::unique_lock l(mu_);
    cv_.wait_for(l, std::chrono::seconds(10), [&] { return captures_.size() >= n; });
    return captures_;
  }
  std::size_t size() {
    std::lock_guard l(mu_);
    return captures_.size();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<store::capture> captures_;
};

inline conf::upstream_url upstream_at(std::uint16_t port, std::string base = "/",
                                      bool https = false, std::string host = "127.0.0.1") {
  conf::upstream_url u;
  u.https = https;
  u.host = host;
  u.port = port;
  u.base_path = base;
  u.text = std::string(https ? "https://" : "http://") + host + ":" + std::to_string(port) + base;
  return u;
}

inline conf::route route_to(std::string prefix, conf::upstream_url up) {
  conf::route r;
  r.prefix = std::move(prefix);
  r.upstream = std::move(up);
  r.account = "ACae6e420f425248d6a26948c17a9e2acf";
  return r;
}

/// A config with short timeouts for tests, listening on 127.0.0.1:0.
inline std::shared_ptr<conf::config> base_config() {
  auto c = std::make_shared<conf::config>();
  c->source = "test";
  c->proxy.listen.address = net::ip::make_address("127.0.0.1");
  c->proxy.listen.port = 0;
  c->proxy.threads = 2;
  c->proxy.connect_timeout = std::chrono::seconds(2);
  c->proxy.upstream_timeout = std::chrono::seconds(3);
  c->proxy.idle_timeout = std::chrono::seconds(5);
  c->proxy.header_timeout = std::chrono::seconds(2);
  c->store.body_limit = 1024;
  return c;
}

/// base_config() with one route: `prefix` to the upstream on 127.0.0.1:`upstream_port`.
inline std::shared_ptr<conf::config> one_route(std::uint16_t upstream_port,
                                               std::string prefix = "/", std::string base = "/") {
  auto c = base_config();
  c->routes.push_back(route_to(std::move(prefix), upstream_at(upstream_port, std::move(base))));
  return c;
}

/// A proxy::server running on a config, stopped at destruction.
class running_proxy {
 public:
  explicit running_proxy(std::shared_ptr<const conf::config> cfg,
                         std::vector<tcp::endpoint> own = {})
      : cfg_(std::move(cfg)), server_(cfg_, sink, registry, nullptr) {
    endpoint_ = server_.start(std::move(own));
  }
  ~running_proxy() { server_.stop(std::chrono::milliseconds(500)); }
  [[nodiscard]] std::uint16_t port() const { return endpoint_.port(); }
  [[nodiscard]] tcp::endpoint endpoint() const { return endpoint_; }
  void stop(std::chrono::milliseconds drain) { server_.stop(drain); }
  /// The value of one metric line of the registry ("name{labels}"), or -1.
  double metric(std::string_view line_start) const {
    const std::string text = registry.render();
    std::size_t pos = 0;
    while ((pos = text.find(line_start, pos)) != std::string::npos) {
      if (pos == 0 || text[pos - 1] == '\n') {
        const auto sp = text.find(' ', pos + line_start.size());
        if (sp == pos + line_start.size()) return std::stod(text.substr(sp + 1));
      }
      ++pos;
    }
    return -1;
  }

  collecting_sink sink;
  metrics::registry registry;

 private:
  std::shared_ptr<const conf::config> cfg_;
  proxy::server server_;
  tcp::endpoint endpoint_;
};

/// A blocking client socket with a 10 s receive timeout (a hung proxy fails the test, it does
/// not hang it).
tcp::socket connect_to(net::io_context& ioc, std::uint16_t port,
                       std::string_view address = "127.0.0.1");

void send_all(tcp::socket& s, std::string_view bytes);

struct response_result {
  beast::error_code ec;
  http::response<http::string_body> res;
};

/// Reads one response (HEAD: without a body).
response_result read_response(tcp::socket& s, beast::flat_buffer& buf, bool head = false);

/// Sends raw bytes on a fresh connection and reads one response.
response_result round_trip(std::uint16_t port, std::string_view raw);

/// Reads until the peer closes (or 10 s pass); returns what arrived.
std::string read_until_close(tcp::socket& s);

/// Polls `pred` until it holds or `limit` passes.
template <class Pred>
bool eventually(Pred pred, std::chrono::milliseconds limit = std::chrono::seconds(10)) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return pred();
}

std::string header_value(const store::field_list& h, std::string_view name);

}  // namespace sidecar::testing
