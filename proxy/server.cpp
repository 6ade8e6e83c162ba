// The proxy listener: one io_context run by N threads, a strand and a coroutine per client
// connection, requests streamed to upstreams through a keep-alive pool, and one capture per
// exchange handed to the store's sink without waiting.
#include "proxy/server.hpp"

#include <openssl/ssl.h>
#include <sys/socket.h>

#include <atomic>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/range/iterator_range.hpp>
#include <boost/url/parse.hpp>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <map>
#include <optional>
#include <sstream>
#include <thread>
#include <unordered_map>

#include "cache/media_cache.hpp"
#include "conf/config_error.hpp"
#include "conf/listen.hpp"
#include "conf/server_tls.hpp"
#include "proxy/block_cache.hpp"
#include "proxy/destination.hpp"
#include "proxy/early_answer.hpp"
#include "proxy/exchange_parts.hpp"
#include "proxy/framing.hpp"
#include "proxy/path_normalise.hpp"
#include "proxy/replay.hpp"
#include "proxy/routing.hpp"
#include "proxy/snapshot.hpp"
#include "proxy/upgrade.hpp"
#include "proxy/upstream_connect.hpp"
#include "proxy/upstream_pool.hpp"
#include "store/access_line.hpp"
#include "support/json.hpp"
#include "support/http_read.hpp"
#include "support/log.hpp"
#include "support/thread_name.hpp"

namespace sidecar::proxy {

namespace {

using clock = std::chrono::steady_clock;
using namespace std::chrono_literals;
constexpr auto tuple_awaitable = net::as_tuple(net::use_awaitable);

constexpr std::size_t body_chunk = block_cache::block_size;  // one read or write of a body
constexpr std::size_t max_idle_per_upstream = 256;  // keep-alive connections kept per upstream
constexpr std::size_t head_read = 16 * 1024;        // one read while waiting for a request head
// How long a request with Expect: 100-continue waits for the upstream's 100 before its body
// goes anyway (an upstream may ignore the expectation and wait for the body); curl's default.
constexpr std::chrono::milliseconds continue_wait = 1s;
// How long a client that still sends a body nobody reads is given, after its answer, to see
// that answer and close (nginx's lingering_timeout is 5 s).
constexpr std::chrono::milliseconds linger_limit = 2s;
// How often a client is looked at while the upstream has not answered its request's head.
constexpr std::chrono::milliseconds client_check = 1s;

// Status classes of sidecar_exchanges_total.
std::size_t status_class(int code) {
  if (code >= 200 && code < 600) return static_cast<std::size_t>(code / 100 - 1);  // 2xx -> 1 ...
  return 0;  // none (also 1xx, which only 101 reaches here as a final status)
}
constexpr std::array<std::string_view, 5> class_names{"none", "2xx", "3xx", "4xx", "5xx"};

constexpr std::array<int, 7> local_statuses{400, 403, 404, 405, 414, 431, 503};

// The upstream_errors_total{kind} label of an exchange error.
constexpr std::array<std::string_view, 15> error_kinds{
    "none",           "resolve",          "connect_refused", "connect_timeout", "unreachable",
    "tls",            "closed",           "response_timeout", "bad_response",   "reset_mid_body",
    "stalled_mid_body", "client_closed",  "client_timeout",  "client_bad_body", "shutdown"};
static_assert(error_kinds.size() == static_cast<std::size_t>(store::exchange_error::shutdown) + 1,
              "one kind per exchange_error, in its order");

// Whether the whole request body is already read (in the client buffer, with a length): its
// streaming then never waits for the client.
bool body_buffered(const http::request_parser<http::buffer_body>& parser,
                   std::size_t in_buffer) {
  const auto left = parser.content_length_remaining();
  return parser.is_done() || (left && *left <= in_buffer);
}

bool is_idempotent(http::verb v) {
  switch (v) {
    case http::verb::get: case http::verb::head: case http::verb::options:
    case http::verb::trace: case http::verb::put: case http::verb::delete_:
      return true;
    default:
      return false;
  }
}

// One line per exchange, at debug level only (docs/operations.md). The query string is left
// out: it may carry an AuthToken or a password, and no credential ever reaches a log line.
void log_exchange(const store::capture& cap) {
  std::string_view url = cap.upstream_url;
  url = url.substr(0, url.find('?'));
  const std::string status = std::to_string(cap.status_code);
  const std::string latency = std::to_string(
      std::chrono::duration_cast<std::chrono::milliseconds>(cap.latency).count());
  log::debug("exchange", {{"direction", conf::to_string(cap.direction)},
                          {"client", cap.client_address},
                          {"method", cap.method},
                          {"upstream", url},
                          {"status", status},
                          {"latency_ms", latency},
                          {"error", store::describe(cap.error)}});
}


}  // namespace

// ---------------------------------------------------------------------------------------

struct server::impl {
  impl(std::shared_ptr<const conf::config> c, store::capture_sink& s, metrics::registry& m,
       cache::media_cache* mc);

  struct session;

  // The configuration at startup: what needs a restart (listen, threads, timeouts, sizes) is
  // read from it. What reloads is read from `current` (proxy/snapshot.hpp).
  std::shared_ptr<const conf::config> cfg;
  const conf::proxy_config& pc;
  std::atomic<std::shared_ptr<const snapshot>> current;
  store::capture_sink& sink;
  cache::media_cache* media_cache;  // null when [cache] enabled = false

  unsigned thread_count;
  net::io_context ioc;
  std::optional<net::executor_work_guard<net::io_context::executor_type>> work;
  std::vector<std::thread> threads;
  std::optional<tcp::acceptor> acceptor;
  ssl::context client_tls{ssl::context::tls_client};
  upstream_pool pool;
  std::vector<tcp::endpoint> own_listeners;
  bool started = false;

  // Metrics: registered once, then one relaxed add each.
  std::array<std::array<metrics::counter*, 5>, 2> exchanges{};
  std::array<metrics::histogram*, 2> durations{};  // by direction: webhook, api
  std::array<metrics::counter*, error_kinds.size()> upstream_errors{};
  std::array<metrics::counter*, local_statuses.size()> local_answers{};
  metrics::gauge* connections = nullptr;

  // Live sessions, for stop(): touched on connect and disconnect only.
  std::mutex sessions_mu;
  std::condition_variable sessions_cv;
  std::map<std::uint64_t, std::weak_ptr<session>> sessions;
  std::uint64_t next_session_id = 0;
  std::atomic<bool> stopping{false};

  void count_local(int status) {
    for (std::size_t i = 0; i < local_statuses.size(); ++i) {
      if (local_statuses[i] == status) local_answers[i]->inc();
    }
  }

