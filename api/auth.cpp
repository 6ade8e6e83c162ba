// HTTP Basic authentication of API callers.
#include "api/auth.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "support/ascii.hpp"
#include "support/base64.hpp"

namespace sidecar::api {

std::optional<basic_credentials> parse_basic_auth(std::string_view h) {
  h = ascii::trim(h);
  constexpr std::string_view scheme = "basic";
  if (h.size() <= scheme.size() || !ascii::istarts_with(h, scheme) || h[scheme.size()] != ' ') {
    return std::nullopt;
  }
  h.remove_prefix(scheme.size());
  while (!h.empty() && h.front() == ' ') h.remove_prefix(1);
  const auto decoded = base64::decode(h);
  if (!decoded) return std::nullopt;
  const auto colon = decoded->find(':');
  if (colon == std::string::npos || colon == 0) return std::nullopt;
  return basic_credentials{decoded->substr(0, colon), decoded->substr(colon + 1)};
}

sha256_digest sha256(std::string_view data) {
  sha256_digest d{};
  unsigned int len = 0;
  // EVP_Digest cannot fail for SHA-256 with valid arguments short of memory exhaustion.
  EVP_Digest(data.data(), data.size(), d.data(), &len, EVP_sha256(), nullptr);
  return d;
}

authenticator::authenticator(const conf::config& cfg) {
  for (const conf::account& a : cfg.accounts) {
    entry e{&a, {}};
    if (a.auth_token_sha256) {
      e.digest = *a.auth_token_sha256;
    } else if (a.auth_token) {
      e.digest = sha256(*a.auth_token);
    } else {
      continue;  // an account without a token cannot authenticate
    }
    by_sid_.emplace(a.sid, e);
  }
  // Random, so that no password can ever match it.
  if (RAND_bytes(dummy_.data(), static_cast<int>(dummy_.size())) != 1) dummy_ = sha256("\x01");
}

const conf::account* authenticator::check(const basic_credentials& c) const {
  const sha256_digest presented = sha256(c.password);
  const auto it = by_sid_.find(c.user);
  const bool known = it != by_sid_.end();
  const sha256_digest& expected = known ? it->second.digest : dummy_;
  const bool equal = CRYPTO_memcmp(presented.data(), expected.data(), presented.size()) == 0;
  return known && equal ? it->second.account : nullptr;
}

}  // namespace sidecar::api
