// Reading trace records back: the filters of docs/api.md, a page request with an
// optional cursor, and the interface the API reads through.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "conf/config.hpp"

namespace sidecar::store {

class trace_purger;

/// The list filters, all ANDed; an unset field matches everything. Values are already
/// validated and decoded by the API.
struct trace_filter {
  std::optional<bool> completed;                   // Status
  std::optional<std::int64_t> created_from_ms;     // DateCreated (inclusive)
  std::optional<std::int64_t> created_before_ms;   // DateCreatedBefore (exclusive)
  std::optional<std::string> session_sid;          // SessionSid, exact
  std::optional<std::int64_t> min_latency_ms;      // Latency, >=
  std::optional<conf::direction> direction;        // Direction
  std::optional<std::string> response_code_prefix; // ResponseCode, 1-3 digits
  std::optional<std::string> response_body_contains;  // ResponseBody, substring
  std::optional<std::string> request_path_prefix;     // RequestPath: prefix of path or of url
  std::optional<std::string> account_sid;             // AccountSid, exact
  std::optional<std::string> org_sid;                 // OrgSid, exact
  std::optional<std::string> method;                  // Method, exact but for letter case
  std::optional<std::string> request_body_contains;   // RequestBody, substring
};

struct list_query {
  /// The accounts whose records are listed (the path account and its sub-accounts).
  /// Empty with all_accounts = false lists nothing.
  std::vector<std::string> accounts;
  bool all_accounts = false;  // an administrator reading across every account
  trace_filter filter;
  std::uint64_t page = 0;
  std::uint32_t page_size = 50;
  /// Continue after this record in the list's order, when it is still stored (else `page`).
  std::optional<std::string> after_sid;
  /// Past this instant the query gives up with query_status::timed_out.
  std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
};

enum class query_status : std::uint8_t { ok, timed_out, failed };

/// The records of one page, produced one at a time (never the whole page in memory).
class record_stream {
 public:
  virtual ~record_stream() = default;
  /// The next record's JSON (exactly the record object of docs/records.md) into `json`; false at
  /// the end of the page or on failure (then status() says which).
  virtual bool next(std::string& json) = 0;
  [[nodiscard]] virtual query_status status() const = 0;

  /// How many records the page holds and the sid of its last one. Every reader plans a page
  /// whole before streaming it (the local store has its keys, the fleet reader its records),
  /// so it knows them up front: the API needs the last sid for next_page_uri, which comes
  /// before the records (docs/api.md).
  struct extent {
    std::size_t count = 0;
    std::string last_sid;
  };
  [[nodiscard]] virtual extent page_extent() const = 0;
};

struct list_result {
  query_status status = query_status::ok;
  std::uint64_t total = 0;  // matches in the whole list, not only this page
  std::unique_ptr<record_stream> records;  // set when status is ok
  /// Why, when status is failed and the reader can say it in words a user may read (the
  /// fleet reader: "cannot connect to ClickHouse"); empty otherwise.
  std::string failure = {};
};

/// One stored record, with what the API needs to decide who may see it.
struct stored_trace {
  std::string account_sid;
  std::string json;
};

/// The answer of trace_reader::get: the record, none (missing or expired), or a failed read.
/// A failed read is never reported as a missing record (the API answers 503, not 404). It
/// reads like the optional it wraps: `if (auto t = reader.get(sid)) use(t->json)`.
struct trace_lookup {
  query_status status = query_status::ok;
  std::optional<stored_trace> trace;  // set when found
  /// Why, when failed and the reader can say it in words a user may read (the fleet
  /// reader: "cannot connect to ClickHouse"); empty otherwise.
  std::string failure = {};

  [[nodiscard]] static trace_lookup failed(std::string why = {}) {
    return {query_status::failed, std::nullopt, std::move(why)};
  }
  [[nodiscard]] bool has_value() const { return trace.has_value(); }
  explicit operator bool() const { return trace.has_value(); }
  stored_trace& operator*() { return *trace; }
  const stored_trace& operator*() const { return *trace; }
  stored_trace* operator->() { return &*trace; }
  const stored_trace* operator->() const { return &*trace; }
};

/// The read side of the store.
class trace_reader {
 public:
  virtual ~trace_reader() = default;
  /// The record with this sid; none when missing or expired; status failed when it could not
  /// be read.
  [[nodiscard]] virtual trace_lookup get(std::string_view sid) = 0;
  /// A page of the list, newest first (date_created descending, then sid descending),
  /// with the exact total of the filtered list.
  [[nodiscard]] virtual list_result list(const list_query& q) = 0;
  /// What deletes the records this reader answers (store/trace_purge.hpp): the reader itself
  /// for the local store and the fleet reader; null for a reader that cannot purge.
  [[nodiscard]] virtual trace_purger* purger() { return nullptr; }
};

}  // namespace sidecar::store
