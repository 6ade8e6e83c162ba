// One exchange of a client connection (docs/proxy.md): the request sent upstream, on a pooled
// connection or a new one, its body streamed as it arrives; the response head read past any
// interim 1xx; the response adapted to the client and its body relayed; each step told to the
// exchange's observers (proxy/exchange_observer.hpp). Read top to bottom, session::exchange is
// the path: prepare, send, answer, relay, end.
#include "proxy/early_answer.hpp"
#include "proxy/exchange_parts.hpp"
#include "proxy/framing.hpp"
#include "proxy/session.hpp"
#include "proxy/upgrade.hpp"
#include "proxy/upstream_connect.hpp"
#include "proxy/write_now.hpp"
#include "support/http_fields.hpp"
#include "support/http_read.hpp"

namespace sidecar::proxy {

namespace {

using clock = std::chrono::steady_clock;
using store::exchange_error;
using namespace std::chrono_literals;

// How long a request with Expect: 100-continue waits for the upstream's 100 before its body
// goes anyway (an upstream may ignore the expectation and wait for the body); curl's default.
constexpr std::chrono::milliseconds continue_wait = 1s;
// How long a client that still sends a body nobody reads is given, after its answer, to see
// that answer and close (nginx's lingering_timeout is 5 s).
constexpr std::chrono::milliseconds linger_limit = 2s;

// Whether the whole request body is already read (in the client buffer, with a length): its
// streaming then never waits for the client.
bool body_buffered(const request_parser& parser, std::size_t in_buffer) {
  const auto left = parser.content_length_remaining();
  return parser.is_done() || (left && *left <= in_buffer);
}

// The X-Forwarded-For, -Proto and -Host fields a client sent, removed: the proxy sets them
// (docs/proxy.md, "Decisions": they are the proxy's). Returns the X-Forwarded-For values, joined in
// order. One walk, by the names' text (Beast knows none of the three).
std::string take_forwarded_fields(head_fields& req) {
  constexpr std::string_view prefix = "x-forwarded-";
  std::string xff;
  for (auto it = req.begin(); it != req.end();) {
    const std::string_view name = it->name_string();
    const std::string_view rest =
        ascii::istarts_with(name, prefix) ? name.substr(prefix.size()) : "";
    if (ascii::iequals(rest, "for")) {
      if (!xff.empty()) xff += ", ";
      xff.append(it->value());
    } else if (!ascii::iequals(rest, "proto") && !ascii::iequals(rest, "host")) {
      ++it;
      continue;
    }
    it = req.erase(it);
  }
  return xff;
}

// The bytes a buffer_body holds (none when its data is null).
std::string_view body_piece(const http::buffer_body::value_type& body) {
  return body.data == nullptr ? std::string_view()
                              : std::string_view(static_cast<const char*>(body.data), body.size);
}

}  // namespace

// Everything one exchange decides and carries from step to step. Lives on exchange()'s frame.
struct session::exchange_state {
  exchange_state(request_parser& p, const destination& d, clock::time_point at,
                 const exchange_observers& o)
      : parser(p), dest(d), arrived(at), observers(o) {
    const auto& r = p.get();
    client_version = r.version();
    client_keep_alive = r.keep_alive();
    expect_continue = client_version >= 11 && !p.is_done() &&
                      beast::iequals(r[http::field::expect], "100-continue");
    head_request = r.method() == http::verb::head;
    replayable = is_idempotent(r.method_string()) && p.is_done();
  }
  proxied_request& req() { return parser.get(); }
  proxied_response& res() { return rp->get(); }

  request_parser& parser;
  const destination& dest;  // the caller's, which awaits the exchange
  const clock::time_point arrived;
  const exchange_observers& observers;
  unsigned client_version = 11;
  bool client_keep_alive = false;
  bool upgrading = false;  // an Upgrade [proxy] upgrades enables goes upstream
  bool expect_continue = false;
  bool head_request = false;
  bool replayable = false;  // may go again on a fresh connection if a reused one was stale

