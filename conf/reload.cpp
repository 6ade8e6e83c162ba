// What a reload may change: see reload.hpp.
#include "conf/reload.hpp"

#include <algorithm>

namespace sidecar::conf {
namespace {

bool same_endpoint(const endpoint& a, const endpoint& b) {
  return a.address == b.address && a.port == b.port;
}

// Keeps the running value of a setting that needs a restart, and says so when the file
// changed it.
template <class T, class Same>
void keep(T& next, const T& running, std::string name, std::vector<std::string>& ignored,
          Same same) {
  if (!same(next, running)) ignored.push_back(std::move(name));
  next = running;
}

template <class T>
void keep(T& next, const T& running, std::string name, std::vector<std::string>& ignored) {
  keep(next, running, std::move(name), ignored, [](const T& a, const T& b) { return a == b; });
}

// TLS on a listener reloads its files, not its presence: a listener does not turn from
// plain into TLS (or back) without a restart.
void keep_tls_presence(std::optional<tls_files>& next, const std::optional<tls_files>& running,
                       const std::string& table, std::vector<std::string>& ignored) {
  if (next.has_value() == running.has_value()) return;
  ignored.push_back(table + " tls_cert/tls_key (TLS turned " + (next ? "on" : "off") + ")");
  next = running;
}

}  // namespace

reload_plan plan_reload(const config& running, const config& loaded) {
  auto next = std::make_shared<config>(loaded);
  std::vector<std::string> ignored;
  proxy_config& p = next->proxy;
  const proxy_config& rp = running.proxy;
  keep(p.listen, rp.listen, "[proxy] listen", ignored, same_endpoint);
  p.listen_origin = rp.listen_origin;
  keep_tls_presence(p.tls, rp.tls, "[proxy]", ignored);
  keep(p.upstream_ca, rp.upstream_ca, "[proxy] upstream_ca", ignored);
  keep(p.connect_timeout, rp.connect_timeout, "[proxy] connect_timeout", ignored);
  keep(p.upstream_timeout, rp.upstream_timeout, "[proxy] upstream_timeout", ignored);
  keep(p.idle_timeout, rp.idle_timeout, "[proxy] idle_timeout", ignored);
  keep(p.header_timeout, rp.header_timeout, "[proxy] header_timeout", ignored);
  keep(p.max_header_bytes, rp.max_header_bytes, "[proxy] max_header_bytes", ignored);
  keep(p.threads, rp.threads, "[proxy] threads", ignored);
  keep(p.drain_timeout, rp.drain_timeout, "[proxy] drain_timeout", ignored);

  api_config& a = next->api;
  const api_config& ra = running.api;
  keep(a.listen, ra.listen, "[api] listen", ignored, same_endpoint);
  a.listen_origin = ra.listen_origin;
  keep_tls_presence(a.tls, ra.tls, "[api]", ignored);
  keep(a.allow_insecure, ra.allow_insecure, "[api] allow_insecure", ignored);
  keep(a.threads, ra.threads, "[api] threads", ignored);

  store_config& s = next->store;
  const store_config& rs = running.store;
  keep(s.path, rs.path, "[store] path", ignored);
  keep(s.retention, rs.retention, "[store] retention", ignored);
  keep(s.max_bytes, rs.max_bytes, "[store] max_bytes", ignored);
  keep(s.queue_bytes, rs.queue_bytes, "[store] queue_bytes", ignored);
  keep(s.memory, rs.memory, "[store] memory", ignored);

  cache_config& c = next->cache;
  const cache_config& rc = running.cache;
  keep(c.enabled, rc.enabled, "[cache] enabled", ignored);
  // The default dir follows [store] path, already named when it changed.
  const bool derived =
      c.dir == loaded.store.path / "media" && rc.dir == running.store.path / "media";
  if (derived) {
    c.dir = rc.dir;
  } else {
    keep(c.dir, rc.dir, "[cache] dir", ignored);
  }

  // [fleet] (docs/fleet.md): the shipper and the ClickHouse reader are built once at startup.
  const auto same_url = [](const clickhouse_url& x, const clickhouse_url& y) {
    return x.text == y.text;
  };
  const auto same_fleet = [&](const std::optional<fleet_config>& x,
                              const std::optional<fleet_config>& y) {
    if (!x || !y) return x.has_value() == y.has_value();
    return same_url(x->clickhouse, y->clickhouse) && x->database == y->database &&
           x->table == y->table && x->user == y->user && x->password == y->password &&
           x->node == y->node && x->local_table == y->local_table &&
           std::equal(x->shards.begin(), x->shards.end(), y->shards.begin(), y->shards.end(),
                      same_url) &&
           x->retention == y->retention && x->ship == y->ship && x->query == y->query &&
           x->ca == y->ca && x->batch_records == y->batch_records &&
           x->batch_interval == y->batch_interval && x->timeout == y->timeout;
  };
  keep(next->fleet, running.fleet, "[fleet]", ignored, same_fleet);

  next->local_account_file = running.local_account_file;
  return {std::move(next), std::move(ignored)};
}

}  // namespace sidecar::conf
