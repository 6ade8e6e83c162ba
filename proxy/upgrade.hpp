// Which protocol upgrade a request may carry upstream. Only the protocols the configuration
// enables ([proxy] upgrades, "websocket" by default) are forwarded; h2c never is, because an
// upstream that switched to HTTP/2 would give the client a connection of its own past the
// sidecar's routing and recording (docs/proxy.md). HTTP2-Settings is never forwarded.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "support/head_fields.hpp"
#include "support/net.hpp"

namespace sidecar::proxy {

/// The protocol name of an Upgrade token, without its version ("websocket/13" -> "websocket").
[[nodiscard]] std::string_view upgrade_protocol(std::string_view token);

/// Leaves in `req` only the Upgrade tokens whose protocol is in `enabled` (lower case), as one
/// Upgrade field, and removes HTTP2-Settings. Returns whether the request still asks for an
/// upgrade: `connection_upgrade` (Connection names "upgrade") and an enabled token left.
[[nodiscard]] bool keep_enabled_upgrades(head_fields& req, bool connection_upgrade,
                                         const std::vector<std::string>& enabled);

/// Whether a 101's Upgrade field names a protocol that the request's Upgrade field offered.
[[nodiscard]] bool upgrade_was_offered(std::string_view request_upgrade,
                                       std::string_view response_upgrade);

}  // namespace sidecar::proxy
