// The upstream keep-alive pool.
#include "proxy/upstream_pool.hpp"

#include <poll.h>

namespace sidecar::proxy {

namespace {

// An idle keep-alive connection has nothing to say: if it is readable, the upstream has
// closed it (EOF) or sent stray bytes, and either way it must not carry a request.
bool looks_alive(upstream_connection& c) {
  if (c.tls && SSL_pending(c.tls->native_handle()) > 0) return false;
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
      auto c = std::move(list.back());
      list.pop_back();
      if (now - c->idle_since < idle_timeout_ && looks_alive(*c)) {
        found = std::move(c);
        break;
      }
      dead.push_back(std::move(c));
    }
  }
  return found;
}

void upstream_pool::give(std::unique_ptr<upstream_connection> c) {
  c->idle_since = std::chrono::steady_clock::now();
  std::unique_ptr<upstream_connection> dropped;
  std::vector<std::unique_ptr<upstream_connection>> expired;
  std::lock_guard lock(mu_);
  if (closed_) return;  // c closes when it goes out of scope
  auto& list = idle_[c->key];
  // The oldest entries sit at the front: drop those idle for too long, and the oldest when
  // the list is full.
  std::size_t stale = 0;
  while (stale < list.size() && c->idle_since - list[stale]->idle_since >= idle_timeout_) ++stale;
  if (stale == 0 && list.size() >= max_idle_) stale = 1;
  for (std::size_t i = 0; i < stale; ++i) expired.push_back(std::move(list[i]));
  list.erase(list.begin(), list.begin() + static_cast<std::ptrdiff_t>(stale));
  list.push_back(std::move(c));
}

void upstream_pool::close() {
  decltype(idle_) all;
  std::lock_guard lock(mu_);
  closed_ = true;
  all.swap(idle_);
}

std::size_t upstream_pool::idle_count(std::string_view key) {
  std::lock_guard lock(mu_);
  const auto it = idle_.find(key);
  return it == idle_.end() ? 0 : it->second.size();
}

}  // namespace sidecar::proxy
