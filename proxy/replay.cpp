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
#include "store/trace_sid.hpp"
#include "support/ascii.hpp"
#include "support/base64.hpp"
#include "support/log.hpp"

namespace sidecar::proxy {
namespace {

using clock = std::chrono::steady_clock;
using store::exchange_error;
using namespace std::chrono_literals;
constexpr auto tuple_awaitable = net::as_tuple(net::use_awaitable);
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

bool is_idempotent(std::string_view m) {
  return m == "GET" || m == "HEAD" || m == "OPTIONS" || m == "TRACE" || m == "PUT" || m == "DELETE";
}

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
  const conf::config& cfg = *snap->cfg;
  const store::trace_record& original = r.original;
  const auto strand = co_await net::this_coro::executor;

  // Where it goes: a route with the URL's upstream origin, else a forward_hosts target.
  auto url = boost::urls::parse_absolute_uri(original.request.url);
  if (!url || !url->has_authority() ||
      (url->scheme_id() != boost::urls::scheme::http &&
       url->scheme_id() != boost::urls::scheme::https)) {
    co_return refused("The recorded URL is not an absolute http or https URL");
  }
  const bool https = url->scheme_id() == boost::urls::scheme::https;
  std::string host(url->encoded_host_address());
  if (host.size() > 1 && host.front() == '[') host = host.substr(1, host.size() - 2);
  host = ascii::to_lower(host);
  const std::uint16_t port = url->has_port() ? url->port_number() : (https ? 443 : 80);
  const std::string not_allowed =
      "The recorded URL " + std::string(url->encoded_origin()) +
      " is no longer allowed by the configuration: no route has that upstream origin and it "
      "is not a forward_hosts target";

  destination dest;
  auto dog = replay_watch::start(strand);
  const watch_guard guard(dog);
  if (const conf::route* route = route_of_origin(cfg, https, host, port, original.direction)) {
    std::string path(url->encoded_path());
    if (path.empty()) path = "/";
    if (url->has_query()) path.append("?").append(url->encoded_query());
    normalised_path normalised = normalise_path(path);
    if (normalised.problem != path_problem::none) {
      co_return refused("The recorded URL's path does not normalise (docs/proxy.md)");
    }
    dest = route_destination(*snap, *route, std::move(normalised.target));
    // Resolved here (not in connect_upstream) so that every address is checked against the
    // sidecar's own listeners first.
    tcp::resolver resolver(strand);
    dog->arm(parts_.pc.connect_timeout);
    auto [rec, results] =
        co_await resolver.async_resolve(dest.host, std::to_string(dest.port), tuple_awaitable);
    if (!rec && !dog->timed_out()) {
      for (const auto& e : results) dest.checked.push_back(e.endpoint());
    }
  } else {
    forward_target fwd = read_forward_target(original.request.url, cfg.proxy.forward_hosts);
    if (fwd.allowed == nullptr || fwd.status != forward_target::problem::none) {
      co_return refused(fwd.status == forward_target::problem::path
                            ? "The recorded URL's path does not normalise (docs/proxy.md)"
                            : not_allowed);
    }
    dest = std::move(fwd.dest);
    dog->arm(parts_.pc.connect_timeout);
    if (co_await resolve_forward(dest, *fwd.allowed, parts_.own_listeners, true)) {
      co_return refused("The recorded URL " + dest.url_prefix +
                        " resolves to an address the forward proxy refuses (loopback, "
                        "private, or the sidecar's own listeners)");
    }
  }
  for (const auto& ep : dest.checked) {
    if (is_own_listener(ep, parts_.own_listeners)) {
      co_return refused("The recorded URL " + dest.url_prefix +
                        " reaches the sidecar's own listeners: a replay never goes there");
    }
  }