  net::awaitable<void> accept_loop();
  void spawn_session(tcp::socket socket);
  void session_ended(std::uint64_t id);
};

server::impl::impl(std::shared_ptr<const conf::config> c, store::capture_sink& s,
                   metrics::registry& m, cache::media_cache* mc)
    : cfg(std::move(c)),
      pc(cfg->proxy),
      current(std::make_shared<const snapshot>(cfg)),
      sink(s),
      media_cache(mc),
      thread_count(pc.threads != 0 ? pc.threads : std::max(1u, std::thread::hardware_concurrency())),
      ioc(static_cast<int>(thread_count)),
      pool(max_idle_per_upstream, pc.idle_timeout) {
  for (std::size_t d = 0; d < 2; ++d) {
    for (std::size_t k = 0; k < class_names.size(); ++k) {
      exchanges[d][k] = &m.add_counter(
          "sidecar_exchanges_total", "Proxied exchanges that reached or tried an upstream",
          {{"direction", d == 0 ? "webhook" : "api"}, {"class", std::string(class_names[k])}});
    }
  }
  for (std::size_t k = 1; k < error_kinds.size(); ++k) {
    upstream_errors[k] = &m.add_counter("sidecar_upstream_errors_total",
                                        "Exchanges that ended in an error, by kind",
                                        {{"kind", std::string(error_kinds[k])}});
  }
  upstream_errors[0] = upstream_errors[1];  // never counted: none is not an error
  for (std::size_t i = 0; i < local_statuses.size(); ++i) {
    local_answers[i] = &m.add_counter("sidecar_proxy_local_answers_total",
                                      "Answers the proxy gave without trying an upstream",
                                      {{"status", std::to_string(local_statuses[i])}});
  }
  connections = &m.add_gauge("sidecar_proxy_connections", "Client connections open on the proxy");
  for (std::size_t d = 0; d < 2; ++d) {
    durations[d] = &m.add_histogram(
        "sidecar_proxy_request_duration_seconds",
        "From a request head arriving to the end of the exchange (the response relayed)",
        {{"direction", d == 0 ? "webhook" : "api"}});
  }
}

// ---------------------------------------------------------------------------------------
// One client connection.

struct server::impl::session : std::enable_shared_from_this<session> {
  enum class phase : std::uint8_t { none, client, upstream, both };

  session(impl& s, tcp::socket sock, std::uint64_t session_id)
      : srv(s),
        id(session_id),
        strand(sock.get_executor()),
        timer(strand),
        client_buf(s.pc.max_header_bytes + 2 * body_chunk),
        snap(s.current.load()) {
    if (snap->server_tls) {
      client_tls.emplace(std::move(sock), *snap->server_tls);
    } else {
      client_plain.emplace(std::move(sock));
    }
    beast::error_code ec;
    const auto remote = client_socket().remote_endpoint(ec);
    peer = remote.address();
    client_address = (std::ostringstream() << remote).str();
    client_socket().set_option(tcp::no_delay(true), ec);
  }

  impl& srv;
  const std::uint64_t id;
  net::any_io_executor strand;
  net::steady_timer timer;
  std::optional<tcp::socket> client_plain;
  std::optional<beast::ssl_stream<tcp::socket>> client_tls;
  // Both hold a block from the block cache while a request is being read (client_buf once
  // reserved to a whole chunk), and give it back while the connection is idle.
  beast::basic_flat_buffer<block_allocator<char>> client_buf;
  block_ptr body_buf;
  // What the wait for a next request reads into (read_head): the first bytes of a request
  // head and often its body, without holding a block while idle.
  std::array<char, 1024> idle_bytes;
  std::unique_ptr<upstream_connection> upstream;
  net::ip::address peer;
  std::string client_address;
  // The configuration this connection's current exchange uses: taken when the connection is
  // accepted (its TLS context) and again when each request head has arrived, then kept to the
  // exchange's end whatever a reload does meanwhile.
  std::shared_ptr<const snapshot> snap;

  // The watchdog: one deadline at a time, for the operation of `phase_now`.
  clock::time_point deadline = clock::time_point::max();
  clock::time_point timer_at = clock::time_point::max();
  phase phase_now = phase::none;
  bool timed_out = false;
  bool shutdown = false;   // stop() gave up waiting
  bool idle = false;       // waiting for a next request with nothing read
  bool done = false;

  tcp::socket& client_socket() {
    return client_tls ? beast::get_lowest_layer(*client_tls) : *client_plain;
  }
  template <class F>
  auto visit_client(F&& f) {
    return client_tls ? f(*client_tls) : f(*client_plain);
  }
  char* body_buffer() {
    if (!body_buf) body_buf = take_block();
    return body_buf.get();
  }

  // Sets the deadline of the next operation. Moving a deadline later costs nothing (the
  // watchdog re-checks when it wakes); only an earlier one re-arms the timer.
  void arm(std::chrono::milliseconds d, phase p) {
    deadline = clock::now() + d;
    phase_now = p;
    timed_out = false;
    if (deadline < timer_at) {
      timer_at = deadline;
      timer.expires_at(deadline);
    }
  }

  void cancel_phase(phase p) {
    beast::error_code ec;
    if (p == phase::client || p == phase::both) client_socket().cancel(ec);
    if ((p == phase::upstream || p == phase::both) && upstream) upstream->socket().cancel(ec);
  }

  static net::awaitable<void> watchdog(std::shared_ptr<session> self) {
    while (!self->done) {
      self->timer.expires_at(self->timer_at);
      auto [ec] = co_await self->timer.async_wait(tuple_awaitable);
      if (self->done) break;
      if (ec == net::error::operation_aborted && clock::now() < self->timer_at) continue;
      if (clock::now() >= self->deadline) {
        self->timed_out = true;
        self->cancel_phase(self->phase_now);
        self->deadline = clock::time_point::max();
      }
      self->timer_at = self->deadline;
    }
  }

  // stop(): idle connections close now; busy ones finish their exchange (then close) unless
  // `hard`, which cancels everything.
  void on_stop(bool hard) {
    if (hard) {
      shutdown = true;
      cancel_phase(phase::both);
    } else if (idle) {
      cancel_phase(phase::client);
    }
  }

