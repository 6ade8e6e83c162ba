// The Traces API listener: Beast over C++20 coroutines on an io_context of its own, plain or
// TLS, keep-alive, bounded reads, and the list answer streamed in chunks.
#include "api/server.hpp"

#include <openssl/ssl.h>

#include <atomic>
#include <boost/asio/experimental/concurrent_channel.hpp>
#include <boost/beast/ssl.hpp>
#include <condition_variable>
#include <list>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "api/handler.hpp"
#include "api/har.hpp"
#include "api/replay.hpp"
#include "api/routing.hpp"
#include "api/stream.hpp"
#include "api/timed_stream.hpp"
#include "conf/config_error.hpp"
#include "conf/listen.hpp"
#include "conf/server_tls.hpp"
#include "support/http_read.hpp"
#include "support/log.hpp"
#include "support/thread_name.hpp"

namespace sidecar::api {
namespace {

// A request head (request line, target with its query, headers) above this is refused with
// 431: it bounds the query string a client can send.
constexpr std::uint32_t header_limit = 16 * 1024;
// The API takes no bodies; a small one (a client sending a POST) is read and ignored.
constexpr std::uint64_t body_limit = 16 * 1024;
// A whole request must arrive within this, and a kept-alive connection with nothing to do is
// closed after it (slow clients cannot hold a connection open).
constexpr auto request_timeout = std::chrono::seconds(15);
// Every write (one answer, or one chunk of a list) must complete within this.
constexpr auto write_timeout = std::chrono::seconds(30);
// List chunks are written once this many bytes are ready: few syscalls, bounded memory.
constexpr std::size_t chunk_bytes = 64 * 1024;
// stop(): answers in progress get this long to finish.
constexpr auto stop_grace = std::chrono::seconds(3);

constexpr auto as_tuple = net::as_tuple(net::use_awaitable);

const std::array<unsigned, 13> counted_statuses{200, 204, 400, 401, 403, 404, 405,
                                                413, 431, 500, 501, 503, 0};

/// Everything the server and its connections share (server::impl is this).
struct state {
  state(std::shared_ptr<const conf::config> c, store::trace_reader& r, metrics::registry& m,
        std::function<store::store_health()> health)
      : cfg(std::move(c)),
        reader(r),
        registry(m),
        decide(cfg, reader, std::move(health), m),
        duration(&m.add_histogram("sidecar_api_request_duration_seconds",
                                  "Time from a request read whole to its answer written")) {
    for (const unsigned s : counted_statuses) {
      requests[s] = &m.add_counter("sidecar_api_requests_total",
                                         "Requests answered by the Traces API, by status",
                                         {{"status", s == 0 ? "other" : std::to_string(s)}});
    }
  }

  void count(unsigned status) {
    const auto it = requests.find(status);
    (it != requests.end() ? it->second : requests[0])->inc();
  }

  /// One open connection, so that stop() can close it when it has no answer in progress.
  /// `busy`, `done` and `socket` are only touched on the connection's strand.
  struct connection {
    explicit connection(net::any_io_executor s) : strand(std::move(s)), dog(strand) {}
    net::any_io_executor strand;
    tcp::socket* socket = nullptr;
    bool busy = false;
    bool done = false;
    support::watchdog dog;  // the connection's deadlines (api/timed_stream.hpp)
  };

  std::shared_ptr<const conf::config> cfg;
  store::trace_reader& reader;
  metrics::registry& registry;
  handler decide;
  std::unique_ptr<stream_hub> streams;  // set by enable_streams()
  std::unique_ptr<replay_desk> replay_owner;  // set once by enable_replay()
  std::atomic<replay_desk*> replays{nullptr};
  std::map<unsigned, metrics::counter*> requests;
  metrics::histogram* duration;
  // The listener's TLS context (null: plain); a reload swaps it, a connection keeps its own.
  std::atomic<std::shared_ptr<ssl::context>> tls;
  // Store work slots: one fewer than the API's threads, so that a thread is always free for
  // the probes, /status and /metrics however many slow queries run (docs/operations.md). A
  // request that reads the store holds a slot from its decision to its last byte; others
  // wait for one without holding a thread.
  using slot_channel = net::experimental::concurrent_channel<void(beast::error_code)>;
  std::unique_ptr<slot_channel> store_slots;

