// Writing a message to a connection without waiting for a turn of the event loop
// (docs/proxy.md, "Writes"): what a plain socket's send buffer takes at once goes out in one
// non-blocking sendmsg, and the exchange goes on at once; only a rest waits for the socket,
// through async_write. Asio's own async_write makes the same first attempt, but posts its
// completion even when that attempt wrote everything, and the loop looks at epoll before it
// runs what was posted: an epoll_wait that finds nothing, two per exchange at one connection.
#pragma once

#include <sys/socket.h>
#include <sys/uio.h>

#include <array>
#include <cerrno>
#include <cstddef>
#include <type_traits>
#include <utility>

#include "support/net.hpp"

namespace sidecar::proxy {

/// Sends at once what a plain socket's send buffer takes of `buffers` (MSG_DONTWAIT, never
/// waiting) and returns how many bytes it took; a socket that takes nothing now is no error.
/// A failed send sets `ec` and returns 0. At most the first 8 non-empty buffers go in this
/// call (the message writers hand over 4); the caller sends the rest.
template <class Buffers>
std::size_t send_at_once(tcp::socket& s, const Buffers& buffers, beast::error_code& ec) {
  constexpr std::size_t max_pieces = 8;
  std::array<iovec, max_pieces> pieces{};
  std::size_t count = 0;
  for (auto it = net::buffer_sequence_begin(buffers);
       it != net::buffer_sequence_end(buffers) && count < max_pieces; ++it) {
    const net::const_buffer b(*it);
    if (b.size() != 0) pieces[count++] = {const_cast<void*>(b.data()), b.size()};
  }
  msghdr m{};
  m.msg_iov = pieces.data();
  m.msg_iovlen = count;
  const ssize_t n = ::sendmsg(s.native_handle(), &m, MSG_DONTWAIT | MSG_NOSIGNAL);
  if (n >= 0) return static_cast<std::size_t>(n);
  if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
    ec.assign(errno, net::error::get_system_category());
  }
  return 0;
}

/// How many write_now() completions run inside one another on this thread: a coroutine
/// resumed inside the call can write again before it ever waits (body pieces parsed from
/// bytes at hand, each written at once), and each such write nests one more call.
inline thread_local unsigned write_now_depth = 0;

/// Writes all of `buffers` to `stream` and completes `handler(ec, bytes)`, as async_write
/// does. On a plain socket the bytes it takes at once go first, and when that is all (or the
/// send failed) the handler runs at once, inside this call: an operation awaited in place
/// (support/net.hpp, `in_place`) then resumes its coroutine with no turn of the loop. The
/// rest, and every byte of a TLS stream, go through async_write; so does every write once 8
/// completions nest (a body of many small chunks at hand would otherwise nest one call per
/// chunk, as deep as the stack goes).
template <class Stream, class Buffers, class Handler>
void write_now(Stream& stream, const Buffers& buffers, Handler handler) {
  constexpr unsigned max_depth = 8;
  if constexpr (std::is_same_v<Stream, tcp::socket>) {
    if (write_now_depth >= max_depth) {
      net::async_write(stream, buffers, std::move(handler));
      return;
    }
    beast::error_code ec;
    const std::size_t now = send_at_once(stream, buffers, ec);
    if (ec || now == net::buffer_size(buffers)) {
      struct nested {
        nested() { ++write_now_depth; }
        ~nested() { --write_now_depth; }
        nested(const nested&) = delete;
        nested& operator=(const nested&) = delete;
      } const level;
      std::move(handler)(ec, now);
      return;
    }
    beast::buffers_suffix<Buffers> rest(buffers);
    rest.consume(now);
    // The rest completes where the caller's handler would have (its coroutine's executor), not
    // on whatever executor the socket has: the wrapper that adds `now` keeps that association.
    auto ex = net::get_associated_executor(handler, stream.get_executor());
    net::async_write(
        stream, rest,
        net::bind_executor(std::move(ex), [now, h = std::move(handler)](beast::error_code e,
                                                                        std::size_t n) mutable {
          std::move(h)(e, now + n);
        }));
  } else {
    net::async_write(stream, buffers, std::move(handler));
  }
}

}  // namespace sidecar::proxy