  static net::awaitable<void> run(std::shared_ptr<session> self);
  net::awaitable<void> serve();
  enum class head_status { ok, closed, bad, target_long, head_large };
  net::awaitable<head_status> read_head(bool first, std::size_t& head_len);
  net::awaitable<bool> answer_local(int status, bool keep_alive, unsigned version);
  // Writes an answer of the sidecar's own; whether the connection may go on.
  net::awaitable<bool> write_answer(http::response<http::string_body>& res);
  // Returns whether the client connection may carry another request.
  // `fill`: the media cache fill to feed with the response (a cacheable miss), or null.
  net::awaitable<bool> exchange(http::request_parser<http::buffer_body>& parser,
                                destination dest, clock::time_point arrived,
                                cache::cache_fill* fill);
  net::awaitable<bool> answer_from_cache(const cache::cache_hit& hit, unsigned version,
                                         bool keep_alive);
  net::awaitable<store::exchange_error> connect_upstream(const destination& dest);
  net::awaitable<void> tunnel();
  net::awaitable<bool> write_interim(http::response_header<>& h);
  // Reads the upstream's response head into `p` within `limit`. Meanwhile, every
  // client_check, it looks whether the client has closed its side: then `client_gone` is set
  // and the read abandoned (plain-TCP upstreams only: a TLS read is not cut off half-way).
  net::awaitable<beast::error_code> read_upstream_head(http::response_parser<http::buffer_body>& p,
                                                       std::chrono::milliseconds limit,
                                                       bool& client_gone, bool& nothing_read);
  // Whether the client closed or reset its connection (a non-blocking peek; data waiting,
  // such as a pipelined request, means it is still there).
  bool client_left();
};

net::awaitable<void> server::impl::session::run(std::shared_ptr<session> self) {
  // The watchdog shares the session; it ends when `done` is set and the timer cancelled.
  net::co_spawn(self->strand, watchdog(self), net::detached);
  try {
    co_await self->serve();
  } catch (const std::exception& e) {
    log::error("proxy connection failed", {{"error", e.what()}});
  }
  self->done = true;
  self->timer.cancel();
  beast::error_code ec;
  self->client_socket().shutdown(tcp::socket::shutdown_both, ec);
  self->client_socket().close(ec);
  self->upstream.reset();
  self->srv.session_ended(self->id);
}

net::awaitable<server::impl::session::head_status> server::impl::session::read_head(
    bool first, std::size_t& head_len) {
  const std::size_t max_head = srv.pc.max_header_bytes;
  bool got_bytes = client_buf.size() > 0;
  arm(got_bytes || first ? srv.pc.header_timeout : srv.pc.idle_timeout, phase::client);
  idle = !got_bytes;
  if (idle && srv.stopping.load(std::memory_order_relaxed)) co_return head_status::closed;
  if (idle && client_plain) {
    // An idle keep-alive connection holds no buffers while it waits (10 000 of them must fit
    // in 256 MiB): the body buffer goes, and the read buffer is only allocated once the
    // next request starts to arrive. The wait is a read into the session's own small array,
    // not a readiness wait: Asio re-arms epoll (an epoll_ctl) for every async_wait, never
    // for a read, and the read also brings the request's first bytes (most often all of it).
    body_buf.reset();
    client_buf.shrink_to_fit();
    auto [wec, wn] =
        co_await client_plain->async_read_some(net::buffer(idle_bytes), tuple_awaitable);
    // timed_out too: the deadline can pass just as the read succeeds, too late to cancel it.
    if (wec || timed_out) co_return head_status::closed;
    client_buf.reserve(body_chunk);
    net::buffer_copy(client_buf.prepare(wn), net::buffer(idle_bytes, wn));
    client_buf.commit(wn);
    got_bytes = true;
    idle = false;
    if (!first) arm(srv.pc.header_timeout, phase::client);
  }
  for (;;) {
    if (got_bytes) {
      const auto data = client_buf.data();
      const auto scan = scan_request_head(
          std::string_view(static_cast<const char*>(data.data()), data.size()), max_head);
      switch (scan.result) {
        case head_scan_result::complete:
          client_buf.consume(scan.skip);
          head_len = scan.head_size;
          co_return head_status::ok;
        case head_scan_result::bad: co_return head_status::bad;
        case head_scan_result::target_long: co_return head_status::target_long;
        case head_scan_result::head_large: co_return head_status::head_large;
        case head_scan_result::incomplete: break;
      }
    }
    // The first read after an idle wait takes a whole block (from the block cache): a body
    // that follows the head then needs no second allocation and copy.
    if (client_buf.capacity() == 0) client_buf.reserve(body_chunk);
    const std::size_t room = client_buf.max_size() - client_buf.size();
    auto [ec, n] = co_await visit_client([&](auto& s) {
      return s.async_read_some(client_buf.prepare(std::min(room, head_read)), tuple_awaitable);
    });
    // EOF, reset, timeout or stop: nothing to answer. A read that succeeded as the deadline
    // passed (the watchdog's cancel then finds nothing to cancel) is a timeout as well: this
    // loop does not re-arm, so going on would leave the head without any deadline.
    if (ec || timed_out) co_return head_status::closed;
    client_buf.commit(n);
    if (!got_bytes) {
      got_bytes = true;
      idle = false;
      // The head must now arrive whole within header_timeout (slowloris).
      if (!first) arm(srv.pc.header_timeout, phase::client);
    }
  }
}

net::awaitable<bool> server::impl::session::answer_local(int status, bool keep_alive,
                                                         unsigned version) {
  srv.count_local(status);
  auto res = local_response(status, keep_alive, version);
  co_return co_await write_answer(res);
}

net::awaitable<bool> server::impl::session::write_answer(http::response<http::string_body>& res) {
  arm(srv.pc.idle_timeout, phase::client);
  auto [ec, n] = co_await visit_client(
      [&](auto& s) { return http::async_write(s, res, tuple_awaitable); });
  co_return !ec && res.keep_alive();
}

net::awaitable<void> server::impl::session::serve() {
  if (client_tls) {
    arm(srv.pc.header_timeout, phase::client);
    auto [ec] = co_await client_tls->async_handshake(ssl::stream_base::server, tuple_awaitable);
    if (ec) co_return;
  }
  bool first = true;
  for (;;) {
    std::size_t head_len = 0;
    const head_status hs = co_await read_head(first, head_len);
    first = false;
    switch (hs) {
      case head_status::closed: co_return;
      case head_status::bad: co_await answer_local(400, false, 11); co_return;
      case head_status::target_long: co_await answer_local(414, false, 11); co_return;
      case head_status::head_large: co_await answer_local(431, false, 11); co_return;
      case head_status::ok: break;
    }
    const auto arrived = clock::now();
    snap = srv.current.load();

    http::request_parser<http::buffer_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(head_len + 1));
    parser.body_limit(boost::none);
    beast::error_code ec;
    parser.put(net::buffer(client_buf.data().data(), head_len), ec);
    if (ec || !parser.is_header_done()) {
      co_await answer_local(400, false, 11);
      co_return;
    }
    client_buf.consume(head_len);
    auto& req = parser.get();
    const unsigned version = req.version();
    if (!normalise_request_framing(req, version)) {
      co_await answer_local(400, false, version);
      co_return;
    }
    // A local answer keeps the connection only when no request body is left unread.
    const bool bodyless = parser.is_done();
    const bool keep_alive = req.keep_alive() && bodyless;
    if (req.method() == http::verb::connect) {
      if (!co_await answer_local(405, keep_alive, version)) co_return;
      continue;
    }

    const std::string_view target = req.target();
    destination dest;
    if (!target.empty() && target.front() == '/') {
      const auto host_it = req.find(http::field::host);
      const std::string_view host = host_it == req.end() ? "" : host_without_port(host_it->value());
      // Routed, forwarded and recorded by its path with dot-segments resolved (docs/proxy.md).
      const normalised_path path = normalise_path(target);
      const auto chosen = path.problem == path_problem::none
                              ? snap->routes.choose(host, target, path.target)
                              : route_table::choice{nullptr, true};
      if (chosen.escapes) {
        co_await answer_local(400, false, version);
        co_return;
      }
      if (chosen.route == nullptr) {
        if (!co_await answer_local(404, keep_alive, version)) co_return;
        continue;
      }
      dest = route_destination(*snap, *chosen.route, rewrite_target(*chosen.route, path.target));
    } else {
      forward_target fwd = read_forward_target(target, snap->cfg->proxy.forward_hosts);
      if (fwd.status == forward_target::problem::asterisk ||
          fwd.status == forward_target::problem::not_absolute) {
        const int status = fwd.status == forward_target::problem::asterisk ? 404 : 400;
        if (!co_await answer_local(status, keep_alive && status == 404, version)) co_return;
        continue;
      }
      if (fwd.allowed == nullptr) {
        if (!co_await answer_local(403, keep_alive, version)) co_return;
        continue;
      }
      dest = std::move(fwd.dest);
      arm(srv.pc.connect_timeout, phase::none);
      if (co_await resolve_forward(dest, *fwd.allowed, srv.own_listeners, false)) {
        if (!co_await answer_local(403, keep_alive, version)) co_return;
        continue;
      }
      if (fwd.status == forward_target::problem::path) {
        co_await answer_local(400, false, version);
        co_return;
      }
    }

    // The media cache (webhook routes, GET without credentials): a hit is answered from disk
    // without an upstream and without a capture; a miss is forwarded and fills the cache.
    std::optional<cache::cache_fill> fill;
    if (srv.media_cache != nullptr && dest.route != nullptr && bodyless &&
        cache::cacheable_request(req.method(), dest.route->dir, false, req)) {
      std::string url = dest.url_prefix + dest.target;  // the URL the capture records
      arm(srv.pc.upstream_timeout, phase::none);  // may wait for a concurrent fill of this URL
      cache::acquisition a =
          co_await srv.media_cache->acquire(std::move(url), srv.pc.upstream_timeout);
      if (a.hit) {
        if (!co_await answer_from_cache(*a.hit, version, req.keep_alive())) co_return;
        if (srv.stopping.load(std::memory_order_relaxed)) co_return;
        continue;
      }
      fill.emplace(std::move(*a.fill));
    }
    if (!co_await exchange(parser, std::move(dest), arrived, fill ? &*fill : nullptr)) co_return;
    if (srv.stopping.load(std::memory_order_relaxed)) co_return;
  }
}

