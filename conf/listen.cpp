// See listen.hpp.
#include "conf/listen.hpp"

#include <string>

#include "conf/config_error.hpp"

namespace sidecar::conf {

void listen_on(tcp::acceptor& acceptor, const endpoint& at, std::string_view origin) {
  const tcp::endpoint ep(at.address, at.port);
  beast::error_code ec;
  acceptor.open(ep.protocol(), ec);
  if (!ec) acceptor.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(ep, ec);
  if (!ec) acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (!ec) return;
  beast::error_code ignored;
  acceptor.close(ignored);
  throw config_error(std::string(origin) + ": cannot listen on " + at.to_string() + ": " +
                     ec.message());
}

bool is_loopback(const net::ip::address& a) {
  if (a.is_v6() && a.to_v6().is_v4_mapped()) {
    return net::ip::make_address_v4(net::ip::v4_mapped, a.to_v6()).is_loopback();
  }
  return a.is_loopback();
}

}  // namespace sidecar::conf
