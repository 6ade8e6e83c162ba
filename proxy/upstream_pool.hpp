// Connections to upstreams, plain or TLS, and the keep-alive pool that holds the idle ones
// between exchanges (one bounded LIFO list per upstream; one pool per event loop).
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <unordered_map>
#include <vector>

#include <boost/asio/any_completion_handler.hpp>
#include <boost/beast/ssl.hpp>

#include "support/net.hpp"

namespace sidecar::proxy {

struct upstream_connection;

/// A connection's read buffer and the read the pool leaves pending on a plain connection
/// while it is idle (as nginx keeps its read event armed): a close or stray bytes complete it
/// and the connection leaves the pool then, with no system call at take(). Shared with that
/// read's handler, which may run after the connection is gone.
struct idle_read {
  beast::flat_buffer buffer;  // bytes read from the upstream and not yet parsed
  // Under the pool's mutex.
  upstream_connection* pooled = nullptr;  // the connection while it waits in the pool
  bool pending = false;  // a read started by give() whose result settle() has not taken
  bool done = false;     // that read completed: ec, n
  beast::error_code ec;
  std::size_t n = 0;
  // settle()'s, while it waits. In an optional, emplaced and moved out, never assigned:
  // Boost 1.81's any_completion_handler move assignment wraps itself forever.
  std::optional<net::any_completion_handler<void(beast::error_code, std::size_t)>> waiter;
  // Where the waiter resumes (its connection's strand), kept as the handler's own executor
  // type: asking the type-erased waiter for it would wrap it on the heap, once per exchange.
  net::any_io_executor waiter_executor;
};

/// One connection to an upstream. Its socket runs on the event loop of the client connection
/// that opened it (an io_context's executor, not a strand), and serves only client
/// connections of that loop (or the replays, on the first loop); only the client connection
/// that holds it touches it, so no two threads ever use it at once. The pool's pending read is the
/// exception, synchronised by the pool's mutex: see upstream_pool::settle().
struct upstream_connection {
  explicit upstream_connection(const net::any_io_executor& ex)
      : plain(ex), idle(std::make_shared<idle_read>()), buffer(idle->buffer) {}
  upstream_connection(const upstream_connection&) = delete;
  upstream_connection& operator=(const upstream_connection&) = delete;

  std::optional<tcp::socket> plain;
  std::optional<beast::ssl_stream<tcp::socket>> tls;
  std::shared_ptr<idle_read> idle;
  beast::flat_buffer& buffer;  // bytes read from the upstream and not yet parsed
  std::string key;             // the pool list it belongs to
  std::chrono::steady_clock::time_point idle_since;
  std::uint64_t exchanges = 0;  // exchanges carried so far (0: fresh)
  bool read_pending = false;    // taken from the pool with its idle read not yet settled

  [[nodiscard]] tcp::socket& socket() { return tls ? beast::get_lowest_layer(*tls) : *plain; }
  /// Calls f with the stream to read and write (plain or TLS); both calls return the same
  /// awaitable type.
  template <class F>
  auto visit(F&& f) {
    return tls ? f(*tls) : f(*plain);
  }
  /// One operation on the stream in use, awaited in place (support/net.hpp, on_stream).
  template <class Start>
  auto io(Start start) {
    return on_stream(tls ? &*tls : nullptr, plain ? &*plain : nullptr, std::move(start));
  }
};

/// Idle keep-alive connections per upstream, of one event loop. take() and give() hold the
/// mutex only for a vector push or pop; only the loop's thread takes it on the request path
/// (close() and idle_count() may come from others), so it is never contended there.
class upstream_pool {
 public:
  upstream_pool(std::size_t max_idle_per_upstream, std::chrono::milliseconds idle_timeout)
      : max_idle_(max_idle_per_upstream), idle_timeout_(idle_timeout) {}

  /// The most recently used idle connection to `key` that still looks alive (not idle for
  /// longer than idle_timeout; a plain one that the upstream closed or spoke on has left the
  /// pool already, a TLS one is checked with poll()), or nullptr. A plain connection comes
  /// with its idle read still pending: settle() it before reading from it or touching its
  /// buffer. Every connection of a pool runs on one event loop, whose client connections
  /// alone use that pool (proxy_context::pools): its completions need no hop to another
  /// thread, and no socket outlives its loop when the loops are destroyed.
  [[nodiscard]] std::unique_ptr<upstream_connection> take(std::string_view key);
  /// Keeps a connection for reuse (its buffer empty); dropped (closed) when its list is full
  /// or the pool closed. A plain connection gets a read left pending on it.
  void give(std::unique_ptr<upstream_connection> c);
  /// Waits for the read give() left pending on `c` (taken from the pool) and returns how it
  /// completed; its bytes, the first of the response, are then in c.buffer. With nothing
  /// pending, at once with no error and 0. Cancelling c's socket ends the wait
  /// (operation_aborted), as it ends a read. An operation awaited in place
  /// (support/net.hpp, `awaited`), not a coroutine: no frame per exchange. A result already
  /// there resumes the caller at once, on its own thread; a later one on its executor.
  [[nodiscard]] auto settle(upstream_connection& c) {
    return net::async_initiate<decltype(awaited), void(beast::error_code, std::size_t)>(
        [this, &c](auto handler) {
          // The check and the wait under one lock, the one the read's handler takes: a
          // completion between the two cannot be missed.
          std::unique_lock lock(mu_);
          beast::error_code ec;
          std::size_t n = 0;
          if (!take_idle_result(c, ec, n)) {
            net::any_io_executor ex = net::get_associated_executor(handler);
            keep_waiter(c, std::move(ex), std::move(handler));
            return;
          }
          lock.unlock();
          std::move(handler)(ec, n);
        },
        awaited);
  }
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
  void start_idle_read(upstream_connection& c);  // under mu_
  void on_idle_read(const std::shared_ptr<idle_read>& r, beast::error_code ec, std::size_t n);

  // settle()'s steps, under mu_: the idle read's result when it has come (or none was
  // pending), else false; the caller that waits for it.
  bool take_idle_result(upstream_connection& c, beast::error_code& ec, std::size_t& n);
  void keep_waiter(upstream_connection& c, net::any_io_executor ex,
                   net::any_completion_handler<void(beast::error_code, std::size_t)> handler);

  std::mutex mu_;
  std::unordered_map<std::string, std::vector<std::unique_ptr<upstream_connection>>, string_hash,
                     std::equal_to<>>
      idle_;
  std::size_t max_idle_;
  std::chrono::milliseconds idle_timeout_;
  bool closed_ = false;
};

}  // namespace sidecar::proxy
