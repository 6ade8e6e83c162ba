// The access line of one exchange: see access_line.hpp.
#include "store/access_line.hpp"

#include <chrono>
#include <string>

#include "support/log.hpp"

namespace sidecar::store {

void log_access(const capture& c, std::string_view trace_sid, std::string_view account,
                std::string_view why_none) {
  // The path sent upstream, without its query: a query may carry a token.
  std::string_view path = c.upstream_target();
  path = path.substr(0, path.find('?'));
  const std::string status = std::to_string(c.status_code);
  const std::string latency =
      std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(c.latency).count());
  log::info("exchange", {{"trace", trace_sid.empty() ? "-" : trace_sid},
                         {"why_none", why_none.empty() ? "-" : why_none},
                         {"account", account.empty() ? "-" : account},
                         {"route", c.forward_proxy ? "forward" : std::string_view(c.route_prefix)},
                         {"direction", conf::to_string(c.direction)},
                         {"method", c.method},
                         {"path", path},
                         {"status", status},
                         {"latency_ms", latency},
                         {"error", c.error == exchange_error::none ? "-" : describe(c.error)}});
}

}  // namespace sidecar::store
