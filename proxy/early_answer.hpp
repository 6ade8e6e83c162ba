// An upstream may answer a request before it has read the body (nginx's 413 for a body over
// client_max_body_size, a 401) and then close. While a body streams upstream, the proxy looks
// for such an answer, so that the client gets it at once rather than after idle_timeout, and
// then closes the client connection gently: a client still sending its body must not lose the
// answer to a reset (nginx's lingering close).
#pragma once

#include <cstddef>

#include "support/net.hpp"

namespace sidecar::proxy {

/// Whether the upstream has something to say right now (an answer, or its close): a
/// zero-timeout poll of its socket.
[[nodiscard]] bool upstream_has_spoken(tcp::socket& upstream);

enum class next_ready { client, upstream, cancelled };

/// Waits until the client has bytes of the body to read or the upstream speaks, whichever
/// comes first; `cancelled` when the wait was cancelled (a timeout, stop()). For plain TCP on
/// both sides: a TLS stream may hold decrypted bytes that a socket wait does not see, and a
/// TLS upstream may send session tickets that are no answer.
[[nodiscard]] net::awaitable<next_ready> wait_for_body_or_answer(tcp::socket& client,
                                                                 tcp::socket& upstream);

/// After the last answer on a connection whose request body was not all read: sends FIN, then
/// reads and drops what the client still sends until it closes or the read fails (the
/// caller's deadline cancels it), so that closing does not reset the answer away.
[[nodiscard]] net::awaitable<void> drain_before_close(tcp::socket& client, char* scratch,
                                                      std::size_t size);

}  // namespace sidecar::proxy
