// proxy/upstream_pool: idle keep-alive connections per upstream, last in first out, bounded,
// expired after idle_timeout, never handed out once the upstream closed them or spoke, and all
// closed by close(). Real sockets on 127.0.0.1.
#include "proxy/upstream_pool.hpp"

#include <gtest/gtest.h>
#include <poll.h>

#include <cerrno>
#include <thread>

namespace sidecar::proxy {
namespace {

using namespace std::chrono_literals;

class upstream_pool_test : public ::testing::Test {
 protected:
  /// A connection to the test's listener under `key`, and the upstream's end of it.
  std::pair<std::unique_ptr<upstream_connection>, tcp::socket> connect(const std::string& key) {
    auto c = std::make_unique<upstream_connection>(ioc_.get_executor());
    c->key = key;
    c->plain->connect(acceptor_.local_endpoint());
    tcp::socket upstream(ioc_);
    acceptor_.accept(upstream);
    return {std::move(c), std::move(upstream)};
  }

  /// Whether the upstream's end sees the connection closed within a second.
  static bool closed_by_pool(tcp::socket& upstream) {
    pollfd p{upstream.native_handle(), POLLIN | POLLRDHUP, 0};
    if (::poll(&p, 1, 1000) != 1) return false;
    char byte = 0;
    const auto n = ::recv(upstream.native_handle(), &byte, 1, MSG_DONTWAIT);
    return n == 0 || (n < 0 && errno == ECONNRESET);  // a reset when bytes were left unread
  }

  /// Waits (up to a second) until `c`'s end has something to read: the upstream's bytes or EOF.
  static void wait_readable(upstream_connection& c) {
    pollfd p{c.socket().native_handle(), POLLIN | POLLRDHUP, 0};
    ASSERT_EQ(::poll(&p, 1, 1000), 1);
  }

  net::io_context ioc_;
  tcp::acceptor acceptor_{ioc_, tcp::endpoint(net::ip::make_address("127.0.0.1"), 0)};
};

TEST_F(upstream_pool_test, NothingIdleIsNull) {
  upstream_pool pool(4, 10s);
  EXPECT_EQ(pool.take("http://a"), nullptr);
  EXPECT_EQ(pool.idle_count("http://a"), 0u);
}

TEST_F(upstream_pool_test, LastGivenIsFirstTakenPerUpstream) {
  upstream_pool pool(4, 10s);
  auto [a1, up_a1] = connect("http://a");
  auto [a2, up_a2] = connect("http://a");
  auto [b1, up_b1] = connect("http://b");
  upstream_connection* const pa1 = a1.get();
  upstream_connection* const pa2 = a2.get();
  upstream_connection* const pb1 = b1.get();
  pool.give(std::move(a1));
  pool.give(std::move(a2));
  pool.give(std::move(b1));
  EXPECT_EQ(pool.idle_count("http://a"), 2u);
  EXPECT_EQ(pool.take("http://a").get(), pa2);
  EXPECT_EQ(pool.take("http://a").get(), pa1);
  EXPECT_EQ(pool.take("http://a"), nullptr);
  EXPECT_EQ(pool.take("http://b").get(), pb1);
}

TEST_F(upstream_pool_test, AFullListClosesItsOldest) {
  upstream_pool pool(2, 10s);
  auto [c1, up1] = connect("http://a");
  auto [c2, up2] = connect("http://a");
  auto [c3, up3] = connect("http://a");
  upstream_connection* const p3 = c3.get();
  pool.give(std::move(c1));
  pool.give(std::move(c2));
  pool.give(std::move(c3));
  EXPECT_EQ(pool.idle_count("http://a"), 2u);
  EXPECT_TRUE(closed_by_pool(up1));
  EXPECT_EQ(pool.take("http://a").get(), p3);
}

TEST_F(upstream_pool_test, AConnectionIdleForTooLongIsNotTaken) {
  upstream_pool pool(4, 50ms);
  auto [c, up] = connect("http://a");
  pool.give(std::move(c));
  std::this_thread::sleep_for(80ms);  // the time under test, not a synchronisation
  EXPECT_EQ(pool.take("http://a"), nullptr);
  EXPECT_TRUE(closed_by_pool(up));
}

TEST_F(upstream_pool_test, AConnectionTheUpstreamClosedIsNotTaken) {
  upstream_pool pool(4, 10s);
  auto [c, up] = connect("http://a");
  up.close();
  wait_readable(*c);
  pool.give(std::move(c));
  EXPECT_EQ(pool.take("http://a"), nullptr);
  EXPECT_EQ(pool.idle_count("http://a"), 0u);
}

TEST_F(upstream_pool_test, AConnectionWithStrayBytesIsNotTaken) {
  upstream_pool pool(4, 10s);
  auto [c, up] = connect("http://a");
  net::write(up, net::buffer(std::string_view("HTTP/1.1 200 OK\r\n\r\n")));
  wait_readable(*c);
  pool.give(std::move(c));
  EXPECT_EQ(pool.take("http://a"), nullptr);
  EXPECT_TRUE(closed_by_pool(up));
}

TEST_F(upstream_pool_test, CloseClosesEveryIdleConnectionAndRefusesNewOnes) {
  upstream_pool pool(4, 10s);
  auto [c1, up1] = connect("http://a");
  auto [c2, up2] = connect("http://b");
  pool.give(std::move(c1));
  pool.close();
  EXPECT_TRUE(closed_by_pool(up1));
  pool.give(std::move(c2));
  EXPECT_EQ(pool.idle_count("http://b"), 0u);
  EXPECT_TRUE(closed_by_pool(up2));
}

}  // namespace
}  // namespace sidecar::proxy
