// Sending a recorded request again through the proxy's upstream code (docs/api.md, "Replay").
#include "proxy/replay.hpp"

#include <openssl/rand.h>

#include <algorithm>
#include <array>
#include <boost/url/parse.hpp>
#include <chrono>
#include <optional>

#include "proxy/destination.hpp"
#include "proxy/exchange_parts.hpp"
#include "proxy/path_normalise.hpp"
#include "proxy/upstream_connect.hpp"
#include "store/form_scan.hpp"
#include "store/trace_sid.hpp"
#include "support/ascii.hpp"
#include "support/base64.hpp"
#include "support/log.hpp"

namespace sidecar::proxy {
namespace {

using clock = std::chrono::steady_clock;
using store::exchange_error;
using namespace std::chrono_literals;
constexpr std::size_t body_chunk = 16 * 1024;
// How long the answer waits for the writer to commit the new record before saying 503 (the
// writer commits within milliseconds unless the disk is failing).
constexpr auto commit_wait = 10s;

store::replay_outcome refused(std::string message) { return {409, std::move(message), {}, {}}; }

// The replay's deadlines (support/watchdog.hpp, as the proxy's connections have): when one
// passes, the upstream connection's operations are cancelled. Shared with the watchdog's loop,
// which holds it until stop(); the guard stops it when the replay's frame goes.
struct replay_watch {
  explicit replay_watch(const net::any_io_executor& strand) : dog(strand) {}
  support::watchdog dog;
  upstream_connection* conn = nullptr;

