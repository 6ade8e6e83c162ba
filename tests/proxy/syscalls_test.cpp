// The proxy thread's system calls per keep-alive exchange in steady state (docs/proxy.md,
// "System calls"): webhook form POSTs through a real proxy::server to a real nginx
// (tests/proxy_support/keepalive_webhooks.hpp), the socket and epoll calls Asio makes counted
// by definitions of those functions in this executable, which take the C library's place, on
// the threads the proxy names "proxy-N" only. One exchange at a time: the counts are
// deterministic, and the test asserts nginx's: one read and one write on each side, no
// epoll_ctl, no poll.
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>

#include "tests/proxy_support/keepalive_webhooks.hpp"

namespace {

struct call_counts {
  std::atomic<std::uint64_t> recv{0};     // recv, recvmsg
  std::atomic<std::uint64_t> send{0};     // send, sendmsg, writev
  std::atomic<std::uint64_t> wait{0};     // epoll_wait
  std::atomic<std::uint64_t> control{0};  // epoll_ctl
  std::atomic<std::uint64_t> poll{0};     // poll
};
call_counts calls;

void count(std::atomic<std::uint64_t>& counter) {
  if (sidecar::testing::on_proxy_thread()) counter.fetch_add(1, std::memory_order_relaxed);
}

}  // namespace

extern "C" {
ssize_t recv(int fd, void* buf, std::size_t n, int flags) {
  count(calls.recv);
  return ::syscall(SYS_recvfrom, fd, buf, n, flags, nullptr, nullptr);
}
ssize_t recvmsg(int fd, msghdr* msg, int flags) {
  count(calls.recv);
  return ::syscall(SYS_recvmsg, fd, msg, flags);
}
ssize_t send(int fd, const void* buf, std::size_t n, int flags) {
  count(calls.send);
  return ::syscall(SYS_sendto, fd, buf, n, flags, nullptr, 0);
}
ssize_t sendmsg(int fd, const msghdr* msg, int flags) {
  count(calls.send);
  return ::syscall(SYS_sendmsg, fd, msg, flags);
}
ssize_t writev(int fd, const iovec* iov, int n) {
  count(calls.send);
  return ::syscall(SYS_writev, fd, iov, n);
}
int epoll_wait(int epfd, epoll_event* events, int max, int timeout) {
  count(calls.wait);
  return static_cast<int>(::syscall(SYS_epoll_wait, epfd, events, max, timeout));
}
int epoll_ctl(int epfd, int op, int fd, epoll_event* event) {
  count(calls.control);
  return static_cast<int>(::syscall(SYS_epoll_ctl, epfd, op, fd, event));
}
int poll(pollfd* fds, nfds_t n, int timeout) {
  count(calls.poll);
  return static_cast<int>(::syscall(SYS_poll, fds, n, timeout));
}
}

namespace sidecar::testing {
namespace {

TEST(proxy_syscalls, AKeepAliveExchangeMakesOneReadAndOneWriteOnEachSide) {
  keepalive_webhooks load;
  load.run(200);  // warm-up: the pool's connection
  ASSERT_TRUE(load.settled(200));
  constexpr int measured = 1000;
  const auto taken = [](const std::atomic<std::uint64_t>& c) { return c.load(); };
  const std::uint64_t recv = taken(calls.recv), send = taken(calls.send), wait = taken(calls.wait),
                      control = taken(calls.control), polled = taken(calls.poll);
  load.run(measured);
  ASSERT_TRUE(load.settled(200 + measured));
  const std::uint64_t reads = taken(calls.recv) - recv, writes = taken(calls.send) - send,
                      waits = taken(calls.wait) - wait, controls = taken(calls.control) - control,
                      polls = taken(calls.poll) - polled;
  std::printf(
      "proxy thread, %d exchanges: %llu reads, %llu writes, %llu epoll_wait, %llu epoll_ctl, "
      "%llu poll\n",
      measured, static_cast<unsigned long long>(reads), static_cast<unsigned long long>(writes),
      static_cast<unsigned long long>(waits), static_cast<unsigned long long>(controls),
      static_cast<unsigned long long>(polls));
  // The request's read and the response's: no read that finds nothing (docs/proxy.md, "System
  // calls": a short read leaves the next one to epoll).
  EXPECT_EQ(reads, 2u * measured);
  EXPECT_EQ(writes, 2u * measured);
  EXPECT_EQ(controls, 0u);
  EXPECT_EQ(polls, 0u);
  // The thread sleeps twice per exchange (for the request, for the response).
  EXPECT_LE(waits, 2u * measured);
}

}  // namespace
}  // namespace sidecar::testing