  // The attempt on one upstream connection.
  int attempt = 0;
  bool reused = false;             // taken from the pool
  bool watch_early = false;        // the body is watched for an early answer
  bool awaiting_continue = false;  // the body waits for the upstream's 100
  bool continue_relayed = false;   // the client has had a 100
  bool early_answer = false;       // the upstream spoke before the request body was all sent
  bool body_sent = false;
  bool resend_piece = false;  // the body piece of a write that sent nothing goes again as it is
  std::uint64_t body_bytes_sent = 0;

  // The response: the session's parser once a head is being read (session::response_parser_).
  response_parser* rp = nullptr;
  int status = 0;                   // the upstream's final status, or the sidecar's own answer's
  bool request_unfinished = false;  // the client's body was not all sent upstream
  bool upstream_keep_alive = false;
  bool switching = false;  // 101
  bool response_body = true;  // the response has a body (not to HEAD, not 204, 304 or 101)
  bool client_keep = false;
  bool completed = false;  // the upstream's response read whole
};

net::awaitable<bool> session::exchange(request_parser& parser, const destination& dest,
                                       clock::time_point arrived,
                                       const exchange_observers& observers) {
  exchange_state x(parser, dest, arrived, observers);
  prepare_request(x);
  stop_reason stop = co_await send_request(x);
  if (stop.how == stop_reason::kind::none) stop = adapt_response(x);
  if (stop.how == stop_reason::kind::none) stop = co_await relay_response(x);
  if (stop.how != stop_reason::kind::none) co_return co_await conclude(x, stop);

  if (x.switching) {
    co_await tunnel();
    finish(x, shutdown_ ? exchange_error::shutdown : exchange_error::none, true);
    co_return false;
  }
  if (upstream_) release_upstream(x);
  finish(x, exchange_error::none);
  if (x.request_unfinished && client_plain_) {
    // The client may still be sending the body: closing now could reset the answer away.
    arm(linger_limit, phase::client);
    co_await drain_before_close(*client_plain_, body_buffer(), body_chunk);
  }
  co_return x.client_keep;
}

// The request's fields as they go upstream (docs/proxy.md, "Decisions": capture headers and
// X-Forwarded-*), then told to the observers.
void session::prepare_request(exchange_state& x) {
  auto& req = x.req();
  // Only the protocols [proxy] upgrades enables go upstream (never h2c): any other Upgrade
  // token is removed here and the request goes on as plain HTTP/1.1.
  x.upgrading = keep_enabled_upgrades(req, x.parser.upgrade(), snap_->cfg->proxy.upgrades);
  std::string forwarded_host(req[http::field::host]);
  std::string xff = take_forwarded_fields(req);
  if (!xff.empty()) xff += ", ";
  xff += peer_text_;
  strip_hop_by_hop(req, x.upgrading);
  if (x.dest.route == nullptr || !x.dest.route->preserve_host || forwarded_host.empty()) {
    req.set(http::field::host, x.dest.host_header());
  }
  // Names Beast does not know: appended as they are, without a lookup.
  req.insert(http::field::unknown, "X-Forwarded-For", xff);
  req.insert(http::field::unknown, "X-Forwarded-Proto", client_tls_ ? "https" : "http");
  if (!forwarded_host.empty()) req.insert(http::field::unknown, "X-Forwarded-Host", forwarded_host);
  if (x.upgrading) req.set(http::field::connection, "Upgrade");
  req.version(11);
  // Beast allocates a new target on every set: most routes forward the target unchanged.
  if (req.target() != x.dest.target) req.target(x.dest.target);
  const exchange_start start{*snap_, x.dest, req, !x.parser.is_done(), x.arrived};
  x.observers.each([&](exchange_observer& o) { o.request_head(start); });
}

// Connect (or reuse), send the head and any body, read the response head; a reused connection
// that turns out stale is replaced once when the request can be replayed. The head and body go
// (the body after the upstream's 100 when the client expects one), then the response's head is
// read, until a final head (or 101) has arrived. (Steps that most exchanges take are not
// coroutines of their own: each would cost a frame per exchange.)
net::awaitable<session::stop_reason> session::send_request(exchange_state& x) {
  for (x.attempt = 0;; ++x.attempt) {
    stop_reason stop;
    if (!take_ready_upstream(x)) stop = co_await open_upstream(x);
    if (stop.how == stop_reason::kind::stale) continue;
    if (stop.how != stop_reason::kind::none) co_return stop;
    start_sending(x);
    do {
      if (x.awaiting_continue) {
        stop = co_await send_head(x);
      } else {
        stop = co_await send_body(x);
      }
      // Without a final head in x.rp, the client has been told to go on (continue_body) and
      // the body goes now.
      if (stop.how == stop_reason::kind::none) stop = co_await read_final_head(x);
    } while (stop.how == stop_reason::kind::none && x.rp == nullptr);
    if (stop.how != stop_reason::kind::stale) co_return stop;
    upstream_.reset();
    x.rp = nullptr;
  }
}

// The attempt's request is ready to go on its connection.
void session::start_sending(exchange_state& x) {
  request_writer_.start(x.req());
  x.awaiting_continue = x.expect_continue;
  x.continue_relayed = false;
  x.early_answer = false;
  // Room for whole chunks of a request body (see connect_upstream); an idle connection gives
  // it back (shrink_to_fit while waiting for the next request).
  if (!x.parser.is_done()) client_buf_.reserve(body_chunk);
}

// A pooled connection for the first attempt, taken when nothing needs awaiting before the
// request goes: the request is all read, so no early-answer watch races the pool's pending
// read (open_upstream). False, with nothing taken, otherwise.
bool session::take_ready_upstream(exchange_state& x) {
  const bool resolved = x.dest.route != nullptr || !x.dest.checked.empty();
  if (x.attempt != 0 || !resolved || !body_buffered(x.parser, client_buf_.size())) return false;
  upstream_ = pool_.take(x.dest.pool_key());
  if (!upstream_) return false;
  x.reused = true;
  x.watch_early = !client_tls_ && !upstream_->tls;
  ++upstream_->exchanges;
  return true;
}

// The upstream connection of this attempt when take_ready_upstream() had none: a new one, or
// a pooled one whose pending read is settled first.
net::awaitable<session::stop_reason> session::open_upstream(exchange_state& x) {
  if (x.dest.route == nullptr && x.dest.checked.empty()) {
    co_return stop_reason::answer(exchange_error::upstream_resolve_failed);
  }
  upstream_ = x.attempt == 0 ? pool_.take(x.dest.pool_key()) : nullptr;
  x.reused = upstream_ != nullptr;
  if (!x.reused) {
    const exchange_error err = co_await connect_upstream(x.dest);
    if (err != exchange_error::none) co_return stop_reason::answer(err);
  }
  x.watch_early = !client_tls_ && !upstream_->tls;
  if (x.reused && x.watch_early && upstream_->read_pending &&
      !body_buffered(x.parser, client_buf_.size())) {
    // The body is watched for an early answer as it streams (proxy/early_answer.hpp), a
    // readiness wait that the pool's pending read would race for the upstream's bytes: the
    // read ends first. If it saw anything (the upstream's close, stray bytes), the connection
    // is stale, and nothing has been sent on it yet.
    beast::error_code ignored;
    upstream_->socket().cancel(ignored);
    auto [ec, n] = co_await pool_.settle(*upstream_);
    if (ec != net::error::operation_aborted || n != 0) {
      upstream_.reset();
      co_return stop_reason::stale();
    }
  }
  ++upstream_->exchanges;
  co_return stop_reason{};
}

net::awaitable<exchange_error> session::connect_upstream(const destination& dest) {
  auto conn = std::make_unique<upstream_connection>(strand_);
  conn->key = dest.pool_key();
  conn->buffer.max_size(ctx_.pc.max_header_bytes + 2 * body_chunk);
  // Beast sizes each read by the buffer's free capacity (at least 512 bytes): without room
  // for a whole chunk, a large body would arrive 512 bytes per system call.
  conn->buffer.reserve(body_chunk);
  upstream_ = std::move(conn);
  arm(ctx_.pc.connect_timeout, phase::upstream);
  co_return co_await proxy::connect_upstream(*upstream_, dest, ctx_.client_tls, watchdog_);
}

net::awaitable<session::stop_reason> session::send_head(const exchange_state& x) {
  arm(ctx_.pc.idle_timeout, phase::upstream);
  const auto head = request_writer_.head_only();
  auto [ec, n] = co_await upstream_->io(
      [&](auto& s, auto handler) { write_now(s, head, std::move(handler)); });
  if (nothing_sent_on_pooled(x, ec, n)) co_return stop_reason::stale();
  if (ec) co_return stop_reason::answer(exchange_error::upstream_closed);
  request_writer_.sent();
  co_return stop_reason{};
}

// The first write on a pooled plain connection failed before a byte of the request left: the
// upstream closed or reset the connection while it sat idle (a reset that came right behind
// its last response is seen only here: support/edge_read.hpp). Nothing reached the upstream,
// so the request goes again on a fresh connection, whatever its method (docs/proxy.md, "Retry
// rule"). A TLS stream may have written part of a record: not this rule.
bool session::nothing_sent_on_pooled(const exchange_state& x, const beast::error_code& ec,
                                     std::size_t written) const {
  return ec && written == 0 && x.reused && x.attempt == 0 && !upstream_->tls &&
         !request_writer_.head_sent();
}

// Streams the request body: a piece read from the client, written upstream (after the head,
// in the same write, until it has gone), until the request is all sent, the upstream answers
// early, or either side fails.
net::awaitable<session::stop_reason> session::send_body(exchange_state& x) {
  auto& body = x.req().body();
  beast::error_code ec;
  std::size_t written = 0;  // by the write that failed
  for (;;) {
    if (x.resend_piece) {
      x.resend_piece = false;  // the piece whose write sent nothing, on a fresh connection
    } else if (!x.parser.is_done()) {
      // Most often the piece came with the head: parsed from the buffer, with no read started.
      const bool at_hand = client_buf_.size() != 0;
      std::optional<beast::error_code> read =
          start_piece(body, phase::client, client_buf_, x.parser);
      if (!read) read = co_await read_body_piece(x, !at_hand);
      if (x.early_answer) break;
      const stop_reason stop = take_body_piece(x, *read);
      if (stop.how != stop_reason::kind::none) co_return stop;
    } else {
      body.data = nullptr;
      body.size = 0;
      body.more = false;
    }
    arm(ctx_.pc.idle_timeout, phase::upstream);
    const auto out = request_writer_.next(body_piece(body), !body.more);
    if (net::buffer_size(out) != 0) {
      auto [wec, wn] = co_await upstream_->io(
          [&](auto& s, auto handler) { write_now(s, out, std::move(handler)); });
      if (wec) {
        ec = wec;
        written = wn;
        break;
      }
    }
    request_writer_.sent();
    if (request_writer_.done()) break;
  }
  x.body_sent = !x.early_answer;  // an early answer ends the connection (request_unfinished)
  if (!ec) co_return stop_reason{};
  co_return write_failed(x, ec, written);
}

// A write of the request failed, `written` bytes of it gone: the request goes again on a fresh
// connection when it may (the retry rule), else the upstream's answer is read next.
session::stop_reason session::write_failed(exchange_state& x, const beast::error_code& ec,
                                           std::size_t written) {
  if (nothing_sent_on_pooled(x, ec, written)) {
    x.resend_piece = true;
    return stop_reason::stale();
  }
  if (x.reused && x.replayable && x.attempt == 0 && x.body_bytes_sent == 0) {
    return stop_reason::stale();
  }
  if (shutdown_) return stop_reason::answer(exchange_error::shutdown);
  if (watchdog_.timed_out()) return stop_reason::answer(exchange_error::upstream_idle_timeout);
  // The upstream stopped reading: it may have answered first (read next). If it did not, the
  // head's read fails and the answer is 502 as for any close.
  x.early_answer = true;
  return stop_reason{};
}

// A body piece's buffer, empty, and the deadline of the side it comes from; then the bytes
// already read from that side, parsed into it: the read's result when they settle it.
template <class Buffer, class Parser>
std::optional<beast::error_code> session::start_piece(http::buffer_body::value_type& body, phase p,
                                                      Buffer& buffered, Parser& parser) {
  body.data = body_buffer();
  body.size = body_chunk;
  arm(ctx_.pc.idle_timeout, p);
  if (buffered.size() == 0) return std::nullopt;
  return http_read::parse_buffered(buffered, parser);
}

// The read of a request body piece that the bytes at hand did not complete; or the
// upstream's early answer (x.early_answer), watched for when the piece had nothing at hand.
net::awaitable<beast::error_code> session::read_body_piece(exchange_state& x, bool watch_early) {
  // An upstream that answers before the body is all there: relay it now.
  const next_ready next = watch_early && x.watch_early ? co_await wait_for_body_or_answer(
                                                             client_socket(), upstream_->socket())
                                                       : next_ready::client;
  if (next == next_ready::upstream) {
    x.early_answer = true;
    co_return beast::error_code{};
  }
  if (next == next_ready::cancelled) co_return beast::error_code(net::error::operation_aborted);
  auto [ec, n] = co_await visit_client(
      [&](auto& s) { return http_read::async_read_some(s, client_buf_, x.parser); });
  co_return ec;
}

// The request body piece read into the body buffer, to be sent; or the client's failure.
session::stop_reason session::take_body_piece(exchange_state& x, beast::error_code ec) {
  if (ec == http::error::need_buffer) ec = {};
  if (ec) {
    if (shutdown_) return stop_reason::end(exchange_error::shutdown);
    if (ec == net::error::operation_aborted || ec == net::error::eof ||
        ec == net::error::connection_reset || ec == http::error::partial_message ||
        watchdog_.timed_out()) {
      return stop_reason::end(watchdog_.timed_out() ? exchange_error::client_timeout
                                                    : exchange_error::client_closed);
    }
    // Bad chunk framing mid-body: the upstream saw an unfinished request; the client gets
    // 400, which the record shows as the response.
    return stop_reason::bad_body();
  }
  auto& body = x.req().body();
  const std::size_t got = body_chunk - body.size;
  x.body_bytes_sent += got;
  const std::string_view piece(body_buffer(), got);
  x.observers.each([&](exchange_observer& o) { o.request_body(piece); });
  // A zero-size piece would read as the last chunk: pass none instead.
  body.data = got != 0 ? body_buffer() : nullptr;
  body.size = got;
  body.more = !x.parser.is_done();
  return stop_reason{};
}

// The response head, after any interim 1xx (relayed to an HTTP/1.1 client). Returns with
// x.rp holding a final head (or 101), or with x.awaiting_continue cleared and the head not
// read: the body goes first.
net::awaitable<session::stop_reason> session::read_final_head(exchange_state& x) {
  for (;;) {
    x.rp = &response_parser::renew(response_parser_);
    x.rp->header_limit(static_cast<std::uint32_t>(ctx_.pc.max_header_bytes));
    x.rp->body_limit(boost::none);
    if (x.head_request) x.rp->skip(true);
    const bool fallback = x.awaiting_continue && ctx_.pc.upstream_timeout > continue_wait;
    bool client_gone = false;
    bool nothing_read = true;
    const beast::error_code ec = co_await read_upstream_head(
        *x.rp, fallback ? continue_wait : ctx_.pc.upstream_timeout, client_gone, nothing_read);
    // The client left while the upstream was thinking: the exchange ends now, and the upstream
    // connection with it (its answer would have nowhere to go).
    if (client_gone) co_return stop_reason::end(exchange_error::client_closed);
    if (ec && fallback && watchdog_.timed_out() && !shutdown_) {
      // No answer to the expectation: tell the client to send the body, and send it on. Bytes
      // of a head that had begun to arrive stay in the buffer for the next read.
      response_head cont;
      cont.result(http::status::continue_);
      co_return co_await continue_body(x, cont);
    }
    if (ec) co_return head_failure(x, ec, nothing_read);
    const int code = x.res().result_int();
    if (code < 100 || code >= 200 || code == 101) {
      x.awaiting_continue = false;
      co_return stop_reason{};
    }
    if (code == 100 && x.awaiting_continue) co_return co_await continue_body(x, x.res());
    const bool repeat = code == 100 && x.continue_relayed;  // a late 100, after ours
    if (x.client_version >= 11 && !repeat && !co_await write_interim(x.res())) {
      co_return stop_reason::end(exchange_error::client_closed);
    }
  }
}

// The client is told to send its body (the upstream's 100, or the sidecar's own); the body
// goes next.
net::awaitable<session::stop_reason> session::continue_body(exchange_state& x,
                                                            response_head& interim) {
  x.awaiting_continue = false;
  x.continue_relayed = true;
  const bool told = co_await write_interim(interim);
  x.rp = nullptr;  // `interim` may be its head: only now
  if (!told) co_return stop_reason::end(exchange_error::client_closed);
  co_return stop_reason{};
}

// Why reading the response head failed, as the sidecar's answer (or a stale connection).
session::stop_reason session::head_failure(const exchange_state& x, const beast::error_code& ec,
                                           bool nothing_read) const {
  if (shutdown_) return stop_reason::answer(exchange_error::shutdown);
  if (watchdog_.timed_out()) return stop_reason::answer(exchange_error::upstream_response_timeout);
  const bool closed = is_closed(ec);
  if (closed && x.reused && x.replayable && x.attempt == 0 && nothing_read) {
    return stop_reason::stale();
  }
  return stop_reason::answer(closed ? exchange_error::upstream_closed
                                    : exchange_error::upstream_bad_response);
}

net::awaitable<beast::error_code> session::read_upstream_head(response_parser& p,
                                                              std::chrono::milliseconds limit,
                                                              bool& client_gone,
                                                              bool& nothing_read) {
  const auto until = clock::now() + limit;
  // The buffer's size before this head's bytes; known once the pool's pending read (on a
  // reused connection) has completed, since until then that read may be filling it.
  std::optional<std::size_t> before;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - clock::now());
    const bool watch = !upstream_->tls && left > client_check;
    arm(watch ? client_check : std::max(left, 0ms), phase::upstream);
    beast::error_code ec;
    if (upstream_->read_pending) {
      auto [sec, settled] = co_await pool_.settle(*upstream_);
      ec = sec;
      before = upstream_->buffer.size() - settled;
    }
    if (!before) before = upstream_->buffer.size();
    // Most often the pool's pending read brought the whole head: parsed without a read.
    const auto at_hand = ec ? std::nullopt : http_read::header_at_hand(upstream_->buffer, p);
    if (at_hand) {
      ec = *at_hand;
    } else if (!ec) {
      ec = co_await upstream_->visit(
          [&](auto& s) { return http_read::async_read_header(s, upstream_->buffer, p); });
    }
    nothing_read = upstream_->buffer.size() == *before;
    // A head that had begun to arrive stays in the buffer (the parser takes none of it until
    // it is whole), so the next read goes on with it.
    if (!ec || !watchdog_.timed_out() || !watch || shutdown_) co_return ec;
    if (client_left()) {
      client_gone = true;
      co_return ec;
    }
  }
}

