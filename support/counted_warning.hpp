// A warning that may happen thousands of times a second (a record skipped, a record dropped),
// written at most once per interval per reason, with how many times it happened since the
// last line:
//
//   counted_warning skipped_no_account{"records skipped", "no_account"};
//   skipped_no_account.add();   // any thread; one atomic add unless a line is due
//   -> level=warn msg="records skipped" reason=no_account count=1734 interval_s=10
//
// The first occurrence is written at once; the ones after it wait for the interval to pass.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>

namespace sidecar::log {

class counted_warning {
 public:
  counted_warning(std::string msg, std::string reason,
                  std::chrono::seconds interval = std::chrono::seconds(10));

  /// Counts `n` occurrences; writes the line when the interval since the last one has
  /// passed. Never blocks; thread-safe.
  void add(std::uint64_t n = 1) noexcept;

 private:
  std::string msg_;
  std::string reason_;
  std::int64_t interval_ns_;
  std::atomic<std::uint64_t> count_{0};
  std::atomic<std::int64_t> last_ns_;  // when the last line was written (steady clock)
};

}  // namespace sidecar::log
