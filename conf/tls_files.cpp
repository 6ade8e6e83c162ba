// Internal to conf/: the TLS files of a table checked with OpenSSL (tls_files.hpp).
#include "conf/tls_files.hpp"

#include <openssl/pem.h>
#include <openssl/x509.h>

#include <ctime>
#include <string>

#include "conf/values.hpp"

namespace sidecar::conf::detail {
namespace {

constexpr std::size_t max_pem_file_bytes = 1 << 20;

/// Checks that a certificate (chain) and key parse and match, with OpenSSL; the problem
/// names the key of the table that is at fault.
void check_tls_files(const table_reader& r, tls_files& files) {
  std::string why;
  const auto cert_pem = read_small_file(files.cert, max_pem_file_bytes, why);
  if (!cert_pem) r.fail_key("tls_cert", quote(files.cert.string()) + ": " + why);
  const auto key_pem = read_small_file(files.key, max_pem_file_bytes, why);
  if (!key_pem) r.fail_key("tls_key", quote(files.key.string()) + ": " + why);

  // Never prompt for a pass phrase on the terminal: an encrypted key is refused.
  pem_password_cb* no_password = [](char*, int, int, void*) { return 0; };
  BIO* cert_bio = BIO_new_mem_buf(cert_pem->data(), static_cast<int>(cert_pem->size()));
  X509* cert = PEM_read_bio_X509(cert_bio, nullptr, no_password, nullptr);
  BIO_free(cert_bio);
  if (cert == nullptr) {
    r.fail_key("tls_cert", quote(files.cert.string()) + " holds no PEM certificate");
  }
  BIO* key_bio = BIO_new_mem_buf(key_pem->data(), static_cast<int>(key_pem->size()));
  EVP_PKEY* key = PEM_read_bio_PrivateKey(key_bio, nullptr, no_password, nullptr);
  BIO_free(key_bio);
  if (key == nullptr) {
    X509_free(cert);
    r.fail_key("tls_key", quote(files.key.string()) +
                              " holds no PEM private key (or one with a pass phrase, which is "
                              "not supported)");
  }
  const bool match = X509_check_private_key(cert, key) == 1;
  std::tm expiry{};
  const bool dated = ASN1_TIME_to_tm(X509_get0_notAfter(cert), &expiry) == 1;
  EVP_PKEY_free(key);
  X509_free(cert);
  if (!match) {
    r.fail_key("tls_key", quote(files.key.string()) + " does not match the certificate in " +
                              quote(files.cert.string()));
  }
  if (dated) files.not_after = std::chrono::system_clock::from_time_t(timegm(&expiry));
  files.cert_pem = std::move(*cert_pem);
  files.key_pem = std::move(*key_pem);
}

}  // namespace

std::optional<tls_files> read_tls(const table_reader& r) {
  const auto cert = r.text("tls_cert");
  const auto key = r.text("tls_key");
  if (!cert && !key) return std::nullopt;
  if (!key) r.fail_key("tls_key", "missing: tls_cert and tls_key go together");
  if (!cert) r.fail_key("tls_cert", "missing: tls_cert and tls_key go together");
  tls_files files{*cert, *key};
  check_tls_files(r, files);
  return files;
}

void check_ca_file(const table_reader& r, const std::filesystem::path& path, std::string_view key) {
  std::string why;
  const auto pem = read_small_file(path, max_pem_file_bytes, why);
  if (!pem) r.fail_key(key, quote(path.string()) + ": " + why);
  BIO* bio = BIO_new_mem_buf(pem->data(), static_cast<int>(pem->size()));
  X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  if (cert == nullptr) {
    r.fail_key(key, quote(path.string()) + " holds no PEM certificate");
  }
  X509_free(cert);
}

}  // namespace sidecar::conf::detail
