// Opening a listening socket, the one way both listeners (and the startup check) do it.
#pragma once

#include "support/net.hpp"

namespace sidecar {

/// Opens `acceptor` on `at`'s protocol with SO_REUSEADDR, binds it to `at` and listens; the
/// first error, if any (the acceptor is then left closed).
[[nodiscard]] beast::error_code listen_on(tcp::acceptor& acceptor, const tcp::endpoint& at);

}  // namespace sidecar
