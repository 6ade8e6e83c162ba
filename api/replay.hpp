// POST …/Traces/{TraceSid}/Replay (docs/api.md, "Replay"): who may replay what, the checks made
// before anything is sent, the per-account limits, and the answer. The sending itself is the
// proxy's (store/replayer.hpp), injected by main.
#pragma once

#include <chrono>
#include <cstddef>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "api/handler.hpp"
#include "store/replayer.hpp"
#include "store/trace_query.hpp"
#include "support/net.hpp"

namespace sidecar::api {

/// At most `in_flight` replays of one account at once and `per_minute` started in any minute.
class replay_limits {
 public:
  replay_limits(std::size_t in_flight, std::size_t per_minute)
      : max_in_flight_(in_flight), per_minute_(per_minute) {}
  /// Admits a replay of `account` (then release() it when it ends), or says how many whole
  /// seconds to wait before one could be admitted. Thread-safe.
  [[nodiscard]] std::optional<std::chrono::seconds> admit(
      const std::string& account, std::chrono::steady_clock::time_point now);
  void release(const std::string& account);

 private:
  struct usage {
    std::size_t in_flight = 0;
    std::deque<std::chrono::steady_clock::time_point> started;  // within the last minute
  };
  std::mutex mu_;
  std::unordered_map<std::string, usage> accounts_;
  std::size_t max_in_flight_;
  std::size_t per_minute_;
};

class replay_desk {
 public:
  /// All three must outlive the desk.
  replay_desk(const handler& h, store::trace_reader& reader, store::trace_replayer& replayer);

  /// The answer to one POST of the replay resource; `body` is the request's body.
  [[nodiscard]] net::awaitable<answer> serve(request_view req, std::string body);

 private:
  const handler& handler_;
  store::trace_reader& reader_;
  store::trace_replayer& replayer_;
  replay_limits limits_{10, 60};
};

}  // namespace sidecar::api
