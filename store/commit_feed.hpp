// The after-commit feed: the store's committer publishes every batch it has written to
// subscribers (the API's live streams; a shipper that wants waking), each with a bounded queue
// of its own, so that a subscriber sees exactly what a query could now return and can fall
// behind without ever slowing the writer (docs/store.md, "The commit feed").
//
//   auto sub = store.feed().subscribe(8 << 20, [](commit_feed::state) { /* post a wake-up */ });
//   std::vector<store::committed_batch> batches;
//   if (sub->take(batches) == store::commit_feed::state::overflowed) { /* dropped */ }
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "store/trace_record.hpp"

namespace sidecar::store {

/// One record as it was committed: the record (what filters look at) and its JSON, byte for
/// byte what the reader's get() answers for it.
struct committed_record {
  trace_record record;
  std::string json;
};

/// The records of one written batch, in the order the committer wrote them; shared by every
/// subscriber (published once, never copied per subscriber).
using committed_batch = std::shared_ptr<const std::vector<committed_record>>;

class commit_feed {
 public:
  enum class state : std::uint8_t {
    open,        // subscribed; take() returned what was waiting
    overflowed,  // fell more than its bound behind: dropped by the feed, nothing more comes
    closed,      // the feed closed (the store is shutting down)
  };

  /// A subscriber's end. Destroying it unsubscribes; after its destructor returns, its
  /// `notify` is never called again.
  class subscription {
   public:
    ~subscription();
    subscription(const subscription&) = delete;
    subscription& operator=(const subscription&) = delete;
    /// Appends the batches waiting for this subscriber to `out`, oldest first, and says whether
    /// more can come. An overflowed subscription returns nothing more.
    state take(std::vector<committed_batch>& out);
    /// The state, without taking anything (a reader busy writing checks for an overflow).
    [[nodiscard]] state status() const;

    struct shared;  // the queue and the state, shared with the feed

   private:
    friend class commit_feed;
    subscription() = default;
    std::shared_ptr<shared> shared_;
  };

  commit_feed();
  ~commit_feed();  // closes
  commit_feed(const commit_feed&) = delete;
  commit_feed& operator=(const commit_feed&) = delete;

  /// Subscribes to every batch committed from now on. `max_bytes` bounds what may wait for
  /// this subscriber (the JSON bytes of the records of its queued batches; an empty queue
  /// takes one batch of any size); past it the subscriber is dropped and told so. `notify` is
  /// called with the subscription's new state when its queue becomes non-empty (`open`: a
  /// reader on a timer may let it wait) and when it overflows or the feed closes: on the
  /// committer's thread, with the subscriber's lock held, so it must be quick, must not block and
  /// must not call take() or status() (post a wake-up to the reader's own thread). Thread-safe.
  using notify_fn = std::function<void(state)>;
  [[nodiscard]] std::unique_ptr<subscription> subscribe(std::size_t max_bytes, notify_fn notify);

  /// Whether anyone is subscribed: the writer builds a batch's JSON only then. Lock-free.
  [[nodiscard]] bool has_subscribers() const noexcept;

  /// Publishes a written batch to every subscriber: one shared_ptr per subscriber and batch,
  /// under a short lock; it never waits for a reader. The store's committer calls it.
  void publish(std::vector<committed_record>&& records);

  /// Ends every subscription (state::closed); later subscriptions start closed.
  void close();

  /// Subscriptions dropped for falling behind, since construction.
  [[nodiscard]] std::uint64_t overflows() const noexcept;

 private:
  struct core;
  std::shared_ptr<core> core_;  // shared with the subscriptions: either may go first
};

}  // namespace sidecar::store
