// The shipper (docs/fleet.md): two threads that send the records of the store's outbox to
// ClickHouse in commit order, in batches of [fleet] batch_records or every batch_interval
// (larger while behind), one building the next batch while the other sends the current one
// and settles it in the outbox once ClickHouse has answered. At least once: a batch that
// fails is sent again (the table and the queries count a sid once). It never touches the
// proxy or the writer: a slow or absent ClickHouse only lets the outbox grow.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "conf/config.hpp"
#include "store/trace_store.hpp"
#include "support/metrics.hpp"

namespace sidecar::fleet {

/// The shipping's state for /status.
struct shipping_health {
  bool ok = true;
  std::string reason;         // "cannot connect to ClickHouse", never ClickHouse's own text
  std::int64_t since_ms = 0;  // when it started failing (epoch ms)
};

struct shipper_options {
  /// Wall clock in ms since the epoch (tests move it for retention).
  std::function<std::int64_t()> now_ms;
  /// The longest wait between two attempts after failures (doubling from 250 ms).
  std::chrono::milliseconds max_backoff = std::chrono::seconds(15);
  /// How often day partitions past [fleet] retention are dropped.
  std::chrono::milliseconds retention_interval = std::chrono::minutes(30);
};

class shipper {
 public:
  /// Starts the threads; cfg->fleet must be set with ship = true.
  shipper(std::shared_ptr<const conf::config> cfg, store::trace_store& store,
          metrics::registry& metrics, shipper_options opts = {});
  /// Stops the threads (after the request in flight, at most [fleet] timeout).
  ~shipper();
  shipper(const shipper&) = delete;
  shipper& operator=(const shipper&) = delete;

  struct stats {
    std::uint64_t shipped = 0;  // records ClickHouse took
    std::uint64_t batches = 0;
    std::uint64_t failed_batches = 0;
    std::uint64_t lost = 0;     // removed locally before they were shipped
    std::uint64_t backlog = 0;  // records waiting
    std::uint64_t partitions_dropped = 0;
  };
  [[nodiscard]] stats get_stats() const;
  [[nodiscard]] shipping_health health() const;
  /// Asks the sender for a retention pass now (tests; stats().partitions_dropped counts).
  void drop_expired_partitions();

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace sidecar::fleet
