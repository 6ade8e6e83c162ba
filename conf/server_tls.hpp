// The TLS side of the configuration, for the listeners: the one policy (TLS 1.2 or newer,
// forward-secret AEAD ciphers) and a listener's context made from a checked certificate and
// key pair. The proxy and the API build theirs here, at startup and at each reload.
#pragma once

#include <memory>
#include <string_view>

#include "conf/config.hpp"
#include "support/net.hpp"

namespace sidecar::conf {

/// TLS 1.2 or newer, forward-secret AEAD ciphers for TLS 1.2, no compression.
void restrict_tls(ssl::context& ctx);

/// A server context holding the pair of `files`: the bytes the loader checked when it kept
/// them, else the files. Throws config_error naming `table` ("[proxy]", "[api]") of `source`
/// when the pair cannot be used.
[[nodiscard]] std::shared_ptr<ssl::context> make_server_tls(const tls_files& files,
                                                            std::string_view source,
                                                            std::string_view table);

}  // namespace sidecar::conf