  // Declared before the acceptor: the acceptor (an I/O object of it) goes first. Held by
  // pointer so that stop() can destroy it, and the coroutine frames it still owns, while the
  // rest of impl is alive.
  std::unique_ptr<net::io_context> ioc;
  std::optional<tcp::acceptor> acceptor;
  std::vector<std::thread> threads;
  std::atomic<bool> stopping{false};

  std::mutex mu;
  std::condition_variable idle;
  std::list<std::shared_ptr<connection>> connections;

  // Called on the connection's strand; its watchdog's loop holds it until leave().
  std::shared_ptr<connection> enter(net::any_io_executor strand, tcp::socket& s) {
    auto c = std::make_shared<connection>(std::move(strand));
    c->socket = &s;
    net::co_spawn(c->strand, c->dog.run([c](std::uint8_t /*what*/) {
      beast::error_code ec;
      if (c->socket != nullptr) c->socket->cancel(ec);
    }),
                  net::detached);
    const std::lock_guard lock(mu);
    connections.push_back(c);
    return c;
  }
  void leave(const std::shared_ptr<connection>& c) {
    c->done = true;
    c->socket = nullptr;  // its owner's frame ends: nothing left for the watchdog to cancel
    c->dog.stop();
    const std::lock_guard lock(mu);
    connections.remove(c);
    idle.notify_all();
  }
};

using impl = state;
using request = http::request<http::string_body>;

template <class Stream>
void arm(Stream& stream, std::chrono::steady_clock::duration d) {
  stream.arm(d);
}

/// Writes a complete answer; false when the connection is to be closed.
template <class Stream>
net::awaitable<bool> write_answer(Stream& stream, const answer& a, unsigned version, bool head,
                                  bool keep_alive) {
  http::response<http::string_body> res{static_cast<http::status>(a.status), version};
  if (a.status != 204) res.set(http::field::content_type, a.content_type);
  if (a.challenge) res.set(http::field::www_authenticate, "Basic realm=\"Restcomm realm\"");
  if (!a.allow.empty()) res.set(http::field::allow, a.allow);
  for (const auto& [name, value] : a.headers) res.set(name, value);
  res.keep_alive(keep_alive);
  res.body() = a.body;
  res.prepare_payload();
  arm(stream, write_timeout);
  beast::error_code ec;
  if (head) {
    http::response_serializer<http::string_body> sr{res};
    std::tie(ec, std::ignore) = co_await http::async_write_header(stream, sr, as_tuple);
  } else {
    std::tie(ec, std::ignore) = co_await http::async_write(stream, res, as_tuple);
  }
  co_return !ec && keep_alive;
}

/// Writes `buf` as one chunk (or as plain bytes for HTTP/1.0) and empties it. `buf` lives in
/// the caller's frame, which stays suspended until this returns.
template <class Stream>
net::awaitable<bool> write_chunk(Stream& stream, std::string& buf, bool chunked) {
  if (buf.empty()) co_return true;
  arm(stream, write_timeout);
  beast::error_code ec;
  if (chunked) {
    std::tie(ec, std::ignore) =
        co_await net::async_write(stream, http::make_chunk(net::buffer(buf)), as_tuple);
  } else {
    std::tie(ec, std::ignore) = co_await net::async_write(stream, net::buffer(buf), as_tuple);
  }
  buf.clear();
  co_return !ec;
}

/// Streams a list answer: the head, then records as they come from the store, in chunks of
/// about chunk_bytes (HTTP/1.1 chunked; HTTP/1.0 gets the bytes and a close). A store failure
/// after the head is sent cannot change the status any more: the connection is then closed
/// without the final chunk, so the client sees an incomplete answer rather than a short list.
template <class Stream>
net::awaitable<bool> write_list(Stream& stream, list_plan plan, unsigned version, bool head,
                                bool keep_alive) {
  const bool chunked = version >= 11;
  if (!chunked) keep_alive = false;
  http::response<http::empty_body> res{http::status::ok, version};
  res.set(http::field::content_type, "application/json");
  if (plan.har) {
    if (const std::string next = plan.next_uri(); !next.empty()) {
      res.set(http::field::link, "<" + next + ">; rel=\"next\"");
    }
  }
  res.keep_alive(keep_alive);
  if (chunked) res.chunked(true);
  http::response_serializer<http::empty_body> sr{res};
  arm(stream, write_timeout);
  auto [ec, n] = co_await http::async_write_header(stream, sr, as_tuple);
  if (ec || head) co_return !ec && keep_alive;

  std::string buf;
  buf.reserve(chunk_bytes + 4096);
  json::writer w(buf);
  if (plan.har) {
    append_har_head(buf);
  } else {
    write_list_head(w, plan.numbers, plan.uris, plan.last_sid, plan.more);
  }

  std::string record;
  bool first = true;
  while (plan.records->next(record)) {
    if (!plan.har) {
      w.raw(record);
    } else if (append_har_entry(buf, record, first)) {
      first = false;
    }
    if (buf.size() >= chunk_bytes && !co_await write_chunk(stream, buf, chunked)) co_return false;
  }
  if (plan.records->status() != store::query_status::ok) co_return false;
  if (plan.har) {
    append_har_tail(buf);
  } else {
    w.end_array().end_object();
  }
  if (!co_await write_chunk(stream, buf, chunked)) co_return false;
  if (chunked) {
    arm(stream, write_timeout);
    std::tie(ec, std::ignore) =
        co_await net::async_write(stream, http::make_chunk_last(), as_tuple);
    if (ec) co_return false;
  }
  co_return keep_alive;
}

/// One access line per API request ([log] access): the caller is the Basic user presented
/// (checked: a 401 says it did not pass), never the password; the path without its query.
void log_request(const request_view& req, unsigned status,
                 std::chrono::steady_clock::duration took) {
  const auto creds = parse_basic_auth(req.authorization);
  const std::string_view path = req.target.substr(0, req.target.find('?'));
  const std::string code = std::to_string(status);
  const std::string ms =
      std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(took).count());
  log::info("api request", {{"method", req.method},
                            {"path", path},
                            {"caller", creds ? std::string_view(creds->user).substr(0, 64) : "-"},
                            {"status", code},
                            {"latency_ms", ms}});
}

/// Answers …/Traces/Stream: a refusal (and the connection goes on), or the event stream until
/// it ends (and the connection with it). False when the connection is to be closed.
template <class Stream>
net::awaitable<bool> serve_stream(impl* self, Stream& stream, const request& req,
                                  const request_view& view, bool keep_alive) {
  auto admitted =
      self->streams->admit(view, req["Last-Event-ID"], stream.get_executor());
  if (auto* a = std::get_if<answer>(&admitted)) {
    self->count(a->status);
    co_return co_await write_answer(stream, *a, req.version(), req.method() == http::verb::head,
                                    keep_alive);
  }
  self->count(200);
  const bool chunked = req.version() >= 11;
  http::response<http::empty_body> res{http::status::ok, req.version()};
  res.set(http::field::content_type, "text/event-stream");
  res.set(http::field::cache_control, "no-cache");
  res.set("X-Accel-Buffering", "no");  // a buffering reverse proxy in front must pass events on
  res.keep_alive(false);  // the connection ends with the stream
  if (chunked) res.chunked(true);
  http::response_serializer<http::empty_body> sr{res};
  arm(stream, write_timeout);
  auto [ec, n] = co_await http::async_write_header(stream, sr, as_tuple);
  if (ec) co_return false;
  stream_connection_over<Stream> sc(stream, chunked);
  co_await self->streams->run(std::move(std::get<1>(admitted)), sc);
  co_return false;
}

/// A read that ends the connection quietly: the client went away or was idle too long, or the
/// server is stopping.
bool read_ends_quietly(const beast::error_code& ec, const impl* self) {
  // A passing deadline cancels the read (the connection's watchdog): operation_aborted.
  return ec == http::error::end_of_stream || ec == net::error::eof ||
         ec == net::error::operation_aborted || ec == net::error::connection_reset ||
         ec == net::ssl::error::stream_truncated || self->stopping.load();
}

/// The answer to a request that could not be read: malformed, or over a limit.
answer read_error_answer(const beast::error_code& ec) {
  if (ec == http::error::header_limit) {
    return handler::error(431, "The request head is larger than 16 KiB");
  }
  if (ec == http::error::body_limit) {
    return handler::error(413, "The request body is larger than 16 KiB");
  }
  return handler::error(400, "Malformed HTTP request");
}

/// The request duration histogram and the access line, once an answer is written.
void record_request(impl* self, const request_view& view, unsigned status,
                    std::chrono::steady_clock::time_point started) {
  const auto took = std::chrono::steady_clock::now() - started;
  self->duration->observe(std::chrono::duration<double>(took).count());
  if (log::access_enabled()) log_request(view, status, took);
}

/// A store work slot (state::store_slots) held by one answer, given back however the answer
/// ends (an exception from a record stream included); not while stop() destroys the frames,
/// when the channel is gone.
struct slot_release {
  impl* self;
  bool held = false;
  ~slot_release() { give_back(); }
  void give_back() {
    if (held && !self->stopping.load()) self->store_slots->try_receive([](beast::error_code) {});
    held = false;
  }
};

/// Answers 503 for a resource this server was built without.
template <class Stream>
net::awaitable<bool> serve_unavailable(impl* self, Stream& stream, const request& req,
                                       const request_view& view, bool keep_alive,
                                       std::string_view message) {
  const auto started = std::chrono::steady_clock::now();
  const answer a = handler::error(503, message);
  self->count(a.status);
  const bool again =
      co_await write_answer(stream, a, req.version(), req.method() == http::verb::head, keep_alive);
  record_request(self, view, a.status, started);
  co_return again;
}

/// Answers …/Traces/{TraceSid}/Replay. A replay waits on an upstream for up to the proxy's
/// timeouts: it holds no store slot (its one read of the store is a point lookup). False when
/// the connection is to be closed.
template <class Stream>
net::awaitable<bool> serve_replay(impl* self, replay_desk* replays, Stream& stream,
                                  const request& req, const request_view& view, bool keep_alive) {
  const auto started = std::chrono::steady_clock::now();
  const answer a = co_await replays->serve(view, req.body());
  self->count(a.status);
  const bool again = co_await write_answer(stream, a, req.version(), false, keep_alive);
  record_request(self, view, a.status, started);
  co_return again;
}

/// Answers every other request through the handler's decision, holding a store slot unless it
/// answers at once. False when the connection is to be closed.
template <class Stream>
net::awaitable<bool> serve_decided(impl* self, Stream& stream, const request& req,
                                   const request_view& view, bool keep_alive) {
  const auto started = std::chrono::steady_clock::now();
  const bool head = req.method() == http::verb::head;
  slot_release slot{self};
  if (!handler::answers_at_once(view.match.kind)) {
    auto [stopped] = co_await self->store_slots->async_send(beast::error_code{}, as_tuple);
    if (stopped) co_return false;  // the server is stopping
    slot.held = true;
  }
  decision d = self->decide.decide(view);
  bool again = false;
  unsigned status = 200;
  if (auto* a = std::get_if<answer>(&d)) {
    status = a->status;
    self->count(a->status);
    again = co_await write_answer(stream, *a, req.version(), head, keep_alive);
  } else {
    self->count(200);
    again = co_await write_list(stream, std::move(std::get<list_plan>(d)), req.version(), head,
                                keep_alive);
  }
  slot.give_back();
  record_request(self, view, status, started);
  co_return again;
}

/// Answers one request read whole. False when the connection is to be closed.
template <class Stream>
net::awaitable<bool> serve_request(impl* self, Stream& stream, const request& req) {
  const bool keep_alive = req.keep_alive() && !self->stopping.load();
  const request_view view{req.method_string(),
                          req.target(),
                          req[http::field::authorization],
                          req[http::field::origin],
                          req["Sec-Fetch-Site"],
                          req[http::field::host],
                          req[http::field::if_none_match],
                          match_target(req.target())};
  // A live stream is answered by its hub before any store slot is taken: it would hold one
  // for its whole life (its resume read is bounded by query_timeout). A replay waits on an
  // upstream, not the store. A server built without them (tests, benchmarks) says so.
  if (view.match.kind == resource::stream) {
    if (self->streams) co_return co_await serve_stream(self, stream, req, view, keep_alive);
    co_return co_await serve_unavailable(self, stream, req, view, keep_alive,
                                         "Live streams are not available on this server");
  }
  if (view.match.kind == resource::replay && req.method() == http::verb::post) {
    replay_desk* const replays = self->replays.load(std::memory_order_acquire);
    if (replays != nullptr) {
      co_return co_await serve_replay(self, replays, stream, req, view, keep_alive);
    }
    co_return co_await serve_unavailable(self, stream, req, view, keep_alive,
                                         "Replay is not available on this server");
  }
  co_return co_await serve_decided(self, stream, req, view, keep_alive);
}

/// Reads requests and answers them, one at a time, until the client or the server ends it.
template <class Stream>
net::awaitable<void> serve_requests(impl* self, Stream& stream,
                                    std::shared_ptr<impl::connection> conn) {
  beast::flat_buffer buffer;
  for (;;) {
    if (self->stopping.load()) co_return;
    http::request_parser<http::string_body> parser;
    parser.header_limit(header_limit);
    parser.body_limit(body_limit);
    arm(stream, request_timeout);
    // Beast's read, except that a chunked body with bare-LF lines is refused at once
    // (support/http_read.hpp) instead of waiting for request_timeout.
    const beast::error_code ec = co_await http_read::async_read(stream, buffer, parser);
    if (read_ends_quietly(ec, self)) co_return;
    conn->busy = true;
    if (ec) {
      // Answered once, then closed: the framing cannot be trusted.
      const answer a = read_error_answer(ec);
      self->count(a.status);
      co_await write_answer(stream, a, 11, false, false);
      co_return;
    }
    const bool again = co_await serve_request(self, stream, parser.get());
    conn->busy = false;
    if (!again) co_return;
  }
}

/// serve_requests, with a last line of defence: an exception from a store's record stream (or
/// an allocation failure) ends this connection only, never an API thread.
template <class Stream>
net::awaitable<void> serve(impl* self, Stream& stream, std::shared_ptr<impl::connection> conn) {
  try {
    co_await serve_requests(self, stream, std::move(conn));
  } catch (const std::exception& e) {
    log::error("api connection failed", {{"error", e.what()}});
  }
}

// The frame owns the socket; `self` outlives every connection frame: stop() destroys the
// io_context (and with it any frame still suspended) before the rest of impl.
net::awaitable<void> plain_connection(impl* self, tcp::socket socket) {
  auto conn = self->enter(socket.get_executor(), socket);
  timed_stream<tcp::socket> stream(socket, conn->dog);
  co_await serve(self, stream, conn);
  beast::error_code ec;
  socket.shutdown(tcp::socket::shutdown_send, ec);
  self->leave(conn);
}

net::awaitable<void> tls_connection(impl* self, tcp::socket socket,
                                    std::shared_ptr<ssl::context> ctx) {
  beast::ssl_stream<tcp::socket> tls(std::move(socket), *ctx);
  auto conn = self->enter(tls.get_executor(), beast::get_lowest_layer(tls));
  timed_stream<beast::ssl_stream<tcp::socket>> stream(tls, conn->dog);
  arm(stream, request_timeout);
  auto [ec] = co_await tls.async_handshake(ssl::stream_base::server, as_tuple);
  if (!ec) {
    co_await serve(self, stream, conn);
    arm(stream, std::chrono::seconds(2));
    std::tie(ec) = co_await tls.async_shutdown(as_tuple);
  }
  self->leave(conn);
}

net::awaitable<void> accept_loop(impl* self) {
  net::steady_timer backoff(co_await net::this_coro::executor);
  for (;;) {
    auto [ec, socket] =
        co_await self->acceptor->async_accept(net::make_strand(*self->ioc), as_tuple);
    if (self->stopping.load() || ec == net::error::operation_aborted) co_return;
    if (ec) {
      // Out of descriptors or similar: back off briefly instead of spinning.
      log::warn("api accept failed", {{"error", ec.message()}});
      backoff.expires_after(std::chrono::milliseconds(50));
      co_await backoff.async_wait(as_tuple);
      continue;
    }
    // The list answer goes out as a head and then chunks: without TCP_NODELAY, Nagle's
    // algorithm and the client's delayed ACK would stall each of them.
    socket.set_option(tcp::no_delay(true), ec);
    const auto ex = socket.get_executor();
    if (auto ctx = self->tls.load()) {
      net::co_spawn(ex, tls_connection(self, std::move(socket), std::move(ctx)), net::detached);
    } else {
      net::co_spawn(ex, plain_connection(self, std::move(socket)), net::detached);
    }
  }
}

}  // namespace

