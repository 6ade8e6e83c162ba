// The proxy's metrics (docs/operations.md, "Metrics"): registered once, then one relaxed add
// each on the request path.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <string_view>

#include "conf/config.hpp"
#include "store/capture.hpp"
#include "support/metrics.hpp"

namespace sidecar::proxy {

class proxy_metrics {
 public:
  explicit proxy_metrics(metrics::registry& registry);

  /// An answer the proxy gave without trying an upstream (400, 403, 404, 405, 414, 431, 503).
  void count_local(int status);
  /// An exchange that reached or tried an upstream: its status class, its duration from the
  /// request head's arrival, and its error's kind when it has one.
  void count_exchange(conf::direction dir, int status, store::exchange_error error,
                      std::chrono::steady_clock::duration took);

  /// Client connections open on the proxy.
  metrics::gauge& connections() { return *connections_; }

  static constexpr std::array<int, 7> local_statuses{400, 403, 404, 405, 414, 431, 503};
  static constexpr std::size_t error_kind_count =
      static_cast<std::size_t>(store::exchange_error::shutdown) + 1;

 private:
  std::array<std::array<metrics::counter*, 5>, 2> exchanges_{};  // [direction][status class]
  std::array<metrics::histogram*, 2> durations_{};               // by direction
  std::array<metrics::counter*, error_kind_count> upstream_errors_{};
  std::array<metrics::counter*, local_statuses.size()> local_answers_{};
  metrics::gauge* connections_ = nullptr;
};

}  // namespace sidecar::proxy