net::awaitable<store::exchange_error> server::impl::session::connect_upstream(
    const destination& dest) {
  using store::exchange_error;
  auto conn = std::make_unique<upstream_connection>(srv.ioc.get_executor());
  conn->key = dest.pool_key;
  conn->buffer.max_size(srv.pc.max_header_bytes + 2 * body_chunk);
  // Beast sizes each read by the buffer's free capacity (at least 512 bytes): without room
  // for a whole chunk, a large body would arrive 512 bytes per system call.
  conn->buffer.reserve(body_chunk);
  upstream = std::move(conn);
  arm(srv.pc.connect_timeout, phase::upstream);
  co_return co_await proxy::connect_upstream(*upstream, dest, srv.client_tls, timed_out);
}

net::awaitable<beast::error_code> server::impl::session::read_upstream_head(
    http::response_parser<http::buffer_body>& p, std::chrono::milliseconds limit,
    bool& client_gone, bool& nothing_read) {
  const auto until = clock::now() + limit;
  // The buffer's size before this head's bytes; known once the pool's pending read (on a
  // reused connection) has completed, since until then that read may be filling it.
  std::optional<std::size_t> before;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - clock::now());
    const bool watch = !upstream->tls && left > client_check;
    arm(watch ? client_check : std::max(left, 0ms), phase::upstream);
    beast::error_code ec;
    if (upstream->read_pending) {
      auto [sec, settled] = co_await srv.pool.settle(*upstream);
      ec = sec;
      before = upstream->buffer.size() - settled;
    }
    if (!before) before = upstream->buffer.size();
    if (!ec) {
      auto [rec, n] = co_await upstream->visit([&](auto& s) {
        return http::async_read_header(s, upstream->buffer, p, tuple_awaitable);
      });
      ec = rec;
    }
    nothing_read = upstream->buffer.size() == *before;
    // A head that had begun to arrive stays in the buffer (the parser takes none of it until
    // it is whole), so the next read goes on with it.
    if (!ec || !timed_out || !watch || shutdown) co_return ec;
    if (client_left()) {
      client_gone = true;
      co_return ec;
    }
  }
}

bool server::impl::session::client_left() {
  char byte = 0;
  const ssize_t n =
      ::recv(client_socket().native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT | MSG_NOSIGNAL);
  return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
}

net::awaitable<bool> server::impl::session::write_interim(http::response_header<>& h) {
  http::response<http::empty_body> interim;
  interim.version(11);
  interim.result(h.result_int());  // by number: Beast has no name for some (103)
  interim.reason(h.reason());
  for (const auto& f : h) interim.insert(f.name_string(), f.value());
  strip_hop_by_hop(interim, false);
  arm(srv.pc.idle_timeout, phase::client);
  auto [ec, n] = co_await visit_client(
      [&](auto& s) { return http::async_write(s, interim, tuple_awaitable); });
  co_return !ec;
}

net::awaitable<bool> server::impl::session::answer_from_cache(const cache::cache_hit& hit,
                                                              unsigned version, bool keep_alive) {
  const bool keep = keep_alive && !srv.stopping.load(std::memory_order_relaxed);
  // Stored head, Content-Length, Age, X-Cache: HIT, formatted straight into one string.
  const std::string head = hit.head_text(version < 10 ? 11 : version, keep);
  const beast::error_code ec = co_await visit_client([&](auto& s) {
    return cache::write_hit(s, head, hit, false, body_chunk,
                            [this] { arm(srv.pc.idle_timeout, phase::client); });
  });
  co_return !ec && keep;
}

