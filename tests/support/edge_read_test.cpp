// edge_read::async_read_some: socket.async_read_some's results, and no read tried before epoll
// once a read has emptied the socket, but at once when the peer's close came with the bytes.
// The reads are counted by definitions of recv() and recvmsg() in this executable, which take
// the C library's place for Asio's calls and the edge read's.
#include "support/edge_read.hpp"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <optional>
#include <string>
#include <string_view>

namespace {
std::atomic<int> recv_calls{0};
}  // namespace

extern "C" ssize_t recv(int fd, void* buf, std::size_t n, int flags) {
  recv_calls.fetch_add(1, std::memory_order_relaxed);
  return ::syscall(SYS_recvfrom, fd, buf, n, flags, nullptr, nullptr);
}
extern "C" ssize_t recvmsg(int fd, msghdr* msg, int flags) {
  recv_calls.fetch_add(1, std::memory_order_relaxed);
  return ::syscall(SYS_recvmsg, fd, msg, flags);
}

namespace sidecar {
namespace {

struct read_result {
  beast::error_code ec;
  std::size_t n = 0;
};

// A connected pair of loopback sockets: `ours` read with edge_read, `peer` written to at once.
class edge_read_test : public ::testing::Test {
 protected:
  edge_read_test() : ours(ioc), peer(ioc) {
    tcp::acceptor acceptor(ioc, {net::ip::address_v4::loopback(), 0});
    peer.connect(acceptor.local_endpoint());
    acceptor.accept(ours);
    EXPECT_TRUE(edge_read::enable(ours));
  }

  // Starts an edge read into `buffer`; its result lands in `out` when the context runs.
  void start(std::optional<read_result>& out, net::mutable_buffer buffer) {
    out.reset();
    edge_read::async_read_some(ours, buffer, [&out](beast::error_code ec, std::size_t n) {
      out = read_result{ec, n};
    });
  }

  // Starts an edge read into `buf` before the peer sends anything, and lets the context run:
  // whether the read is still waiting, as it must be (the callers assert it).
  [[nodiscard]] bool start_waiting(std::optional<read_result>& out) {
    start(out, net::buffer(buf));
    settle();
    return !out.has_value();
  }

  // Runs the context until `out` is set (or a second has passed).
  void run_until(const std::optional<read_result>& out) {
    for (int i = 0; i < 1000 && !out; ++i) {
      ioc.restart();
      ioc.run_for(std::chrono::milliseconds(1));
    }
  }

  // Runs the context until the pending read `out` ends, which it must do with
  // operation_aborted (a cancel or a close was just made).
  void expect_aborted(const std::optional<read_result>& out) {
    run_until(out);
    ASSERT_TRUE(out);
    EXPECT_EQ(out->ec, net::error::operation_aborted);
  }

  void send(std::string_view bytes) { net::write(peer, net::buffer(bytes)); }

  // An edge read that epoll completes: started before `bytes` are sent, so that no readiness
  // is left behind in epoll for bytes already read (which would let the next read try again).
  read_result read_arriving(std::string_view bytes) {
    std::optional<read_result> r;
    EXPECT_TRUE(start_waiting(r));
    send(bytes);
    run_until(r);
    return r.value_or(read_result{net::error::timed_out, 0});
  }

  // Lets bytes written to `peer` reach `ours` (loopback delivers within the write; this also
  // lets epoll report them).
  void settle() {
    ioc.restart();
    ioc.poll();
  }

  net::io_context ioc;
  tcp::socket ours;
  tcp::socket peer;
  std::array<char, 64> buf{};
};

TEST_F(edge_read_test, AfterAShortReadTheNextReadWaitsForEpollWithoutARecv) {
  const read_result first = read_arriving("GET / HTTP/1.1\r\n\r\n");
  EXPECT_FALSE(first.ec);
  EXPECT_EQ(first.n, 18u);

  // Short: the next read is queued for epoll. No recv() while nothing arrives.
  const int before = recv_calls.load();
  std::optional<read_result> r;
  ASSERT_TRUE(start_waiting(r));
  EXPECT_EQ(recv_calls.load(), before);

  // The bytes that come later are read: one recv(), when epoll reports them.
  send("later");
  run_until(r);
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->ec);
  EXPECT_EQ(std::string_view(buf.data(), r->n), "later");
  EXPECT_EQ(recv_calls.load(), before + 1);
}

TEST_F(edge_read_test, AfterAsiosOwnShortReadItsNextReadTriesARecvFirst) {
  // What the edge read saves: after the same short read made by socket.async_read_some, the
  // next socket.async_read_some calls recv() at once, and gets EAGAIN.
  std::optional<read_result> r;
  auto asio_read = [&] {
    r.reset();
    ours.async_read_some(net::buffer(buf), [&r](beast::error_code ec, std::size_t n) {
      r = read_result{ec, n};
    });
  };
  asio_read();
  settle();
  send("x");
  run_until(r);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->n, 1u);
  const int before = recv_calls.load();
  asio_read();
  EXPECT_EQ(recv_calls.load(), before + 1);
  settle();
  EXPECT_FALSE(r);
  ours.cancel();
  expect_aborted(r);
}

TEST_F(edge_read_test, AFullReadLeavesTheNextReadToTryAtOnce) {
  // The buffer filled: more may be waiting, and the next read takes it without epoll.
  EXPECT_EQ(read_arriving(std::string(64, 'a') + "rest").n, 64u);
  std::optional<read_result> r;
  const int before = recv_calls.load();
  start(r, net::buffer(buf));
  EXPECT_EQ(recv_calls.load(), before + 1);  // speculative, and it found the bytes
  settle();
  ASSERT_TRUE(r);
  EXPECT_EQ(std::string_view(buf.data(), r->n), "rest");
}

