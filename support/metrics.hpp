// Process metrics in the Prometheus text format.
//
// Modules register their counters and histograms once, at startup, and keep the returned
// references; the hot path is then one relaxed atomic add. Registration is thread-safe;
// a metric lives as long as the registry.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sidecar::metrics {

using labels = std::vector<std::pair<std::string, std::string>>;

/// A monotonically increasing count.
class counter {
 public:
  void inc(std::uint64_t n = 1) noexcept { value_.fetch_add(n, std::memory_order_relaxed); }
  [[nodiscard]] std::uint64_t value() const noexcept {
    return value_.load(std::memory_order_relaxed);
  }

 private:
  std::atomic<std::uint64_t> value_{0};
};

/// A value that goes up and down (bytes queued, connections open).
class gauge {
 public:
  void set(std::int64_t v) noexcept { value_.store(v, std::memory_order_relaxed); }
  void add(std::int64_t d) noexcept { value_.fetch_add(d, std::memory_order_relaxed); }
  [[nodiscard]] std::int64_t value() const noexcept {
    return value_.load(std::memory_order_relaxed);
  }

 private:
  std::atomic<std::int64_t> value_{0};
};

/// A latency histogram with fixed bucket bounds in seconds.
class histogram {
 public:
  static constexpr std::array<double, 12> bounds{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
                                                 0.01,   0.025,   0.05,   0.1,   0.5,    1.0};
  void observe(double seconds) noexcept;
  struct snapshot {
    std::array<std::uint64_t, bounds.size() + 1> cumulative{};  // last one is +Inf
    double sum = 0;
  };
  [[nodiscard]] snapshot read() const noexcept;

 private:
  std::array<std::atomic<std::uint64_t>, bounds.size() + 1> buckets_{};
  std::atomic<std::uint64_t> sum_micros_{0};
};

/// Owns every metric of the process and renders them for GET /metrics.
class registry {
 public:
  counter& add_counter(std::string_view name, std::string_view help, labels l = {});
  gauge& add_gauge(std::string_view name, std::string_view help, labels l = {});
  histogram& add_histogram(std::string_view name, std::string_view help, labels l = {});
  /// A gauge computed when scraped (bytes on disk, queue depth); a counter when
  /// `monotonic` (CPU seconds).
  void add_callback(std::string_view name, std::string_view help, std::function<double()> read,
                    labels l = {}, bool monotonic = false);

  /// The Prometheus text exposition (version 0.0.4) of every metric.
  [[nodiscard]] std::string render() const;

 private:
  enum class kind { counter, gauge, histogram, callback, counter_callback };
  struct entry {
    std::string name, help;
    labels lbls;
    kind k;
    std::size_t index;
  };
  mutable std::mutex mu_;
  std::vector<entry> entries_;
  std::deque<counter> counters_;  // deque: stable addresses
  std::deque<gauge> gauges_;
  std::deque<histogram> histograms_;
  std::deque<std::function<double()>> callbacks_;
};

}  // namespace sidecar::metrics