net::awaitable<bool> server::impl::session::exchange(
    http::request_parser<http::buffer_body>& parser, destination dest, clock::time_point arrived,
    cache::cache_fill* fill) {
  using store::exchange_error;
  auto& req = parser.get();
  const unsigned client_version = req.version();
  const bool client_keep_alive = req.keep_alive();
  // Only the protocols [proxy] upgrades enables go upstream (never h2c): any other Upgrade
  // token is removed here and the request goes on as plain HTTP/1.1.
  const bool upgrading = keep_enabled_upgrades(req, parser.upgrade(), snap->cfg->proxy.upgrades);
  const bool expect_continue =
      client_version >= 11 && !parser.is_done() &&
      beast::iequals(req[http::field::expect], "100-continue");
  const bool head_request = req.method() == http::verb::head;
  const bool replayable = is_idempotent(req.method()) && parser.is_done();

  // Request headers as they go upstream.
  std::string forwarded_host(req[http::field::host]);
  std::string xff;
  for (const auto& f : boost::make_iterator_range(req.equal_range("X-Forwarded-For"))) {
    if (!xff.empty()) xff += ", ";
    xff.append(f.value());
  }
  if (!xff.empty()) xff += ", ";
  xff += peer.to_string();
  strip_hop_by_hop(req, upgrading);
  if (dest.route == nullptr || !dest.route->preserve_host || forwarded_host.empty()) {
    req.set(http::field::host, dest.host_header);
  }
  req.set("X-Forwarded-For", xff);
  req.set("X-Forwarded-Proto", client_tls ? "https" : "http");
  if (!forwarded_host.empty()) req.set("X-Forwarded-Host", forwarded_host);
  if (upgrading) req.set(http::field::connection, "Upgrade");
  req.version(11);
  req.target(dest.target);

  store::capture cap;
  cap.client_address = client_address;
  cap.direction = dest.route ? dest.route->dir : conf::direction::webhook;
  cap.route_account = dest.route ? dest.route->account : snap->cfg->proxy.forward_account;
  if (dest.route) cap.route_prefix = dest.route->prefix;
  cap.config = snap->cfg;
  cap.forward_proxy = dest.route == nullptr;
  cap.capture_bodies = dest.route ? dest.route->capture_bodies : true;
  cap.method = std::string(req.method_string());
  cap.upstream_url.reserve(dest.url_prefix.size() + dest.target.size());
  cap.upstream_url.append(dest.url_prefix).append(dest.target);
  cap.request_headers = to_header_list(req);
  const std::size_t body_limit = snap->cfg->store.body_limit;
  // A webhook's form body attributes the record (AccountSid, CallSid...) from all of it, kept
  // or not: scanned as it streams (store/form_scan.hpp).
  std::optional<store::form_scanner> form_scan;
  const auto encoding = req[http::field::content_encoding];
  if (cap.direction == conf::direction::webhook && !parser.is_done() &&
      store::is_form_urlencoded(req[http::field::content_type]) &&
      (encoding.empty() || beast::iequals(encoding, "identity"))) {
    form_scan.emplace();
  }

  auto finish = [&](exchange_error err) {
    if (form_scan) {
      if (parser.is_done()) form_scan->finish();  // a cut body's last pair is not trusted
      cap.request_form = form_scan->found();
    }
    cap.error = err;
    cap.completed_at = std::chrono::system_clock::now();
    if (cap.latency == clock::duration::zero()) cap.latency = clock::now() - arrived;
    const std::size_t d = cap.direction == conf::direction::api ? 1 : 0;
    srv.exchanges[d][status_class(cap.status_code)]->inc();
    srv.durations[d]->observe(std::chrono::duration<double>(clock::now() - arrived).count());
    if (err != exchange_error::none) srv.upstream_errors[static_cast<std::size_t>(err)]->inc();
    if (log::enabled(log::level::debug)) log_exchange(cap);
    // A capture the queue refused is left to us: its access line says so (the store writes
    // the others' once it knows their fate).
    if (!srv.sink.submit(std::move(cap)) && log::access_enabled()) {
      store::log_access(cap, {}, {}, "queue_full");
    }
  };
  // An answer of the sidecar's own, as the record's response (docs/records.md).
  auto record_answer = [&](const http::response<http::string_body>& res) {
    cap.status_code = res.result_int();
    cap.reason = std::string(res.reason());
    cap.response_headers = to_header_list(res);
    cap.response_body.head = cap.capture_bodies ? res.body().substr(0, body_limit) : std::string();
    cap.response_body.size = res.body().size();
    cap.sidecar_answered = true;
  };
  // The sidecar's own 502/504, recorded as the response.
  auto answer_error = [&](exchange_error err) -> net::awaitable<bool> {
    // Contract section 3: 504 is "no response head within upstream_timeout"; an upstream that
    // cannot be reached, a connect that times out included, is 502.
    const int status = err == exchange_error::upstream_response_timeout ? 504 : 502;
    // The rest of a request body may still be on its way: close rather than read it.
    const bool keep = client_keep_alive && parser.is_done() && !shutdown &&
                      !srv.stopping.load(std::memory_order_relaxed);
    auto res = local_response(status, keep, client_version, store::describe(err));
    record_answer(res);
    upstream.reset();
    finish(shutdown ? exchange_error::shutdown : err);
    co_return co_await write_answer(res);
  };

  // Connect (or reuse), send the head and any body, read the response head; a reused
  // connection that turns out stale is replaced once when the request can be replayed.
  std::optional<http::response_parser<http::buffer_body>> rp;
  bool body_sent = false;
  for (int attempt = 0;; ++attempt) {
    if (dest.route == nullptr && dest.checked.empty()) {
      co_return co_await answer_error(exchange_error::upstream_resolve_failed);
    }
    upstream = attempt == 0 ? srv.pool.take(dest.pool_key) : nullptr;
    const bool reused = upstream != nullptr;
    if (!reused) {
      const exchange_error err = co_await connect_upstream(dest);
      if (err != exchange_error::none) co_return co_await answer_error(err);
    }
    const bool watch_early = !client_tls && !upstream->tls;
    if (reused && watch_early && upstream->read_pending && !body_buffered(parser, client_buf.size())) {
      // The body is watched for an early answer as it streams (proxy/early_answer.hpp), a
      // readiness wait that the pool's pending read would race for the upstream's bytes: the
      // read ends first. If it saw anything (the upstream's close, stray bytes), the
      // connection is stale, and nothing has been sent on it yet.
      beast::error_code ignored;
      upstream->socket().cancel(ignored);
      auto [sec, sn] = co_await srv.pool.settle(*upstream);
      if (sec != net::error::operation_aborted || sn != 0) {
        upstream.reset();
        continue;
      }
    }
    ++upstream->exchanges;

    http::request_serializer<http::buffer_body> sr{req};
    beast::error_code ec;
    // With Expect: 100-continue the body waits for the upstream's 100 (or continue_wait).
    bool awaiting_continue = expect_continue;
    bool continue_relayed = false;  // the client has had a 100
    bool stale = false;
    bool early_answer = false;  // the upstream spoke before the request body was all sent
    // Room for whole chunks of a request body (see connect_upstream); an idle connection
    // gives it back (shrink_to_fit while waiting for the next request).
    if (!parser.is_done()) client_buf.reserve(body_chunk);
    for (;;) {
      if (!awaiting_continue) {
        // Stream the request body: read a piece from the client, write it upstream.
        for (;;) {
          if (!parser.is_done()) {
            char* buf = body_buffer();
            req.body().data = buf;
            req.body().size = body_chunk;
            arm(srv.pc.idle_timeout, phase::client);
            // An upstream that answers before the body is all there: relay it now.
            const next_ready next =
                watch_early && client_buf.size() == 0
                    ? co_await wait_for_body_or_answer(client_socket(), upstream->socket())
                    : next_ready::client;
            if (next == next_ready::upstream) {
              early_answer = true;
              break;
            }
            auto [rec, rn] =
                next == next_ready::cancelled
                    ? std::tuple{beast::error_code(net::error::operation_aborted), std::size_t{0}}
                    : co_await visit_client([&](auto& s) {
                        return http_read::async_read_some(s, client_buf, parser);
                      });
            if (rec == http::error::need_buffer) rec = {};
            if (rec) {
              upstream.reset();  // the upstream must not see a partial request complete
              if (shutdown) {
                finish(exchange_error::shutdown);
                co_return false;
              }
              if (rec == net::error::operation_aborted || rec == net::error::eof ||
                  rec == net::error::connection_reset || rec == http::error::partial_message ||
                  timed_out) {
                finish(timed_out ? exchange_error::client_timeout : exchange_error::client_closed);
                co_return false;
              }
              // Bad chunk framing mid-body: the upstream saw an unfinished request; the
              // client gets 400, which the record shows as the response.
              auto res = local_response(400, false, client_version);
              record_answer(res);
              finish(exchange_error::client_bad_body);
              co_await write_answer(res);
              co_return false;
            }
            const std::size_t got = body_chunk - req.body().size;
            keep_head(cap.request_body, buf, got, body_limit, cap.capture_bodies);
            if (form_scan) form_scan->feed(std::string_view(buf, got));
            // A zero-size piece would read as the last chunk: pass none instead.
            req.body().data = got != 0 ? buf : nullptr;
            req.body().size = got;
            req.body().more = !parser.is_done();
          } else {
            req.body().data = nullptr;
            req.body().size = 0;
            req.body().more = false;
          }
          arm(srv.pc.idle_timeout, phase::upstream);
          auto [wec, wn] = co_await upstream->visit(
              [&](auto& s) { return http::async_write(s, sr, tuple_awaitable); });
          if (wec == http::error::need_buffer) wec = {};
          if (wec) {
            ec = wec;
            break;
          }
          if (sr.is_done()) break;
        }
        body_sent = !early_answer;  // an early answer ends the connection (request_unfinished)
        if (ec) {
          if (reused && replayable && attempt == 0 && cap.request_body.size == 0) {
            stale = true;
            break;
          }
          if (shutdown) co_return co_await answer_error(exchange_error::shutdown);
          if (timed_out) co_return co_await answer_error(exchange_error::upstream_idle_timeout);
          // The upstream stopped reading: it may have answered first (read below). If it
          // did not, the head's read fails and the answer is 502 as for any close.
          early_answer = true;
        }
      } else {
        arm(srv.pc.idle_timeout, phase::upstream);
        auto [wec, wn] = co_await upstream->visit(
            [&](auto& s) { return http::async_write_header(s, sr, tuple_awaitable); });
        if (wec) co_return co_await answer_error(exchange_error::upstream_closed);
      }

      // The response head, after any interim 1xx.
      for (;;) {
        rp.emplace();
        rp->header_limit(static_cast<std::uint32_t>(srv.pc.max_header_bytes));
        rp->body_limit(boost::none);
        if (head_request) rp->skip(true);
        const bool fallback = awaiting_continue && srv.pc.upstream_timeout > continue_wait;
        bool client_gone = false;
        bool nothing_read = true;
        const beast::error_code hec = co_await read_upstream_head(
            *rp, fallback ? continue_wait : srv.pc.upstream_timeout, client_gone, nothing_read);
        if (client_gone) {
          // The client left while the upstream was thinking: the exchange ends now, and the
          // upstream connection with it (its answer would have nowhere to go).
          upstream.reset();
          finish(exchange_error::client_closed);
          co_return false;
        }
        if (hec && fallback && timed_out && !shutdown) {
          // No answer to the expectation: tell the client to send the body, and send it on.
          // Bytes of a head that had begun to arrive stay in the buffer for the next read.
          awaiting_continue = false;
          continue_relayed = true;
          http::response_header<> cont;
          cont.result(http::status::continue_);
          if (!co_await write_interim(cont)) {
            upstream.reset();
            finish(exchange_error::client_closed);
            co_return false;
          }
          break;  // now send the body
        }
        if (hec) {
          if (shutdown) co_return co_await answer_error(exchange_error::shutdown);
          if (timed_out) co_return co_await answer_error(exchange_error::upstream_response_timeout);
          const bool closed = hec == http::error::end_of_stream || hec == net::error::eof ||
                              hec == net::error::connection_reset ||
                              hec == http::error::partial_message ||
                              hec == net::ssl::error::stream_truncated;
          if (closed && reused && replayable && attempt == 0 && nothing_read) {
            stale = true;
            break;
          }
          co_return co_await answer_error(closed ? exchange_error::upstream_closed
                                                 : exchange_error::upstream_bad_response);
        }
        const int code = rp->get().result_int();
        if (code >= 100 && code < 200 && code != 101) {
          if (code == 100 && awaiting_continue) {
            awaiting_continue = false;
            continue_relayed = true;
            if (!co_await write_interim(rp->get())) {
              upstream.reset();
              finish(exchange_error::client_closed);
              co_return false;
            }
            break;  // now send the body
          }
          const bool repeat = code == 100 && continue_relayed;  // a late 100, after ours
          if (client_version >= 11 && !repeat && !co_await write_interim(rp->get())) {
            upstream.reset();
            finish(exchange_error::client_closed);
            co_return false;
          }
          continue;
        }
        awaiting_continue = false;
        break;
      }
      if (stale) break;
      if (rp->is_header_done() && rp->get().result_int() >= 200) break;
      if (rp->get().result_int() == 101) break;
      // 100 received: loop to send the body, then read the final head.
    }
    if (stale) {
      upstream.reset();
      rp.reset();
      continue;
    }
    break;
  }

  auto& res = rp->get();
  const int code = res.result_int();
  cap.status_code = code;
  cap.reason = std::string(res.reason());
  cap.response_headers = to_header_list(res);
  if (fill != nullptr) fill->start(res);  // before the head is adapted to the client

  // The request body was not sent (final answer to Expect: 100-continue): the client may
  // still send it, so this connection ends after the response.
  const bool request_unfinished = !parser.is_done() || !body_sent;
  const bool upstream_keep_alive = res.keep_alive() && !rp->need_eof();
  const bool switching = code == 101;
  if (switching &&
      (!upgrading || !upgrade_was_offered(req[http::field::upgrade], res[http::field::upgrade]))) {
    co_return co_await answer_error(exchange_error::upstream_bad_response);
  }

  // The response as the client gets it.
  if (!normalise_response_framing(res, code)) {
    co_return co_await answer_error(exchange_error::upstream_bad_response);
  }
  strip_hop_by_hop(res, switching);
  bool client_keep = client_keep_alive && !request_unfinished && !switching && !shutdown &&
                     !srv.stopping.load(std::memory_order_relaxed);
  res.version(client_version);
  const bool has_body = !head_request && code != 204 && code != 304 && !switching;
  if (has_body && !res.has_content_length() && !res.chunked()) {
    // Close-delimited upstream body: chunked for HTTP/1.1 clients, close for 1.0.
    if (client_version >= 11) {
      res.chunked(true);
    } else {
      client_keep = false;
    }
  }
  if (client_version < 11 && res.chunked()) {
    res.chunked(false);
    client_keep = false;
  }
  if (switching) {
    res.set(http::field::connection, "Upgrade");
  } else {
    res.keep_alive(client_keep);
  }
  // Only a response the cache is storing is marked; any other passes unchanged.
  if (fill != nullptr && fill->active()) res.set("X-Cache", "MISS");

  // The upstream connection goes back to the pool as soon as its response is complete, before
  // the client has the last bytes: the next request (this client's or another's) finds it.
  auto release_upstream = [&] {
    if (upstream_keep_alive && rp->is_done() && upstream->buffer.size() == 0 &&
        !request_unfinished) {
      srv.pool.give(std::move(upstream));
    } else {
      upstream.reset();
    }
  };
  http::response_serializer<http::buffer_body> rs{res};
  for (;;) {
    if (!rp->is_done()) {
      char* buf = body_buffer();
      res.body().data = buf;
      res.body().size = body_chunk;
      arm(srv.pc.idle_timeout, phase::upstream);
      auto [rec, rn] = co_await upstream->visit(
          [&](auto& s) { return http_read::async_read_some(s, upstream->buffer, *rp); });
      if (rec == http::error::need_buffer) rec = {};
      if (rec == http::error::end_of_stream && rp->is_done()) rec = {};
      if (rec) {
        const exchange_error cut = is_malformed_message(rec)
                                       ? exchange_error::upstream_bad_response
                                       : exchange_error::upstream_reset_mid_body;
        // Nothing relayed yet: the client can still have a 502.
        if (!rs.is_header_done() && !shutdown && !timed_out) co_return co_await answer_error(cut);
        // The client has the head already: all that is left is to cut its connection, and
        // the record says why (a malformed chunk is not a reset).
        upstream.reset();
        cap.latency = clock::now() - arrived;
        finish(shutdown    ? exchange_error::shutdown
               : timed_out ? exchange_error::upstream_idle_timeout
                           : cut);
        co_return false;
      }
      const std::size_t got = body_chunk - res.body().size;
      // An api response's JSON sid or XML <Sid> names the session even when bodies are not
      // kept: the head is then read for that and dropped (store/record_builder.cpp).
      keep_head(cap.response_body, buf, got, body_limit,
                cap.capture_bodies || cap.direction == conf::direction::api);
      if (fill != nullptr) fill->write(net::const_buffer(buf, got));
      res.body().data = got != 0 ? buf : nullptr;
      res.body().size = got;
      res.body().more = !rp->is_done();
    } else {
      res.body().data = nullptr;
      res.body().size = 0;
      res.body().more = false;
    }
    if (rp->is_done() && cap.latency == clock::duration::zero()) {
      cap.latency = clock::now() - arrived;
    }
    // Stored before the client has the last byte, so that its next request finds it. A fill
    // that does not get here (an error on either side) aborts when it is destroyed.
    if (fill != nullptr && rp->is_done()) fill->commit();
    if (rp->is_done() && !switching && upstream) release_upstream();
    arm(srv.pc.idle_timeout, phase::client);
    auto [wec, wn] = co_await visit_client(
        [&](auto& s) { return http::async_write(s, rs, tuple_awaitable); });
    if (wec == http::error::need_buffer) wec = {};
    if (wec) {
      upstream.reset();
      finish(shutdown ? exchange_error::shutdown
             : timed_out ? exchange_error::client_timeout
                         : exchange_error::client_closed);
      co_return false;
    }
    if (rs.is_done()) break;
  }

  if (switching) {
    cap.upgraded = true;
    co_await tunnel();
    cap.latency = clock::now() - arrived;
    finish(shutdown ? exchange_error::shutdown : exchange_error::none);
    co_return false;
  }

  if (upstream) release_upstream();
  finish(exchange_error::none);
  if (request_unfinished && client_plain) {
    // The client may still be sending the body: closing now could reset the answer away.
    arm(linger_limit, phase::client);
    co_await drain_before_close(*client_plain, body_buffer(), body_chunk);
  }
  co_return client_keep;
}

