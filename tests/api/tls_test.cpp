// The API over TLS, with a certificate made by the openssl command line: TLS 1.2 and 1.3 are
// served, older versions refused.
#include <gtest/gtest.h>
#include <openssl/ssl.h>

#include <boost/beast/ssl.hpp>
#include <cstdlib>
#include <filesystem>

#include "api/server.hpp"
#include "support/net.hpp"
#include "tests/api/test_support.hpp"

namespace sidecar::api {
namespace {

class api_tls : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("api-tls-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
    const std::string cmd =
        "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 "
        "-nodes -subj /CN=localhost -days 1 -keyout " +
        (dir_ / "key.pem").string() + " -out " + (dir_ / "cert.pem").string() + " 2>/dev/null";
    ASSERT_EQ(std::system(cmd.c_str()), 0);
    auto cfg = testing::make_config();
    cfg->api.tls = conf::tls_files{dir_ / "cert.pem", dir_ / "key.pem"};
    server_ =
        std::make_unique<server>(cfg, reader_, registry_, std::function<store::store_health()>{});
    port_ = server_->start().port();
  }
  void TearDown() override {
    if (server_) server_->stop();
    std::filesystem::remove_all(dir_);
  }

  /// One GET /healthz over TLS limited to [min, max]; the status, or 0 when the handshake fails.
  unsigned healthz(int min_version, int max_version) {
    net::io_context ioc;
    ssl::context ctx(ssl::context::tls_client);
    SSL_CTX_set_min_proto_version(ctx.native_handle(), min_version);
    SSL_CTX_set_max_proto_version(ctx.native_handle(), max_version);
    SSL_CTX_set_security_level(ctx.native_handle(), 0);  // let the client offer old versions
    ctx.load_verify_file((dir_ / "cert.pem").string());
    ctx.set_verify_mode(ssl::verify_peer);
    beast::ssl_stream<beast::tcp_stream> s(ioc, ctx);
    beast::get_lowest_layer(s).connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port_));
    beast::get_lowest_layer(s).expires_after(std::chrono::seconds(10));
    beast::error_code ec;
    s.handshake(ssl::stream_base::client, ec);
    if (ec) return 0;
    http::request<http::empty_body> req{http::verb::get, "/healthz", 11};
    req.set(http::field::host, "localhost");
    http::write(s, req);
    beast::flat_buffer buf;
    http::response<http::string_body> res;
    http::read(s, buf, res);
    return res.result_int();
  }

  std::filesystem::path dir_;
  testing::memory_reader reader_;
  metrics::registry registry_;
  std::unique_ptr<server> server_;
  std::uint16_t port_ = 0;
};

TEST_F(api_tls, ServesTls12AndTls13) {
  EXPECT_EQ(healthz(TLS1_2_VERSION, TLS1_2_VERSION), 200u);
  EXPECT_EQ(healthz(TLS1_3_VERSION, TLS1_3_VERSION), 200u);
}

TEST_F(api_tls, RefusesTls11AndOlder) { EXPECT_EQ(healthz(TLS1_VERSION, TLS1_1_VERSION), 0u); }

TEST_F(api_tls, PlainHttpOnTheTlsListenerGetsNoAnswer) {
  net::io_context ioc;
  beast::tcp_stream s(ioc);
  s.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port_));
  s.expires_after(std::chrono::seconds(10));
  http::request<http::empty_body> req{http::verb::get, "/healthz", 11};
  http::write(s, req);
  beast::flat_buffer buf;
  http::response<http::string_body> res;
  beast::error_code ec;
  http::read(s, buf, res, ec);
  EXPECT_TRUE(ec);
}

}  // namespace
}  // namespace sidecar::api