struct server::impl : state {
  using state::state;
};

server::server(std::shared_ptr<const conf::config> cfg, store::trace_reader& reader,
               metrics::registry& metrics, std::function<store::store_health()> health)
    : impl_(std::make_unique<impl>(std::move(cfg), reader, metrics, std::move(health))) {}

server::~server() { stop(); }

tcp::endpoint server::start() {
  impl& s = *impl_;
  const conf::config& cfg = *s.cfg;
  const conf::endpoint& at = cfg.api.listen;
  if (cfg.api.tls) {
    s.tls.store(conf::make_server_tls(*cfg.api.tls, cfg.source, "[api]"));
  } else if (!conf::is_loopback(at.address) && !cfg.api.allow_insecure) {
    throw conf::config_error(cfg.source +
                             ": [api] listen: plain HTTP on the non-loopback "
                             "address " +
                             at.to_string() +
                             " would send Basic credentials in "
                             "clear; set tls_cert and tls_key, or allow_insecure = true");
  }
  const unsigned n = std::max(1u, cfg.api.threads);
  // One thread more than store slots: see state::store_slots.
  s.ioc = std::make_unique<net::io_context>(static_cast<int>(n + 1));
  s.store_slots = std::make_unique<impl::slot_channel>(*s.ioc, n);
  s.acceptor.emplace(net::make_strand(*s.ioc));
  conf::listen_on(*s.acceptor, at, cfg.api.listen_origin);
  const tcp::endpoint bound = s.acceptor->local_endpoint();
  net::co_spawn(s.acceptor->get_executor(), accept_loop(&s), net::detached);
  for (unsigned i = 0; i <= n; ++i) {
    s.threads.emplace_back([io = s.ioc.get(), i] {
      support::name_this_thread("api-" + std::to_string(i + 1));
      io->run();
    });
  }
  return bound;
}

