// A client of ClickHouse's HTTP interface (docs/fleet.md), for the shipper and the fleet
// reader: Beast over a kept-alive connection, http or https (the peer verified, always), the
// user and password as Basic auth (never in a URL, never logged). Blocking calls with a
// deadline; one client per thread (the reader keeps a small pool).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "conf/fleet_config.hpp"

namespace sidecar::fleet {

/// What one request gave. ClickHouse's own error text is never kept: it can echo the SQL,
/// and so record bodies; a failure is described by its kind, the HTTP status and the
/// ClickHouse error code.
struct clickhouse_answer {
  enum class failure : std::uint8_t { none, connect, tls, timeout, io, http, too_large };
  failure fail = failure::none;
  unsigned status = 0;  // the HTTP status, when an answer arrived
  int code = 0;         // ClickHouse's error code ("Code: 60"), when it gave one
  std::string body;     // the answer when ok; empty otherwise
  [[nodiscard]] bool ok() const { return fail == failure::none; }
  /// "connect failed", "HTTP 500 (ClickHouse error 60)": what logs and messages may say.
  [[nodiscard]] std::string describe() const;
  /// The metric label of the failure: "connect", "tls", "timeout", "io", "http", "too_large".
  [[nodiscard]] std::string_view kind() const;
};

class clickhouse_client {
 public:
  /// `url` is the server (the [fleet] clickhouse, or one of shards); credentials, CA and
  /// timeout come from `fleet`.
  clickhouse_client(conf::clickhouse_url url, const conf::fleet_config& fleet);
  ~clickhouse_client();
  clickhouse_client(const clickhouse_client&) = delete;
  clickhouse_client& operator=(const clickhouse_client&) = delete;

  /// Runs `sql` (sent as the request body). The answer must arrive whole within [fleet]
  /// timeout and before `deadline`, and be at most `max_answer_bytes`.
  [[nodiscard]] clickhouse_answer query(std::string_view sql,
                                        std::size_t max_answer_bytes = 16u << 20,
                                        std::chrono::steady_clock::time_point deadline =
                                            std::chrono::steady_clock::time_point::max());
  /// Runs `insert_sql` ("INSERT INTO t FORMAT RowBinary") with `data` as its rows. With
  /// `distributed_sync`, a Distributed table answers only once every shard has its rows.
  [[nodiscard]] clickhouse_answer insert(std::string_view insert_sql, std::string_view data,
                                         bool distributed_sync = false);

  [[nodiscard]] const conf::clickhouse_url& url() const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace sidecar::fleet
