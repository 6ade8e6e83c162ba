// A read from a plain TCP socket that, when it leaves the socket empty, leaves the next read
// to wait for epoll instead of trying first (docs/proxy.md, "System calls").
//
// Asio starts every socket read with a recv() of its own, before it asks epoll (a "speculative"
// read), unless the socket's last read found the end of the stream. On a keep-alive connection
// that first try is nearly always EAGAIN: the proxy reads the next request as soon as it has
// written the response, and waits on a pooled upstream connection as soon as its response is
// in. That was 1.7 wasted recv() per exchange at saturation. nginx knows better: a read that
// emptied the socket means the next byte (or close) raises a new epoll edge, so nginx waits for
// it (and EPOLLRDHUP tells it of a close that came with the bytes). This read learns the same
// from the read itself (TCP_INQ: the bytes left, a received FIN counting as one), and answers
// Asio's reactor "done and exhausted" (as Asio's own read does at end of stream only), which
// lowers the reactor's per-socket "try at once" flag. The reactor raises it again when epoll
// next reports the socket readable, so no byte that arrives after the read can be missed.
//
// It is an Asio reactor operation of its own (Asio 1.81's epoll reactor, Boost 1.81), started
// through the socket service as socket.async_read_some starts its own; results, errors,
// cancellation (close(), cancel(), per-operation cancellation slots) and handler memory are
// those of socket.async_read_some.
#pragma once

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <array>
#include <boost/asio/detail/reactive_socket_service.hpp>
#include <boost/asio/detail/reactor_op.hpp>
#include <cerrno>
#include <cstddef>
#include <cstring>
#include <type_traits>
#include <utility>

#include "support/net.hpp"

namespace sidecar::edge_read {

namespace detail {

namespace ad = boost::asio::detail;
using service_type = ad::reactive_socket_service<tcp>;

// The socket's implementation and its service's start_op are protected in Asio: a member
// pointer named through a derived class reaches them without touching Asio's headers.
struct socket_access : tcp::socket {
  static constexpr auto io_object = &socket_access::impl_;
};
struct service_access : ad::reactive_socket_service_base {
  static constexpr auto start = &service_access::start_op;
  using cancellation = reactor_op_cancellation;
};
static_assert(
    std::is_same_v<decltype((std::declval<tcp::socket&>().*socket_access::io_object).get_service()),
                   service_type&>,
    "edge_read needs Asio's reactive socket service (epoll, not io_uring)");

template <class Handler, class IoExecutor>
class recv_op : public ad::reactor_op {
 public:
  BOOST_ASIO_DEFINE_HANDLER_PTR(recv_op);

  recv_op(int fd, net::mutable_buffer buffer, Handler& handler, const IoExecutor& io_ex)
      : reactor_op(beast::error_code(), &recv_op::do_perform, &recv_op::do_complete),
        fd_(fd),
        buffer_(buffer),
        handler_(std::move(handler)),
        work_(handler_, io_ex) {}

  // One recvmsg(). With TCP_INQ on (enable() below), the kernel says with the bytes how many
  // are left: none means the socket is drained, and the read is "exhausted". It counts a FIN
  // received as one byte left, so a close that came with the bytes is read at once by the
  // next read, as nginx sees it from EPOLLRDHUP. A reset that came with them is not told (the
  // kernel gives the bytes, then keeps the error for the socket's next call): the next write
  // on the socket fails with nothing sent, and docs/proxy.md ("Retry rule") sends that request
  // again. Without the count (TCP_INQ off), the read is done and the next one tries at once,
  // as Asio's own.
  static status do_perform(reactor_op* base) {
    auto* o = static_cast<recv_op*>(base);
    iovec iov{o->buffer_.data(), o->buffer_.size()};
    alignas(cmsghdr) std::array<char, CMSG_SPACE(sizeof(int))> control{};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.data();
    msg.msg_controllen = control.size();
    ssize_t got = 0;
    do {
      got = ::recvmsg(o->fd_, &msg, MSG_DONTWAIT);
    } while (got < 0 && errno == EINTR);
    o->bytes_transferred_ = 0;
    if (got < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) return not_done;
      o->ec_ = beast::error_code(errno, net::error::get_system_category());
      return done_and_exhausted;
    }
    if (got == 0) {
      o->ec_ = net::error::eof;
      return done_and_exhausted;
    }
    o->bytes_transferred_ = static_cast<std::size_t>(got);
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
      if (c->cmsg_level == SOL_TCP && c->cmsg_type == TCP_CM_INQ) {
        int left = 0;
        std::memcpy(&left, CMSG_DATA(c), sizeof left);
        return left == 0 ? done_and_exhausted : done;
      }
    }
    return done;
  }

