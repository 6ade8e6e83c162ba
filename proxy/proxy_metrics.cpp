// The proxy's metrics: see proxy_metrics.hpp.
#include "proxy/proxy_metrics.hpp"

#include <string>

namespace sidecar::proxy {

namespace {

// Status classes of sidecar_exchanges_total.
std::size_t status_class(int code) {
  if (code >= 200 && code < 600) return static_cast<std::size_t>(code / 100 - 1);  // 2xx -> 1 ...
  return 0;  // none (also 1xx, which only 101 reaches here as a final status)
}
constexpr std::array<std::string_view, 5> class_names{"none", "2xx", "3xx", "4xx", "5xx"};

// The upstream_errors_total{kind} label of an exchange error.
constexpr std::array<std::string_view, proxy_metrics::error_kind_count> error_kinds{
    "none",
    "resolve",
    "connect_refused",
    "connect_timeout",
    "unreachable",
    "tls",
    "closed",
    "response_timeout",
    "bad_response",
    "reset_mid_body",
    "stalled_mid_body",
    "client_closed",
    "client_timeout",
    "client_bad_body",
    "shutdown"};

std::size_t direction_index(conf::direction dir) { return dir == conf::direction::api ? 1 : 0; }

}  // namespace

proxy_metrics::proxy_metrics(metrics::registry& registry) {
  constexpr std::array<std::string_view, 2> directions{"webhook", "api"};
  for (std::size_t d = 0; d < directions.size(); ++d) {
    for (std::size_t k = 0; k < class_names.size(); ++k) {
      exchanges_[d][k] = &registry.add_counter(
          "sidecar_exchanges_total", "Proxied exchanges that reached or tried an upstream",
          {{"direction", std::string(directions[d])}, {"class", std::string(class_names[k])}});
    }
  }
  for (std::size_t k = 1; k < error_kinds.size(); ++k) {
    upstream_errors_[k] = &registry.add_counter("sidecar_upstream_errors_total",
                                                "Exchanges that ended in an error, by kind",
                                                {{"kind", std::string(error_kinds[k])}});
  }
  for (std::size_t i = 0; i < local_statuses.size(); ++i) {
    local_answers_[i] = &registry.add_counter("sidecar_proxy_local_answers_total",
                                              "Answers the proxy gave without trying an upstream",
                                              {{"status", std::to_string(local_statuses[i])}});
  }
  connections_ =
      &registry.add_gauge("sidecar_proxy_connections", "Client connections open on the proxy");
  for (std::size_t d = 0; d < directions.size(); ++d) {
    durations_[d] = &registry.add_histogram(
        "sidecar_proxy_request_duration_seconds",
        "From a request head arriving to the end of the exchange (the response relayed)",
        {{"direction", std::string(directions[d])}});
  }
}

void proxy_metrics::count_local(int status) {
  for (std::size_t i = 0; i < local_statuses.size(); ++i) {
    if (local_statuses[i] == status) local_answers_[i]->inc();
  }
}

void proxy_metrics::count_exchange(conf::direction dir, int status, store::exchange_error error,
                                   std::chrono::steady_clock::duration took) {
  const std::size_t d = direction_index(dir);
  exchanges_[d][status_class(status)]->inc();
  durations_[d]->observe(std::chrono::duration<double>(took).count());
  if (error != store::exchange_error::none) {
    upstream_errors_[static_cast<std::size_t>(error)]->inc();
  }
}

}  // namespace sidecar::proxy
