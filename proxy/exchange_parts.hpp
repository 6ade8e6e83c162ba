// Small pieces of an exchange shared by the proxy's connections and by replays: the sidecar's
// own answers ({"message", "status"}), hop-by-hop removal, what a capture keeps of a body, and
// when an upstream connection found stale may be replaced.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "store/capture.hpp"
#include "support/head_fields.hpp"
#include "support/net.hpp"

namespace sidecar::proxy {

/// The error body of docs/api.md, {"message": "...", "status": N}.
[[nodiscard]] std::string json_error(int status, std::string_view message);

/// The message of a local answer of this status ("bad request", ...).
[[nodiscard]] std::string_view local_message(int status);

/// An answer of the sidecar's own (docs/proxy.md): {"message": ..., "status": N}, the message
/// of a local answer unless one is given (a 502/504 names its exchange error).
[[nodiscard]] http::response<http::string_body> local_response(int status, bool keep_alive,
                                                               unsigned version,
                                                               std::string_view message = {});

/// Removes the hop-by-hop fields of a message (those named by Connection included). Keeps
/// Upgrade when `keep_upgrade`. For the proxy's heads (head_fields) and Beast's basic_fields.
void strip_hop_by_hop(head_fields& f, bool keep_upgrade);
void strip_hop_by_hop(http::fields& f, bool keep_upgrade);

/// The fields in wire order, names as written, in one buffer sized in advance.
[[nodiscard]] store::field_list to_field_list(const head_fields& f);
[[nodiscard]] store::field_list to_field_list(const http::fields& f);

/// Counts `n` bytes of a body and keeps them while fewer than `limit` are kept (when `keep`).
void keep_head(store::captured_body& body, const char* data, std::size_t n, std::size_t limit,
               bool keep);

/// Whether a request of this method may be sent again on a new connection when a reused one
/// turns out stale (RFC 9110 9.2.2): GET, HEAD, OPTIONS, TRACE, PUT, DELETE.
[[nodiscard]] bool is_idempotent(std::string_view method) noexcept;

/// Whether an upstream's read or write failed because the peer went away (end of stream, EOF,
/// reset, a partial message, a TLS stream cut without close_notify).
[[nodiscard]] bool is_closed(const beast::error_code& ec);

}  // namespace sidecar::proxy
