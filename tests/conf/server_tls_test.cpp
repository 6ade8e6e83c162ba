// The listeners' TLS (conf/server_tls.hpp, docs/configuration.md "TLS"): one policy for both
// (TLS 1.2 or newer, no compression), a server context from a checked pair that completes a
// real handshake, and a pair that cannot be used refused with the table it came from.
#include "conf/server_tls.hpp"

#include <gtest/gtest.h>
#include <openssl/ssl.h>

#include <fstream>
#include <string>
#include <thread>

#include "conf/config_error.hpp"
#include "tests/proxy_support/pki.hpp"

namespace sidecar::conf {
namespace {

tls_files files_of(const testing::test_pki& pki) {
  tls_files f;
  f.cert = pki.server_cert;
  f.key = pki.server_key;
  return f;
}

TEST(server_tls, ThePolicyIsTls12OrNewerWithoutCompression) {
  ssl::context ctx(ssl::context::tls_server);
  restrict_tls(ctx);
  const auto opts = SSL_CTX_get_options(ctx.native_handle());
  EXPECT_TRUE(opts & SSL_OP_NO_COMPRESSION);
  EXPECT_GE(SSL_CTX_get_min_proto_version(ctx.native_handle()), TLS1_2_VERSION);
}

TEST(server_tls, AContextFromTheFilesCompletesAHandshakeWithAClientThatTrustsTheCa) {
  const testing::test_pki pki;
  const auto ctx = make_server_tls(files_of(pki), "sidecar.toml", "[api]");
  ASSERT_TRUE(ctx);
  EXPECT_TRUE(SSL_CTX_get_options(ctx->native_handle()) & SSL_OP_NO_COMPRESSION);

  net::io_context io;
  tcp::acceptor acceptor(io, tcp::endpoint(net::ip::make_address("127.0.0.1"), 0));
  std::thread server([&] {
    tcp::socket s(io);
    acceptor.accept(s);
    ssl::stream<tcp::socket&> tls(s, *ctx);
    boost::system::error_code ec;
    tls.handshake(ssl::stream_base::server, ec);
  });
  ssl::context client_ctx(ssl::context::tls_client);
  client_ctx.load_verify_file(pki.ca.string());
  client_ctx.set_verify_mode(ssl::verify_peer);
  tcp::socket sock(io);
  sock.connect(acceptor.local_endpoint());
  ssl::stream<tcp::socket&> client(sock, client_ctx);
  SSL_set_tlsext_host_name(client.native_handle(), "localhost");
  boost::system::error_code ec;
  client.handshake(ssl::stream_base::client, ec);
  server.join();
  EXPECT_FALSE(ec) << ec.message();
  EXPECT_EQ(SSL_get_current_compression(client.native_handle()), nullptr);
}

TEST(server_tls, KeptBytesAreUsedRatherThanTheFilesOfTheMoment) {
  const testing::test_pki pki;
  tls_files f = files_of(pki);
  std::ifstream cert(f.cert), key(f.key);
  f.cert_pem.assign(std::istreambuf_iterator<char>(cert), {});
  f.key_pem.assign(std::istreambuf_iterator<char>(key), {});
  std::filesystem::remove(f.cert);  // replaced on disk since the load checked it
  std::filesystem::remove(f.key);
  EXPECT_NO_THROW((void)make_server_tls(f, "sidecar.toml", "[proxy]"));
}

TEST(server_tls, APairThatCannotBeUsedNamesItsTable) {
  const testing::test_pki pki;
  tls_files f = files_of(pki);
  f.key = pki.dir / "ca.key";  // not the certificate's key
  try {
    (void)make_server_tls(f, "sidecar.toml", "[proxy]");
    FAIL() << "a mismatched pair";
  } catch (const config_error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("sidecar.toml"), std::string::npos) << what;
    EXPECT_NE(what.find("[proxy]"), std::string::npos) << what;
  }
}

}  // namespace
}  // namespace sidecar::conf
