// The fleet reader (docs/fleet.md): a store::trace_reader over ClickHouse, so that with
// [fleet] query = true the Traces API answers from every node's records. Same filters, order,
// totals, paging and cursor as the local store; the same JSON, byte for byte, since ClickHouse
// holds each record's JSON as the local store gave it. A sid shipped twice counts once.
// ClickHouse failing gives query_status::failed with a message, never a partial page.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>

#include "conf/config.hpp"
#include "store/trace_query.hpp"
#include "support/metrics.hpp"

namespace sidecar::fleet {

class clickhouse_reader final : public store::trace_reader {
 public:
  /// `now_ms` (tests move it) decides what [fleet] retention hides.
  clickhouse_reader(std::shared_ptr<const conf::config> cfg, metrics::registry& metrics,
                    std::function<std::int64_t()> now_ms = {});
  ~clickhouse_reader() override;

  [[nodiscard]] store::trace_lookup get(std::string_view sid) override;
  [[nodiscard]] store::list_result list(const store::list_query& q) override;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace sidecar::fleet
