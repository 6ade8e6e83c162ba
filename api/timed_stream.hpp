// An API connection's stream with its deadlines: the socket (or TLS over it) and the
// connection's one support::watchdog, whose passing deadline cancels the socket's operations,
// the idiom the proxy's connections use too (docs/architecture.md, "Timeouts"). Beast's
// algorithms read and write through it as through the stream it wraps.
#pragma once

#include <chrono>
#include <utility>

#include "support/net.hpp"
#include "support/watchdog.hpp"

namespace sidecar::api {

template <class Next>
class timed_stream {
 public:
  using executor_type = typename Next::executor_type;

  /// `next` and `dog` outlive this; `dog`'s expiry cancels `next`'s socket.
  timed_stream(Next& next, support::watchdog& dog) : next_(next), dog_(dog) {}

  executor_type get_executor() { return next_.get_executor(); }

  template <class MutableBuffers, class Token>
  auto async_read_some(const MutableBuffers& buffers, Token&& token) {
    return next_.async_read_some(buffers, std::forward<Token>(token));
  }
  template <class ConstBuffers, class Token>
  auto async_write_some(const ConstBuffers& buffers, Token&& token) {
    return next_.async_write_some(buffers, std::forward<Token>(token));
  }

  /// The deadline of the next operation (and of any in progress).
  void arm(std::chrono::steady_clock::duration d) {
    dog_.arm(std::chrono::ceil<std::chrono::milliseconds>(d), 0);
  }
  /// No deadline until the next arm().
  void disarm() { dog_.disarm(); }
  /// Whether the last deadline passed.
  [[nodiscard]] bool timed_out() const { return dog_.timed_out(); }

  [[nodiscard]] tcp::socket& socket() { return beast::get_lowest_layer(next_); }

 private:
  Next& next_;
  support::watchdog& dog_;
};

}  // namespace sidecar::api