net::awaitable<bool> session::write_interim(response_head& h) {
  http::response<http::empty_body> interim;
  interim.version(11);
  interim.result(h.result_int());  // by number: Beast has no name for some (103)
  interim.reason(h.reason());
  for (const auto& f : h) interim.insert(f.name_string(), f.value());
  strip_hop_by_hop(interim, false);
  arm(ctx_.pc.idle_timeout, phase::client);
  auto [ec, n] = co_await client_io(
      [&](auto& s, auto handler) { http::async_write(s, interim, std::move(handler)); });
  co_return !ec;
}

// The upstream's final head, told to the observers, then adapted to the client: its framing
// checked, hop-by-hop fields removed, the client's version and keep-alive.
session::stop_reason session::adapt_response(exchange_state& x) {
  auto& res = x.res();
  const int code = res.result_int();
  x.status = code;
  x.observers.each([&](exchange_observer& o) { o.response_head(res); });
  // The request body was not sent (final answer to Expect: 100-continue): the client may
  // still send it, so this connection ends after the response.
  x.request_unfinished = !x.parser.is_done() || !x.body_sent;
  // As Beast's parser read the head: no close in any Connection or Proxy-Connection field (a
  // keep-alive in one on HTTP/1.0), and a body that ends other than by the close.
  x.upstream_keep_alive = x.rp->keep_alive();
  x.switching = code == 101;
  if (x.switching && (!x.upgrading || !upgrade_was_offered(x.req()[http::field::upgrade],
                                                           res[http::field::upgrade]))) {
    return stop_reason::answer(exchange_error::upstream_bad_response);
  }
  if (!normalise_response_framing(res, code)) {
    return stop_reason::answer(exchange_error::upstream_bad_response);
  }
  strip_hop_by_hop(res, x.switching);
  x.client_keep = x.client_keep_alive && !x.request_unfinished && !x.switching && !shutdown_ &&
                  !ctx_.is_stopping();
  res.version(x.client_version);
  x.response_body = !x.head_request && code != 204 && code != 304 && !x.switching;
  if (x.response_body && !res.has_content_length() && !res.chunked()) {
    // Close-delimited upstream body: chunked for HTTP/1.1 clients, close for 1.0.
    if (x.client_version >= 11) {
      res.chunked(true);
    } else {
      x.client_keep = false;
    }
  }
  if (x.client_version < 11 && res.chunked()) {
    res.chunked(false);
    x.client_keep = false;
  }
  if (x.switching) {
    res.set(http::field::connection, "Upgrade");
  } else {
    res.keep_alive(x.client_keep);
  }
  x.observers.each([&](exchange_observer& o) { o.client_head(res); });
  return stop_reason{};
}

