// The fleet's ClickHouse schema and rows (see schema.hpp, docs/fleet.md).
#include "fleet/schema.hpp"

#include <simdjson.h>

#include "fleet/sql.hpp"
#include "store/trace_record.hpp"

namespace sidecar::fleet {

namespace {

// Every column, in the order of the rows. Date and integers are what ClickHouse 18.16 has;
// the record's JSON is kept whole (`json`), the others serve the filters.
constexpr std::string_view columns_ddl =
    "day Date, sid String, created_ms Int64, account_sid String, org_sid String, "
    "session_sid String, node String, completed UInt8, api UInt8, latency_ms Int64, "
    "response_code String, method String, request_path String, request_url String, "
    "request_body String, response_body String, json String";
constexpr std::string_view column_names =
    "day, sid, created_ms, account_sid, org_sid, session_sid, node, completed, api, latency_ms, "
    "response_code, method, request_path, request_url, request_body, response_body, json";

void put_varint(std::string& out, std::uint64_t v) {
  while (v >= 0x80) {
    out += static_cast<char>((v & 0x7f) | 0x80);
    v >>= 7;
  }
  out += static_cast<char>(v);
}

void put_string(std::string& out, std::string_view s) {
  put_varint(out, s.size());
  out.append(s);
}

template <class T>
void put_le(std::string& out, T v) {
  auto u = static_cast<std::make_unsigned_t<T>>(v);
  for (std::size_t i = 0; i < sizeof(T); ++i) {
    out += static_cast<char>(u & 0xff);
    u = static_cast<decltype(u)>(u >> 8);
  }
}

}  // namespace

std::int64_t day_of(std::int64_t epoch_ms) {
  constexpr std::int64_t day_ms = 86'400'000;
  return epoch_ms >= 0 ? epoch_ms / day_ms : -((-epoch_ms + day_ms - 1) / day_ms);
}

std::string table_name(const conf::fleet_config& f, std::string_view table) {
  return sql::identifier(f.database) + "." + sql::identifier(table);
}

std::string create_database_sql(const conf::fleet_config& f) {
  return "CREATE DATABASE IF NOT EXISTS " + sql::identifier(f.database);
}

std::string create_table_sql(const conf::fleet_config& f, std::string_view table,
                             std::string_view engine) {
  std::string s = "CREATE TABLE IF NOT EXISTS " + table_name(f, table) + " (";
  s += columns_ddl;
  s += ") ENGINE = ";
  if (engine.empty()) {
    // One row per sid once parts merge (a batch shipped twice); queries count a sid once
    // anyway. Sorted by account then sid: a list reads its accounts' ranges, newest last.
    // Granules of 1024 rows rather than 8192: a page reads its records by key, and each one
    // decompresses its whole granule of `json` (about 0.9 MB instead of 7 MB; docs/fleet.md).
    s += "ReplacingMergeTree() PARTITION BY day ORDER BY (account_sid, sid) "
         "SETTINGS index_granularity = 1024";
  } else {
    s += engine;
  }
  return s;
}

std::string create_tombstone_table_sql(const conf::fleet_config& f, std::string_view table) {
  return "CREATE TABLE IF NOT EXISTS " + table_name(f, std::string(table) + "_purged") +
         " (day Date, sid String, account_sid String, purged_ms Int64) ENGINE = "
         "ReplacingMergeTree() PARTITION BY day ORDER BY sid";
}

std::string insert_sql(const conf::fleet_config& f) {
  return "INSERT INTO " + table_name(f, f.table) + " (" + std::string(column_names) +
         ") FORMAT RowBinary";
}

std::string insert_tombstones_sql(const conf::fleet_config& f) {
  return "INSERT INTO " + table_name(f, f.table + "_purged") +
         " (day, sid, account_sid, purged_ms) FORMAT RowBinary";
}

bool append_tombstone(std::string& out, std::string_view sid, std::string_view account,
                      std::int64_t purged_ms) {
  const auto created = store::sid_time_ms(sid);
  if (!created) return false;
  put_le<std::uint16_t>(out, static_cast<std::uint16_t>(day_of(*created)));
  put_string(out, sid);
  put_string(out, account);
  put_le<std::int64_t>(out, purged_ms);
  return true;
}

struct row_encoder::impl {
  simdjson::dom::parser parser;
  std::string padded;
};

row_encoder::row_encoder() : impl_(new impl) {}
row_encoder::~row_encoder() { delete impl_; }

bool row_encoder::append(std::string& out, std::string_view sid, std::string_view json) {
  const auto created = store::sid_time_ms(sid);
  if (!created) return false;
  auto& p = impl_->padded;
  p.assign(json);
  p.append(simdjson::SIMDJSON_PADDING, '\0');
  simdjson::dom::element doc;
  if (impl_->parser.parse(p.data(), json.size(), false).get(doc)) return false;
  auto text = [&](simdjson::dom::element e, const char* key) -> std::string_view {
    std::string_view v;
    if (e[key].get_string().get(v)) return {};
    return v;
  };
  simdjson::dom::element request, response_status;
  if (doc["request"].get(request) || doc["response"]["status"].get(response_status)) return false;
  std::int64_t latency = 0;
  if (doc["latency_ms"].get_int64().get(latency)) latency = 0;

  const std::size_t start = out.size();
  put_le<std::uint16_t>(out, static_cast<std::uint16_t>(day_of(*created)));
  put_string(out, sid);
  put_le<std::int64_t>(out, *created);
  put_string(out, text(doc, "account_sid"));
  put_string(out, text(doc, "org_sid"));
  put_string(out, text(doc, "session_sid"));
  put_string(out, text(doc, "node"));
  put_le<std::uint8_t>(out, text(doc, "status") == "completed" ? 1 : 0);
  put_le<std::uint8_t>(out, text(doc, "direction") == "api" ? 1 : 0);
  put_le<std::int64_t>(out, latency);
  put_string(out, text(response_status, "code"));
  put_string(out, text(request, "method"));
  put_string(out, text(request, "path"));
  put_string(out, text(request, "url"));
  put_string(out, text(request, "body"));
  put_string(out, text(response_status, "body"));
  put_string(out, json);
  if (text(doc, "sid") != sid) {
    out.resize(start);
    return false;
  }
  return true;
}

}  // namespace sidecar::fleet
