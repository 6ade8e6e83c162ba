// What the fleet tests share: records like the store's tests make them, a config whose
// [fleet] points at a test clickhouse-server, and polling with a deadline.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <random>
#include <string>

#include "conf/config.hpp"
#include "store/trace_record.hpp"
#include "tests/fleet/clickhouse_server.hpp"

namespace sidecar::fleet::testing {

inline const std::string acct_a = "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
inline const std::string acct_b = "ACbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
inline const std::string acct_c = "ACcccccccccccccccccccccccccccccccc";

std::int64_t now_ms();

/// A record of `account` created at `created` (ms), with a few varied fields from `n`.
store::trace_record make_record(std::mt19937_64& rng, std::int64_t created,
                                const std::string& account, int n);

/// A config with a store under `data_dir` (retention 10 days) and [fleet] at `ch` as the
/// `sidecar` user, node `node`, small batches.
std::shared_ptr<conf::config> fleet_config(const std::filesystem::path& data_dir,
                                           const clickhouse_server& ch, const std::string& node);

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

}  // namespace sidecar::fleet::testing