// The response body, piece by piece from the upstream to the client. The upstream connection
// goes back to the pool as soon as its response is complete, before the client has the last
// bytes: the next request (this client's or another's) finds it.
net::awaitable<session::stop_reason> session::relay_response(exchange_state& x) {
  auto& body = x.res().body();
  response_writer_.start(x.res(), x.response_body);
  for (;;) {
    if (!x.rp->is_done()) {
      // Most often the piece came with the head: parsed from the buffer, with no read started.
      std::optional<beast::error_code> read =
          start_piece(body, phase::upstream, upstream_->buffer, *x.rp);
      if (!read) read = co_await read_response_piece(x);
      const stop_reason stop = take_response_piece(x, *read, response_writer_.head_sent());
      if (stop.how != stop_reason::kind::none) co_return stop;
    } else {
      body.data = nullptr;
      body.size = 0;
      body.more = false;
    }
    if (x.rp->is_done() && !x.completed) {
      // Stored before the client has the last byte, so that its next request finds it.
      x.completed = true;
      x.observers.each([](exchange_observer& o) { o.response_complete(); });
      if (!x.switching && upstream_) release_upstream(x);
    }
    arm(ctx_.pc.idle_timeout, phase::client);
    const auto out = response_writer_.next(body_piece(body), !body.more);
    if (net::buffer_size(out) != 0) {
      auto [ec, n] =
          co_await client_io([&](auto& s, auto handler) { write_now(s, out, std::move(handler)); });
      if (ec) {
        co_return stop_reason::end(
            cut_short(exchange_error::client_timeout, exchange_error::client_closed));
      }
    }
    response_writer_.sent();
    if (response_writer_.done()) co_return stop_reason{};
  }
}

