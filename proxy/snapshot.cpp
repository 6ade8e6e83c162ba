// The proxy's state derived from one configuration snapshot: see snapshot.hpp.
#include "proxy/snapshot.hpp"

#include "conf/server_tls.hpp"

namespace sidecar::proxy {

std::string authority(std::string_view host, std::uint16_t port, bool https) {
  std::string out;
  const bool v6 = host.find(':') != std::string_view::npos;
  if (v6) out.push_back('[');
  out.append(host);
  if (v6) out.push_back(']');
  if (port != (https ? 443 : 80)) {
    out.push_back(':');
    out += std::to_string(port);
  }
  return out;
}

snapshot::snapshot(std::shared_ptr<const conf::config> c) : cfg(std::move(c)), routes(cfg->routes) {
  for (const auto& r : cfg->routes) {
    const auto& up = r.upstream;
    upstream_names info;
    info.host = up.host;
    info.pool_key = (up.https ? "r|https|" : "r|http|") + up.host + "|" + std::to_string(up.port);
    info.host_header = authority(up.host, up.port, up.https);
    info.url_prefix = (up.https ? "https://" : "http://") + info.host_header;
    route_infos.emplace(&r, std::move(info));
  }
}

std::shared_ptr<const snapshot> make_snapshot(std::shared_ptr<const conf::config> cfg) {
  auto s = std::make_shared<snapshot>(std::move(cfg));
  if (s->cfg->proxy.tls)
    s->server_tls = conf::make_server_tls(*s->cfg->proxy.tls, s->cfg->source, "[proxy]");
  return s;
}

}  // namespace sidecar::proxy
