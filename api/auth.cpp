// HTTP Basic authentication of API callers.
#include "api/auth.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

namespace sidecar::api {
namespace {

int base64_value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

/// Strict base64 (RFC 4648 alphabet, '=' padding to a multiple of 4).
std::optional<std::string> decode_base64(std::string_view in) {
  if (in.empty() || in.size() % 4 != 0) return std::nullopt;
  std::size_t pad = 0;
  if (in.back() == '=') ++pad;
  if (in.size() >= 2 && in[in.size() - 2] == '=') ++pad;
  std::string out;
  out.reserve(in.size() / 4 * 3);
  for (std::size_t i = 0; i < in.size(); i += 4) {
    const bool last = i + 4 == in.size();
    std::uint32_t group = 0;
    for (std::size_t k = 0; k < 4; ++k) {
      const char c = in[i + k];
      int v = 0;
      if (c == '=') {
        if (!last || k < 4 - pad) return std::nullopt;
      } else {
        v = base64_value(c);
        if (v < 0) return std::nullopt;
      }
      group = (group << 6) | static_cast<std::uint32_t>(v);
    }
    out.push_back(static_cast<char>((group >> 16) & 0xff));
    if (!last || pad < 2) out.push_back(static_cast<char>((group >> 8) & 0xff));
    if (!last || pad < 1) out.push_back(static_cast<char>(group & 0xff));
  }
  return out;
}

}  // namespace

std::optional<basic_credentials> parse_basic_auth(std::string_view h) {
  while (!h.empty() && (h.front() == ' ' || h.front() == '\t')) h.remove_prefix(1);
  while (!h.empty() && (h.back() == ' ' || h.back() == '\t')) h.remove_suffix(1);
  constexpr std::string_view scheme = "basic";
  if (h.size() <= scheme.size()) return std::nullopt;
  for (std::size_t i = 0; i < scheme.size(); ++i) {
    char c = h[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != scheme[i]) return std::nullopt;
  }
  h.remove_prefix(scheme.size());
  if (h.front() != ' ') return std::nullopt;
  while (!h.empty() && h.front() == ' ') h.remove_prefix(1);
  const auto decoded = decode_base64(h);
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
