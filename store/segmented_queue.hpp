// The trace writer's queue (store/trace_writer.hpp): items in fixed-size segments, so that
// queueing never moves what is already queued, and segments emptied by a drain are kept for
// the next fills instead of being freed and allocated again.
//
// A single vector did both at once under the queue's lock: at each doubling it allocated a
// block of up to ~12 MiB (fresh pages), moved every queued capture into it, and its large
// allocation made glibc consolidate the small chunks that other threads had freed meanwhile
// (docs/store.md, "Write path").
#pragma once

#include <cstddef>
#include <utility>
#include <vector>

namespace sidecar::store {

/// A FIFO filled at its back and drained whole: the drainer swaps it with an empty one,
/// walks it with for_each(), then clear() keeps up to `max_spares` emptied segments for the
/// next fill. Not thread-safe: the writer's mutex guards the queue, and a drained queue
/// belongs to one thread.
template <class T, std::size_t SegmentItems>
class segmented_queue {
  static_assert(SegmentItems > 0);

 public:
  explicit segmented_queue(std::size_t max_spares) : max_spares_(max_spares) {
    spares_.reserve(max_spares);  // so that clear() never allocates
  }

  /// Constructs an item at the back. Allocates only when no spare segment is left (a
  /// segment is reserved to its full size once, and never grows past it).
  template <class... Args>
  T& emplace_back(Args&&... args) {
    if (segments_.empty() || segments_.back().size() == SegmentItems) add_segment();
    T& item = segments_.back().emplace_back(std::forward<Args>(args)...);
    ++size_;
    return item;
  }

  [[nodiscard]] bool empty() const { return size_ == 0; }
  [[nodiscard]] std::size_t size() const { return size_; }

  /// Calls f(item) on every item, oldest first.
  template <class F>
  void for_each(F&& f) {
    for (auto& segment : segments_) {
      for (auto& item : segment) f(item);
    }
  }

  /// Destroys the items, keeping at most `max_spares` segments (with their capacity) as
  /// spares; the others are freed.
  void clear() {
    for (auto& segment : segments_) {
      segment.clear();
      if (spares_.size() < max_spares_) spares_.push_back(std::move(segment));
    }
    segments_.clear();
    size_ = 0;
  }

  void swap(segmented_queue& other) noexcept {
    segments_.swap(other.segments_);
    spares_.swap(other.spares_);
    std::swap(size_, other.size_);
    std::swap(max_spares_, other.max_spares_);
  }

  /// Segments held, in use or spare (for tests).
  [[nodiscard]] std::size_t segments_held() const { return segments_.size() + spares_.size(); }

 private:
  void add_segment() {
    if (spares_.empty()) {
      std::vector<T> segment;
      segment.reserve(SegmentItems);
      segments_.push_back(std::move(segment));
      return;
    }
    segments_.push_back(std::move(spares_.back()));
    spares_.pop_back();
  }

  std::vector<std::vector<T>> segments_;  // in use, oldest first; only the last is not full
  std::vector<std::vector<T>> spares_;    // empty, each with room for SegmentItems
  std::size_t size_ = 0;
  std::size_t max_spares_;
};

}  // namespace sidecar::store
