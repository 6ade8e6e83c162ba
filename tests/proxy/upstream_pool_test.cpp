// proxy/upstream_pool: idle keep-alive connections per upstream, last in first out, bounded,
// expired after idle_timeout, dropped as soon as the upstream closes them or speaks (their pending
// read), whose read brings a taken connection's first response bytes, and all closed by close().
// Real sockets on 127.0.0.1.
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

  /// Runs the pool's handlers until `key` has `n` idle connections (or 5 s pass).
  bool idle_count_becomes(upstream_pool& pool, const std::string& key, std::size_t n) {
    const auto end = std::chrono::steady_clock::now() + 5s;
    while (pool.idle_count(key) != n && std::chrono::steady_clock::now() < end) {
      ioc_.restart();
      ioc_.run_one_for(50ms);
    }
    return pool.idle_count(key) == n;
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

TEST_F(upstream_pool_test, AConnectionTheUpstreamClosesWhileIdleLeavesThePool) {
  upstream_pool pool(4, 10s);
  auto [c, up] = connect("http://a");
  pool.give(std::move(c));
  EXPECT_EQ(pool.idle_count("http://a"), 1u);
  up.close();
  // The pending read sees the close: no check is needed at take().
  EXPECT_TRUE(idle_count_becomes(pool, "http://a", 0));
  EXPECT_EQ(pool.take("http://a"), nullptr);
}

TEST_F(upstream_pool_test, AConnectionClosedBeforeItWasGivenIsNotTaken) {
  upstream_pool pool(4, 10s);
  auto [c, up] = connect("http://a");
  up.close();
  wait_readable(*c);
  pool.give(std::move(c));
  EXPECT_TRUE(idle_count_becomes(pool, "http://a", 0));
  EXPECT_EQ(pool.take("http://a"), nullptr);
}

TEST_F(upstream_pool_test, AConnectionWithStrayBytesIsNotTaken) {
  upstream_pool pool(4, 10s);
  auto [c, up] = connect("http://a");
  pool.give(std::move(c));
  net::write(up, net::buffer(std::string_view("HTTP/1.1 200 OK\r\n\r\n")));
  EXPECT_TRUE(idle_count_becomes(pool, "http://a", 0));
  EXPECT_EQ(pool.take("http://a"), nullptr);
  EXPECT_TRUE(closed_by_pool(up));
}

TEST_F(upstream_pool_test, TheIdleReadOfATakenConnectionBringsTheResponsesFirstBytes) {
  upstream_pool pool(4, 10s);
  auto [given, up] = connect("http://a");
  pool.give(std::move(given));
  auto c = pool.take("http://a");
  ASSERT_NE(c, nullptr);
  EXPECT_TRUE(c->read_pending);
  const std::string_view answer = "HTTP/1.1 204 No Content\r\n\r\n";
  net::write(up, net::buffer(answer));
  beast::error_code got_ec = net::error::would_block;
  std::size_t got_n = 0;
  net::co_spawn(
      ioc_,
      [](upstream_pool& p, upstream_connection& conn, beast::error_code& ec,
         std::size_t& n) -> net::awaitable<void> {
        std::tie(ec, n) = co_await p.settle(conn);
      }(pool, *c, got_ec, got_n),
      net::detached);
  ioc_.run_for(5s);
  EXPECT_FALSE(got_ec);
  EXPECT_EQ(got_n, answer.size());
  EXPECT_EQ(beast::buffers_to_string(c->buffer.data()), answer);
  EXPECT_FALSE(c->read_pending);
}

TEST_F(upstream_pool_test, CancellingATakenConnectionEndsItsIdleRead) {
  upstream_pool pool(4, 10s);
  auto [given, up] = connect("http://a");
  pool.give(std::move(given));
  auto c = pool.take("http://a");
  ASSERT_NE(c, nullptr);
  c->socket().cancel();
  beast::error_code got_ec;
  net::co_spawn(
      ioc_,
      [](upstream_pool& p, upstream_connection& conn,
         beast::error_code& ec) -> net::awaitable<void> {
        std::tie(ec, std::ignore) = co_await p.settle(conn);
      }(pool, *c, got_ec),
      net::detached);
  ioc_.run_for(5s);
  EXPECT_EQ(got_ec, net::error::operation_aborted);
  EXPECT_EQ(c->buffer.size(), 0u);
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
