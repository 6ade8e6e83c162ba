// The fleet reader (docs/fleet.md): a store::trace_reader over ClickHouse, so that with
// [fleet] query = true the Traces API answers from every node's records. Same filters, order,
// totals, paging and cursor as the local store; the same JSON, byte for byte, since ClickHouse
// holds each record's JSON as the local store gave it. A sid shipped twice counts once.
// ClickHouse failing gives query_status::failed with a message, never a partial page. It is
// also the purger of query mode: a purge writes tombstones that every read honours at once.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>

#include "conf/config.hpp"
#include "store/trace_purge.hpp"
#include "store/trace_query.hpp"
#include "support/metrics.hpp"

namespace sidecar::fleet {

class clickhouse_reader final : public store::trace_reader, public store::trace_purger {
 public:
  /// `now_ms` (tests move it) decides what [fleet] retention hides.
  clickhouse_reader(std::shared_ptr<const conf::config> cfg, metrics::registry& metrics,
                    std::function<std::int64_t()> now_ms = {});
  ~clickhouse_reader() override;

  [[nodiscard]] store::trace_lookup get(std::string_view sid) override;
  [[nodiscard]] store::list_result list(const store::list_query& q) override;
  [[nodiscard]] store::trace_purger* purger() override { return this; }

  /// Tombstones (docs/fleet.md, "Purge in query mode"): the records leave every fleet answer,
  /// through any sidecar, when these return; their rows leave ClickHouse's disk with their day
  /// partition.
  [[nodiscard]] store::purge_result purge(std::string_view sid) override;
  [[nodiscard]] store::purge_result purge(const store::list_query& q) override;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace sidecar::fleet
