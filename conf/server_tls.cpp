// The listeners' TLS policy and contexts: see server_tls.hpp.
#include "conf/server_tls.hpp"

#include <openssl/ssl.h>

#include <string>

#include "conf/config_error.hpp"

namespace sidecar::conf {

void restrict_tls(ssl::context& ctx) {
  ctx.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                  ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 |
                  ssl::context::no_compression | ssl::context::single_dh_use);
  SSL_CTX_set_min_proto_version(ctx.native_handle(), TLS1_2_VERSION);
  // TLS 1.2: forward secrecy and AEAD only (TLS 1.3 suites are all modern).
  SSL_CTX_set_cipher_list(ctx.native_handle(),
                          "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
                          "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
                          "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305");
}

std::shared_ptr<ssl::context> make_server_tls(const tls_files& files, std::string_view source,
                                              std::string_view table) {
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
  restrict_tls(*ctx);
  const std::string where = std::string(source) + ": " + std::string(table);
  beast::error_code ec;
  if (files.cert_pem.empty()) {
    ctx->use_certificate_chain_file(files.cert.string(), ec);
  } else {
    ctx->use_certificate_chain(net::buffer(files.cert_pem), ec);
  }
  if (ec) {
    throw config_error(where + " tls_cert: cannot use " + files.cert.string() + ": " +
                       ec.message());
  }
  if (files.key_pem.empty()) {
    ctx->use_private_key_file(files.key.string(), ssl::context::pem, ec);
  } else {
    ctx->use_private_key(net::buffer(files.key_pem), ssl::context::pem, ec);
  }
  if (ec) {
    throw config_error(where + " tls_key: cannot use " + files.key.string() + ": " + ec.message());
  }
  if (SSL_CTX_check_private_key(ctx->native_handle()) != 1) {
    throw config_error(where + " tls_key: " + files.key.string() +
                       " does not match the certificate " + files.cert.string());
  }
  return ctx;
}

}  // namespace sidecar::conf
