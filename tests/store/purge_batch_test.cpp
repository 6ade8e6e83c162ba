// Purging records from the RocksDB trace_store: gone from every query at once, from the disk
// after compaction (the chunk entries too), still hidden after a restart, and a purge racing
// with the writer deletes nothing it was not asked to. A purge of a whole list is a marker:
// hidden at once, its keys removed behind it, kept over a restart, and records written after
// it survive.
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <random>
#include <thread>

#include "store/trace_store.hpp"

namespace sidecar::store {
namespace {

namespace fs = std::filesystem;

constexpr std::int64_t t0 = 1'780'000'000'000;
constexpr std::int64_t minute = 60'000;
const std::string acct_a = "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const std::string acct_b = "ACbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

class purge_test : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "purge_test.XXXXXX").string();
    dir_ = ::mkdtemp(tmpl.data());
  }
  void TearDown() override {
    store_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  void open() {
    store_.reset();
    auto c = std::make_shared<conf::config>();
    c->store.path = dir_ / "data";
    c->store.retention = std::chrono::hours(2);
    trace_store::options o;
    o.now_ms = [this] { return now_.load(); };
    o.maintenance_interval = std::chrono::hours(1);
    store_ = std::make_unique<trace_store>(std::move(c), metrics_, std::move(o));
  }
  trace_record make(std::int64_t created, const std::string& account, const std::string& tag) {
    trace_record r;
    r.sid = make_trace_sid(created, rng_);
    r.account_sid = account;
    r.created_ms = created;
    r.session_sid = "CA-" + tag;
    r.completed = true;
    r.latency_ms = 5;
    r.request.path = "/apps/voice";
    r.request.url = "http://127.0.0.1:9000/apps/voice";
    r.request.method = "POST";
    r.request.body.body = "Body=req-" + tag;
    r.request.body.size = r.request.body.body.size();
    r.response.code = "200";
    r.response.phrase = "OK";
    r.response.body.body = "<Response>" + tag + "</Response>";
    r.response.body.size = r.response.body.body.size();
    return r;
  }
  list_result list(const std::string& account, trace_filter f = {}) {
    list_query q;
    q.accounts = {account};
    q.filter = std::move(f);
    q.page_size = 1000;
    return store_->list(q);
  }
  std::uint64_t total(const std::string& account, trace_filter f = {}) {
    return list(account, std::move(f)).total;
  }
  /// Whether any file of the database holds `needle`.
  bool on_disk(const std::string& needle) {
    for (const auto& e : fs::recursive_directory_iterator(dir_ / "data" / "db")) {
      if (!e.is_regular_file()) continue;
      std::ifstream in(e.path(), std::ios::binary);
      const std::string bytes((std::istreambuf_iterator<char>(in)), {});
      if (bytes.find(needle) != std::string::npos) {
        std::cerr << needle << " in " << e.path().filename() << "\n";
        return true;
      }
    }
    return false;
  }

  fs::path dir_;
  metrics::registry metrics_;
  std::atomic<std::int64_t> now_{t0};
  std::mt19937_64 rng_{5};
  std::unique_ptr<trace_store> store_;
};

TEST_F(purge_test, PurgedRecordsAreGoneFromQueriesAtOnceAndFromDiskAfterCompaction) {
  open();
  std::vector<std::string> a_sids;
  for (int i = 0; i < 300; ++i) {
    auto r = make(t0 - 30 * minute + i * 10, acct_a, "purge-me-" + std::to_string(i));
    a_sids.push_back(r.sid);
    ASSERT_TRUE(store_->submit(std::move(r)));
    ASSERT_TRUE(store_->submit(make(t0 - 30 * minute + i * 10, acct_b, "keep-me")));
  }
  store_->flush();
  store_->compact();  // the entries on disk, in chunk values and operands alike
  ASSERT_TRUE(on_disk("purge-me-1"));

  EXPECT_EQ(store_->purge(a_sids[7]).deleted, 1u);
  EXPECT_FALSE(store_->get(a_sids[7]));
  EXPECT_EQ(total(acct_a), 299u);
  // From inside a minute: that minute is counted from the index chunks, which still hold the
  // purged record's entry until compaction.
  trace_filter since;
  since.created_from_ms = t0 - 30 * minute + 5;  // records 1 to 299, 7 purged
  EXPECT_EQ(total(acct_a, since), 298u);
  trace_filter by_body;
  by_body.response_body_contains = "purge-me-7<";
  EXPECT_EQ(total(acct_a, by_body), 0u);
  trace_filter by_session;
  by_session.session_sid = "CA-purge-me-7";
  EXPECT_EQ(total(acct_a, by_session), 0u);
  trace_filter covering;
  covering.completed = true;
  EXPECT_EQ(total(acct_a, covering), 299u);

  list_query all_a;
  all_a.accounts = {acct_a};
  all_a.page_size = 5;  // ignored: every page goes
  EXPECT_EQ(store_->purge(all_a).deleted, 299u);
  EXPECT_EQ(total(acct_a), 0u);
  EXPECT_EQ(total(acct_a, covering), 0u);
  trace_filter request_body;
  request_body.request_body_contains = "req-purge-me";
  EXPECT_EQ(total(acct_a, request_body), 0u);
  EXPECT_EQ(total(acct_b), 300u);
  EXPECT_EQ(total(acct_b, covering), 300u);

  // The whole list was a marker: compactions remove what it covers. Two of them: the first
  // rewrites chunk values and merge operands, a second merges whatever the first left as
  // operands.
  store_->compact();
  store_->compact();
  // After a restart (which also starts a new MANIFEST: the old one's history names the key
  // range of every file it ever had, session sids among them), nothing is left.
  open();
  EXPECT_FALSE(on_disk("purge-me-")) << "a purged record's bytes are still in a database file";
  EXPECT_TRUE(on_disk("keep-me"));
  EXPECT_EQ(total(acct_a), 0u);
  EXPECT_EQ(total(acct_a, covering), 0u);
  EXPECT_EQ(total(acct_b, covering), 300u);
}

