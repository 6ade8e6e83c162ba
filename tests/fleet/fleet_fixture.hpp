// What the fleet tests share: records like the store's tests make them, a config whose
// [fleet] points at a test clickhouse-server as its `sidecar` user, records submitted to a
// store, a suite's server and a suite's store of shipped records, and polling with a deadline.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <memory>
#include <random>
#include <string>

#include "conf/config.hpp"
#include "fleet/shipper.hpp"
#include "store/trace_record.hpp"
#include "store/trace_store.hpp"
#include "support/metrics.hpp"
#include "tests/fleet/clickhouse_server.hpp"

namespace sidecar::fleet::testing {

inline const std::string acct_a = "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
inline const std::string acct_b = "ACbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
inline const std::string acct_c = "ACcccccccccccccccccccccccccccccccc";

std::int64_t now_ms();

/// A record of `account` created at `created` (ms), with a few varied fields from `n`.
store::trace_record make_record(std::mt19937_64& rng, std::int64_t created,
                                const std::string& account, int n);

/// [fleet] at `ch` as its `sidecar` user (the server's password), the rest as defaults.
conf::fleet_config sidecar_user(const clickhouse_server& ch);

/// A config with a store under `data_dir` (retention 10 days) and [fleet] at `ch` as the
/// `sidecar` user, node `node`, small batches.
std::shared_ptr<conf::config> fleet_config(const std::filesystem::path& data_dir,
                                           const clickhouse_server& ch, const std::string& node);

/// Submits `n` records to `store` (make_record's, from node-1 as the record builder makes them
/// with [fleet] set), the i-th of `account(i)` created at `created(i)`, and waits until they
/// are written; their sids.
std::vector<std::string> submit_records(store::trace_store& store, std::mt19937_64& rng, int n,
                                        const std::function<std::string(int)>& account,
                                        const std::function<std::int64_t(int)>& created);

/// Polls `done` every 20 ms until it is true or `timeout` passes; its last answer.
bool eventually(const std::function<bool()>& done,
                std::chrono::milliseconds timeout = std::chrono::seconds(30));

/// A temporary directory, removed at the end.
class temp_dir {
 public:
  temp_dir();
  ~temp_dir();
  [[nodiscard]] const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

/// What a suite that reads shipped records shares (loading is the slow part, so a suite loads
/// once): a started ClickHouse server, and a local store holding `n` records of acct_a, acct_b
/// and acct_c in turn, the i-th created at `created(i)`, every one shipped (`sids` in order).
struct shipped_store {
  /// `configure` adjusts the config before the store opens (accounts, query mode).
  shipped_store(std::uint64_t seed, int n, const std::function<std::int64_t(int)>& created,
                const std::function<void(conf::config&)>& configure = {});
  shipped_store(const shipped_store&) = delete;
  shipped_store& operator=(const shipped_store&) = delete;

  temp_dir dir;
  clickhouse_server ch;
  std::shared_ptr<conf::config> cfg;
  metrics::registry metrics;
  std::unique_ptr<store::trace_store> store;
  std::vector<std::string> sids;
};

/// The fixture of a suite that shares one ClickHouse server (`server_`), started before its
/// first test and stopped after its last; each test skips when clickhouse-server is not
/// installed (a derived SetUp() calls this one first and returns when IsSkipped()).
class clickhouse_suite : public ::testing::Test {
 protected:
  static void SetUpTestSuite();
  static void TearDownTestSuite();
  void SetUp() override;

  static std::unique_ptr<clickhouse_server> server_;
};

/// The fixture of a test that ships from its own store to its own ClickHouse server: the server
/// started and a config at it (fleet_config); the test opens the store and the shipper.
class shipping_fixture : public ::testing::Test {
 protected:
  explicit shipping_fixture(std::uint64_t seed) : rng_(seed) {}
  void SetUp() override;
  /// uniqExact(sid) of the table: each record once; -1 when ClickHouse cannot answer.
  std::int64_t stored_once();

  temp_dir dir_;
  clickhouse_server ch_;
  std::shared_ptr<conf::config> cfg_;
  metrics::registry metrics_;
  std::unique_ptr<store::trace_store> store_;
  std::unique_ptr<shipper> shipper_;
  std::mt19937_64 rng_;
};

}  // namespace sidecar::fleet::testing
