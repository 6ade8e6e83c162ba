// The proxy's metrics (proxy/proxy_metrics.hpp): each exchange counted once by direction,
// status class and error kind, each local answer by its status.
#include "proxy/proxy_metrics.hpp"

#include <gtest/gtest.h>

#include <string>

namespace sidecar::testing {
namespace {

using store::exchange_error;

// The value of one series in the registry's text, or -1 when it is not there.
double series(const metrics::registry& r, const std::string& line_start) {
  const std::string text = r.render();
  const auto at = text.find("\n" + line_start + " ");
  if (at == std::string::npos) return -1;
  return std::stod(text.substr(at + line_start.size() + 2));
}

TEST(proxy_metrics, CountsAnExchangeByDirectionStatusClassAndErrorKind) {
  metrics::registry registry;
  proxy::proxy_metrics m(registry);
  m.count_exchange(conf::direction::webhook, 200, exchange_error::none,
                   std::chrono::milliseconds(3));
  m.count_exchange(conf::direction::api, 504, exchange_error::upstream_response_timeout,
                   std::chrono::seconds(1));
  m.count_exchange(conf::direction::api, 0, exchange_error::client_closed,
                   std::chrono::milliseconds(1));
  EXPECT_EQ(series(registry, R"(sidecar_exchanges_total{direction="webhook",class="2xx"})"), 1);
  EXPECT_EQ(series(registry, R"(sidecar_exchanges_total{direction="api",class="5xx"})"), 1);
  EXPECT_EQ(series(registry, R"(sidecar_exchanges_total{direction="api",class="none"})"), 1);
  EXPECT_EQ(series(registry, R"(sidecar_exchanges_total{direction="webhook",class="5xx"})"), 0);
  EXPECT_EQ(series(registry, R"(sidecar_upstream_errors_total{kind="response_timeout"})"), 1);
  EXPECT_EQ(series(registry, R"(sidecar_upstream_errors_total{kind="client_closed"})"), 1);
  EXPECT_EQ(series(registry, R"(sidecar_upstream_errors_total{kind="resolve"})"), 0);
  EXPECT_EQ(series(registry, R"(sidecar_proxy_request_duration_seconds_count{direction="api"})"),
            2);
}

TEST(proxy_metrics, CountsLocalAnswersByStatusAndOnlyTheKnownOnes) {
  metrics::registry registry;
  proxy::proxy_metrics m(registry);
  m.count_local(404);
  m.count_local(404);
  m.count_local(431);
  m.count_local(418);  // not a status the proxy answers itself: no series, no count
  EXPECT_EQ(series(registry, R"(sidecar_proxy_local_answers_total{status="404"})"), 2);
  EXPECT_EQ(series(registry, R"(sidecar_proxy_local_answers_total{status="431"})"), 1);
  EXPECT_EQ(series(registry, R"(sidecar_proxy_local_answers_total{status="418"})"), -1);
}

TEST(proxy_metrics, TheConnectionsGaugeGoesUpAndDown) {
  metrics::registry registry;
  proxy::proxy_metrics m(registry);
  m.connections().add(2);
  m.connections().add(-1);
  EXPECT_EQ(series(registry, "sidecar_proxy_connections"), 1);
}

}  // namespace
}  // namespace sidecar::testing
