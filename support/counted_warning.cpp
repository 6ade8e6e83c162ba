// Rate-limited warnings with counts: see counted_warning.hpp.
#include "support/counted_warning.hpp"

#include "support/log.hpp"

namespace sidecar::log {
namespace {

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

counted_warning::counted_warning(std::string msg, std::string reason, std::chrono::seconds interval)
    : msg_(std::move(msg)),
      reason_(std::move(reason)),
      interval_ns_(std::chrono::duration_cast<std::chrono::nanoseconds>(interval).count()),
      last_ns_(now_ns() - interval_ns_) {}

void counted_warning::add(std::uint64_t n) noexcept {
  count_.fetch_add(n, std::memory_order_relaxed);
  const std::int64_t now = now_ns();
  std::int64_t last = last_ns_.load(std::memory_order_relaxed);
  if (now - last < interval_ns_) return;
  // One thread wins the right to write this interval's line.
  if (!last_ns_.compare_exchange_strong(last, now, std::memory_order_relaxed)) return;
  const std::uint64_t count = count_.exchange(0, std::memory_order_relaxed);
  if (count == 0) return;
  try {
    warn(msg_, {{"reason", reason_},
                {"count", std::to_string(count)},
                {"interval_s", std::to_string(interval_ns_ / 1'000'000'000)}});
  } catch (...) {  // out of memory for a log line: the count is lost, the caller is not
  }
}

}  // namespace sidecar::log
