// The upstream keep-alive pool.
#include "proxy/upstream_pool.hpp"

#include <poll.h>

#include <algorithm>

#include "support/edge_read.hpp"

namespace sidecar::proxy {

namespace {

// An idle TLS connection has nothing to say: if it is readable, the upstream has closed it
// (EOF) or sent stray bytes, and either way it must not carry a request. (A plain one is
// watched by its pending read instead; a TLS read cannot be left pending: a session ticket
// arriving while idle is no reason to drop the connection, and the read would consume it.)
bool looks_alive(upstream_connection& c) {
  if (SSL_pending(c.tls->native_handle()) > 0) return false;
  pollfd p{};
  p.fd = c.socket().native_handle();
  p.events = POLLIN | POLLRDHUP;
  return ::poll(&p, 1, 0) == 0;
}

}  // namespace

std::unique_ptr<upstream_connection> upstream_pool::take(std::string_view key) {
  const auto now = std::chrono::steady_clock::now();
  std::vector<std::unique_ptr<upstream_connection>> dead;  // closed outside the lock
  std::unique_ptr<upstream_connection> found;
  {
    std::lock_guard lock(mu_);
    const auto it = idle_.find(key);
    if (it == idle_.end()) return nullptr;
    auto& list = it->second;
    while (!list.empty()) {
      auto c = std::move(list.back());  // the most recent
      list.pop_back();
      c->idle->pooled = nullptr;
      if (now - c->idle_since < idle_timeout_ && (!c->tls || looks_alive(*c))) {
        c->read_pending = c->idle->pending;
        found = std::move(c);
        break;
      }
      dead.push_back(std::move(c));
    }
  }
  return found;
}

void upstream_pool::start_idle_read(upstream_connection& c) {
  idle_read& r = *c.idle;
  r.pending = true;
  r.done = false;
  r.ec = {};
  r.n = 0;
  // The room the buffer has (a whole body chunk once reserved): the response's first read.
  const std::size_t room =
      std::min(r.buffer.max_size(), std::max<std::size_t>(r.buffer.capacity(), 512));
  edge_read::async_read_some(
      *c.plain, r.buffer.prepare(room),
      [this, keep = c.idle](beast::error_code ec, std::size_t n) { on_idle_read(keep, ec, n); });
}

void upstream_pool::on_idle_read(const std::shared_ptr<idle_read>& r, beast::error_code ec,
                                 std::size_t n) {
  std::unique_ptr<upstream_connection> closed;  // destroyed outside the lock
  std::optional<net::any_completion_handler<void(beast::error_code, std::size_t)>> waiter;
  net::any_io_executor waiter_executor;
  {
    std::lock_guard lock(mu_);
    r->buffer.commit(n);
    if (r->pooled != nullptr) {
      // Still idle: the upstream closed the connection or spoke out of turn. It leaves the
      // pool now, as nginx closes such a connection when its read event fires.
      const auto at = idle_.find(r->pooled->key);
      if (at != idle_.end()) {
        auto& list = at->second;
        const auto it = std::find_if(list.begin(), list.end(),
                                     [&](const auto& c) { return c.get() == r->pooled; });
        if (it != list.end()) {
          closed = std::move(*it);
          list.erase(it);
        }
      }
      r->pooled = nullptr;
    }
    if (r->waiter) {
      r->pending = false;
      waiter.emplace(std::move(*r->waiter));
      r->waiter.reset();
      waiter_executor = std::move(r->waiter_executor);
    } else {
      r->done = true;
      r->ec = ec;
      r->n = n;
    }
  }
  // Resumes settle()'s caller on its own executor (its connection's strand). Not through
  // net::append, which would copy the handler as an lvalue: see idle_read::waiter.
  if (waiter) {
    net::dispatch(waiter_executor,
                  [w = std::move(*waiter), ec, n]() mutable { std::move(w)(ec, n); });
  }
}

bool upstream_pool::take_idle_result(upstream_connection& c, beast::error_code& ec,
                                     std::size_t& n) {
  c.read_pending = false;
  idle_read& r = *c.idle;
  if (r.pending && !r.done) return false;
  if (r.done) {
    ec = r.ec;
    n = r.n;
  }
  r.pending = false;
  return true;
}

void upstream_pool::keep_waiter(
    upstream_connection& c, net::any_io_executor ex,
    net::any_completion_handler<void(beast::error_code, std::size_t)> handler) {
  idle_read& r = *c.idle;
  r.waiter_executor = std::move(ex);
  r.waiter.emplace(std::move(handler));
}

void upstream_pool::give(std::unique_ptr<upstream_connection> c) {
  c->idle_since = std::chrono::steady_clock::now();
  std::vector<std::unique_ptr<upstream_connection>> expired;  // closed outside the lock
  std::lock_guard lock(mu_);
  if (closed_) return;  // c closes when it goes out of scope
  auto& list = idle_[c->key];
  // The oldest entries sit at the front: drop those idle for too long, and the oldest when
  // the list is full.
  std::size_t stale = 0;
  while (stale < list.size() && c->idle_since - list[stale]->idle_since >= idle_timeout_) ++stale;
  if (stale == 0 && list.size() >= max_idle_) stale = 1;
  for (std::size_t i = 0; i < stale; ++i) {
    list[i]->idle->pooled = nullptr;
    expired.push_back(std::move(list[i]));
  }
  list.erase(list.begin(), list.begin() + static_cast<std::ptrdiff_t>(stale));
  if (c->plain) start_idle_read(*c);
  c->idle->pooled = c.get();
  list.push_back(std::move(c));
}

void upstream_pool::close() {
  decltype(idle_) all;
  std::lock_guard lock(mu_);
  closed_ = true;
  for (auto& [key, list] : idle_) {
    for (auto& c : list) c->idle->pooled = nullptr;
  }
  all.swap(idle_);
}

std::size_t upstream_pool::idle_count(std::string_view key) {
  std::lock_guard lock(mu_);
  const auto it = idle_.find(key);
  return it == idle_.end() ? 0 : it->second.size();
}

}  // namespace sidecar::proxy