net::awaitable<void> server::impl::session::tunnel() {
  // Bytes already read past the handshake on either side go first.
  auto up = std::move(upstream);
  auto flush = [&](auto& from, auto& to) -> net::awaitable<bool> {
    if (from.size() == 0) co_return true;
    auto [ec, n] = co_await net::async_write(to, from.data(), tuple_awaitable);
    from.consume(n);
    co_return !ec;
  };
  bool ok = co_await visit_client([&](auto& c) { return flush(up->buffer, c); });
  if (ok) ok = co_await up->visit([&](auto& u) { return flush(client_buf, u); });
  if (!ok) co_return;

  // Both directions pump on this strand; either side closing (or stalling for idle_timeout)
  // closes both, which ends the other pump.
  auto other = take_block();
  char* a = body_buffer();
  char* b = other.get();
  upstream = std::move(up);  // so that the watchdog and stop() can cancel it
  auto pump = [this](auto& from, auto& to, char* buf) -> net::awaitable<void> {
    for (;;) {
      arm(srv.pc.idle_timeout, phase::both);
      auto [ec, n] = co_await from.async_read_some(net::buffer(buf, body_chunk), tuple_awaitable);
      if (ec) break;
      auto [wec, wn] = co_await net::async_write(to, net::buffer(buf, n), tuple_awaitable);
      if (wec) break;
    }
    cancel_phase(phase::both);
    beast::error_code ignored;
    client_socket().close(ignored);
    if (upstream) upstream->socket().close(ignored);
  };
  using namespace net::experimental::awaitable_operators;
  co_await visit_client([&](auto& c) {
    return upstream->visit([&](auto& u) { return pump(c, u, a) && pump(u, c, b); });
  });
  upstream.reset();
}

