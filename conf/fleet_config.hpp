// The [fleet] table (docs/fleet.md): where this sidecar ships its records (ClickHouse), under
// which node name, and whether the Traces API answers from ClickHouse. Restart-only: a reload
// never changes it.
#pragma once

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace sidecar::conf {

/// A ClickHouse HTTP endpoint: http or https, host, port; no credentials in it, ever.
struct clickhouse_url {
  std::string text;  // as written in the config
  bool https = false;
  std::string host;
  std::uint16_t port = 0;
};

struct fleet_config {
  clickhouse_url clickhouse;
  std::string database = "traces";
  std::string table = "traces";
  std::string user = "default";
  std::string password;  // sent as Basic auth only; never logged
  std::string node;      // default: the host name
  /// With a Distributed `table`: the per-shard table, and where it lives (both or neither).
  std::string local_table;
  std::vector<clickhouse_url> shards;
  std::chrono::milliseconds retention{0};  // default: [store] retention
  bool ship = true;
  bool query = false;
  /// Extra trust for an https ClickHouse (verification is always on).
  std::optional<std::filesystem::path> ca;
  /// A batch goes when it holds this many records, or when its oldest waited batch_interval.
  std::size_t batch_records = 5000;
  std::chrono::milliseconds batch_interval = std::chrono::seconds(1);
  /// One request to ClickHouse (connect, send, answer) takes at most this long.
  std::chrono::milliseconds timeout = std::chrono::seconds(10);
};

}  // namespace sidecar::conf
