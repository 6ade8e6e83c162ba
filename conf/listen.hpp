// Opening a listening socket on a configured address, the one way both listeners (and the
// startup check in main.cpp) do it, with the one error line of docs/configuration.md.
#pragma once

#include <string_view>

#include "conf/config.hpp"
#include "support/net.hpp"

namespace sidecar::conf {

/// Opens `acceptor` on `at` with SO_REUSEADDR, binds it and listens. Otherwise the acceptor
/// is left closed and a config_error says where `at` was set (`origin`, e.g. "command line:
/// --api-listen") and why: "...: cannot listen on 127.0.0.1:8081: Address already in use".
void listen_on(tcp::acceptor& acceptor, const endpoint& at, std::string_view origin);

/// Whether `a` is a loopback address (127.0.0.0/8, ::1, or either as an IPv4-mapped IPv6
/// address): where plain HTTP never crosses the network (docs/configuration.md, [api]).
[[nodiscard]] bool is_loopback(const net::ip::address& a);

}  // namespace sidecar::conf