void server::attach(health::board* board) { impl_->decide.attach(board); }

void server::reconfigure(std::shared_ptr<const conf::config> next) {
  impl& s = *impl_;
  std::shared_ptr<ssl::context> ctx;
  if (next->api.tls && s.tls.load())
    ctx = conf::make_server_tls(*next->api.tls, next->source, "[api]");
  s.decide.reconfigure(next);
  if (ctx) s.tls.store(std::move(ctx));
  // Open live streams are authorised again against the new accounts and tokens.
  if (s.streams) s.streams->reauthorise(*next);
}

void server::enable_streams(store::commit_feed& feed, stream_options opts) {
  impl& s = *impl_;
  s.streams = std::make_unique<stream_hub>(s.cfg, s.decide, s.reader, feed, s.registry, opts);
}

void server::enable_replay(store::trace_replayer& replayer) {
  impl& s = *impl_;
  s.replay_owner = std::make_unique<replay_desk>(s.decide, s.reader, replayer);
  s.replays.store(s.replay_owner.get(), std::memory_order_release);
}

std::size_t server::reauthorise(const conf::config& cfg) {
  return impl_->streams ? impl_->streams->reauthorise(cfg) : 0;
}

void server::stop() {
  impl& s = *impl_;
  if (!s.ioc || s.stopping.exchange(true)) return;
  // Streams end first (they are answers in progress), and no feed wake-up is posted to the
  // io_context from now on.
  if (s.streams) s.streams->stop();
  net::post(s.acceptor->get_executor(), [&s] {
    beast::error_code ec;
    s.acceptor->close(ec);
  });
  {
    // Connections waiting for a request are closed now; those answering finish first.
    std::unique_lock lock(s.mu);
    for (const auto& c : s.connections) {
      net::post(c->strand, [c] {
        if (c->done || c->busy) return;
        beast::error_code ec;
        c->socket->close(ec);
      });
    }
    s.idle.wait_for(lock, stop_grace, [&s] { return s.connections.empty(); });
  }
  s.store_slots->close();
  s.ioc->stop();
  for (auto& t : s.threads) t.join();
  s.threads.clear();
  s.acceptor.reset();
  s.store_slots.reset();
  s.ioc.reset();  // destroys any connection frame still suspended, while impl is alive
}

}  // namespace sidecar::api
