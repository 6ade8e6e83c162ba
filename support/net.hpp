// The short names every network module uses for Asio and Beast.
#pragma once

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace sidecar {
namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = boost::asio::ip::tcp;

/// The completion token of an operation that a `net::awaitable` coroutine awaits directly: the
/// results as a tuple, and the operation awaited in the caller's own frame. `use_awaitable`
/// would wrap each operation in a coroutine of its own, with a frame allocated, pushed and
/// pumped per read or write (bench/README.md, session 21). Operations combined with Asio's
/// awaitable operators (`||`) still take `net::as_tuple(net::use_awaitable)`.
inline constexpr auto awaited = net::as_tuple(net::deferred);

/// The operation that `start(handler)` starts, awaited in place as with `awaited`, on any
/// stream: Beast's TLS stream takes handlers, but not the deferred token itself.
template <class Signature = void(beast::error_code, std::size_t), class Start>
auto in_place(Start start) {
  return net::async_initiate<decltype(awaited), Signature>(std::move(start), awaited);
}

/// One operation on whichever stream a connection uses, TLS or plain, awaitable as one type:
/// `start(stream, handler)` starts it on the stream in use. (The two streams' operations are
/// of different types; the choice is made when the operation starts.) Exactly one of `tls`
/// and `plain` is non-null.
template <class Signature = void(beast::error_code, std::size_t), class Tls, class Plain,
          class Start>
auto on_stream(Tls* tls, Plain* plain, Start start) {
  return in_place<Signature>([tls, plain, start = std::move(start)](auto handler) mutable {
    if (tls != nullptr) {
      start(*tls, std::move(handler));
    } else {
      start(*plain, std::move(handler));
    }
  });
}
}  // namespace sidecar