TEST_F(edge_read_test, TheEndOfTheStreamAfterAShortReadIsReported) {
  EXPECT_EQ(read_arriving("bye").n, 3u);
  std::optional<read_result> r;
  ASSERT_TRUE(start_waiting(r));
  peer.shutdown(tcp::socket::shutdown_send);
  run_until(r);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->ec, net::error::eof);
  EXPECT_EQ(r->n, 0u);
}

TEST_F(edge_read_test, ACloseThatCameWithTheBytesIsReadAtOnceByTheNextRead) {
  // The bytes and the FIN are both queued when the read runs: one epoll edge for both. The
  // read takes the bytes, sees the end of the stream behind them, and the next read finds it
  // without waiting for an edge that will not come.
  std::optional<read_result> r;
  ASSERT_TRUE(start_waiting(r));
  send("last");
  peer.shutdown(tcp::socket::shutdown_send);
  run_until(r);
  ASSERT_TRUE(r);
  EXPECT_EQ(std::string_view(buf.data(), r->n), "last");
  const int before = recv_calls.load();
  start(r, net::buffer(buf));
  EXPECT_EQ(recv_calls.load(), before + 1);
  settle();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->ec, net::error::eof);
}

TEST_F(edge_read_test, AResetThatCameWithTheBytesFailsTheNextWriteWithNothingSent) {
  // A reset right behind the bytes is kept by the kernel for the socket's next call: the
  // bytes are read, and the next write fails at once (docs/proxy.md, "Retry rule").
  std::optional<read_result> r;
  ASSERT_TRUE(start_waiting(r));
  peer.set_option(net::socket_base::linger(true, 0));
  send("answer");
  peer.close();  // with SO_LINGER 0: a reset
  run_until(r);
  ASSERT_TRUE(r);
  if (!r->ec) {
    EXPECT_EQ(std::string_view(buf.data(), r->n), "answer");
  }
  beast::error_code ec;
  const std::size_t n = ours.write_some(net::buffer("next", 4), ec);
  EXPECT_TRUE(ec);
  EXPECT_EQ(n, 0u);
}

TEST_F(edge_read_test, APendingReadEndsWithOperationAbortedOnCloseAndCancel) {
  EXPECT_EQ(read_arriving("1").n, 1u);
  std::optional<read_result> r;
  ASSERT_TRUE(start_waiting(r));
  ours.cancel();
  expect_aborted(r);

  ASSERT_TRUE(start_waiting(r));
  ours.close();
  expect_aborted(r);
}

TEST_F(edge_read_test, APerOperationCancellationSlotCancelsThePendingRead) {
  std::optional<read_result> r;
  net::cancellation_signal signal;
  edge_read::async_read_some(
      ours, net::buffer(buf),
      net::bind_cancellation_slot(signal.slot(), [&r](beast::error_code ec, std::size_t n) {
        r = read_result{ec, n};
      }));
  settle();
  ASSERT_FALSE(r);
  signal.emit(net::cancellation_type::terminal);
  expect_aborted(r);
  // The socket is still usable: a read after the cancelled one gets the bytes.
  send("after");
  start(r, net::buffer(buf));
  run_until(r);
  ASSERT_TRUE(r);
  EXPECT_EQ(std::string_view(buf.data(), r->n), "after");
}

TEST_F(edge_read_test, WithoutTcpInqEveryReadIsFollowedByATryAsAsiosOwn) {
  // A socket that was not enabled: the kernel says nothing of what is left, and the read
  // leaves the next one to try at once.
  const int off = 0;
  ASSERT_EQ(::setsockopt(ours.native_handle(), SOL_TCP, TCP_INQ, &off, sizeof off), 0);
  EXPECT_EQ(read_arriving("x").n, 1u);
  const int before = recv_calls.load();
  std::optional<read_result> r;
  start(r, net::buffer(buf));
  EXPECT_EQ(recv_calls.load(), before + 1);
  ours.cancel();
  expect_aborted(r);
}

TEST_F(edge_read_test, AnEmptyBufferCompletesAtOnceAsAsiosReadDoes) {
  std::optional<read_result> r;
  const int before = recv_calls.load();
  start(r, net::mutable_buffer());
  settle();
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->ec);
  EXPECT_EQ(r->n, 0u);
  EXPECT_EQ(recv_calls.load(), before);
}

TEST_F(edge_read_test, WorksAsAnAwaitedOperationInACoroutine) {
  send("one");
  std::string got;
  net::co_spawn(
      ioc,
      [&]() -> net::awaitable<void> {
        auto [ec, n] = co_await edge_read::async_read_some(ours, net::buffer(buf), awaited);
        got.assign(buf.data(), ec ? 0 : n);
        send("two");
        auto [ec2, n2] = co_await edge_read::async_read_some(ours, net::buffer(buf), awaited);
        got.append(buf.data(), ec2 ? 0 : n2);
      },
      net::detached);
  for (int i = 0; i < 1000 && got.size() < 6; ++i) {
    ioc.restart();
    ioc.run_for(std::chrono::milliseconds(1));
  }
  EXPECT_EQ(got, "onetwo");
}

}  // namespace
}  // namespace sidecar
