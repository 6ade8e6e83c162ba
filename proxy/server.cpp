// The proxy listener: N event loops (an io_context each, run by its own thread, as nginx runs
// its workers), the acceptor with its admission checks
// (allowed_clients, max_connections), one session per client connection (proxy/session.hpp),
// and the server's life: start, reconfigure, stop with a drain.
#include "proxy/server.hpp"

#include <algorithm>
#include <condition_variable>
#include <map>
#include <mutex>
#include <optional>
#include <sstream>
#include <thread>

#include "conf/config_error.hpp"
#include "conf/listen.hpp"
#include "conf/server_tls.hpp"
#include "proxy/exchange_parts.hpp"
#include "proxy/proxy_context.hpp"
#include "proxy/replay.hpp"
#include "proxy/session.hpp"
#include "support/log.hpp"
#include "support/thread_name.hpp"

namespace sidecar::proxy {

namespace {

using namespace std::chrono_literals;

// A short answer on a fresh socket, before any session: it fits the socket's send buffer and is
// written without waiting.
template <class Socket>
void refuse_connection(Socket& socket, int status, bool plain) {
  beast::error_code ec;
  if (plain) {
    const std::string body = json_error(status, local_message(status));
    const std::string text =
        "HTTP/1.1 " + std::to_string(status) +
        (status == 403 ? " Forbidden" : " Service Unavailable") +
        "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
        "\r\nConnection: close\r\n\r\n" + body;
    socket.non_blocking(true, ec);
    socket.write_some(net::buffer(text), ec);
    socket.shutdown(tcp::socket::shutdown_send, ec);
  }
  socket.close(ec);
}

}  // namespace

struct server::impl {
  impl(std::shared_ptr<const conf::config> c, store::capture_sink& s, metrics::registry& m,
       cache::media_cache* mc)
      : thread_count(c->proxy.threads != 0 ? c->proxy.threads
                                           : std::max(1U, std::thread::hardware_concurrency())),
        loops(make_loops(thread_count)),
        ctx(std::move(c), s, m, mc, loops.front()->get_executor(), thread_count) {}

  static std::vector<std::unique_ptr<net::io_context>> make_loops(unsigned n) {
    std::vector<std::unique_ptr<net::io_context>> out;
    for (unsigned i = 0; i < n; ++i) out.push_back(std::make_unique<net::io_context>(1));
    return out;
  }

  unsigned thread_count;
  // One loop per proxy thread: a connection lives on one loop, whose thread alone runs it, so
  // no strand and no scheduler shared between threads (docs/proxy.md, "Threads"). The first
  // loop also runs the acceptor and the replays.
  std::vector<std::unique_ptr<net::io_context>> loops;
  std::size_t next_loop = 0;  // the accept loop's round robin
  proxy_context ctx;
  std::vector<net::executor_work_guard<net::io_context::executor_type>> work;
  std::vector<std::thread> threads;
  std::optional<tcp::acceptor> acceptor;
  bool started = false;

  /// A new connection's loop: the next, in turn. Everything a loop runs is serial, so a
  /// connection needs no strand (bench/README.md, "The proxy thread").
  [[nodiscard]] std::size_t connection_loop() { return next_loop++ % loops.size(); }

  // Live sessions, for stop(): touched on connect and disconnect only.
  std::mutex sessions_mu;
  std::condition_variable sessions_cv;
  std::map<std::uint64_t, std::weak_ptr<session>> sessions;
  std::uint64_t next_session_id = 0;