// The read of a response body piece that the bytes at hand did not complete.
net::awaitable<beast::error_code> session::read_response_piece(exchange_state& x) {
  auto [ec, n] = co_await upstream_->visit(
      [&](auto& s) { return http_read::async_read_some(s, upstream_->buffer, *x.rp); });
  co_return ec;
}

// The response body piece read into the body buffer, to be relayed; or how the upstream
// failed.
session::stop_reason session::take_response_piece(exchange_state& x, beast::error_code ec,
                                                  bool head_relayed) {
  if (ec == http::error::need_buffer) ec = {};
  if (ec == http::error::end_of_stream && x.rp->is_done()) ec = {};
  if (ec) {
    const exchange_error cut = is_malformed_message(ec) ? exchange_error::upstream_bad_response
                                                        : exchange_error::upstream_reset_mid_body;
    // Nothing relayed yet: the client can still have a 502.
    if (!head_relayed && !shutdown_ && !watchdog_.timed_out()) return stop_reason::answer(cut);
    // The client has the head already: all that is left is to cut its connection, and the
    // record says why (a malformed chunk is not a reset).
    return stop_reason::end(cut_short(exchange_error::upstream_idle_timeout, cut));
  }
  auto& body = x.res().body();
  const std::size_t got = body_chunk - body.size;
  const std::string_view piece(body_buffer(), got);
  x.observers.each([&](exchange_observer& o) { o.response_body(piece); });
  body.data = got != 0 ? body_buffer() : nullptr;
  body.size = got;
  body.more = !x.rp->is_done();
  return stop_reason{};
}

