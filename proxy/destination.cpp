// Building a request's destination.
#include "proxy/destination.hpp"

#include <algorithm>
#include <boost/url/parse.hpp>
#include <cctype>

#include "proxy/path_normalise.hpp"
#include "proxy/routing.hpp"

namespace sidecar::proxy {

destination route_destination(const snapshot& snap, const conf::route& route, std::string target) {
  const auto& up = route.upstream;
  const auto& info = snap.route_infos.at(&route);
  destination d;
  d.https = up.https;
  d.port = up.port;
  d.use_names(info);
  d.target = std::move(target);
  d.route = &route;
  return d;
}

forward_target read_forward_target(std::string_view target,
                                   const std::vector<conf::forward_host>& forward_hosts) {
  forward_target out;
  auto url = boost::urls::parse_absolute_uri(target);
  const bool absolute = url.has_value() && url->has_authority() &&
                        (url->scheme_id() == boost::urls::scheme::http ||
                         url->scheme_id() == boost::urls::scheme::https);
  if (!absolute) {
    out.status =
        target == "*" ? forward_target::problem::asterisk : forward_target::problem::not_absolute;
    return out;
  }
  destination& d = out.dest;
  d.https = url->scheme_id() == boost::urls::scheme::https;
  std::string host(url->encoded_host_address());
  if (host.size() > 1 && host.front() == '[') host = host.substr(1, host.size() - 2);
  for (auto& c : host) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  d.port = url->has_port() ? url->port_number() : (d.https ? 443 : 80);
  out.allowed = host.empty() || (url->has_port() && url->port_number() == 0)
                    ? nullptr
                    : match_forward_host(forward_hosts, host, d.port);
  upstream_names names;
  names.pool_key =
      std::string(d.https ? "f|https|" : "f|http|") + host + "|" + std::to_string(d.port);
  names.host_header = authority(host, d.port, d.https);
  names.url_prefix = (d.https ? "https://" : "http://") + names.host_header;
  names.host = std::move(host);
  d.own_names(std::move(names));
  std::string path(url->encoded_path());
  if (path.empty()) path = "/";
  if (url->has_query()) {
    path.push_back('?');
    path.append(url->encoded_query());
  }
  normalised_path normalised = normalise_path(path);
  if (normalised.problem != path_problem::none) out.status = forward_target::problem::path;
  d.target = std::move(normalised.target);
  return out;
}

net::awaitable<bool> resolve_forward(destination& dest, const conf::forward_host& allowed,
                                     const std::vector<tcp::endpoint>& own_listeners,
                                     bool never_own) {
  tcp::resolver resolver(co_await net::this_coro::executor);
  auto [ec, results] =
      co_await resolver.async_resolve(dest.host(), std::to_string(dest.port), awaited);
  bool refused = false;
  for (const auto& r : results) {
    const auto ep = r.endpoint();
    const bool own = is_own_listener(ep, own_listeners);
    if ((own && never_own) || (!allowed.is_address && (own || !is_public_address(ep.address())))) {
      refused = true;
    }
    dest.checked.push_back(ep);
  }
  if (ec) dest.checked.clear();  // resolution failed: the exchange answers 502
  co_return refused;
}

bool is_own_listener(const tcp::endpoint& ep, const std::vector<tcp::endpoint>& own_listeners) {
  return std::any_of(own_listeners.begin(), own_listeners.end(), [&](const tcp::endpoint& l) {
    // 0.0.0.0 (or ::) as a destination reaches this host: whichever listener has the port.
    return l.port() == ep.port() && (l.address() == ep.address() || l.address().is_unspecified() ||
                                     ep.address().is_unspecified());
  });
}

}  // namespace sidecar::proxy
