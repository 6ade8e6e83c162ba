// See listen.hpp.
#include "support/listen.hpp"

namespace sidecar {

beast::error_code listen_on(tcp::acceptor& acceptor, const tcp::endpoint& at) {
  beast::error_code ec;
  acceptor.open(at.protocol(), ec);
  if (!ec) acceptor.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(at, ec);
  if (!ec) acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec) {
    beast::error_code ignored;
    acceptor.close(ignored);
  }
  return ec;
}

}  // namespace sidecar