  // As Asio's own receive operation completes: the memory goes back before the upcall.
  static void do_complete(void* owner, ad::operation* base, const beast::error_code& /*ec*/,
                          std::size_t /*bytes*/) {
    auto* o = static_cast<recv_op*>(base);
    ptr p = {std::addressof(o->handler_), o, o};
    ad::handler_work<Handler, IoExecutor> w(std::move(o->work_));
    ad::binder2<Handler, beast::error_code, std::size_t> handler(o->handler_, o->ec_,
                                                                 o->bytes_transferred_);
    p.h = std::addressof(handler.handler_);
    p.reset();
    if (owner != nullptr) {
      ad::fenced_block b(ad::fenced_block::half);
      w.complete(handler, handler.handler_);
    }
  }

 private:
  int fd_;
  net::mutable_buffer buffer_;
  Handler handler_;
  ad::handler_work<Handler, IoExecutor> work_;
};

struct initiation {
  tcp::socket* socket;

  template <class Handler>
  void operator()(Handler&& handler, net::mutable_buffer buffer) const {
    using handler_type = std::decay_t<Handler>;
    using op = recv_op<handler_type, tcp::socket::executor_type>;
    if (buffer.size() == 0) {  // Asio completes an empty read at once, without a recv()
      socket->async_read_some(buffer, std::forward<Handler>(handler));
      return;
    }
    auto& io = socket->*socket_access::io_object;
    auto& impl = io.get_implementation();
    handler_type& h = handler;
    const bool is_continuation = boost_asio_handler_cont_helpers::is_continuation(h);
    auto slot = net::get_associated_cancellation_slot(h);
    typename op::ptr p = {std::addressof(h), op::ptr::allocate(h), nullptr};
    p.p = new (p.v) op(impl.socket_, buffer, h, socket->get_executor());
    if (slot.is_connected()) {
      auto& reactor = net::use_service<ad::reactor>(
          net::query(socket->get_executor(), net::execution::context));
      p.p->cancellation_key_ = &slot.template emplace<service_access::cancellation>(
          &reactor, &impl.reactor_data_, impl.socket_, ad::reactor::read_op);
    }
    (io.get_service().*service_access::start)(impl, ad::reactor::read_op, p.p, is_continuation,
                                              true, false);
    p.v = p.p = nullptr;
  }
};

}  // namespace detail

/// Asks the kernel to tell each read how many bytes it left (TCP_INQ), which async_read_some
/// below needs to know a socket drained. Once per connection; false if the kernel refused
/// (before Linux 4.18), and the reads then behave as Asio's own.
inline bool enable(tcp::socket& socket) {
  const int on = 1;
  return ::setsockopt(socket.native_handle(), SOL_TCP, TCP_INQ, &on, sizeof on) == 0;
}

/// socket.async_read_some(buffer, token), except that a read that leaves nothing in the
/// socket (and no close) marks it drained: the next read on it (this one or Asio's own) waits
/// for epoll to report it readable instead of calling recv() first.
template <class Token>
auto async_read_some(tcp::socket& socket, net::mutable_buffer buffer, Token&& token) {
  return net::async_initiate<Token, void(beast::error_code, std::size_t)>(
      detail::initiation{&socket}, token, buffer);
}

}  // namespace sidecar::edge_read
