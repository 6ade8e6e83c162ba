// Small pieces of an exchange shared by the proxy's connections and by replays: the sidecar's
// own answers ({"message", "status"}), hop-by-hop removal, and what a capture keeps of a body.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "store/capture.hpp"
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
/// Upgrade when `keep_upgrade`.
void strip_hop_by_hop(http::fields& f, bool keep_upgrade);

/// The fields in wire order, names as written.
[[nodiscard]] store::header_list to_header_list(const http::fields& f);

/// Counts `n` bytes of a body and keeps them while fewer than `limit` are kept (when `keep`).
void keep_head(store::captured_body& body, const char* data, std::size_t n, std::size_t limit,
               bool keep);

}  // namespace sidecar::proxy