// Why a relay was cut: shutdown, else the deadline (`on_timeout`), else `otherwise`.
exchange_error session::cut_short(exchange_error on_timeout, exchange_error otherwise) const {
  if (shutdown_) return exchange_error::shutdown;
  return watchdog_.timed_out() ? on_timeout : otherwise;
}

void session::release_upstream(exchange_state& x) {
  if (x.upstream_keep_alive && x.rp->is_done() && upstream_->buffer.size() == 0 &&
      !x.request_unfinished) {
    pool_.give(std::move(upstream_));
  } else {
    upstream_.reset();
  }
}

// An exchange that stopped before its end: the sidecar's own answer, or the connection's end.
net::awaitable<bool> session::conclude(exchange_state& x, stop_reason stop) {
  upstream_.reset();  // the upstream must not see a partial request complete
  switch (stop.how) {
    case stop_reason::kind::answer: {
      // 504 is "no response head within upstream_timeout"; an upstream that cannot be reached,
      // a connect that times out included, is 502 (docs/proxy.md, "Errors").
      const int status = stop.error == exchange_error::upstream_response_timeout ? 504 : 502;
      // The rest of a request body may still be on its way: close rather than read it.
      const bool keep =
          x.client_keep_alive && x.parser.is_done() && !shutdown_ && !ctx_.is_stopping();
      auto res = local_response(status, keep, x.client_version, store::describe(stop.error));
      record_local_answer(x, res);
      finish(x, shutdown_ ? exchange_error::shutdown : stop.error);
      co_return co_await write_answer(res);
    }
    case stop_reason::kind::bad_body: {
      auto res = local_response(400, false, x.client_version);
      record_local_answer(x, res);
      finish(x, exchange_error::client_bad_body);
      co_await write_answer(res);
      co_return false;
    }
    case stop_reason::kind::end:
    case stop_reason::kind::none:
    case stop_reason::kind::stale:
      break;
  }
  finish(x, stop.error);
  co_return false;
}

void session::record_local_answer(exchange_state& x, const http::response<http::string_body>& res) {
  x.status = res.result_int();
  x.observers.each([&](exchange_observer& o) { o.local_answer(res); });
}

void session::finish(exchange_state& x, exchange_error error, bool upgraded) {
  ctx_.metrics.count_exchange(x.dest.direction(), x.status, error, clock::now() - x.arrived);
  const exchange_end how{error, x.parser.is_done(), upgraded};
  x.observers.each([&](exchange_observer& o) { o.end(how); });
}

}  // namespace sidecar::proxy
