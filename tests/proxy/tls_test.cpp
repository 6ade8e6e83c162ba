// TLS on both sides: the proxy's TLS listener (TLS 1.2+ only), and https upstreams verified
// against upstream_ca (a wrong CA is refused with 502), with certificates made by openssl.
#include <gtest/gtest.h>

#include <boost/beast/ssl.hpp>

#include "conf/load.hpp"
#include "tests/proxy_support/harness.hpp"
#include "tests/proxy_support/pki.hpp"
#include "tests/proxy_support/test_upstream.hpp"

namespace sidecar::testing {
namespace {

ssl::context server_context(const test_pki& pki) {
  ssl::context ctx(ssl::context::tls_server);
  ctx.use_certificate_chain_file(pki.server_cert.string());
  ctx.use_private_key_file(pki.server_key.string(), ssl::context::pem);
  return ctx;
}

TEST(proxy_tls, TlsListenerServesHttps) {
  test_pki pki;
  test_upstream up;
  auto c = base_config();
  c->routes.push_back(route_to("/", upstream_at(up.port())));
  c->proxy.tls = conf::tls_files{pki.server_cert, pki.server_key};
  running_proxy proxy(c);

  net::io_context ioc;
  ssl::context client(ssl::context::tls_client);
  client.load_verify_file(pki.ca.string());
  client.set_verify_mode(ssl::verify_peer);
  beast::ssl_stream<tcp::socket> s(connect_to(ioc, proxy.port()), client);
  s.set_verify_callback(ssl::host_name_verification("127.0.0.1"));
  s.handshake(ssl::stream_base::client);
  http::request<http::empty_body> req{http::verb::get, "/tls", 11};
  req.set(http::field::host, "a");
  http::write(s, req);
  beast::flat_buffer buf;
  http::response<http::string_body> res;
  http::read(s, buf, res);
  EXPECT_EQ(res.body(), "hello /tls");
  EXPECT_EQ(up.last().value("X-Forwarded-Proto"), "https");
}

TEST(proxy_tls, TlsListenerRefusesTls11) {
  test_pki pki;
  test_upstream up;
  auto c = base_config();
  c->routes.push_back(route_to("/", upstream_at(up.port())));
  c->proxy.tls = conf::tls_files{pki.server_cert, pki.server_key};
  running_proxy proxy(c);

  net::io_context ioc;
  ssl::context old(ssl::context::tls_client);
  SSL_CTX_set_security_level(old.native_handle(), 0);
  SSL_CTX_set_min_proto_version(old.native_handle(), TLS1_VERSION);
  SSL_CTX_set_max_proto_version(old.native_handle(), TLS1_1_VERSION);
  old.set_verify_mode(ssl::verify_none);
  beast::ssl_stream<tcp::socket> s(connect_to(ioc, proxy.port()), old);
  beast::error_code ec;
  s.handshake(ssl::stream_base::client, ec);
  EXPECT_TRUE(ec);
}

TEST(proxy_tls, BadCertificateFilesStopStartWithAConfigError) {
  auto c = base_config();
  c->proxy.tls = conf::tls_files{"/nonexistent/cert.pem", "/nonexistent/key.pem"};
  collecting_sink sink;
  metrics::registry reg;
  proxy::server s(c, sink, reg, nullptr);
  EXPECT_THROW(s.start({}), conf::config_error);
}

TEST(proxy_tls, HttpsUpstreamVerifiedAgainstUpstreamCa) {
  test_pki pki;
  auto ctx = server_context(pki);
  test_upstream up(&ctx);
  auto c = base_config();
  c->proxy.threads = 1;  // both clients on one event loop, whose pooled connection they share
  c->routes.push_back(route_to("/", upstream_at(up.port(), "/secure/", true)));
  c->proxy.upstream_ca = pki.ca;
  running_proxy proxy(c);
  auto r = round_trip(proxy.port(), "GET /x HTTP/1.1\r\nHost: a\r\n\r\n");
  ASSERT_FALSE(r.ec);
  EXPECT_EQ(r.res.result_int(), 200);
  EXPECT_EQ(r.res.body(), "hello /secure/x");
  const auto cap = proxy.sink.wait_for(1).at(0);
  EXPECT_EQ(cap.upstream_url, "https://127.0.0.1:" + std::to_string(up.port()) + "/secure/x");
  // Keep-alive over TLS too.
  round_trip(proxy.port(), "GET /y HTTP/1.1\r\nHost: a\r\n\r\n");
  EXPECT_EQ(up.connections(), 1u);
}

TEST(proxy_tls, HttpsUpstreamWithAnotherCaIsRefusedWith502) {
  test_pki pki;
  auto ctx = server_context(pki);
  test_upstream up(&ctx);
  auto c = base_config();
  c->routes.push_back(route_to("/", upstream_at(up.port(), "/", true)));
  c->proxy.upstream_ca = pki.other_ca;
  running_proxy proxy(c);
  auto r = round_trip(proxy.port(), "GET /x HTTP/1.1\r\nHost: a\r\n\r\n");
  EXPECT_EQ(r.res.result_int(), 502);
  EXPECT_EQ(up.request_count(), 0u);
  EXPECT_EQ(proxy.sink.wait_for(1).at(0).error, store::exchange_error::upstream_tls_failed);
}

TEST(proxy_tls, HttpsUpstreamWithTheWrongNameIsRefused) {
  test_pki pki;
  auto ctx = server_context(pki);
  test_upstream up(&ctx);
  auto c = base_config();
  // The certificate names 127.0.0.1 and localhost, not this address.
  c->routes.push_back(route_to("/", upstream_at(up.port(), "/", true, "127.0.0.2")));
  c->proxy.upstream_ca = pki.ca;
  running_proxy proxy(c);
  EXPECT_EQ(round_trip(proxy.port(), "GET / HTTP/1.1\r\nHost: a\r\n\r\n").res.result_int(), 502);
}

}  // namespace
}  // namespace sidecar::testing
