// HTTP Basic authentication of API callers (docs/api.md): user = account SID,
// password = its auth token, compared in constant time, and in the same time whether or not
// the SID exists.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "conf/config.hpp"

namespace sidecar::api {

/// The user and password of an Authorization header.
struct basic_credentials {
  std::string user;
  std::string password;
};

/// Parses "Basic <base64(user:password)>" (scheme in any case, padding required, the user
/// non-empty). nullopt when missing or malformed.
[[nodiscard]] std::optional<basic_credentials> parse_basic_auth(std::string_view header);

using sha256_digest = std::array<std::uint8_t, 32>;
[[nodiscard]] sha256_digest sha256(std::string_view data);

/// Checks credentials against the configured accounts. Built once from the config: each
/// account's SHA-256 token digest is computed at construction (or taken from
/// auth_token_sha256), so that a check is one hash of the presented password and one
/// CRYPTO_memcmp over digests, whichever SID is presented.
class authenticator {
 public:
  explicit authenticator(const conf::config& cfg);
  /// The account whose SID and token these are, or nullptr.
  [[nodiscard]] const conf::account* check(const basic_credentials& c) const;

 private:
  struct entry {
    const conf::account* account;
    sha256_digest digest;
  };
  std::unordered_map<std::string, entry> by_sid_;
  sha256_digest dummy_{};  // compared against for an unknown SID: same work, never equal
};

}  // namespace sidecar::api
