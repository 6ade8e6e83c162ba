// The connection under a live stream, for plain and TLS alike: chunked (or, for HTTP/1.0,
// close-delimited) writes with a deadline each, a watch that notices at once when the client
// goes, and a cut that ends both. api/stream.cpp drives it; api/server.cpp makes one per
// stream over its own stream type.
#pragma once

#include <array>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <utility>

#include "support/net.hpp"

namespace sidecar::api {

class stream_connection {
 public:
  virtual ~stream_connection() = default;
  /// Writes `bytes` (one chunk) and empties it; false when the connection failed, was cut, or
  /// the write took longer than `within` (then the connection is cut). One write at a time,
  /// on the connection's strand.
  virtual net::awaitable<bool> write(std::string& bytes, std::chrono::milliseconds within) = 0;
  /// Starts reading (and discarding) what the client sends; `gone` is called on the strand
  /// when it closes, errs or is cut. Once per connection.
  virtual void watch(std::function<void()> gone) = 0;
  /// Closes the connection at once: a write or the watch in progress ends with an error.
  virtual void cut() = 0;
  /// Ends the answer: the last chunk when `clean`, then a cut; completes once the watch has
  /// ended, so that nothing is left pending on the stream when its owner destroys it.
  virtual net::awaitable<void> finish(bool clean) = 0;
};

/// stream_connection over an API connection's stream (api/timed_stream.hpp: a socket or TLS
/// over one, with the connection's deadlines) that the caller's coroutine frame owns and keeps
/// alive until finish() has completed.
template <class Stream>
class stream_connection_over final : public stream_connection {
 public:
  stream_connection_over(Stream& stream, bool chunked)
      : stream_(stream), chunked_(chunked), state_(std::make_shared<state>(stream.get_executor())) {
    // Between events a stream may rightly be silent for as long as it lives: only a write
    // has a deadline.
    stream_.disarm();
  }

  net::awaitable<bool> write(std::string& bytes, std::chrono::milliseconds within) override {
    if (bytes.empty()) co_return !state_->cut;
    if (state_->cut) co_return false;
    // A reader that stops reading: its socket buffer fills and the write never completes. The
    // deadline cancels the write and the watch's read alike; the stream is then cut.
    stream_.arm(within);
    beast::error_code ec;
    if (chunked_) {
      std::tie(ec, std::ignore) = co_await net::async_write(
          stream_, http::make_chunk(net::buffer(bytes)), net::as_tuple(net::use_awaitable));
    } else {
      std::tie(ec, std::ignore) =
          co_await net::async_write(stream_, net::buffer(bytes), net::as_tuple(net::use_awaitable));
    }
    if (stream_.timed_out()) cut();
    stream_.disarm();
    bytes.clear();
    co_return !ec && !state_->cut;
  }

  void watch(std::function<void()> gone) override {
    state_->watching = true;
    state_->gone = std::move(gone);
    read_some();
  }

  void cut() override {
    if (state_->cut) return;
    state_->cut = true;
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
    stream_.socket().cancel(ec);
  }

  net::awaitable<void> finish(bool clean) override {
    if (clean && chunked_ && !state_->cut) {
      stream_.arm(std::chrono::seconds(1));
      co_await net::async_write(stream_, http::make_chunk_last(),
                                net::as_tuple(net::use_awaitable));
      stream_.disarm();
    }
    cut();
    while (state_->watching) {
      state_->woken.expires_after(std::chrono::seconds(1));
      co_await state_->woken.async_wait(net::as_tuple(net::use_awaitable));
    }
  }

 private:
  // Shared with the read's handler, which may run after a cut (it only looks at this).
  struct state {
    explicit state(net::any_io_executor ex) : woken(std::move(ex)) {}
    bool cut = false;
    bool watching = false;
    std::function<void()> gone;
    net::steady_timer woken;  // finish() waits on it for the watch to end
    std::array<char, 512> buf{};
  };

  void read_some() {
    auto s = state_;
    stream_.async_read_some(net::buffer(s->buf), [this, s](beast::error_code ec, std::size_t) {
      // `this` is alive while the watch is: finish() waits for this handler before returning.
      if (!ec && !s->cut) {
        read_some();  // a client may send bytes after its request; they are discarded
        return;
      }
      s->watching = false;
      s->woken.cancel();
      if (s->gone) std::exchange(s->gone, nullptr)();
    });
  }

  Stream& stream_;
  bool chunked_;
  std::shared_ptr<state> state_;
};

}  // namespace sidecar::api