  // The request as recorded: its headers (a supplied value in place of a recorded one), its
  // body byte for byte; framing is set again for the body.
  http::request<http::string_body> req;
  req.method_string(original.request.method);
  req.target(dest.target);
  req.version(11);
  for (const auto& [name, value] : original.request.headers) {
    if (ascii::iequals(name, "content-length") || ascii::iequals(name, "transfer-encoding")) {
      continue;
    }
    const std::string* given = supplied_value(r.supplied, name);
    req.insert(name, given != nullptr ? *given : value);
  }
  for (const auto& [name, value] : r.supplied) {
    if (req.find(name) == req.end()) req.insert(name, value);
  }
  strip_hop_by_hop(req, false);
  if (req.find(http::field::host) == req.end()) req.set(http::field::host, dest.host_header);
  if (original.request.body.base64) {
    auto bytes = base64::decode(original.request.body.body);
    if (!bytes) co_return refused("The recorded request body is not valid base64");
    req.body() = std::move(*bytes);
  } else {
    req.body() = original.request.body.body;
  }
  if (!req.body().empty() || original.request.method == "POST" ||
      original.request.method == "PUT" || original.request.method == "PATCH") {
    req.prepare_payload();
  }

  const std::size_t body_limit = cfg.store.body_limit;
  store::capture cap;
  cap.client_address = "replay";
  cap.direction = original.direction;
  cap.route_account = dest.route ? dest.route->account : cfg.proxy.forward_account;
  if (dest.route) cap.route_prefix = dest.route->prefix;
  cap.config = snap->cfg;
  cap.forward_proxy = dest.route == nullptr;
  cap.capture_bodies = dest.route ? dest.route->capture_bodies : true;
  cap.method = original.request.method;
  cap.upstream_url = dest.url_prefix + dest.target;
  cap.request_headers = to_header_list(req);
  keep_head(cap.request_body, req.body().data(), req.body().size(), body_limit, cap.capture_bodies);
  auto& origin = cap.replay.emplace();
  // A replay of a replay names the first original: every replay of a delivery points at it.
  origin.of = original.replay_of.empty() ? original.sid : original.replay_of;
  origin.account_sid = original.account_sid;
  origin.session_sid = original.session_sid;
  for (const auto& [name, value] : r.supplied) origin.redact_headers.push_back(name);

  auto record_answer = [&](exchange_error err) {
    const int status = err == exchange_error::upstream_response_timeout ? 504 : 502;
    const auto res = local_response(status, false, 11, store::describe(err));
    cap.status_code = res.result_int();
    cap.reason = std::string(res.reason());
    cap.response_headers = to_header_list(res);
    cap.response_body = {};
    keep_head(cap.response_body, res.body().data(), res.body().size(), body_limit,
              cap.capture_bodies);
    cap.sidecar_answered = true;
    cap.error = err;
  };

