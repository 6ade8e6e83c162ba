// The proxy tests' blocking client helpers (see harness.hpp).
#include "tests/proxy_support/harness.hpp"

#include <sys/socket.h>
#include <sys/time.h>

namespace sidecar::testing {

tcp::socket connect_to(net::io_context& ioc, std::uint16_t port, std::string_view address) {
  tcp::socket s(ioc);
  s.connect(tcp::endpoint(net::ip::make_address(address), port));
  timeval tv{10, 0};
  ::setsockopt(s.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  return s;
}

void send_all(tcp::socket& s, std::string_view bytes) {
  net::write(s, net::buffer(bytes));
}

response_result read_response(tcp::socket& s, beast::flat_buffer& buf, bool head) {
  response_result r;
  http::response_parser<http::string_body> p;
  p.body_limit(boost::none);
  if (head) p.skip(true);
  http::read(s, buf, p, r.ec);
  if (!r.ec) r.res = p.release();
  return r;
}

response_result round_trip(std::uint16_t port, std::string_view raw) {
  net::io_context ioc;
  auto s = connect_to(ioc, port);
  send_all(s, raw);
  beast::flat_buffer buf;
  return read_response(s, buf);
}

std::string read_until_close(tcp::socket& s) {
  std::string out;
  char chunk[4096];
  for (;;) {
    beast::error_code ec;
    const std::size_t n = s.read_some(net::buffer(chunk), ec);
    out.append(chunk, n);
    if (ec) break;
  }
  return out;
}

std::string header_value(const store::field_list& h, std::string_view name) {
  for (const auto& [n, v] : h) {
    if (beast::iequals(n, name)) return std::string(v);
  }
  return {};
}

}  // namespace sidecar::testing
