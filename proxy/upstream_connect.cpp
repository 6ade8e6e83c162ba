// Connecting to an upstream.
#include "proxy/upstream_connect.hpp"

#include <openssl/ssl.h>

#include "support/edge_read.hpp"

namespace sidecar::proxy {

net::awaitable<store::exchange_error> connect_upstream(upstream_connection& conn,
                                                       const destination& dest, ssl::context& tls,
                                                       const support::watchdog& dog) {
  using store::exchange_error;
  std::vector<tcp::endpoint> endpoints = dest.checked;
  if (endpoints.empty() && dest.route != nullptr) {
    tcp::resolver resolver(co_await net::this_coro::executor);
    auto [ec, results] =
        co_await resolver.async_resolve(dest.host(), std::to_string(dest.port), awaited);
    if (dog.timed_out()) co_return exchange_error::upstream_connect_timeout;
    if (ec) co_return exchange_error::upstream_resolve_failed;
    for (const auto& r : results) endpoints.push_back(r.endpoint());
  }
  if (endpoints.empty()) co_return exchange_error::upstream_resolve_failed;
  auto [ec, ep] = co_await net::async_connect(*conn.plain, endpoints, awaited);
  if (dog.timed_out()) co_return exchange_error::upstream_connect_timeout;
  if (ec == net::error::connection_refused) co_return exchange_error::upstream_connect_refused;
  if (ec) co_return exchange_error::upstream_unreachable;
  beast::error_code ignored;
  conn.plain->set_option(tcp::no_delay(true), ignored);
  if (!dest.https) {
    edge_read::enable(*conn.plain);  // the pool's idle read (docs/proxy.md)
  } else {
    conn.tls.emplace(std::move(*conn.plain), tls);
    conn.plain.reset();
    beast::error_code addr_ec;
    net::ip::make_address(dest.host(), addr_ec);
    if (addr_ec) SSL_set_tlsext_host_name(conn.tls->native_handle(), dest.host().c_str());
    conn.tls->set_verify_mode(ssl::verify_peer);
    conn.tls->set_verify_callback(ssl::host_name_verification(dest.host()));
    auto [hec] = co_await in_place<void(beast::error_code)>([&](auto handler) {
      conn.tls->async_handshake(ssl::stream_base::client, std::move(handler));
    });
    if (dog.timed_out()) co_return exchange_error::upstream_connect_timeout;
    if (hec) co_return exchange_error::upstream_tls_failed;
  }
  co_return exchange_error::none;
}

}  // namespace sidecar::proxy