  static std::shared_ptr<replay_watch> start(const net::any_io_executor& strand) {
    auto w = std::make_shared<replay_watch>(strand);
    net::co_spawn(strand, w->dog.run([w](std::uint8_t /*what*/) {
      beast::error_code ignored;
      if (w->conn != nullptr) w->conn->socket().cancel(ignored);
    }),
                  net::detached);
    return w;
  }
  void arm(std::chrono::milliseconds d) { dog.arm(d, 0); }
  [[nodiscard]] bool timed_out() const { return dog.timed_out(); }
};

struct watch_guard {
  explicit watch_guard(std::shared_ptr<replay_watch> w) : watch(std::move(w)) {}
  std::shared_ptr<replay_watch> watch;
  watch_guard(const watch_guard&) = delete;
  watch_guard& operator=(const watch_guard&) = delete;
  ~watch_guard() {
    watch->conn = nullptr;
    watch->dog.stop();
  }
};

const std::string* supplied_value(const store::header_list& supplied, std::string_view name) {
  for (const auto& [n, v] : supplied) {
    if (ascii::iequals(n, name)) return &v;
  }
  return nullptr;
}

// The route whose upstream has this origin, preferring one of the record's direction.
const conf::route* route_of_origin(const conf::config& cfg, bool https, std::string_view host,
                                   std::uint16_t port, conf::direction dir) {
  const conf::route* found = nullptr;
  for (const auto& r : cfg.routes) {
    if (r.upstream.https != https || r.upstream.port != port ||
        !ascii::iequals(r.upstream.host, host)) {
      continue;
    }
    if (r.dir == dir) return &r;
    if (found == nullptr) found = &r;
  }
  return found;
}

// What the steps of one replay share. Lives on run()'s frame, which awaits every step: the
// references the steps take stay valid while they run.
struct replay_context {
  const replay_parts& parts;
  const snapshot& snap;
  const store::trace_record& original;
  const store::header_list& supplied;
  net::any_io_executor strand;
  replay_watch& dog;
  std::size_t body_limit;  // cfg.store.body_limit
};

// The recorded URL's parts that choose where the replay goes.
struct recorded_url {
  bool https = false;
  std::string host;  // lower case, IPv6 without brackets
  std::uint16_t port = 0;
  std::string origin;          // as recorded, for messages
  std::string path_and_query;  // "/" when the path is empty
};

// The recorded URL, when it is an absolute http or https URL.
std::optional<recorded_url> read_recorded_url(std::string_view recorded) {
  auto url = boost::urls::parse_absolute_uri(recorded);
  if (!url || !url->has_authority() ||
      (url->scheme_id() != boost::urls::scheme::http &&
       url->scheme_id() != boost::urls::scheme::https)) {
    return std::nullopt;
  }
  recorded_url out;
  out.https = url->scheme_id() == boost::urls::scheme::https;
  std::string host(url->encoded_host_address());
  if (host.size() > 1 && host.front() == '[') host = host.substr(1, host.size() - 2);
  out.host = ascii::to_lower(host);
  out.port = url->has_port() ? url->port_number() : (out.https ? 443 : 80);
  out.origin = std::string(url->encoded_origin());
  out.path_and_query = std::string(url->encoded_path());
  if (out.path_and_query.empty()) out.path_and_query = "/";
  if (url->has_query()) out.path_and_query.append("?").append(url->encoded_query());
  return out;
}

// Where a replay goes, or the reason (a 409's message) why it does not.
struct routing {
  destination dest;
  std::optional<std::string> refusal;
};

constexpr std::string_view path_refusal =
    "The recorded URL's path does not normalise (docs/proxy.md)";

// Through a route with the URL's upstream origin. Resolved here (not in connect_upstream) so
// that every address is checked against the sidecar's own listeners first; a failed resolution
// leaves nothing to check and fails the connection later, as the proxy's would.
net::awaitable<routing> route_by_origin(const replay_context& cx, const conf::route& route,
                                        const recorded_url& url) {
  normalised_path normalised = normalise_path(url.path_and_query);
  if (normalised.problem != path_problem::none) {
    co_return routing{{}, std::string(path_refusal)};
  }
  routing out{route_destination(cx.snap, route, std::move(normalised.target)), std::nullopt};
  tcp::resolver resolver(cx.strand);
  cx.dog.arm(cx.parts.pc.connect_timeout);
  auto [rec, results] =
      co_await resolver.async_resolve(out.dest.host(), std::to_string(out.dest.port), awaited);
  if (!rec && !cx.dog.timed_out()) {
    for (const auto& e : results) out.dest.checked.push_back(e.endpoint());
  }
  co_return out;
}

// Through forward_hosts, with the forward proxy's address checks.
net::awaitable<routing> route_by_forward_target(const replay_context& cx, const recorded_url& url) {
  forward_target fwd =
      read_forward_target(cx.original.request.url, cx.snap.cfg->proxy.forward_hosts);
  if (fwd.allowed == nullptr || fwd.status != forward_target::problem::none) {
    if (fwd.status == forward_target::problem::path) {
      co_return routing{{}, std::string(path_refusal)};
    }
    co_return routing{{},
                      "The recorded URL " + url.origin +
                          " is no longer allowed by the configuration: no route has that "
                          "upstream origin and it is not a forward_hosts target"};
  }
  routing out{std::move(fwd.dest), std::nullopt};
  cx.dog.arm(cx.parts.pc.connect_timeout);
  if (co_await resolve_forward(out.dest, *fwd.allowed, cx.parts.own_listeners, true)) {
    out.refusal = "The recorded URL " + out.dest.url_prefix() +
                  " resolves to an address the forward proxy refuses (loopback, private, or "
                  "the sidecar's own listeners)";
  }
  co_return out;
}

// Where it goes: a route with the URL's upstream origin (one of the record's direction
// first), else a forward_hosts target; never to the sidecar's own listeners.
net::awaitable<routing> choose_destination(const replay_context& cx, const recorded_url& url) {
  const conf::route* route =
      route_of_origin(*cx.snap.cfg, url.https, url.host, url.port, cx.original.direction);
  routing out;
  if (route != nullptr) {
    out = co_await route_by_origin(cx, *route, url);
  } else {
    out = co_await route_by_forward_target(cx, url);
  }
  if (out.refusal) co_return out;
  for (const auto& ep : out.dest.checked) {
    if (is_own_listener(ep, cx.parts.own_listeners)) {
      out.refusal = "The recorded URL " + out.dest.url_prefix() +
                    " reaches the sidecar's own listeners: a replay never goes there";
      break;
    }
  }
  co_return out;
}

using replay_request_message = http::request<http::string_body>;

// The recorded headers (a supplied value in place of a recorded one, supplied ones that were
// not recorded added), without the hop-by-hop ones and framing, which is set again for the body.
void set_recorded_headers(replay_request_message& req, const replay_context& cx,
                          const destination& dest) {
  for (const auto& [name, value] : cx.original.request.headers) {
    if (ascii::iequals(name, "content-length") || ascii::iequals(name, "transfer-encoding")) {
      continue;
    }
    const std::string* given = supplied_value(cx.supplied, name);
    req.insert(name, given != nullptr ? *given : value);
  }
  for (const auto& [name, value] : cx.supplied) {
    if (req.find(name) == req.end()) req.insert(name, value);
  }
  strip_hop_by_hop(req, false);
  if (req.find(http::field::host) == req.end()) req.set(http::field::host, dest.host_header());
}

// The request as recorded, its body byte for byte; nullopt when the recorded body is not
// valid base64.
std::optional<replay_request_message> recorded_request(const replay_context& cx,
                                                       const destination& dest) {
  const store::recorded_request& recorded = cx.original.request;
  replay_request_message req;
  req.method_string(recorded.method);
  req.target(dest.target);
  req.version(11);
  set_recorded_headers(req, cx, dest);
  if (recorded.body.base64) {
    auto bytes = base64::decode(recorded.body.body);
    if (!bytes) return std::nullopt;
    req.body() = std::move(*bytes);
  } else {
    req.body() = recorded.body.body;
  }
  if (!req.body().empty() || recorded.method == "POST" || recorded.method == "PUT" ||
      recorded.method == "PATCH") {
    req.prepare_payload();
  }
  return req;
}

// The capture of the replay, as the proxy's would be, naming the record it replays.
store::capture replay_capture(const replay_context& cx, const destination& dest,
                              const replay_request_message& req) {
  const conf::config& cfg = *cx.snap.cfg;
  store::capture cap;
  cap.client_address = "replay";
  cap.direction = cx.original.direction;
  cap.route_account = dest.route ? dest.route->account : cfg.proxy.forward_account;
  if (dest.route) cap.route_prefix = dest.route->prefix;
  cap.config = cx.snap.cfg;
  cap.forward_proxy = dest.route == nullptr;
  cap.capture_bodies = dest.route ? dest.route->capture_bodies : true;
  cap.method = cx.original.request.method;
  cap.upstream_url = dest.url_prefix() + dest.target;
  cap.target_at = dest.url_prefix().size();
  cap.request_headers = to_field_list(req);
  keep_head(cap.request_body, req.body().data(), req.body().size(), cx.body_limit,
            cap.capture_bodies);
  if (cap.direction == conf::direction::webhook &&
      store::is_form_body(req[http::field::content_type], req[http::field::content_encoding])) {
    cap.request_form = store::scan_form(req.body());
  }
  auto& origin = cap.replay.emplace();
  // A replay of a replay names the first original: every replay of a delivery points at it.
  origin.of = cx.original.replay_of.empty() ? cx.original.sid : cx.original.replay_of;
  origin.account_sid = cx.original.account_sid;
  origin.session_sid = cx.original.session_sid;
  for (const auto& [name, value] : cx.supplied) origin.redact_headers.push_back(name);
  return cap;
}

// The sidecar's own 502/504 naming `err`, recorded in place of an upstream's answer.
void record_local_answer(store::capture& cap, exchange_error err, std::size_t body_limit) {
  const int status = err == exchange_error::upstream_response_timeout ? 504 : 502;
  const auto res = local_response(status, false, 11, store::describe(err));
  cap.status_code = res.result_int();
  cap.reason = std::string(res.reason());
  cap.response_headers = to_field_list(res);
  cap.response_body = {};
  keep_head(cap.response_body, res.body().data(), res.body().size(), body_limit,
            cap.capture_bodies);
  cap.sidecar_answered = true;
  cap.error = err;
}

// How one attempt on a connection ended: an error, a reused connection found stale before any
// byte of an answer (to replace once), or the answer read (the connection then poolable or not).
struct attempt_end {
  exchange_error err = exchange_error::none;
  bool stale = false;
  bool reusable = false;
};

using response_parser = http::response_parser<http::buffer_body>;

// One response head's read: its error, and whether no byte at all arrived for it.
struct head_read {
  beast::error_code ec;
  bool nothing_arrived = false;
};

net::awaitable<head_read> read_one_head(const replay_context& cx, upstream_connection& conn,
                                        response_parser& rp) {
  // A pooled connection's pending read brings the response's first bytes (or its close).
  beast::error_code ec;
  std::size_t settled = 0;
  if (conn.read_pending) std::tie(ec, settled) = co_await cx.parts.pool.settle(conn);
  const std::size_t buffered = conn.buffer.size() - settled;
  if (!ec) {
    auto [rec, rn] = co_await conn.io([&](auto& s, auto handler) {
      http::async_read_header(s, conn.buffer, rp, std::move(handler));
    });
    ec = rec;
  }
  co_return head_read{ec, conn.buffer.size() == buffered};
}

// Why a head could not be read: the upstream's timeout, a stale connection, a close or a
// malformed answer.
attempt_end head_failure(const replay_watch& dog, const head_read& r, bool stale_ok) {
  if (dog.timed_out()) return {exchange_error::upstream_response_timeout};
  const bool closed = is_closed(r.ec);
  if (closed && stale_ok && r.nothing_arrived) return {exchange_error::none, true};
  return {closed ? exchange_error::upstream_closed : exchange_error::upstream_bad_response};
}

// The final response head, past any 1xx (no Upgrade was sent: 101 is final), in `parser`.
net::awaitable<attempt_end> read_final_head(const replay_context& cx, upstream_connection& conn,
                                            std::optional<response_parser>& parser, bool stale_ok) {
  for (;;) {
    auto& rp = parser.emplace();
    rp.header_limit(static_cast<std::uint32_t>(cx.parts.pc.max_header_bytes));
    rp.body_limit(boost::none);
    if (cx.original.request.method == "HEAD") rp.skip(true);
    cx.dog.arm(cx.parts.pc.upstream_timeout);
    const head_read r = co_await read_one_head(cx, conn, rp);
    if (r.ec) co_return head_failure(cx.dog, r, stale_ok);
    const int code = rp.get().result_int();
    if (code < 100 || code >= 200 || code == 101) co_return attempt_end{};
  }
}

// The response body, streamed through a chunk; the capture keeps its head.
net::awaitable<exchange_error> read_body(const replay_context& cx, upstream_connection& conn,
                                         response_parser& rp, store::capture& cap) {
  auto& res = rp.get();
  std::array<char, body_chunk> buf{};
  while (!rp.is_done()) {
    res.body().data = buf.data();
    res.body().size = buf.size();
    cx.dog.arm(cx.parts.pc.idle_timeout);
    auto [rec, rn] = co_await conn.io(
        [&](auto& s, auto handler) { http::async_read(s, conn.buffer, rp, std::move(handler)); });
    if (rec == http::error::need_buffer) rec = {};
    keep_head(cap.response_body, buf.data(), buf.size() - res.body().size, cx.body_limit,
              cap.capture_bodies);
    if (rec) {
      co_return cx.dog.timed_out() ? exchange_error::upstream_idle_timeout
                                   : exchange_error::upstream_reset_mid_body;
    }
  }
  co_return exchange_error::none;
}

// One attempt on a connected (or reused) connection: write, the head, the body.
net::awaitable<attempt_end> exchange_once(const replay_context& cx, upstream_connection& conn,
                                          const replay_request_message& req, bool stale_ok,
                                          store::capture& cap) {
  cx.dog.conn = &conn;
  ++conn.exchanges;
  cx.dog.arm(cx.parts.pc.idle_timeout);
  auto [wec, wn] = co_await conn.io(
      [&](auto& s, auto handler) { http::async_write(s, req, std::move(handler)); });
  if (wec) {
    if (stale_ok && !cx.dog.timed_out()) co_return attempt_end{exchange_error::none, true};
    co_return attempt_end{cx.dog.timed_out() ? exchange_error::upstream_idle_timeout
                                             : exchange_error::upstream_closed};
  }
  std::optional<response_parser> parser;
  const attempt_end head = co_await read_final_head(cx, conn, parser, stale_ok);
  if (head.stale || head.err != exchange_error::none) co_return head;

  auto& res = parser->get();
  cap.status_code = res.result_int();
  cap.reason = std::string(res.reason());
  cap.response_headers = to_field_list(res);
  const exchange_error err = co_await read_body(cx, conn, *parser, cap);
  cap.error = err;
  co_return attempt_end{err, false, err == exchange_error::none && parser->keep_alive()};
}

// A new connection to the destination, registered with the watch (not yet connected).
std::unique_ptr<upstream_connection> new_connection(const replay_context& cx,
                                                    const destination& dest) {
  auto conn = std::make_unique<upstream_connection>(cx.parts.executor);
  conn->key = dest.pool_key();
  conn->buffer.max_size(cx.parts.pc.max_header_bytes + 2 * body_chunk);
  cx.dog.conn = conn.get();
  return conn;
}

// The exchange: connect (or reuse), send, read the head (after any 1xx) and the body. A reused
// connection found stale before any byte of an answer is replaced once, for an idempotent
// method (as the proxy does). The watch never names a connection that is gone.
net::awaitable<exchange_error> exchange_with_upstream(const replay_context& cx,
                                                      const destination& dest,
                                                      const replay_request_message& req,
                                                      store::capture& cap) {
  for (int attempt = 0;; ++attempt) {
    std::unique_ptr<upstream_connection> conn =
        attempt == 0 ? cx.parts.pool.take(dest.pool_key()) : nullptr;
    const bool reused = conn != nullptr;
    if (!reused) {
      conn = new_connection(cx, dest);
      cx.dog.arm(cx.parts.pc.connect_timeout);
      const exchange_error err =
          co_await connect_upstream(*conn, dest, cx.parts.client_tls, cx.dog.dog);
      if (err != exchange_error::none) {
        cx.dog.conn = nullptr;
        co_return err;
      }
    }
    const bool stale_ok = reused && attempt == 0 && is_idempotent(cx.original.request.method);
    const attempt_end end = co_await exchange_once(cx, *conn, req, stale_ok, cap);
    cx.dog.conn = nullptr;
    if (end.reusable) cx.parts.pool.give(std::move(conn));
    if (!end.stale) co_return end.err;
  }
}

// The new record's sid, from its completion time; nullopt without random bytes.
std::optional<std::string> new_sid(std::chrono::system_clock::time_point completed_at) {
  std::array<std::uint8_t, 10> random{};
  if (RAND_bytes(random.data(), static_cast<int>(random.size())) != 1) return std::nullopt;
  return store::make_trace_sid(
      store::clamp_sid_ms(
          std::chrono::duration_cast<std::chrono::milliseconds>(completed_at.time_since_epoch())
              .count()),
      random);
}

// The committed record `sid`'s JSON, waiting up to commit_wait for the batch that holds it;
// nullopt when it did not come (or the feed dropped this subscriber).
net::awaitable<std::optional<std::string>> committed_json(store::commit_feed::subscription& sub,
                                                          net::steady_timer& wake,
                                                          const std::string& sid) {
  const auto until = clock::now() + commit_wait;
  std::vector<store::committed_batch> batches;
  for (;;) {
    const auto state = sub.take(batches);
    for (const auto& b : batches) {
      for (const auto& rec : *b) {
        if (rec.record.sid == sid) co_return rec.json;
      }
    }
    batches.clear();
    if (state != store::commit_feed::state::open || clock::now() >= until) co_return std::nullopt;
    wake.expires_after(std::min<clock::duration>(until - clock::now(), 100ms));
    co_await wake.async_wait(awaited);
  }
}

}  // namespace

replayer::replayer(replay_parts parts, store::commit_feed& feed)
    : parts_(std::move(parts)), feed_(feed) {}

net::awaitable<store::replay_outcome> replayer::replay(store::replay_request r) {
  // On a strand of the proxy's io_context, like a proxy connection; the caller resumes on its
  // own executor when it ends.
  co_return co_await net::co_spawn(net::make_strand(parts_.executor), run(std::move(r)),
                                   net::use_awaitable);
}

net::awaitable<store::replay_outcome> replayer::run(store::replay_request r) {
  const auto started = clock::now();
  const auto snap = parts_.current.load();
  const auto strand = co_await net::this_coro::executor;

  const std::optional<recorded_url> url = read_recorded_url(r.original.request.url);
  if (!url) co_return refused("The recorded URL is not an absolute http or https URL");
  auto dog = replay_watch::start(strand);
  const watch_guard guard(dog);
  const replay_context cx{
      parts_, *snap, r.original, r.supplied, strand, *dog, snap->cfg->store.body_limit};

  routing where = co_await choose_destination(cx, *url);
  if (where.refusal) co_return refused(std::move(*where.refusal));
  const std::optional<replay_request_message> req = recorded_request(cx, where.dest);
  if (!req) co_return refused("The recorded request body is not valid base64");

  store::capture cap = replay_capture(cx, where.dest, *req);
  const exchange_error err = co_await exchange_with_upstream(cx, where.dest, *req, cap);
  if (err != exchange_error::none && cap.status_code == 0) {
    record_local_answer(cap, err, cx.body_limit);
  }
  cap.latency = clock::now() - started;
  cap.completed_at = std::chrono::system_clock::now();
  std::optional<std::string> sid = new_sid(cap.completed_at);
  if (!sid) co_return store::replay_outcome{503, "No random bytes for a trace sid", {}, {}};
  cap.replay->sid = *sid;
  co_return co_await record_and_wait(std::move(cap), err, std::move(*sid));
}

// Recorded through the capture path like any exchange; the answer waits for the commit, so
// that the new record is readable when it arrives. Subscribed before submitting: the batch that
// holds it cannot be missed.
net::awaitable<store::replay_outcome> replayer::record_and_wait(store::capture cap,
                                                                exchange_error err,
                                                                std::string sid) {
  const auto strand = co_await net::this_coro::executor;
  auto wake = std::make_shared<net::steady_timer>(strand);
  auto sub = feed_.subscribe(64u << 20, [wake, strand](store::commit_feed::state) {
    net::post(strand, [wake] { wake->cancel(); });
  });
  if (!parts_.sink.submit(std::move(cap))) {
    co_return store::replay_outcome{503,
                                    "The trace store's queue is full: the replay was sent "
                                    "but could not be recorded; try again later",
                                    sid,
                                    {}};
  }
  store::replay_outcome out;
  out.sid = sid;
  if (err != exchange_error::none) {
    out.status = err == exchange_error::upstream_response_timeout ? 504 : 502;
    out.message = "The replay failed: " + std::string(store::describe(err)) +
                  "; it is recorded as trace " + sid;
  }
  if (auto json = co_await committed_json(*sub, *wake, sid)) {
    out.json = std::move(*json);
    co_return out;
  }
  log::warn("replay not committed in time", {{"sid", sid}});
  co_return store::replay_outcome{
      503,
      "The trace store did not record the replay in time (trace " + sid + "); it may appear later",
      sid,
      {}};
}

}  // namespace sidecar::proxy
