// Connections to upstreams, plain or TLS, and the keep-alive pool that holds the idle ones
// between exchanges (one bounded LIFO list per upstream, shared by every thread).
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <boost/beast/ssl.hpp>

#include "support/net.hpp"

namespace sidecar::proxy {

/// One connection to an upstream. Its socket runs on the io_context's executor (not a
/// strand) because it moves between client connections; only the client connection that
/// holds it touches it, and completions run on that connection's strand (the coroutine's
/// executor), so no two threads ever use it at once.
struct upstream_connection {
  explicit upstream_connection(const net::any_io_executor& ex) : plain(ex) {}

  std::optional<tcp::socket> plain;
  std::optional<beast::ssl_stream<tcp::socket>> tls;
  beast::flat_buffer buffer;  // bytes read from the upstream and not yet parsed
  std::string key;            // the pool list it belongs to
  std::chrono::steady_clock::time_point idle_since;
  std::uint64_t exchanges = 0;  // exchanges carried so far (0: fresh)

  [[nodiscard]] tcp::socket& socket() { return tls ? beast::get_lowest_layer(*tls) : *plain; }
  /// Calls f with the stream to read and write (plain or TLS); both calls return the same
  /// awaitable type.
  template <class F>
  auto visit(F&& f) {
    return tls ? f(*tls) : f(*plain);
  }
};

/// Idle keep-alive connections per upstream. take() and give() hold the mutex only for a
/// vector push or pop.
class upstream_pool {
 public:
  upstream_pool(std::size_t max_idle_per_upstream, std::chrono::milliseconds idle_timeout)
      : max_idle_(max_idle_per_upstream), idle_timeout_(idle_timeout) {}

  /// The most recently used idle connection to `key` that still looks alive (not idle for
  /// longer than idle_timeout, nothing readable on it), or nullptr.
  [[nodiscard]] std::unique_ptr<upstream_connection> take(std::string_view key);
  /// Keeps a connection for reuse; dropped (closed) when its list is full or the pool closed.
  void give(std::unique_ptr<upstream_connection> c);
  /// Closes every idle connection and refuses new ones.
  void close();
  [[nodiscard]] std::size_t idle_count(std::string_view key);

 private:
  struct string_hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept {
      return std::hash<std::string_view>{}(s);
    }
  };
  std::mutex mu_;
  std::unordered_map<std::string, std::vector<std::unique_ptr<upstream_connection>>, string_hash,
                     std::equal_to<>>
      idle_;
  std::size_t max_idle_;
  std::chrono::milliseconds idle_timeout_;
  bool closed_ = false;
};

}  // namespace sidecar::proxy
