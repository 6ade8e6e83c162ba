// Opening a connection to an upstream (proxy/upstream_connect.hpp, docs/proxy.md "Upstream
// connections"): TCP to a listening port, refused and timed-out connects named as such, TLS
// with the peer verified against the destination's name, and a peer that fails verification.
#include "proxy/upstream_connect.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <thread>

#include "conf/server_tls.hpp"
#include "proxy/destination.hpp"
#include "proxy/upstream_pool.hpp"
#include "support/watchdog.hpp"
#include "tests/proxy_support/pki.hpp"

namespace sidecar::proxy {
namespace {

using store::exchange_error;

const conf::route a_route{};

/// A route's destination: its host is resolved when connecting.
destination to(const std::string& host, std::uint16_t port, bool https = false) {
  destination d;
  d.route = &a_route;
  d.own_names({.host = host});
  d.port = port;
  d.https = https;
  return d;
}

/// Runs connect_upstream to its end with a deadline of `limit` on a watchdog that cancels the
/// connection's socket, as the proxy's sessions do.
exchange_error connect(const destination& d, ssl::context& tls,
                       std::chrono::milliseconds limit = std::chrono::seconds(5)) {
  net::io_context io;
  upstream_connection conn(io.get_executor());
  support::watchdog dog(io.get_executor());
  exchange_error out = exchange_error::shutdown;
  net::co_spawn(io, dog.run([&](std::uint8_t) {
    beast::error_code ec;
    conn.socket().cancel(ec);
  }),
                net::detached);
  net::co_spawn(
      io,
      [&]() -> net::awaitable<void> {
        dog.arm(limit, 0);
        out = co_await connect_upstream(conn, d, tls, dog);
        dog.stop();
      },
      net::detached);
  io.run();
  return out;
}

TEST(upstream_connect, APlainConnectReachesAListeningPort) {
  net::io_context server;
  tcp::acceptor a(server, tcp::endpoint(net::ip::make_address("127.0.0.1"), 0));
  ssl::context tls(ssl::context::tls_client);
  EXPECT_EQ(connect(to("127.0.0.1", a.local_endpoint().port()), tls), exchange_error::none);
  EXPECT_EQ(connect(to("localhost", a.local_endpoint().port()), tls), exchange_error::none)
      << "a name resolved now";
}

TEST(upstream_connect, AClosedPortIsRefusedAndAnUnknownNameUnresolved) {
  std::uint16_t port = 0;
  {
    net::io_context io;
    tcp::acceptor a(io, tcp::endpoint(net::ip::make_address("127.0.0.1"), 0));
    port = a.local_endpoint().port();
  }  // closed again: nobody listens there now
  ssl::context tls(ssl::context::tls_client);
  EXPECT_EQ(connect(to("127.0.0.1", port), tls), exchange_error::upstream_connect_refused);
  EXPECT_EQ(connect(to("no-such-host.invalid", 80), tls), exchange_error::upstream_resolve_failed);
}

TEST(upstream_connect, AForwardDestinationGoesOnlyToItsCheckedAddresses) {
  net::io_context server;
  tcp::acceptor a(server, tcp::endpoint(net::ip::make_address("127.0.0.1"), 0));
  ssl::context tls(ssl::context::tls_client);
  destination unchecked = to("localhost", a.local_endpoint().port());
  unchecked.route = nullptr;
  EXPECT_EQ(connect(unchecked, tls), exchange_error::upstream_resolve_failed)
      << "never a second lookup that DNS rebinding could answer differently";
  destination checked = unchecked;
  checked.own_names({.host = "name-that-does-not-resolve.invalid"});
  checked.checked = {a.local_endpoint()};
  EXPECT_EQ(connect(checked, tls), exchange_error::none);
}

TEST(upstream_connect, AConnectThatNeverCompletesIsATimeoutAtTheDeadline) {
  // A listener that never accepts, its backlog filled: further SYNs are dropped, so a connect
  // waits (Linux retries the SYN for minutes) until the deadline cancels it.
  net::io_context io;
  tcp::acceptor full(io, tcp::endpoint(net::ip::make_address("127.0.0.1"), 0));
  full.listen(0);
  std::vector<int> fillers;
  sockaddr_in at{};
  at.sin_family = AF_INET;
  at.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  at.sin_port = htons(full.local_endpoint().port());
  for (int i = 0; i < 4; ++i) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    // In progress or done: either way it takes a place in the queue.
    (void)::connect(fd, reinterpret_cast<const sockaddr*>(&at), sizeof at);
    fillers.push_back(fd);
  }
  ssl::context tls(ssl::context::tls_client);
  const auto started = std::chrono::steady_clock::now();
  const auto err =
      connect(to("127.0.0.1", full.local_endpoint().port()), tls, std::chrono::milliseconds(300));
  const auto took = std::chrono::steady_clock::now() - started;
  EXPECT_EQ(err, exchange_error::upstream_connect_timeout) << store::describe(err);
  EXPECT_GE(took, std::chrono::milliseconds(250));
  EXPECT_LT(took, std::chrono::seconds(3));
  for (const int fd : fillers) ::close(fd);
}

class tls_upstream_test : public ::testing::Test {
 protected:
  void serve() {
    server_ctx_ =
        conf::make_server_tls(conf::tls_files{pki_.server_cert, pki_.server_key}, "test", "[test]");
    acceptor_.emplace(io_, tcp::endpoint(net::ip::make_address("127.0.0.1"), 0));
    thread_ = std::thread([this] {
      tcp::socket s(io_);
      acceptor_->accept(s);
      ssl::stream<tcp::socket&> t(s, *server_ctx_);
      beast::error_code ec;
      t.handshake(ssl::stream_base::server, ec);
    });
  }
  void TearDown() override {
    if (thread_.joinable()) thread_.join();
  }
  std::uint16_t port() const { return acceptor_->local_endpoint().port(); }

  testing::test_pki pki_;
  net::io_context io_;
  std::shared_ptr<ssl::context> server_ctx_;
  std::optional<tcp::acceptor> acceptor_;
  std::thread thread_;
};

TEST_F(tls_upstream_test, TlsCompletesWhenThePeerIsVerifiedForTheDestinationsName) {
  serve();
  ssl::context tls(ssl::context::tls_client);
  tls.load_verify_file(pki_.ca.string());
  tls.set_verify_mode(ssl::verify_peer);
  EXPECT_EQ(connect(to("localhost", port(), true), tls), exchange_error::none);
}

TEST_F(tls_upstream_test, APeerSignedByAnotherCaFailsTheHandshake) {
  serve();
  ssl::context tls(ssl::context::tls_client);
  tls.load_verify_file(pki_.other_ca.string());
  tls.set_verify_mode(ssl::verify_peer);
  EXPECT_EQ(connect(to("localhost", port(), true), tls), exchange_error::upstream_tls_failed);
}

}  // namespace
}  // namespace sidecar::proxy