TEST_F(purge_test, AfterARestartPurgedChunkEntriesStayHidden) {
  open();
  std::vector<std::string> sids;
  for (int i = 0; i < 20; ++i) {
    auto r = make(t0 - 10 * minute + i, acct_a, "x" + std::to_string(i));
    sids.push_back(r.sid);
    ASSERT_TRUE(store_->submit(std::move(r)));
  }
  store_->flush();
  for (int i = 0; i < 20; i += 2) EXPECT_EQ(store_->purge(sids[i]).deleted, 1u);
  open();  // no compaction: the chunk entries are still there
  trace_filter covering;
  covering.min_latency_ms = 1;
  EXPECT_EQ(total(acct_a, covering), 10u);
  trace_filter body;
  body.response_body_contains = "<Response>x";
  EXPECT_EQ(total(acct_a, body), 10u);
  EXPECT_EQ(total(acct_a), 10u);
}

TEST_F(purge_test, APurgeRacingWithTheWriterDeletesNothingItWasNotAskedTo) {
  open();
  for (int i = 0; i < 2000; ++i) {
    ASSERT_TRUE(store_->submit(make(t0 - 90 * minute + i * 100, acct_a, "old")));
  }
  store_->flush();
  std::atomic<bool> done{false};
  std::atomic<int> written{0};
  std::thread writer([&] {
    // New records of both accounts, in the same minutes (counters) and chunks as nothing old.
    for (int i = 0; !done.load() || i < 500; ++i) {
      if (store_->submit(make(t0 - minute + i, i % 2 ? acct_a : acct_b, "new"))) ++written;
    }
  });
  list_query old;
  old.accounts = {acct_a};
  old.filter.created_before_ms = t0 - 60 * minute;
  const purge_result r = store_->purge(old);
  done = true;
  writer.join();
  store_->flush();
  EXPECT_EQ(r.status, query_status::ok);
  EXPECT_EQ(r.deleted, 2000u);
  EXPECT_EQ(total(acct_a) + total(acct_b), static_cast<std::uint64_t>(written.load()));
  trace_filter covering;
  covering.completed = true;
  EXPECT_EQ(total(acct_a, covering) + total(acct_b, covering),
            static_cast<std::uint64_t>(written.load()));
}

TEST_F(purge_test, AWholeListPurgeIsHiddenAtOnceRemovedBehindAndKeptOverARestart) {
  open();
  std::vector<std::string> a_sids;
  for (int i = 0; i < 3000; ++i) {
    auto r = make(t0 - 60 * minute + i * 1000, acct_a, "purge-me-" + std::to_string(i));
    a_sids.push_back(r.sid);
    ASSERT_TRUE(store_->submit(std::move(r)));
  }
  for (int i = 0; i < 300; ++i) {
    ASSERT_TRUE(store_->submit(make(t0 - 60 * minute + i * 1000, acct_b, "keep-me")));
  }
  store_->flush();
  list_query all_a;
  all_a.accounts = {acct_a};
  const purge_result r = store_->purge(all_a);
  EXPECT_EQ(r.status, query_status::ok);
  EXPECT_EQ(r.deleted, 3000u);

  // Every read path at once, the oldest records (not yet removed) included.
  const auto hidden_everywhere = [&] {
    EXPECT_FALSE(store_->get(a_sids.front()));
    EXPECT_FALSE(store_->get(a_sids.back()));
    EXPECT_EQ(store_->purge(a_sids.front()).deleted, 0u);
    EXPECT_EQ(total(acct_a), 0u);
    trace_filter since;  // partial minutes at both edges: the keys are counted there
    since.created_from_ms = t0 - 60 * minute + 1500;
    since.created_before_ms = t0 - 20 * minute + 30'500;
    EXPECT_EQ(total(acct_a, since), 0u);
    trace_filter covering;
    covering.completed = true;
    EXPECT_EQ(total(acct_a, covering), 0u);
    trace_filter body;
    body.response_body_contains = "purge-me-1<";
    EXPECT_EQ(total(acct_a, body), 0u);
    trace_filter session;
    session.session_sid = "CA-purge-me-0";
    EXPECT_EQ(total(acct_a, session), 0u);
    trace_filter request_body;
    request_body.request_body_contains = "req-purge-me";
    EXPECT_EQ(total(acct_a, request_body), 0u);
    EXPECT_EQ(total(acct_b), 300u);
    EXPECT_EQ(total(acct_b, covering), 300u);
  };
  hidden_everywhere();

  open();  // the marker is durable
  hidden_everywhere();
  store_->compact();
  store_->compact();
  // The records' compaction filter counts what it removed for a marker, each record once.
  EXPECT_NE(metrics_.render().find("sidecar_store_purge_removed_total 3000\n"), std::string::npos)
      << metrics_.render();
  open();
  EXPECT_FALSE(on_disk("purge-me-")) << "a purged record's bytes are still in a database file";
  EXPECT_TRUE(on_disk("keep-me"));
  hidden_everywhere();
}

