// The delaying TCP proxy (see delay_proxy.hpp): one io_context thread, a coroutine per
// direction of each connection. The coroutines live on the io_context, which this object owns
// and stops before it goes.
#include "tests/fleet/delay_proxy.hpp"

#include <array>
#include <thread>

#include "support/net.hpp"

namespace sidecar::fleet::testing {

namespace {

net::awaitable<void> pump(std::shared_ptr<tcp::socket> from, std::shared_ptr<tcp::socket> to,
                          std::chrono::milliseconds delay) {
  auto token = net::as_tuple(net::use_awaitable);
  std::array<char, 16384> buf{};
  net::steady_timer timer(co_await net::this_coro::executor);
  for (;;) {
    auto [ec, n] = co_await from->async_read_some(net::buffer(buf), token);
    if (ec) break;
    timer.expires_after(delay);
    co_await timer.async_wait(token);
    auto [wec, w] = co_await net::async_write(*to, net::buffer(buf.data(), n), token);
    if (wec) break;
  }
  beast::error_code ignored;
  to->shutdown(tcp::socket::shutdown_send, ignored);
}

net::awaitable<void> serve(tcp::acceptor& acceptor, std::uint16_t target,
                           std::chrono::milliseconds delay) {
  auto token = net::as_tuple(net::use_awaitable);
  auto ex = co_await net::this_coro::executor;
  for (;;) {
    auto client = std::make_shared<tcp::socket>(ex);
    auto [ec] = co_await acceptor.async_accept(*client, token);
    if (ec) co_return;
    auto upstream = std::make_shared<tcp::socket>(ex);
    auto [cec] = co_await upstream->async_connect(
        tcp::endpoint(net::ip::make_address("127.0.0.1"), target), token);
    if (cec) continue;
    net::co_spawn(ex, pump(client, upstream, delay), net::detached);
    net::co_spawn(ex, pump(upstream, client, delay), net::detached);
  }
}

}  // namespace

struct delay_proxy::impl {
  net::io_context io;
  tcp::acceptor acceptor{io, tcp::endpoint(net::ip::make_address("127.0.0.1"), 0)};
  std::thread thread;
};

delay_proxy::delay_proxy(std::uint16_t target_port, std::chrono::milliseconds delay)
    : impl_(std::make_unique<impl>()) {
  net::co_spawn(impl_->io, serve(impl_->acceptor, target_port, delay), net::detached);
  impl_->thread = std::thread([this] { impl_->io.run(); });
}

delay_proxy::~delay_proxy() {
  impl_->io.stop();
  impl_->thread.join();
}

std::uint16_t delay_proxy::port() const { return impl_->acceptor.local_endpoint().port(); }

}  // namespace sidecar::fleet::testing
