// Internal to conf/: the TLS files a table names (`tls_cert` and `tls_key`, a CA file), read
// and checked with OpenSSL while loading, so that a bad file stops startup (or a reload) with
// one line instead of failing a handshake later.
#pragma once

#include <filesystem>
#include <optional>
#include <string_view>

#include "conf/config.hpp"
#include "conf/table_reader.hpp"

namespace sidecar::conf::detail {

/// The table's `tls_cert` and `tls_key` (both or neither), read and checked: each parses as
/// PEM, the key has no pass phrase and matches the certificate. Their PEM text and the
/// certificate's expiry are kept in the answer.
[[nodiscard]] std::optional<tls_files> read_tls(const table_reader& r);

/// Checks that `path` (the value of the table's `key`) holds a PEM certificate.
void check_ca_file(const table_reader& r, const std::filesystem::path& path,
                   std::string_view key = "upstream_ca");

}  // namespace sidecar::conf::detail