// ---------------------------------------------------------------------------------------

void server::impl::spawn_session(tcp::socket socket) {
  std::shared_ptr<session> s;
  {
    std::lock_guard lock(sessions_mu);
    const std::uint64_t sid = ++next_session_id;
    s = std::make_shared<session>(*this, std::move(socket), sid);
    sessions.emplace(sid, s);
  }
  connections->add(1);
  net::co_spawn(s->strand, session::run(s), [](std::exception_ptr e) {
    if (e) log::error("proxy connection ended by an exception");
  });
}

void server::impl::session_ended(std::uint64_t sid) {
  connections->add(-1);
  std::lock_guard lock(sessions_mu);
  sessions.erase(sid);
  if (sessions.empty()) sessions_cv.notify_all();
}

net::awaitable<void> server::impl::accept_loop() {
  for (;;) {
    auto [ec, socket] = co_await acceptor->async_accept(net::make_strand(ioc), tuple_awaitable);
    if (ec) {
      if (ec == net::error::operation_aborted || !acceptor->is_open()) co_return;
      // EMFILE and the like: wait a little rather than spin.
      net::steady_timer pause(acceptor->get_executor(), 50ms);
      co_await pause.async_wait(tuple_awaitable);
      continue;
    }
    beast::error_code rec;
    const auto remote = socket.remote_endpoint(rec);
    if (rec) continue;
    int refusal = 0;
    const std::shared_ptr<const snapshot> now = current.load();
    const conf::proxy_config& live = now->cfg->proxy;
    if (!live.allowed_clients.empty() &&
        std::none_of(live.allowed_clients.begin(), live.allowed_clients.end(),
                     [&](const conf::cidr& c) { return c.contains(remote.address()); })) {
      refusal = 403;
    } else if (static_cast<std::size_t>(connections->value()) >= live.max_connections) {
      refusal = 503;
    }
    if (refusal != 0) {
      count_local(refusal);
      if (!now->server_tls) {
        // A short answer on a fresh socket fits its send buffer: written without waiting.
        const std::string body = json_error(refusal, local_message(refusal));
        const std::string text = "HTTP/1.1 " + std::to_string(refusal) +
                                 (refusal == 403 ? " Forbidden" : " Service Unavailable") +
                                 "\r\nContent-Type: application/json\r\nContent-Length: " +
                                 std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
        socket.non_blocking(true, rec);
        socket.write_some(net::buffer(text), rec);
        socket.shutdown(tcp::socket::shutdown_send, rec);
      }
      socket.close(rec);
      continue;
    }
    spawn_session(std::move(socket));
  }
}

