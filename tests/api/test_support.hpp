// Test helpers for the API: an in-memory trace_reader double, a test configuration with an
// account tree, the real store with the server over it (store_env) and a sample record, a
// small blocking HTTP client, and JSON parsing (Boost.JSON) of answers.
#pragma once

#include <atomic>
#include <boost/json.hpp>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "api/server.hpp"
#include "conf/config.hpp"
#include "store/trace_query.hpp"
#include "store/trace_record.hpp"
#include "store/trace_store.hpp"
#include "support/metrics.hpp"
#include "tests/common/temp_dir.hpp"

namespace sidecar::api::testing {

/// What the double knows of a record: the fields the filters look at.
struct fake_trace {
  std::string sid;
  std::string account_sid;
  std::string org_sid;
  std::int64_t created_ms = 0;
  std::string session_sid;
  bool completed = true;
  conf::direction direction = conf::direction::webhook;
  std::int64_t latency_ms = 0;
  std::string response_code = "200";
  std::string response_body;
  std::string request_path = "/app";
  std::string request_url = "http://127.0.0.1:9000/app";
  std::string request_method = "POST";
  std::string request_body;
  /// The record's JSON (built by make_json()).
  std::string json;
};

/// "TR" + 12 hex of created_ms + 20 hex of the counter: unique, ordered by time then counter.
std::string make_sid(std::int64_t created_ms, std::uint64_t n);
/// The record's JSON, through the project's encoder (sid first, as the real records).
std::string make_json(const fake_trace& t);

/// An in-memory trace_reader with docs/api.md's order, filters, totals, paging and cursor.
/// Thread-safe, so that a test can add records while it reads.
class memory_reader final : public store::trace_reader {
 public:
  void add(fake_trace t);
  [[nodiscard]] store::trace_lookup get(std::string_view sid) override;
  [[nodiscard]] store::list_result list(const store::list_query& q) override;
  /// From now on list() answers query_status::timed_out.
  void time_out(bool on) { timed_out_ = on; }
  /// From now on get() answers a failed read (an I/O error of the store).
  void fail_reads(bool on) { failing_ = on; }
  /// How many times list() was called.
  [[nodiscard]] int list_calls() const { return list_calls_; }

 private:
  std::mutex mu_;
  std::vector<fake_trace> traces_;
  std::atomic<bool> timed_out_{false};
  std::atomic<bool> failing_{false};
  std::atomic<int> list_calls_{0};
};

/// Whether `t` passes `f` (the double's reading of each filter's meaning).
bool matches(const fake_trace& t, const store::trace_filter& f);

/// Account SIDs of the test tree:
///   parent (traces) ── child (traces) ── grandchild (traces)
///                   └─ sibling (traces)
///   other (traces), off (traces = false), admin (administrator, traces),
///   hashed (traces, auth_token_sha256)
struct accounts {
  static const std::string parent, child, grandchild, sibling, other, off, admin, hashed;
};
/// The token of each test account: "token-of-" + sid.
std::string token_of(const std::string& sid);

/// A config with the test tree and the API on 127.0.0.1:0.
std::shared_ptr<conf::config> make_config();

struct http_answer {
  unsigned status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  [[nodiscard]] std::string header(const std::string& lower_name) const;
  [[nodiscard]] boost::json::value json() const;
};

/// A blocking HTTP/1.1 client on one connection (keep-alive between requests).
class http_client {
 public:
  explicit http_client(std::uint16_t port);
  ~http_client();
  http_answer request(const std::string& method, const std::string& target,
                      const std::map<std::string, std::string>& headers = {});
  /// GET with Basic credentials of `sid` (token_of(sid) unless given).
  http_answer get(const std::string& target, const std::string& sid,
                  std::optional<std::string> token = std::nullopt);
  /// Sends raw bytes and reads one answer.
  http_answer raw(const std::string& bytes);

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

std::string basic(const std::string& user, const std::string& password);

/// The real RocksDB trace_store in a temporary directory, with the API server over it on
/// 127.0.0.1:0 (maintenance hourly, so that it never runs during a test): what the tests over
/// the real store share. Destroyed in order: server, store, directory.
class store_env {
 public:
  /// `adjust` edits the configuration (make_config(), the store under the directory) before
  /// the store opens.
  explicit store_env(const std::function<void(conf::config&)>& adjust = {});
  ~store_env();
  store_env(const store_env&) = delete;
  store_env& operator=(const store_env&) = delete;

  [[nodiscard]] const std::filesystem::path& dir() const { return dir_.path(); }
  /// Submits `r` and waits until it is written; its sid.
  std::string put(store::trace_record r);

 private:
  testing_support::temp_dir dir_;

 public:
  std::shared_ptr<conf::config> cfg;
  metrics::registry registry;
  std::unique_ptr<store::trace_store> store;
  std::unique_ptr<server> api;
  std::uint16_t port = 0;
};

/// A completed webhook record of `account` created at `created_ms`: POST
/// http://127.0.0.1:9000/apps/voice answered 200 OK with `<Response/>`, 10 ms. Tests change
/// what they look at.
[[nodiscard]] store::trace_record sample_record(const std::string& account,
                                                std::int64_t created_ms, std::mt19937_64& rng);

}  // namespace sidecar::api::testing
