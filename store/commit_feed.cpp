// The after-commit feed (docs/store.md, "The commit feed").
#include "store/commit_feed.hpp"

#include <algorithm>
#include <atomic>
#include <deque>
#include <mutex>

namespace sidecar::store {

// Lock order: core::mu, then a subscription's mu. notify runs under both in publish(), so a
// subscription removed from core::subs (under core::mu) is never notified again.
struct commit_feed::core {
  std::mutex mu;
  std::vector<std::shared_ptr<subscription::shared>> subs;
  bool closed = false;
  std::atomic<std::size_t> count{0};
  std::atomic<std::uint64_t> overflows{0};

  void remove(const subscription::shared* s) {
    const auto it =
        std::find_if(subs.begin(), subs.end(), [s](const auto& p) { return p.get() == s; });
    if (it == subs.end()) return;
    subs.erase(it);
    count.fetch_sub(1, std::memory_order_release);
  }
};

struct commit_feed::subscription::shared {
  std::mutex mu;
  std::deque<committed_batch> queue;
  std::size_t bytes = 0;
  std::size_t max_bytes = 0;
  state st = state::open;
  notify_fn notify;
  std::weak_ptr<core> owner;
};

namespace {

std::size_t batch_bytes(const std::vector<committed_record>& records) {
  std::size_t n = 0;
  for (const auto& r : records) n += r.json.size();
  return n;
}

}  // namespace

commit_feed::commit_feed() : core_(std::make_shared<core>()) {}

commit_feed::~commit_feed() { close(); }

bool commit_feed::has_subscribers() const noexcept {
  return core_->count.load(std::memory_order_acquire) > 0;
}

std::uint64_t commit_feed::overflows() const noexcept {
  return core_->overflows.load(std::memory_order_relaxed);
}

std::unique_ptr<commit_feed::subscription> commit_feed::subscribe(std::size_t max_bytes,
                                                                  notify_fn notify) {
  auto s = std::make_shared<subscription::shared>();
  s->max_bytes = max_bytes;
  s->notify = std::move(notify);
  s->owner = core_;
  std::unique_ptr<subscription> sub(new subscription());
  sub->shared_ = s;
  const std::lock_guard lock(core_->mu);
  if (core_->closed) {
    s->st = state::closed;
  } else {
    core_->subs.push_back(std::move(s));
    core_->count.fetch_add(1, std::memory_order_release);
  }
  return sub;
}

void commit_feed::publish(std::vector<committed_record>&& records) {
  if (records.empty()) return;
  const std::size_t bytes = batch_bytes(records);
  const committed_batch batch =
      std::make_shared<const std::vector<committed_record>>(std::move(records));
  const std::lock_guard lock(core_->mu);
  std::erase_if(core_->subs, [&](const std::shared_ptr<subscription::shared>& s) {
    const std::lock_guard sub_lock(s->mu);
    // A batch is always taken by an empty queue, however large (the writer's batches are
    // bounded by their own limit): only a subscriber that has not taken the last one falls
    // behind.
    if (!s->queue.empty() && s->bytes + bytes > s->max_bytes) {
      // Fallen behind: dropped, its queue freed at once (the writer never waits for it).
      s->st = state::overflowed;
      s->queue.clear();
      s->bytes = 0;
      core_->overflows.fetch_add(1, std::memory_order_relaxed);
      core_->count.fetch_sub(1, std::memory_order_release);
      if (s->notify) s->notify(state::overflowed);
      return true;
    }
    const bool was_empty = s->queue.empty();
    s->queue.push_back(batch);
    s->bytes += bytes;
    if (was_empty && s->notify) s->notify(state::open);
    return false;
  });
}

void commit_feed::close() {
  const std::lock_guard lock(core_->mu);
  core_->closed = true;
  for (const auto& s : core_->subs) {
    const std::lock_guard sub_lock(s->mu);
    s->st = state::closed;
    s->queue.clear();
    s->bytes = 0;
    if (s->notify) s->notify(state::closed);
  }
  core_->subs.clear();
  core_->count.store(0, std::memory_order_release);
}

commit_feed::subscription::~subscription() {
  if (auto owner = shared_->owner.lock()) {
    const std::lock_guard lock(owner->mu);
    owner->remove(shared_.get());
  }
  // Removed under the feed's lock: no publish() can reach it any more.
  const std::lock_guard lock(shared_->mu);
  shared_->notify = nullptr;
  shared_->queue.clear();
}

commit_feed::state commit_feed::subscription::status() const {
  const std::lock_guard lock(shared_->mu);
  return shared_->st;
}

commit_feed::state commit_feed::subscription::take(std::vector<committed_batch>& out) {
  const std::lock_guard lock(shared_->mu);
  for (auto& b : shared_->queue) out.push_back(std::move(b));
  shared_->queue.clear();
  shared_->bytes = 0;
  return shared_->st;
}

}  // namespace sidecar::store
