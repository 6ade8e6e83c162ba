// The after-commit feed: bounded queues per subscriber, overflow, close, unsubscribe; and the
// real trace_store publishing what it has written while readers on other threads take it
// (the concurrency test is built under the tsan preset too).
#include "store/commit_feed.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "store/trace_store.hpp"

namespace sidecar::store {
namespace {

namespace fs = std::filesystem;

const std::string acct = "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";

std::vector<committed_record> batch_of(std::initializer_list<std::string> sids,
                                       std::size_t json_bytes = 10) {
  std::vector<committed_record> out;
  for (const auto& sid : sids) {
    committed_record c;
    c.record.sid = sid;
    c.json = std::string(json_bytes, 'x');
    out.push_back(std::move(c));
  }
  return out;
}

std::vector<std::string> sids_of(const std::vector<committed_batch>& batches) {
  std::vector<std::string> out;
  for (const auto& b : batches) {
    for (const auto& c : *b) out.push_back(c.record.sid);
  }
  return out;
}

TEST(commit_feed, EverySubscriberGetsEachBatchOnceInOrderAndIsNotifiedWhenItArrives) {
  commit_feed feed;
  EXPECT_FALSE(feed.has_subscribers());
  std::atomic<int> woken_a{0}, woken_b{0};
  auto a = feed.subscribe(1 << 20, [&](commit_feed::state) { ++woken_a; });
  auto b = feed.subscribe(1 << 20, [&](commit_feed::state) { ++woken_b; });
  EXPECT_TRUE(feed.has_subscribers());

  feed.publish(batch_of({"TR1", "TR2"}));
  feed.publish(batch_of({"TR3"}));
  // Notified when the queue became non-empty, not for every batch.
  EXPECT_EQ(woken_a.load(), 1);
  EXPECT_EQ(woken_b.load(), 1);

  std::vector<committed_batch> got_a, got_b;
  EXPECT_EQ(a->take(got_a), commit_feed::state::open);
  EXPECT_EQ(b->take(got_b), commit_feed::state::open);
  EXPECT_EQ(sids_of(got_a), (std::vector<std::string>{"TR1", "TR2", "TR3"}));
  EXPECT_EQ(sids_of(got_b), sids_of(got_a));
  EXPECT_EQ(got_a.front().get(), got_b.front().get()) << "a batch is shared, not copied";

  // Taken: the next batch notifies again.
  feed.publish(batch_of({"TR4"}));
  EXPECT_EQ(woken_a.load(), 2);
  got_a.clear();
  EXPECT_EQ(a->take(got_a), commit_feed::state::open);
  EXPECT_EQ(sids_of(got_a), std::vector<std::string>{"TR4"});
}

TEST(commit_feed, ASubscriberPastItsBoundIsDroppedAndToldWhileOthersGoOn) {
  commit_feed feed;
  std::atomic<int> woken_slow{0};
  std::vector<commit_feed::state> told_slow;  // the committer's thread is this one here
  auto slow = feed.subscribe(100, [&](commit_feed::state st) {
    ++woken_slow;
    told_slow.push_back(st);
  });
  auto fast = feed.subscribe(1 << 20, [](commit_feed::state) {});
  auto tiny = feed.subscribe(
      10, [](commit_feed::state) {});  // keeps up: an empty queue takes any one batch
  feed.publish(batch_of({"TR1"}, 60));
  std::vector<committed_batch> got;
  ASSERT_EQ(tiny->take(got), commit_feed::state::open);
  got.clear();
  ASSERT_EQ(fast->take(got), commit_feed::state::open);
  feed.publish(batch_of({"TR2"}, 60));  // slow now holds 120 bytes > 100: dropped
  EXPECT_EQ(woken_slow.load(), 2);      // the first batch, then the overflow
  EXPECT_EQ(told_slow, (std::vector<commit_feed::state>{commit_feed::state::open,
                                                        commit_feed::state::overflowed}));
  EXPECT_EQ(feed.overflows(), 1u);
  got.clear();
  EXPECT_EQ(slow->take(got), commit_feed::state::overflowed);
  EXPECT_TRUE(got.empty()) << "an overflowed subscriber's queue is freed at once";
  feed.publish(batch_of({"TR3"}, 60));
  EXPECT_EQ(slow->take(got), commit_feed::state::overflowed);
  EXPECT_TRUE(got.empty());
  EXPECT_EQ(fast->take(got), commit_feed::state::open);
  EXPECT_EQ(sids_of(got), (std::vector<std::string>{"TR2", "TR3"}));
  got.clear();
  EXPECT_EQ(tiny->take(got), commit_feed::state::overflowed) << "it did not take TR2";
}

TEST(commit_feed, UnsubscribingStopsNotificationsAndCloseEndsEverySubscription) {
  commit_feed feed;
  std::atomic<int> woken{0};
  auto gone = feed.subscribe(1 << 20, [&](commit_feed::state) { ++woken; });
  gone.reset();
  EXPECT_FALSE(feed.has_subscribers());
  feed.publish(batch_of({"TR1"}));
  EXPECT_EQ(woken.load(), 0);

  std::atomic<int> told{0};
  auto sub = feed.subscribe(1 << 20, [&](commit_feed::state st) {
    ++told;
    EXPECT_EQ(st, commit_feed::state::closed);
  });
  feed.close();
  EXPECT_EQ(told.load(), 1);
  std::vector<committed_batch> got;
  EXPECT_EQ(sub->take(got), commit_feed::state::closed);
  auto late = feed.subscribe(1 << 20, [](commit_feed::state) {});
  EXPECT_EQ(late->take(got), commit_feed::state::closed);
  EXPECT_FALSE(feed.has_subscribers());
}

TEST(commit_feed, ASubscriptionMayOutliveTheFeed) {
  auto feed = std::make_unique<commit_feed>();
  auto sub = feed->subscribe(1 << 20, [](commit_feed::state) {});
  feed.reset();
  std::vector<committed_batch> got;
  EXPECT_EQ(sub->take(got), commit_feed::state::closed);
  sub.reset();  // no feed to leave: nothing happens
}

/// A trace_store in a temporary directory.
class feed_store_test : public ::testing::Test {
 protected:
  feed_store_test() {
    std::string tmpl = (fs::temp_directory_path() / "commit_feed_test.XXXXXX").string();
    dir_ = ::mkdtemp(tmpl.data());
    auto c = std::make_shared<conf::config>();
    c->store.path = dir_ / "data";
    c->store.queue_bytes = 64u << 20;
    trace_store::options o;
    o.maintenance_interval = std::chrono::hours(1);
    o.linger = std::chrono::microseconds(200);
    store_ = std::make_unique<trace_store>(std::move(c), metrics_, std::move(o));
  }
  ~feed_store_test() override {
    store_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  trace_record make(std::int64_t created) {
    trace_record r;
    r.sid = make_trace_sid(created, rng_);
    r.account_sid = acct;
    r.created_ms = created;
    r.completed = true;
    r.request.method = "POST";
    r.request.path = "/voice";
    r.request.url = "http://127.0.0.1:9000/voice";
    r.response.code = "200";
    r.response.phrase = "OK";
    r.response.body.body = "<Response/>";
    r.response.body.size = 11;
    return r;
  }

  fs::path dir_;
  metrics::registry metrics_;
  std::unique_ptr<trace_store> store_;
  std::mt19937_64 rng_{7};
};

TEST_F(feed_store_test, PublishedRecordsAreReadableAndTheirJsonIsWhatGetAnswers) {
  std::mutex mu;
  std::condition_variable cv;
  bool woken = false;
  auto sub = store_->feed().subscribe(1 << 20, [&](commit_feed::state) {
    const std::lock_guard lock(mu);
    woken = true;
    cv.notify_all();
  });
  const std::int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                               std::chrono::system_clock::now().time_since_epoch())
                               .count();
  std::vector<std::string> sent;
  for (int i = 0; i < 20; ++i) {
    auto r = make(now + i);
    sent.push_back(r.sid);
    ASSERT_TRUE(store_->submit(std::move(r)));
  }
  std::vector<committed_batch> got;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (sids_of(got).size() < sent.size() && std::chrono::steady_clock::now() < deadline) {
    std::unique_lock lock(mu);
    cv.wait_until(lock, deadline, [&] { return woken; });
    woken = false;
    lock.unlock();
    ASSERT_EQ(sub->take(got), commit_feed::state::open);
  }
  ASSERT_EQ(sids_of(got), sent) << "in the order written";
  for (const auto& b : got) {
    for (const auto& c : *b) {
      const auto stored = store_->get(c.record.sid);
      ASSERT_TRUE(stored) << "published before it was readable: " << c.record.sid;
      EXPECT_EQ(stored->json, c.json);
      EXPECT_EQ(c.record.account_sid, acct);
    }
  }
}

// The writer publishes while readers take on their own threads, one of them never reading
// (it overflows and is dropped) and others subscribing and leaving all the time: every reader
// that stays sees each record once, in order, and the writer is never held back.
TEST_F(feed_store_test, ReadersOnOtherThreadsSeeEveryRecordOnceWhileTheWriterGoesOn) {
  constexpr int records = 3000;
  constexpr int rounds = 10;
  constexpr int readers = 3;
  std::atomic<bool> done{false};
  auto stuck = store_->feed().subscribe(4096, [](commit_feed::state) {});  // never reads

  std::vector<std::vector<std::string>> seen(readers);
  std::vector<std::unique_ptr<commit_feed::subscription>> subs;
  std::vector<std::thread> threads;
  for (int i = 0; i < readers; ++i) {
    subs.push_back(store_->feed().subscribe(64u << 20, [](commit_feed::state) {}));
  }
  for (int i = 0; i < readers; ++i) {
    threads.emplace_back([&, i] {
      std::vector<committed_batch> got;
      for (;;) {
        const bool last = done.load();
        got.clear();
        EXPECT_EQ(subs[i]->take(got), commit_feed::state::open);
        for (const auto& b : got) {
          for (const auto& c : *b) seen[i].push_back(c.record.sid);
        }
        if (last) return;
        std::this_thread::yield();
      }
    });
  }
  std::thread churn([&] {  // subscriptions that come and go while batches are published
    while (!done.load()) {
      auto s = store_->feed().subscribe(1 << 20, [](commit_feed::state) {});
      std::vector<committed_batch> got;
      s->take(got);
    }
  });

  // Submitted in rounds, each flushed: at least `rounds` batches are published whatever the
  // machine's speed (all 3000 records fit one batch, and an empty queue takes one batch of
  // any size, so the stuck reader overflows only from the second).
  const std::int64_t base = 1'780'000'000'000;
  std::vector<std::string> sent;
  for (int i = 0; i < records; ++i) {
    auto r = make(base + i);
    sent.push_back(r.sid);
    ASSERT_TRUE(store_->submit(std::move(r)));
    if ((i + 1) % (records / rounds) == 0) store_->flush();
  }
  done.store(true);
  for (auto& t : threads) t.join();
  churn.join();

  for (int i = 0; i < readers; ++i) EXPECT_EQ(seen[i], sent) << "reader " << i;
  std::vector<committed_batch> got;
  EXPECT_EQ(stuck->take(got), commit_feed::state::overflowed);
  EXPECT_GE(store_->feed().overflows(), 1u);
  EXPECT_EQ(store_->get_stats().written, static_cast<std::uint64_t>(records));
}

}  // namespace
}  // namespace sidecar::store
