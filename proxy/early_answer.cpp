// Early answers from upstreams: see early_answer.hpp.
#include "proxy/early_answer.hpp"

#include <poll.h>

#include <boost/asio/experimental/awaitable_operators.hpp>

namespace sidecar::proxy {

bool upstream_has_spoken(tcp::socket& upstream) {
  pollfd p{};
  p.fd = upstream.native_handle();
  p.events = POLLIN | POLLRDHUP;
  return ::poll(&p, 1, 0) > 0;
}

net::awaitable<next_ready> wait_for_body_or_answer(tcp::socket& client, tcp::socket& upstream) {
  if (upstream_has_spoken(upstream)) co_return next_ready::upstream;
  beast::error_code ec;
  if (client.available(ec) > 0) co_return next_ready::client;  // no wait while a body flows
  using namespace net::experimental::awaitable_operators;
  constexpr auto tok = net::as_tuple(net::use_awaitable);
  // The first to complete wins; the other wait is cancelled, and completes, before this
  // returns: nothing is left pending on either socket.
  const auto first = co_await (client.async_wait(tcp::socket::wait_read, tok) ||
                               upstream.async_wait(tcp::socket::wait_read, tok));
  if (first.index() == 1) {
    co_return std::get<0>(std::get<1>(first)) ? next_ready::cancelled : next_ready::upstream;
  }
  co_return std::get<0>(std::get<0>(first)) ? next_ready::cancelled : next_ready::client;
}

net::awaitable<void> drain_before_close(tcp::socket& client, char* scratch, std::size_t size) {
  beast::error_code ec;
  client.shutdown(tcp::socket::shutdown_send, ec);
  if (ec) co_return;
  for (;;) {
    auto [rec, n] = co_await client.async_read_some(net::buffer(scratch, size),
                                                    net::as_tuple(net::use_awaitable));
    if (rec) co_return;
  }
}

}  // namespace sidecar::proxy
