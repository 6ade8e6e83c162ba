// The ClickHouse table of the fleet (docs/fleet.md): its DDL, and one record as a RowBinary row
// built from the record's JSON as the local store gives it, so that the fleet reader answers
// the same bytes. The filter columns are taken from that same JSON.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "conf/fleet_config.hpp"

namespace sidecar::fleet {

/// `CREATE DATABASE IF NOT EXISTS`.
[[nodiscard]] std::string create_database_sql(const conf::fleet_config& f);
/// `CREATE TABLE IF NOT EXISTS {database}.{table}` with `engine` (default: a single
/// server's ReplacingMergeTree, partitioned by day, one row per sid once merged).
[[nodiscard]] std::string create_table_sql(const conf::fleet_config& f, std::string_view table,
                                           std::string_view engine = {});
/// The purge tombstones' table, `{table}_purged` beside `table`.
[[nodiscard]] std::string create_tombstone_table_sql(const conf::fleet_config& f,
                                                     std::string_view table);
/// `INSERT INTO {database}.{table} (columns) FORMAT RowBinary`.
[[nodiscard]] std::string insert_sql(const conf::fleet_config& f);

/// `INSERT INTO {database}.{table}_purged (…) FORMAT RowBinary`: the purge tombstones beside
/// `[fleet] table` (on a cluster its Distributed table, so that a tombstone goes to the shard
/// of its account's records).
[[nodiscard]] std::string insert_tombstones_sql(const conf::fleet_config& f);
/// Appends the tombstone row of the record `sid` of `account` (in the day partition of the
/// record, so that both leave together past retention). False when `sid` is not a trace sid.
bool append_tombstone(std::string& out, std::string_view sid, std::string_view account,
                      std::int64_t purged_ms);

/// `{database}.{table}` with both names quoted.
[[nodiscard]] std::string table_name(const conf::fleet_config& f, std::string_view table);

/// Reuses its JSON parser across rows (one per shipping thread).
class row_encoder {
 public:
  row_encoder();
  ~row_encoder();
  row_encoder(const row_encoder&) = delete;
  row_encoder& operator=(const row_encoder&) = delete;
  /// Appends the row of the record `json` (sid `sid`). False when the JSON is not a record.
  bool append(std::string& out, std::string_view sid, std::string_view json);

 private:
  struct impl;
  impl* impl_;
};

/// Days since 1970-01-01 of `epoch_ms` (UTC): the partition of a record.
[[nodiscard]] std::int64_t day_of(std::int64_t epoch_ms);

}  // namespace sidecar::fleet