TEST_F(purge_test, AMarkerRemovesLargeRecordsKeptInBlobFilesToo) {
  open();
  // Request bodies over 4 KiB put the record in a blob file, which the compaction filter
  // reads only for a sid some marker may cover.
  const auto large = [&](const std::string& account, const std::string& tag) {
    auto r = make(t0 - 30 * minute, account, tag);
    std::mt19937 bytes(7);
    r.request.body.body = tag;
    while (r.request.body.body.size() < 8192) {
      r.request.body.body.push_back(static_cast<char>('a' + bytes() % 26));
    }
    r.request.body.size = r.request.body.body.size();
    return r;
  };
  const std::string purged_sid = [&] {
    auto r = large(acct_a, "purge-big-");
    std::string sid = r.sid;
    EXPECT_TRUE(store_->submit(std::move(r)));
    return sid;
  }();
  ASSERT_TRUE(store_->submit(large(acct_b, "keep-big-")));
  store_->flush();
  store_->compact();  // both in files: the records in a blob file, their keys in tables
  list_query all_a;
  all_a.accounts = {acct_a};
  EXPECT_EQ(store_->purge(all_a).deleted, 1u);
  EXPECT_FALSE(store_->get(purged_sid));
  store_->compact();
  store_->compact();
  open();
  EXPECT_FALSE(on_disk("purge-big-")) << "a purged record's bytes are still in a database file";
  EXPECT_TRUE(on_disk("keep-big-"));
  EXPECT_EQ(total(acct_b), 1u);
}

TEST_F(purge_test, RecordsWrittenDuringAndAfterAWholeListPurgeSurviveAndEachIsCountedOnce) {
  open();
  for (int i = 0; i < 2000; ++i) {
    ASSERT_TRUE(store_->submit(make(t0 - 90 * minute + i * 100, acct_a, "old")));
  }
  store_->flush();
  std::atomic<bool> done{false};
  std::atomic<int> written_a{0};
  std::thread writer([&] {
    // Newer records of the account, in the same minutes as each other, while the purge runs.
    for (int i = 0; !done.load() || i < 500; ++i) {
      if (store_->submit(make(t0 - minute + i, acct_a, "new"))) ++written_a;
    }
  });
  list_query all_a;
  all_a.accounts = {acct_a};
  const purge_result r = store_->purge(all_a);
  done = true;
  writer.join();
  store_->flush();
  ASSERT_EQ(r.status, query_status::ok);
  EXPECT_GE(r.deleted, 2000u);
  // Each record is either purged (counted in `deleted`) or listed, never both nor neither.
  EXPECT_EQ(r.deleted + total(acct_a), 2000u + static_cast<std::uint64_t>(written_a.load()));
  trace_filter covering;
  covering.completed = true;
  EXPECT_EQ(r.deleted + total(acct_a, covering),
            2000u + static_cast<std::uint64_t>(written_a.load()));

  // Written after the purge: listed, read, and purged by the next one.
  auto after = make(t0, acct_a, "after");
  const std::string after_sid = after.sid;
  ASSERT_TRUE(store_->submit(std::move(after)));
  store_->flush();
  EXPECT_TRUE(store_->get(after_sid));
  const std::uint64_t left = total(acct_a);
  EXPECT_EQ(left, 2000u + static_cast<std::uint64_t>(written_a.load()) + 1 - r.deleted);
  store_->compact();
  EXPECT_EQ(total(acct_a), left) << "the compaction filters removed only what the marker covers";
  EXPECT_TRUE(store_->get(after_sid));
  EXPECT_EQ(store_->purge(all_a).deleted, left);
  EXPECT_EQ(total(acct_a), 0u);
  EXPECT_FALSE(store_->get(after_sid));
}

}  // namespace
}  // namespace sidecar::store