  net::awaitable<void> accept_loop();
  // The status a new connection is refused with (403, 503), or 0.
  int admission(const tcp::endpoint& remote);
  void spawn_session(tcp::socket socket, std::size_t loop);
  void session_ended(std::uint64_t id);
};

// ---------------------------------------------------------------------------------------

void server::impl::spawn_session(tcp::socket socket, std::size_t loop) {
  std::shared_ptr<session> s;
  std::uint64_t id = 0;
  {
    std::lock_guard lock(sessions_mu);
    id = ++next_session_id;
    s = std::make_shared<session>(ctx, *ctx.pools[loop], std::move(socket));
    sessions.emplace(id, s);
  }
  ctx.metrics.connections().add(1);
  net::co_spawn(s->strand(), session::run(s), [this, id](const std::exception_ptr& e) {
    if (e) log::error("proxy connection ended by an exception");
    session_ended(id);
  });
}

void server::impl::session_ended(std::uint64_t sid) {
  ctx.metrics.connections().add(-1);
  std::lock_guard lock(sessions_mu);
  sessions.erase(sid);
  if (sessions.empty()) sessions_cv.notify_all();
}

net::awaitable<void> server::impl::accept_loop() {
  for (;;) {
    const std::size_t loop = connection_loop();
    auto [ec, socket] = co_await acceptor->async_accept(loops[loop]->get_executor(), awaited);
    if (ec) {
      if (ec == net::error::operation_aborted || !acceptor->is_open()) co_return;
      // EMFILE and the like: wait a little rather than spin.
      net::steady_timer pause(acceptor->get_executor(), 50ms);
      co_await pause.async_wait(awaited);
      continue;
    }
    beast::error_code rec;
    const auto remote = socket.remote_endpoint(rec);
    if (rec) continue;
    if (const int refusal = admission(remote); refusal != 0) {
      ctx.metrics.count_local(refusal);
      refuse_connection(socket, refusal, !ctx.current.load()->server_tls);
      continue;
    }
    spawn_session(std::move(socket), loop);
  }
}

int server::impl::admission(const tcp::endpoint& remote) {
  const std::shared_ptr<const snapshot> now = ctx.current.load();
  const conf::proxy_config& live = now->cfg->proxy;
  if (!live.allowed_clients.empty() &&
      std::none_of(live.allowed_clients.begin(), live.allowed_clients.end(),
                   [&](const conf::cidr& c) { return c.contains(remote.address()); })) {
    return 403;
  }
  if (static_cast<std::size_t>(ctx.metrics.connections().value()) >= live.max_connections) {
    return 503;
  }
  return 0;
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
  replay_parts parts{m.ctx.executor,   m.ctx.current,       *m.ctx.pools.front(),
                     m.ctx.client_tls, m.ctx.own_listeners, m.ctx.sink,
                     m.ctx.pc};
  return std::make_unique<replayer>(std::move(parts), feed);
}

tcp::endpoint server::start(std::vector<tcp::endpoint> own_listeners) {
  impl& m = *impl_;
  const auto& pc = m.ctx.pc;
  m.ctx.current.store(make_snapshot(m.ctx.cfg));
  conf::restrict_tls(m.ctx.client_tls);
  m.ctx.client_tls.set_default_verify_paths();
  m.ctx.client_tls.set_verify_mode(ssl::verify_peer);
  if (pc.upstream_ca) {
    beast::error_code ec;
    m.ctx.client_tls.load_verify_file(pc.upstream_ca->string(), ec);
    if (ec) {
      throw conf::config_error(m.ctx.cfg->source + ": [proxy] upstream_ca: cannot use " +
                               pc.upstream_ca->string() + ": " + ec.message());
    }
  }

  m.acceptor.emplace(m.loops.front()->get_executor());
  conf::listen_on(*m.acceptor, pc.listen, pc.listen_origin);
  const tcp::endpoint bound = m.acceptor->local_endpoint();
  m.ctx.own_listeners = std::move(own_listeners);
  m.ctx.own_listeners.push_back(bound);
  refuse_routes_to_own_listeners(*m.ctx.cfg, m.ctx.own_listeners);

  net::co_spawn(m.acceptor->get_executor(), m.accept_loop(), [](const std::exception_ptr& e) {
    if (e) log::error("proxy accept loop ended by an exception");
  });
  for (unsigned i = 0; i < m.thread_count; ++i) {
    m.work.emplace_back(m.loops[i]->get_executor());
    m.threads.emplace_back([&m, i] {
      support::name_this_thread("proxy-" + std::to_string(i + 1));
      m.loops[i]->run();
    });
  }
  m.started = true;
  return bound;
}

void server::reconfigure(std::shared_ptr<const conf::config> next) {
  impl& m = *impl_;
  refuse_routes_to_own_listeners(*next, m.ctx.own_listeners);
  m.ctx.current.store(make_snapshot(std::move(next)));
}

void server::stop(std::chrono::milliseconds drain) {
  impl& m = *impl_;
  if (!m.started) return;
  m.started = false;
  m.ctx.stopping.store(true);
  net::post(m.acceptor->get_executor(), [&m] {
    beast::error_code ec;
    m.acceptor->close(ec);
  });

  auto each_session = [&m](bool hard) {
    std::lock_guard lock(m.sessions_mu);
    for (auto& [sid, weak] : m.sessions) {
      if (auto s = weak.lock()) {
        net::post(s->strand(), [s, hard] { s->on_stop(hard); });
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
  for (auto& pool : m.ctx.pools) pool->close();
  m.work.clear();
  for (auto& loop : m.loops) loop->stop();
  for (auto& t : m.threads) t.join();
  m.threads.clear();
}

}  // namespace sidecar::proxy
