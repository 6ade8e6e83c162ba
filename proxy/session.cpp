// One client connection of the proxy: see session.hpp.
#include "proxy/session.hpp"

#include <sys/socket.h>

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <cerrno>
#include <sstream>

#include "cache/policy.hpp"
#include "proxy/exchange_parts.hpp"
#include "proxy/framing.hpp"
#include "proxy/path_normalise.hpp"
#include "proxy/routing.hpp"
#include "support/edge_read.hpp"
#include "support/log.hpp"

namespace sidecar::proxy {

namespace {

constexpr std::size_t head_read = 16 * 1024;  // one read while waiting for a request head

std::string address_text(const tcp::endpoint& ep) { return (std::ostringstream() << ep).str(); }

}  // namespace

session::session(proxy_context& ctx, upstream_pool& pool, tcp::socket socket)
    : ctx_(ctx),
      pool_(pool),
      strand_(socket.get_executor()),
      watchdog_(strand_),
      client_buf_(ctx.pc.max_header_bytes + 2 * body_chunk),
      snap_(ctx.current.load()) {
  if (snap_->server_tls) {
    client_tls_.emplace(std::move(socket), *snap_->server_tls);
  } else {
    client_plain_.emplace(std::move(socket));
    edge_read::enable(*client_plain_);  // its idle read waits for epoll (docs/proxy.md)
  }
  beast::error_code ec;
  const auto remote = client_socket().remote_endpoint(ec);
  peer_text_ = remote.address().to_string();
  capture_.emplace(ctx_.sink, address_text(remote));
  client_socket().set_option(tcp::no_delay(true), ec);
}

net::awaitable<void> session::run(std::shared_ptr<session> self) {
  // The watchdog's loop shares the session; it ends when stopped below.
  net::co_spawn(self->strand_, self->watchdog_.run([self](std::uint8_t what) {
    self->cancel_phase(static_cast<phase>(what));
  }),
                net::detached);
  try {
    co_await self->serve();
  } catch (const std::exception& e) {
    log::error("proxy connection failed", {{"error", e.what()}});
  }
  self->watchdog_.stop();
  beast::error_code ec;
  self->client_socket().shutdown(tcp::socket::shutdown_both, ec);
  self->client_socket().close(ec);
  self->upstream_.reset();
}

void session::cancel_phase(phase p) {
  beast::error_code ec;
  if (p == phase::client || p == phase::both) client_socket().cancel(ec);
  if ((p == phase::upstream || p == phase::both) && upstream_) upstream_->socket().cancel(ec);
}

void session::on_stop(bool hard) {
  if (hard) {
    shutdown_ = true;
    cancel_phase(phase::both);
  } else if (idle_) {
    cancel_phase(phase::client);
  }
}

// The connection's loop: a request head, its destination (or a local answer), the media cache
// (a hit is answered from disk), the exchange; again while the connection may go on.
net::awaitable<void> session::serve() {
  if (client_tls_ && !co_await tls_handshake()) co_return;
  // Every exchange has the capture as its observer; a cacheable miss adds the cache's fill.
  exchange_observers recorded;
  recorded.add(*capture_);
  for (bool first = true;; first = false) {
    request_parser& parser = request_parser::renew(request_parser_);
    std::size_t head_len = 0;
    const head_status got = co_await read_head(first, head_len);
    unsigned version = 11;
    if (const int refusal = take_request_head(got, parser, head_len, version); refusal != 0) {
      if (refusal > 0) co_await answer_local(refusal, false, version);
      co_return;
    }
    const auto arrived = clock::now();
    snap_ = ctx_.current.load();
    auto& req = parser.get();
    // A local answer keeps the connection only when no request body is left unread.
    const bool keep_alive = req.keep_alive() && parser.is_done();
    routed to;
    if (req.method() == http::verb::connect || req.target().starts_with('/')) {
      to = choose_route(req);
    } else {
      to = co_await choose_forward(req);
    }
    if (to.refusal != 0) {
      if (!co_await answer_local(to.refusal, keep_alive && !to.close, req.version())) co_return;
      continue;
    }
    // Most requests have nothing to do with the media cache: their exchange is awaited here,
    // with no coroutine between (each would cost a frame per request).
    bool keep = false;
    if (uses_media_cache(parser, to.dest)) {
      keep = co_await forward_via_cache(parser, to.dest, arrived, recorded);
    } else {
      keep = co_await exchange(parser, to.dest, arrived, recorded);
    }
    target_buf_ = std::move(to.dest.target);  // its buffer, for the next request's target
    if (!keep || ctx_.is_stopping()) co_return;
  }
}

// A TLS client's handshake, within header_timeout; whether it succeeded.
net::awaitable<bool> session::tls_handshake() {
  arm(ctx_.pc.header_timeout, phase::client);
  auto [ec] = co_await in_place<void(beast::error_code)>([&](auto handler) {
    client_tls_->async_handshake(ssl::stream_base::server, std::move(handler));
  });
  co_return !ec;
}

// What read_head() found, the head parsed into `parser`: 0, or the status of the answer that
// refuses the request (-1: the connection has ended, nothing to answer) in HTTP/`version`.
int session::take_request_head(head_status got, request_parser& parser, std::size_t head_len,
                               unsigned& version) {
  switch (got) {
    case head_status::closed:
      return -1;
    case head_status::bad:
      return 400;
    case head_status::target_long:
      return 414;
    case head_status::head_large:
      return 431;
    case head_status::ok:
      break;
  }
  parser.header_limit(static_cast<std::uint32_t>(head_len + 1));
  parser.body_limit(boost::none);
  beast::error_code ec;
  parser.put_head(std::string_view(static_cast<const char*>(client_buf_.data().data()), head_len),
                  ec);
  if (ec || !parser.is_header_done()) return 400;
  client_buf_.consume(head_len);
  auto& req = parser.get();
  if (!normalise_request_framing(req, req.version())) {
    version = req.version();
    return 400;
  }
  return 0;
}

// The media cache (webhook routes, GET without credentials, no body): a hit is answered from
// disk without an upstream and without a capture; a miss is forwarded and fills the cache.
bool session::uses_media_cache(const request_parser& parser, const destination& dest) const {
  return parser.is_done() && ctx_.media_cache != nullptr && dest.route != nullptr &&
         cache::cacheable_request(parser.get().method(), dest.route->dir, false, parser.get());
}

// A request that uses the media cache: answered from it, or an exchange whose observers are
// the capture and, on a miss, the cache's fill. Whether the connection may go on.
net::awaitable<bool> session::forward_via_cache(request_parser& parser, const destination& dest,
                                                clock::time_point arrived,
                                                const exchange_observers& recorded) {
  bool answered = false;
  bool keep = true;
  std::optional<cache::cache_fill> fill =
      co_await look_up_cache(parser.get(), dest, answered, keep);
  if (answered) co_return keep;
  exchange_observers observers = recorded;
  std::optional<cache_observer> cache_watch;
  if (fill) observers.add(cache_watch.emplace(*fill));
  co_return co_await exchange(parser, dest, arrived, observers);
}

net::awaitable<session::head_status> session::read_head(bool first, std::size_t& head_len) {
  bool got_bytes = client_buf_.size() > 0;
  arm(got_bytes || first ? ctx_.pc.header_timeout : ctx_.pc.idle_timeout, phase::client);
  idle_ = !got_bytes;
  if (idle_ && ctx_.is_stopping()) co_return head_status::closed;
  if (idle_ && client_plain_) {
    // An idle keep-alive connection holds no buffers while it waits (10 000 of them must fit
    // in 256 MiB): the body buffer goes, and the read buffer is only allocated once the next
    // request starts to arrive. The wait is a read into the session's own small array, not a
    // readiness wait: Asio re-arms epoll (an epoll_ctl) for every async_wait, never for a
    // read, and the read also brings the request's first bytes (most often all of it).
    body_buf_.reset();
    client_buf_.shrink_to_fit();
    auto [ec, n] =
        co_await edge_read::async_read_some(*client_plain_, net::buffer(idle_bytes_), awaited);
    // timed_out too: the deadline can pass just as the read succeeds, too late to cancel it.
    if (ec || watchdog_.timed_out()) co_return head_status::closed;
    client_buf_.reserve(body_chunk);
    net::buffer_copy(client_buf_.prepare(n), net::buffer(idle_bytes_, n));
    client_buf_.commit(n);
    got_bytes = true;
    request_started(first);
  }
  for (;;) {
    if (got_bytes) {
      const auto data = client_buf_.data();
      const auto scan =
          scan_request_head(std::string_view(static_cast<const char*>(data.data()), data.size()),
                            ctx_.pc.max_header_bytes);
      switch (scan.result) {
        case head_scan_result::complete:
          client_buf_.consume(scan.skip);
          head_len = scan.head_size;
          co_return head_status::ok;
        case head_scan_result::bad:
          co_return head_status::bad;
        case head_scan_result::target_long:
          co_return head_status::target_long;
        case head_scan_result::head_large:
          co_return head_status::head_large;
        case head_scan_result::incomplete:
          break;
      }
    }
    // The first read after an idle wait takes a whole block (from the block cache): a body
    // that follows the head then needs no second allocation and copy.
    if (client_buf_.capacity() == 0) client_buf_.reserve(body_chunk);
    const std::size_t room = client_buf_.max_size() - client_buf_.size();
    auto [ec, n] = co_await client_io([&](auto& s, auto handler) {
      s.async_read_some(client_buf_.prepare(std::min(room, head_read)), std::move(handler));
    });
    // EOF, reset, timeout or stop: nothing to answer. A read that succeeded as the deadline
    // passed (the watchdog's cancel then finds nothing to cancel) is a timeout as well: this
    // loop does not re-arm, so going on would leave the head without any deadline.
    if (ec || watchdog_.timed_out()) co_return head_status::closed;
    client_buf_.commit(n);
    if (!got_bytes) {
      got_bytes = true;
      request_started(first);
    }
  }
}

// The next request's first bytes have come: the connection is no longer idle, and the head
// must now arrive whole within header_timeout (slowloris).
void session::request_started(bool first) {
  idle_ = false;
  if (!first) arm(ctx_.pc.header_timeout, phase::client);
}

// Where the request goes (docs/proxy.md, "Routing" and "Forward proxy"), or the local answer
// it gets instead.
session::routed session::choose_route(const request_head& req) {
  routed to;
  if (req.method() == http::verb::connect) {
    to.refusal = 405;
    return to;
  }
  const std::string_view target = req.target();
  const auto host_it = req.find(http::field::host);
  const std::string_view host = host_it == req.end() ? "" : host_without_port(host_it->value());
  // Routed, forwarded and recorded by its path with dot-segments resolved.
  // Both into the connection's buffers, which its next request reuses.
  const path_problem problem = normalise_path(target, path_buf_);
  const auto chosen = problem == path_problem::none ? snap_->routes.choose(host, target, path_buf_)
                                                    : route_table::choice{nullptr, true};
  if (chosen.escapes) {
    to.refusal = 400;
    to.close = true;
  } else if (chosen.route == nullptr) {
    to.refusal = 404;
  } else {
    rewrite_target(*chosen.route, path_buf_, target_buf_);
    to.dest = route_destination(*snap_, *chosen.route, std::move(target_buf_));
  }
  return to;
}

net::awaitable<session::routed> session::choose_forward(const request_head& req) {
  routed to;
  const std::string_view target = req.target();
  forward_target fwd = read_forward_target(target, snap_->cfg->proxy.forward_hosts);
  if (fwd.status == forward_target::problem::asterisk ||
      fwd.status == forward_target::problem::not_absolute) {
    const bool asterisk = fwd.status == forward_target::problem::asterisk;
    to.refusal = asterisk ? 404 : 400;
    to.close = !asterisk;
    co_return to;
  }
  if (fwd.allowed == nullptr) {
    to.refusal = 403;
    co_return to;
  }
  to.dest = std::move(fwd.dest);
  arm(ctx_.pc.connect_timeout, phase::none);
  if (co_await resolve_forward(to.dest, *fwd.allowed, ctx_.own_listeners, false)) {
    to.refusal = 403;
  } else if (fwd.status == forward_target::problem::path) {
    to.refusal = 400;
    to.close = true;
  }
  co_return to;
}

// A cacheable request (uses_media_cache) looked up: the fill of a miss, or the hit answered
// (`answered`; `keep` whether to go on).
net::awaitable<std::optional<cache::cache_fill>> session::look_up_cache(const proxied_request& req,
                                                                        const destination& dest,
                                                                        bool& answered,
                                                                        bool& keep) {
  std::string url = dest.url_prefix() + dest.target;  // the URL sent upstream: the cache's key
  arm(ctx_.pc.upstream_timeout, phase::none);       // may wait for a concurrent fill of this URL
  cache::acquisition a =
      co_await ctx_.media_cache->acquire(std::move(url), ctx_.pc.upstream_timeout);
  if (!a.hit) co_return std::move(a.fill);
  answered = true;
  keep = co_await answer_from_cache(*a.hit, req.version(), req.keep_alive());
  co_return std::nullopt;
}

net::awaitable<bool> session::answer_from_cache(const cache::cache_hit& hit, unsigned version,
                                                bool keep_alive) {
  const bool keep = keep_alive && !ctx_.is_stopping();
  // Stored head, Content-Length, Age, X-Cache: HIT, formatted straight into one string.
  const std::string head = hit.head_text(version < 10 ? 11 : version, keep);
  const beast::error_code ec = co_await visit_client([&](auto& s) {
    return cache::write_hit(s, head, hit, false, body_chunk,
                            [this] { arm(ctx_.pc.idle_timeout, phase::client); });
  });
  co_return !ec && keep;
}

net::awaitable<bool> session::answer_local(int status, bool keep_alive, unsigned version) {
  ctx_.metrics.count_local(status);
  auto res = local_response(status, keep_alive, version);
  co_return co_await write_answer(res);
}

net::awaitable<bool> session::write_answer(http::response<http::string_body>& res) {
  arm(ctx_.pc.idle_timeout, phase::client);
  auto [ec, n] = co_await client_io(
      [&](auto& s, auto handler) { http::async_write(s, res, std::move(handler)); });
  co_return !ec && res.keep_alive();
}

bool session::client_left() {
  char byte = 0;
  const ssize_t n =
      ::recv(client_socket().native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT | MSG_NOSIGNAL);
  return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
}

// After a 101: bytes both ways until either side closes (docs/proxy.md, "Upgrades").
net::awaitable<void> session::tunnel() {
  // Bytes already read past the handshake on either side go first.
  auto up = std::move(upstream_);
  auto flush = [&](auto& from, auto& to) -> net::awaitable<bool> {
    if (from.size() == 0) co_return true;
    auto [ec, n] = co_await net::async_write(to, from.data(), awaited);
    from.consume(n);
    co_return !ec;
  };
  bool ok = co_await visit_client([&](auto& c) { return flush(up->buffer, c); });
  if (ok) ok = co_await up->visit([&](auto& u) { return flush(client_buf_, u); });
  if (!ok) co_return;

  // Both directions pump on this strand; either side closing (or stalling for idle_timeout)
  // closes both, which ends the other pump.
  auto other = take_block();
  char* a = body_buffer();
  char* b = other.get();
  upstream_ = std::move(up);  // so that the watchdog and stop() can cancel it
  auto pump = [this](auto& from, auto& to, char* buf) -> net::awaitable<void> {
    for (;;) {
      arm(ctx_.pc.idle_timeout, phase::both);
      auto [ec, n] = co_await in_place([&](auto handler) {
        from.async_read_some(net::buffer(buf, body_chunk), std::move(handler));
      });
      if (ec) break;
      auto [wec, wn] = co_await net::async_write(to, net::buffer(buf, n), awaited);
      if (wec) break;
    }
    cancel_phase(phase::both);
    beast::error_code ignored;
    client_socket().close(ignored);
    if (upstream_) upstream_->socket().close(ignored);
  };
  using namespace net::experimental::awaitable_operators;
  co_await visit_client([&](auto& c) {
    return upstream_->visit([&](auto& u) { return pump(c, u, a) && pump(u, c, b); });
  });
  upstream_.reset();
}

}  // namespace sidecar::proxy