// ---------------------------------------------------------------------------------------

server::server(std::shared_ptr<const conf::config> cfg, store::capture_sink& sink,
               metrics::registry& metrics, cache::media_cache* cache)
    : impl_(std::make_unique<impl>(std::move(cfg), sink, metrics, cache)) {}

server::~server() {
  if (impl_->started) stop(std::chrono::milliseconds(0));
}

namespace {

/// A route whose upstream is one of the sidecar's own listeners (the API, or the proxy
/// itself) is a configuration error: the API must never be reachable through the proxy, and
/// a route to the proxy would loop. Only address literals and "localhost" can be checked
/// here; a name is checked by nobody (docs/reliability.md).
void refuse_routes_to_own_listeners(const conf::config& cfg,
                                    const std::vector<tcp::endpoint>& own) {
  for (std::size_t i = 0; i < cfg.routes.size(); ++i) {
    const auto& up = cfg.routes[i].upstream;
    std::vector<net::ip::address> addresses;
    beast::error_code ec;
    const auto literal = net::ip::make_address(up.host, ec);
    if (!ec) {
      addresses.push_back(literal);
    } else if (beast::iequals(up.host, "localhost")) {
      addresses = {net::ip::make_address_v4("127.0.0.1"), net::ip::make_address_v6("::1")};
    }
    for (const auto& a : addresses) {
      for (const auto& l : own) {
        if (l.port() != up.port) continue;
        if (l.address() == a || l.address().is_unspecified()) {
          throw conf::config_error(cfg.source + ": [[route]] #" + std::to_string(i + 1) +
                                   " upstream: \"" + up.text + "\" is the sidecar's own listener " +
                                   (std::ostringstream() << l).str() +
                                   ": the API is never reachable through the proxy");
        }
      }
    }
  }
}

}  // namespace

std::unique_ptr<store::trace_replayer> server::make_replayer(store::commit_feed& feed) {
  impl& m = *impl_;
  replay_parts parts{m.ioc.get_executor(), m.current, m.pool, m.client_tls, m.own_listeners,
                     m.sink, m.pc};
  return std::make_unique<replayer>(std::move(parts), feed);
}

tcp::endpoint server::start(std::vector<tcp::endpoint> own_listeners) {
  impl& m = *impl_;
  const auto& pc = m.pc;
  m.current.store(make_snapshot(m.cfg));
  conf::restrict_tls(m.client_tls);
  m.client_tls.set_default_verify_paths();
  m.client_tls.set_verify_mode(ssl::verify_peer);
  if (pc.upstream_ca) {
    beast::error_code ec;
    m.client_tls.load_verify_file(pc.upstream_ca->string(), ec);
    if (ec) {
      throw conf::config_error(m.cfg->source + ": [proxy] upstream_ca: cannot use " +
                               pc.upstream_ca->string() + ": " + ec.message());
    }
  }

  m.acceptor.emplace(net::make_strand(m.ioc));
  conf::listen_on(*m.acceptor, pc.listen, pc.listen_origin);
  const tcp::endpoint bound = m.acceptor->local_endpoint();
  m.own_listeners = std::move(own_listeners);
  m.own_listeners.push_back(bound);
  refuse_routes_to_own_listeners(*m.cfg, m.own_listeners);

  net::co_spawn(m.acceptor->get_executor(), m.accept_loop(), [](std::exception_ptr e) {
    if (e) log::error("proxy accept loop ended by an exception");
  });
  m.work.emplace(m.ioc.get_executor());
  for (unsigned i = 0; i < m.thread_count; ++i) {
    m.threads.emplace_back([&m, i] {
      support::name_this_thread("proxy-" + std::to_string(i + 1));
      m.ioc.run();
    });
  }
  m.started = true;
  return bound;
}

void server::reconfigure(std::shared_ptr<const conf::config> next) {
  impl& m = *impl_;
  refuse_routes_to_own_listeners(*next, m.own_listeners);
  m.current.store(make_snapshot(std::move(next)));
}

void server::stop(std::chrono::milliseconds drain) {
  impl& m = *impl_;
  if (!m.started) return;
  m.started = false;
  m.stopping.store(true);
  net::post(m.acceptor->get_executor(), [&m] {
    beast::error_code ec;
    m.acceptor->close(ec);
  });

  auto each_session = [&m](bool hard) {
    std::lock_guard lock(m.sessions_mu);
    for (auto& [sid, weak] : m.sessions) {
      if (auto s = weak.lock()) {
        net::post(s->strand, [s, hard] { s->on_stop(hard); });
      }
    }
  };
  // Idle connections close now; busy ones end after their exchange.
  each_session(false);
  {
    std::unique_lock lock(m.sessions_mu);
    m.sessions_cv.wait_for(lock, drain, [&m] { return m.sessions.empty(); });
  }
  each_session(true);
  {
    std::unique_lock lock(m.sessions_mu);
    m.sessions_cv.wait_for(lock, std::chrono::seconds(5), [&m] { return m.sessions.empty(); });
  }
  m.pool.close();
  m.work.reset();
  m.ioc.stop();
  for (auto& t : m.threads) t.join();
  m.threads.clear();
}

}  // namespace sidecar::proxy
