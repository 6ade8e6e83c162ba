// Base64 on OpenSSL's EVP_EncodeBlock and EVP_DecodeBlock (see base64.hpp).
#include "support/base64.hpp"

#include <openssl/evp.h>

#include <algorithm>

namespace sidecar::base64 {
namespace {

constexpr std::string_view alphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

// EVP_*Block take an int length: long inputs go in slices of whole groups.
constexpr std::size_t slice_bytes = std::size_t{3} << 20;
constexpr std::size_t slice_chars = slice_bytes / 3 * 4;

unsigned char* bytes(char* p) { return reinterpret_cast<unsigned char*>(p); }
const unsigned char* bytes(const char* p) { return reinterpret_cast<const unsigned char*>(p); }

}  // namespace

void append_encoded(std::string& out, std::string_view s) {
  const std::size_t at = out.size();
  out.resize(at + 4 * ((s.size() + 2) / 3) + 1);  // EVP_EncodeBlock writes a terminating NUL
  std::size_t written = 0;
  for (std::size_t off = 0; off < s.size(); off += slice_bytes) {
    const std::size_t n = std::min(slice_bytes, s.size() - off);
    written += static_cast<std::size_t>(EVP_EncodeBlock(
        bytes(out.data() + at + written), bytes(s.data() + off), static_cast<int>(n)));
  }
  out.resize(at + written);
}

std::optional<std::string> decode(std::string_view s) {
  if (s.size() % 4 != 0) return std::nullopt;
  std::size_t pad = 0;
  while (pad < 2 && pad < s.size() && s[s.size() - 1 - pad] == '=') ++pad;
  // Checked here, as EVP_DecodeBlock skips white space at either end.
  if (s.substr(0, s.size() - pad).find_first_not_of(alphabet) != std::string_view::npos) {
    return std::nullopt;
  }
  std::string out(s.size() / 4 * 3, '\0');
  std::size_t written = 0;
  for (std::size_t off = 0; off < s.size(); off += slice_chars) {
    const std::size_t n = std::min(slice_chars, s.size() - off);
    const int got =
        EVP_DecodeBlock(bytes(out.data() + written), bytes(s.data() + off), static_cast<int>(n));
    if (got < 0) return std::nullopt;
    written += static_cast<std::size_t>(got);
  }
  out.resize(written - pad);  // EVP_DecodeBlock counts the bytes of the padding as zeros
  return out;
}

}  // namespace sidecar::base64