  // The exchange: connect (or reuse), send, read the head (after any 1xx) and the body. A
  // reused connection found stale before any byte of an answer is replaced once, for an
  // idempotent method (as the proxy does).
  std::unique_ptr<upstream_connection> conn;
  exchange_error err = exchange_error::none;
  for (int attempt = 0;; ++attempt) {
    conn = attempt == 0 ? parts_.pool.take(dest.pool_key) : nullptr;
    const bool reused = conn != nullptr;
    if (!reused) {
      conn = std::make_unique<upstream_connection>(parts_.executor);
      conn->key = dest.pool_key;
      conn->buffer.max_size(parts_.pc.max_header_bytes + 2 * body_chunk);
      dog->conn = conn.get();
      dog->arm(parts_.pc.connect_timeout);
      err = co_await connect_upstream(*conn, dest, parts_.client_tls, dog->dog);
      if (err != exchange_error::none) break;
    }
    dog->conn = conn.get();
    ++conn->exchanges;
    dog->arm(parts_.pc.idle_timeout);
    auto [wec, wn] =
        co_await conn->visit([&](auto& s) { return http::async_write(s, req, tuple_awaitable); });
    const bool stale_ok = reused && attempt == 0 && is_idempotent(original.request.method);
    if (wec) {
      if (stale_ok && !dog->timed_out()) continue;
      err = dog->timed_out() ? exchange_error::upstream_idle_timeout
                             : exchange_error::upstream_closed;
      break;
    }
    std::optional<http::response_parser<http::buffer_body>> parser;
    bool interim = true;
    while (interim) {
      auto& rp = parser.emplace();
      rp.header_limit(static_cast<std::uint32_t>(parts_.pc.max_header_bytes));
      rp.body_limit(boost::none);
      if (original.request.method == "HEAD") rp.skip(true);
      dog->arm(parts_.pc.upstream_timeout);
      // A pooled connection's pending read brings the response's first bytes (or its close).
      beast::error_code hec;
      std::size_t settled = 0;
      if (conn->read_pending) std::tie(hec, settled) = co_await parts_.pool.settle(*conn);
      const std::size_t buffered = conn->buffer.size() - settled;
      if (!hec) {
        auto [rec, rn] = co_await conn->visit([&](auto& s) {
          return http::async_read_header(s, conn->buffer, rp, tuple_awaitable);
        });
        hec = rec;
      }
      if (hec) {
        if (dog->timed_out()) {
          err = exchange_error::upstream_response_timeout;
          break;
        }
        const bool closed = hec == http::error::end_of_stream || hec == net::error::eof ||
                            hec == net::error::connection_reset ||
                            hec == http::error::partial_message ||
                            hec == net::ssl::error::stream_truncated;
        if (closed && stale_ok && conn->buffer.size() == buffered) {
          err = exchange_error::none;
          interim = false;
          conn.reset();
          break;
        }
        err = closed ? exchange_error::upstream_closed : exchange_error::upstream_bad_response;
        break;
      }
      const int code = rp.get().result_int();
      interim = code >= 100 && code < 200 && code != 101;  // no Upgrade was sent: 101 is final
    }
    if (conn == nullptr) continue;  // stale: once more on a new connection
    if (err != exchange_error::none) break;

    auto& rp = *parser;
    auto& res = rp.get();
    cap.status_code = res.result_int();
    cap.reason = std::string(res.reason());
    cap.response_headers = to_header_list(res);
    std::array<char, body_chunk> buf{};
    while (!rp.is_done()) {
      res.body().data = buf.data();
      res.body().size = buf.size();
      dog->arm(parts_.pc.idle_timeout);
      auto [rec, rn] = co_await conn->visit(
          [&](auto& s) { return http::async_read(s, conn->buffer, rp, tuple_awaitable); });
      if (rec == http::error::need_buffer) rec = {};
      keep_head(cap.response_body, buf.data(), buf.size() - res.body().size, body_limit,
                cap.capture_bodies);
      if (rec) {
        err = dog->timed_out() ? exchange_error::upstream_idle_timeout
                               : exchange_error::upstream_reset_mid_body;
        break;
      }
    }
    if (err == exchange_error::none && res.keep_alive() && !rp.need_eof()) {
      dog->conn = nullptr;
      parts_.pool.give(std::move(conn));
    }
    cap.error = err;
    break;
  }
  dog->conn = nullptr;
  conn.reset();
  if (err != exchange_error::none && cap.status_code == 0) record_answer(err);
  cap.latency = clock::now() - started;
  cap.completed_at = std::chrono::system_clock::now();
  std::array<std::uint8_t, 10> random{};
  if (RAND_bytes(random.data(), static_cast<int>(random.size())) != 1) {
    co_return store::replay_outcome{503, "No random bytes for a trace sid", {}, {}};
  }
  origin.sid = store::make_trace_sid(
      store::clamp_sid_ms(
          std::chrono::duration_cast<std::chrono::milliseconds>(cap.completed_at.time_since_epoch())
              .count()),
      random);
  const std::string sid = origin.sid;

  // Recorded through the capture path like any exchange; the answer waits for the commit, so
  // that the new record is readable when it arrives. Subscribed before submitting: the batch
  // that holds it cannot be missed.
  auto wake = std::make_shared<net::steady_timer>(strand);
  auto sub =
      feed_.subscribe(64u << 20, [wake, strand] { net::post(strand, [wake] { wake->cancel(); }); });
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
  const auto until = clock::now() + commit_wait;
  std::vector<store::committed_batch> batches;
  for (;;) {
    const auto state = sub->take(batches);
    for (const auto& b : batches) {
      for (const auto& rec : *b) {
        if (rec.record.sid == sid) {
          out.json = rec.json;
          co_return out;
        }
      }
    }
    batches.clear();
    if (state != store::commit_feed::state::open || clock::now() >= until) break;
    wake->expires_after(std::min<clock::duration>(until - clock::now(), 100ms));
    co_await wake->async_wait(tuple_awaitable);
  }
  log::warn("replay not committed in time", {{"sid", sid}});
  co_return store::replay_outcome{
      503,
      "The trace store did not record the replay in time (trace " + sid + "); it may appear later",
      sid,
      {}};
}

}  // namespace sidecar::proxy
