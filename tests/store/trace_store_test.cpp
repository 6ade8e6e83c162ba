// The RocksDB trace store against a real database in a temporary directory: expiry with an
// injected clock, every filter against a brute-force reference, totals and paging, restart,
// backpressure, format version, disk quota.
#include "store/trace_store.hpp"

#include <gtest/gtest.h>
#include <rocksdb/db.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <condition_variable>
#include <csignal>
#include <filesystem>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "conf/load.hpp"
#include "store/rocks_support.hpp"
#include "store/store_codec.hpp"
#include "store/store_db.hpp"

namespace sidecar::store {
namespace {

namespace fs = std::filesystem;

constexpr std::int64_t t0 = 1'780'000'000'000;  // a fixed "now" (2026), ms
constexpr std::int64_t minute = 60'000;
constexpr std::int64_t hour = 60 * minute;

const std::string acct_a = "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const std::string acct_b = "ACbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

/// A temporary data directory, removed at the end of the test.
class temp_dir {
 public:
  temp_dir() {
    std::string tmpl = (fs::temp_directory_path() / "trace_store_test.XXXXXX").string();
    path_ = ::mkdtemp(tmpl.data());
  }
  ~temp_dir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  [[nodiscard]] const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

class trace_store_test : public ::testing::Test {
 protected:
  std::shared_ptr<conf::config> make_config() {
    auto c = std::make_shared<conf::config>();
    c->store.path = dir_.path() / "data";
    c->store.retention = std::chrono::hours(2);
    return c;
  }
  trace_store::options make_options() {
    trace_store::options o;
    o.now_ms = [this] { return now_.load(); };
    o.maintenance_interval = std::chrono::hours(1);  // tests call maintain() themselves
    return o;
  }
  std::unique_ptr<trace_store> open(std::shared_ptr<conf::config> c = nullptr,
                                    trace_store::options o = {}) {
    if (!c) c = make_config();
    if (!o.now_ms) o = make_options();
    return std::make_unique<trace_store>(std::move(c), metrics_, std::move(o));
  }

  trace_record make(std::int64_t created, const std::string& account, std::string body = "") {
    trace_record r;
    r.sid = make_trace_sid(created, rng_);
    r.account_sid = account;
    r.account_friendly_name = "Friendly";
    r.org_sid = "ORfe81fe8a3d5f4d5391e901db0bf5755d";
    r.org_name = "acme.example.com";
    r.created_ms = created;
    r.session_sid = "";
    r.completed = true;
    r.latency_ms = 12;
    r.request.path = "/apps/voice?x=1";
    r.request.url = "http://127.0.0.1:9000/apps/voice?x=1";
    r.request.method = "GET";
    r.request.headers = {{"accept", "application/xml"}};
    r.response.code = "200";
    r.response.phrase = "OK";
    r.response.headers = {{"content-type", "application/xml"}};
    r.response.body.body = std::move(body);
    r.response.body.size = r.response.body.body.size();
    return r;
  }

  static std::vector<std::string> drain(list_result& res) {
    std::vector<std::string> out;
    if (!res.records) return out;
    std::string json;
    while (res.records->next(json)) out.push_back(json);
    return out;
  }

  static std::string sid_of(const std::string& json) {
    const auto at = json.find("\"sid\":\"");
    return at == std::string::npos ? "" : json.substr(at + 7, 34);
  }

  /// Writes one key straight into a column family of the closed store's RocksDB, as a bad
  /// disk, a crash or another binary could have left it.
  void put_raw(const std::string& family, const std::string& key, const std::string& value) {
    with_raw(family, [&](rocksdb::DB& db, rocksdb::ColumnFamilyHandle* h) {
      EXPECT_TRUE(db.Put({}, h, key, value).ok());
    });
  }
  /// The value of one key of the closed store's RocksDB; "" when missing.
  std::string get_raw(const std::string& family, const std::string& key) {
    std::string value;
    with_raw(family, [&](rocksdb::DB& db, rocksdb::ColumnFamilyHandle* h) {
      (void)db.Get({}, h, key, &value);
    });
    return value;
  }
  template <class F>
  void with_raw(const std::string& family, F f) {
    rocksdb::DBOptions o;
    std::vector<std::string> names;
    const auto path = (dir_.path() / "data" / "db").string();
    ASSERT_TRUE(rocksdb::DB::ListColumnFamilies(o, path, &names).ok());
    std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
    for (const auto& n : names) {
      // The store's merge operators: without them, the operands still in the WAL (chunks,
      // counters) would be lost when this opening flushes them.
      rocksdb::ColumnFamilyOptions co;
      if (n == cf_names[cf_chunks] || n == cf_names[cf_index_chunks]) {
        co.merge_operator = rocks::make_append_merge_operator();
      } else if (n == cf_names[cf_counters]) {
        co.merge_operator = rocks::make_count_merge_operator();
      }
      cfs.emplace_back(n, co);
    }
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    rocksdb::DB* db = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(o, path, cfs, &handles, &db).ok());
    const auto at = std::find(names.begin(), names.end(), family) - names.begin();
    ASSERT_LT(static_cast<std::size_t>(at), names.size()) << family;
    f(*db, handles[at]);
    for (auto* h : handles) db->DestroyColumnFamilyHandle(h);
    delete db;
  }

  temp_dir dir_;
  metrics::registry metrics_;
  std::atomic<std::int64_t> now_{t0};
  std::mt19937_64 rng_{42};
};

TEST_F(trace_store_test, GetReturnsTheRecordJsonAndItsAccount) {
  auto store = open();
  auto r = make(t0 - 1000, acct_a, "<Response><Say>hello \"world\"</Say></Response>");
  const std::string expected = to_json(r);
  const std::string sid = r.sid;
  ASSERT_TRUE(store->submit(std::move(r)));
  store->flush();
  const auto got = store->get(sid);
  ASSERT_TRUE(got);
  EXPECT_EQ(got->account_sid, acct_a);
  EXPECT_EQ(got->json, expected);
  EXPECT_FALSE(store->get("TR00000000000000000000000000000000"));
  EXPECT_FALSE(store->get("not a sid"));
  EXPECT_EQ(store->get_stats().written, 1u);
}

TEST_F(trace_store_test, DataDirectoryIsCreatedOwnerOnly) {
  auto store = open();
  struct stat st {};
  ASSERT_EQ(::stat((dir_.path() / "data").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  EXPECT_TRUE(fs::is_directory(dir_.path() / "data" / "db"));
}

TEST_F(trace_store_test, RecordsSurviveARestart) {
  std::vector<std::string> sids;
  {
    auto store = open();
    for (int i = 0; i < 20; ++i) {
      auto r = make(t0 - 1000 * i, i % 2 ? acct_a : acct_b, "body " + std::to_string(i));
      sids.push_back(r.sid);
      ASSERT_TRUE(store->submit(std::move(r)));
    }
  }  // the destructor flushes the queue
  auto store = open();
  for (const auto& sid : sids) EXPECT_TRUE(store->get(sid)) << sid;
  list_query q;
  q.accounts = {acct_a, acct_b};
  auto res = store->list(q);
  EXPECT_EQ(res.total, 20u);
  EXPECT_EQ(drain(res).size(), 20u);
}

// The writer is a pipeline (an encoder builds batches while a committer writes them): with
// small batches and a slow committer, many batches are in flight at once. flush() must still
// return only once every record before it is readable, counters and chunks included, and
// the destructor must write every batch still being built or waiting.
TEST_F(trace_store_test, FlushAndShutdownWaitForEveryBatchInThePipeline) {
  auto o = make_options();
  o.max_batch_bytes = 4096;  // a few records per batch
  o.before_write = [] { std::this_thread::sleep_for(std::chrono::milliseconds(1)); };
  std::vector<std::string> sids;
  {
    auto store = open(make_config(), o);
    for (int i = 0; i < 200; ++i) {
      auto r = make(t0 - 100 * i, i % 3 ? acct_a : acct_b, "body " + std::to_string(i));
      sids.push_back(r.sid);
      ASSERT_TRUE(store->submit(std::move(r)));
    }
    store->flush();
    EXPECT_EQ(store->get_stats().written, 200u);
    EXPECT_EQ(store->get_stats().queue_bytes, 0u);
    for (const auto& sid : sids) ASSERT_TRUE(store->get(sid)) << sid;
    list_query q;
    q.accounts = {acct_a, acct_b};
    EXPECT_EQ(store->list(q).total, 200u);
    q.filter.response_body_contains = "body 19";  // 19 and 190..199
    EXPECT_EQ(store->list(q).total, 11u);
    for (int i = 200; i < 600; ++i) {
      auto r = make(t0 - 100 * i, i % 3 ? acct_a : acct_b, "body " + std::to_string(i));
      sids.push_back(r.sid);
      ASSERT_TRUE(store->submit(std::move(r)));
    }
  }  // no flush: the destructor writes what is queued, being built or waiting
  auto store = open();
  for (const auto& sid : sids) ASSERT_TRUE(store->get(sid)) << sid;
  list_query q;
  q.accounts = {acct_a, acct_b};
  EXPECT_EQ(store->list(q).total, 600u);
  q.filter.completed = true;  // a covering filter: the index chunks
  EXPECT_EQ(store->list(q).total, 600u);
}

TEST_F(trace_store_test, PastRetentionARecordIsInvisibleAtOnceAndGoneAfterCompaction) {
  auto store = open();
  auto old_record = make(t0 - 90 * minute, acct_a, "old");
  auto new_record = make(t0 - 10 * minute, acct_a, "new");
  const std::string old_sid = old_record.sid, new_sid = new_record.sid;
  ASSERT_TRUE(store->submit(std::move(old_record)));
  ASSERT_TRUE(store->submit(std::move(new_record)));
  store->flush();
  list_query q;
  q.accounts = {acct_a};
  EXPECT_EQ(store->list(q).total, 2u);

  now_ = t0 + 31 * minute;  // the old one is now 121 minutes old, past 2 h
  EXPECT_FALSE(store->get(old_sid));
  EXPECT_TRUE(store->get(new_sid));
  {
    // (Scoped: a live page holds a snapshot, and RocksDB keeps merge operands, the bodies,
    // that a snapshot can see until a later compaction.)
    auto res = store->list(q);
    EXPECT_EQ(res.total, 1u);
    const auto page = drain(res);
    ASSERT_EQ(page.size(), 1u);
    EXPECT_EQ(sid_of(page[0]), new_sid);
  }
  q.filter.response_body_contains = "old";
  EXPECT_EQ(store->list(q).total, 0u);

  store->compact();
  q.filter = {};
  EXPECT_EQ(store->list(q).total, 1u);
  // Back in time, only what is still on disk can show up. (The unfiltered total would not
  // do: a counter bucket that was only partly expired stays, and time never goes back.)
  now_ = t0;
  EXPECT_FALSE(store->get(old_sid));
  EXPECT_TRUE(store->get(new_sid));
  q.filter.min_latency_ms = 0;  // the scan path: index entries on disk
  EXPECT_EQ(store->list(q).total, 1u);
  q.filter = {};
  q.filter.response_body_contains = "o";  // bodies on disk
  auto after = store->list(q);
  EXPECT_EQ(after.total, 0u);
  for (const auto& j : drain(after)) ADD_FAILURE() << j;
}

TEST_F(trace_store_test, ExpiredCounterBucketsAreCompactedAwayButEdgeTotalsStayExact) {
  auto store = open();
  // 30 records one per 10 s over 5 minutes, straddling the retention edge later on.
  for (int i = 0; i < 30; ++i) ASSERT_TRUE(store->submit(make(t0 - 10'000 * i, acct_a)));
  store->flush();
  list_query q;
  q.accounts = {acct_a};
  EXPECT_EQ(store->list(q).total, 30u);
  // Move time so that the cutoff falls inside a bucket: records older than now - 2 h go.
  now_ = t0 + 2 * hour - 145'000;  // cutoff = t0 - 145 s: records 0..14 remain
  EXPECT_EQ(store->list(q).total, 15u);
  store->compact();
  EXPECT_EQ(store->list(q).total, 15u);
  q.filter.created_from_ms = t0 - 95'000;   // records 0..9
  q.filter.created_before_ms = t0 - 5'000;  // not record 0
  EXPECT_EQ(store->list(q).total, 9u);
}

TEST_F(trace_store_test, TotalsAndPagingFollowTheListOrder) {
  auto store = open();
  std::vector<std::string> sids;
  for (int i = 0; i < 120; ++i) {
    auto r = make(t0 - 7'000 * i, i % 3 ? acct_a : acct_b);
    sids.push_back(r.sid);
    ASSERT_TRUE(store->submit(std::move(r)));
  }
  store->flush();
  std::sort(sids.rbegin(), sids.rend());
  list_query q;
  q.accounts = {acct_a, acct_b};
  std::vector<std::string> seen;
  for (std::uint64_t page = 0; page < 3; ++page) {
    q.page = page;
    auto res = store->list(q);
    EXPECT_EQ(res.total, 120u);
    const auto items = drain(res);
    EXPECT_EQ(items.size(), page < 2 ? 50u : 20u);
    for (const auto& j : items) seen.push_back(sid_of(j));
  }
  EXPECT_EQ(seen, sids);

  // AfterSid continues after the given record even when newer records arrive.
  q.page = 5;  // ignored with a known cursor
  q.after_sid = sids[49];
  ASSERT_TRUE(store->submit(make(t0 + 1000, acct_a)));
  store->flush();
  auto res = store->list(q);
  EXPECT_EQ(res.total, 121u);
  const auto items = drain(res);
  ASSERT_EQ(items.size(), 50u);
  EXPECT_EQ(sid_of(items.front()), sids[50]);
  EXPECT_EQ(sid_of(items.back()), sids[99]);

  // An unknown cursor: Page decides.
  q.after_sid = "TR00000000000100000000000000000000";
  q.page = 2;
  auto res2 = store->list(q);
  EXPECT_EQ(drain(res2).size(), 21u);

  // The account set and AccountSid narrow the list; an account outside the set gives nothing.
  list_query qa;
  qa.accounts = {acct_b};
  EXPECT_EQ(store->list(qa).total, 40u);
  qa.filter.account_sid = acct_a;
  EXPECT_EQ(store->list(qa).total, 0u);
  list_query admin;
  admin.all_accounts = true;
  EXPECT_EQ(store->list(admin).total, 121u);
  admin.filter.account_sid = acct_a;
  EXPECT_EQ(store->list(admin).total, 81u);
  EXPECT_EQ(store->list(list_query{}).total, 0u);
}

TEST_F(trace_store_test, FullQueueDropsAndCountsWithoutBlocking) {
  auto c = make_config();
  c->store.queue_bytes = 64 * 1024;
  auto o = make_options();
  std::mutex mu;
  std::condition_variable cv;
  bool held = false, release = false;
  o.before_write = [&] {
    std::unique_lock lock(mu);
    held = true;
    cv.notify_all();
    cv.wait(lock, [&] { return release; });
  };
  auto store = open(c, o);
  // The first record reaches the writer, which then waits in before_write.
  ASSERT_TRUE(store->submit(make(t0, acct_a, std::string(1000, 'x'))));
  {
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return held; });
  }
  int accepted = 0, refused = 0;
  for (int i = 0; i < 500; ++i) {
    (store->submit(make(t0 - i, acct_a, std::string(1000, 'x'))) ? accepted : refused)++;
  }
  EXPECT_GT(accepted, 0);
  EXPECT_GT(refused, 0);
  const auto stats = store->get_stats();
  EXPECT_EQ(stats.dropped_queue_full, static_cast<std::uint64_t>(refused));
  EXPECT_LE(stats.queue_bytes, c->store.queue_bytes);
  EXPECT_NE(metrics_.render().find("sidecar_records_dropped_total{reason=\"queue_full\"} " +
                                   std::to_string(refused)),
            std::string::npos);
  {
    std::lock_guard lock(mu);
    release = true;
  }
  cv.notify_all();
  store->flush();
  EXPECT_EQ(store->get_stats().written, static_cast<std::uint64_t>(accepted + 1));
  EXPECT_EQ(store->get_stats().queue_bytes, 0u);
}

TEST_F(trace_store_test, CaptureWithoutAccountIsSkippedAndCounted) {
  auto store = open();
  capture c;
  c.completed_at = std::chrono::system_clock::time_point(std::chrono::milliseconds(t0));
  c.method = "GET";
  c.upstream_url = "http://127.0.0.1:9000/x";
  c.target_at = 21;
  c.status_code = 200;
  ASSERT_TRUE(store->submit(std::move(c)));
  store->flush();
  EXPECT_EQ(store->get_stats().skipped, 1u);
  EXPECT_EQ(store->get_stats().written, 0u);
  EXPECT_NE(metrics_.render().find("sidecar_records_skipped_total{reason=\"no_account\"} 1"),
            std::string::npos);
}

TEST_F(trace_store_test, UnknownFormatVersionIsRefused) {
  { auto store = open(); }
  put_raw("meta", "format_version", "99");
  try {
    auto store = open();
    FAIL() << "opened a store of format version 99";
  } catch (const conf::config_error& e) {
    EXPECT_NE(std::string(e.what()).find("format version 99"), std::string::npos) << e.what();
  }
}

TEST_F(trace_store_test, AVersion3DatabaseIsReadAndBecomesTheCurrentVersion) {
  auto old = make(t0 - 2000, acct_a);
  old.request.headers.emplace_back("x-from", "version 3");
  auto fresh = make(t0 - 1000, acct_a, "<Response/>");
  const std::string old_json = to_json(old);
  const std::string old_sid = old.sid;
  {
    auto store = open();
    ASSERT_TRUE(store->submit(trace_record(old)));
    store->flush();
  }
  // What version 3 wrote for that record: its JSON split around the body (body part 0).
  std::string json;
  const std::size_t at = append_json_without_response_body(json, old);
  std::string value = codec::id_prefix(acct_a);
  codec::append_varint(value, 0);
  codec::append_varint(value, at + 1);
  value += json;
  const auto bytes = store::parse_sid(old_sid);
  ASSERT_TRUE(bytes);
  put_raw("records", std::string(reinterpret_cast<const char*>(bytes->data()), bytes->size()),
          value);
  put_raw("meta", "format_version", "3");
  {
    auto store = open();
    const auto got = store->get(old_sid);
    ASSERT_TRUE(got);
    EXPECT_EQ(got.trace->json, old_json);
    const std::string fresh_sid = fresh.sid;
    const std::string fresh_json = to_json(fresh);
    ASSERT_TRUE(store->submit(std::move(fresh)));
    store->flush();
    const auto again = store->get(fresh_sid);
    ASSERT_TRUE(again);
    EXPECT_EQ(again.trace->json, fresh_json);
  }
  // Marked the current version now, which the binaries of version 3 refuse.
  EXPECT_EQ(get_raw("meta", "format_version"), std::to_string(codec::format_version));
  auto store = open();
  EXPECT_TRUE(store->get(old_sid));
}

TEST_F(trace_store_test, AVersion4DatabaseIsListedFromItsIndexChunksAndItsOldKeysAreIgnored) {
  // Version 4 also wrote one by_account key per record; version 5 reads the index chunks,
  // which both write. A stale key (here one whose record is gone) must change nothing.
  std::vector<std::string> sids;
  {
    auto store = open();
    for (int i = 0; i < 3; ++i) {
      auto r = make(t0 - 3000 + i * 1000, acct_a, "<Response/>");
      sids.insert(sids.begin(), r.sid);  // newest first, as listed
      ASSERT_TRUE(store->submit(std::move(r)));
    }
    store->flush();
  }
  for (const auto& sid : sids) {
    put_raw("by_account", codec::id_sid_key(acct_a, *store::parse_sid(sid)), "");
  }
  put_raw("by_account", codec::id_sid_key(acct_a, *store::parse_sid(make(t0, acct_a).sid)), "");
  put_raw("meta", "format_version", "4");
  {
    auto store = open();
    list_query q;
    q.accounts = {acct_a};
    auto res = store->list(q);
    EXPECT_EQ(res.total, 3u);
    std::vector<std::string> listed;
    for (const auto& json : drain(res)) listed.push_back(sid_of(json));
    EXPECT_EQ(listed, sids);
  }
  EXPECT_EQ(get_raw("meta", "format_version"), std::to_string(codec::format_version));
}

TEST_F(trace_store_test, AnUnreadableRecordIsAFailedReadNeverAMissingOne) {
  std::string broken_sid;
  std::string whole_sid;
  {
    auto store = open();
    auto broken = make(t0 - 2000, acct_a, "first");
    auto whole = make(t0 - 1000, acct_a, "second");
    broken_sid = broken.sid;
    whole_sid = whole.sid;
    ASSERT_TRUE(store->submit(std::move(broken)));
    ASSERT_TRUE(store->submit(std::move(whole)));
    store->flush();
  }
  const auto bytes = store::parse_sid(broken_sid);
  ASSERT_TRUE(bytes);
  put_raw("records", std::string(reinterpret_cast<const char*>(bytes->data()), bytes->size()),
          "\xff\xff\xff");
  auto store = open();
  const auto got = store->get(broken_sid);
  EXPECT_FALSE(got);
  EXPECT_EQ(got.status, query_status::failed) << "a 404 would hide the damage";
  EXPECT_TRUE(store->get(whole_sid));
  EXPECT_EQ(store->get("TR00000000000000000000000000000000").status, query_status::ok);

  list_query q;
  q.accounts = {std::string(acct_a)};
  auto res = store->list(q);
  ASSERT_EQ(res.status, query_status::ok);
  std::string json;
  std::vector<std::string> page;
  while (res.records->next(json)) page.push_back(json);
  EXPECT_EQ(res.records->status(), query_status::failed) << "a page never silently loses a record";
}

TEST_F(trace_store_test, DiskQuotaRemovesTheOldestRecordsFirst) {
  auto c = make_config();
  c->store.max_bytes = 3u << 20;
  auto store = open(c);
  std::mt19937 bytes_rng(7);
  std::vector<std::string> sids;
  // 60 records of ~100 KB of incompressible body, one per minute: ~6 MB, twice the quota.
  for (int i = 0; i < 60; ++i) {
    std::string body(100 * 1024, '\0');
    for (auto& ch : body) ch = static_cast<char>('a' + bytes_rng() % 26);
    auto r = make(t0 - (60 - i) * minute, acct_a, std::move(body));
    sids.push_back(r.sid);
    ASSERT_TRUE(store->submit(std::move(r)));
  }
  store->flush();
  store->maintain();
  EXPECT_GE(store->get_stats().quota_trims, 1u);
  EXPECT_FALSE(store->get(sids.front()));
  EXPECT_TRUE(store->get(sids.back()));
  // Oldest first: what remains is a suffix of the time order.
  std::size_t first_kept = sids.size();
  for (std::size_t i = 0; i < sids.size(); ++i) {
    if (store->get(sids[i])) {
      first_kept = std::min(first_kept, i);
    } else {
      EXPECT_GT(first_kept, i) << "record " << i << " gone while an older one was kept";
    }
  }
  list_query q;
  q.accounts = {acct_a};
  EXPECT_EQ(store->list(q).total, sids.size() - first_kept);
  EXPECT_LE(store->disk_bytes(), *c->store.max_bytes);
}

// ---- every filter against a brute-force reference -------------------------------------

struct reference_store {
  std::vector<trace_record> records;  // every record written

  static bool matches(const trace_record& r, const trace_filter& f) {
    if (f.completed && r.completed != *f.completed) return false;
    if (f.created_from_ms && r.created_ms < *f.created_from_ms) return false;
    if (f.created_before_ms && r.created_ms >= *f.created_before_ms) return false;
    if (f.session_sid && r.session_sid != *f.session_sid) return false;
    if (f.min_latency_ms && r.latency_ms < *f.min_latency_ms) return false;
    if (f.direction && r.direction != *f.direction) return false;
    if (f.response_code_prefix && !r.response.code.starts_with(*f.response_code_prefix)) {
      return false;
    }
    if (f.response_body_contains &&
        r.response.body.body.find(*f.response_body_contains) == std::string::npos) {
      return false;
    }
    if (f.request_path_prefix && !r.request.path.starts_with(*f.request_path_prefix) &&
        !r.request.url.starts_with(*f.request_path_prefix)) {
      return false;
    }
    if (f.account_sid && r.account_sid != *f.account_sid) return false;
    if (f.org_sid && r.org_sid != *f.org_sid) return false;
    if (f.method) {
      std::string a = r.request.method, b = *f.method;
      for (auto* s : {&a, &b}) {
        for (auto& c : *s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      }
      if (a != b) return false;
    }
    if (f.request_body_contains &&
        r.request.body.body.find(*f.request_body_contains) == std::string::npos) {
      return false;
    }
    return true;
  }

  struct answer {
    std::uint64_t total = 0;
    std::vector<std::string> sids;
  };
  answer list(const list_query& q, std::int64_t cutoff) const {
    std::vector<const trace_record*> hits;
    for (const auto& r : records) {
      if (r.created_ms < cutoff) continue;
      const bool in_set = q.all_accounts || std::find(q.accounts.begin(), q.accounts.end(),
                                                      r.account_sid) != q.accounts.end();
      if (in_set && matches(r, q.filter)) hits.push_back(&r);
    }
    std::sort(hits.begin(), hits.end(),
              [](const auto* a, const auto* b) { return a->sid > b->sid; });
    answer out;
    out.total = hits.size();
    bool cursor = false;
    if (q.after_sid) {
      for (const auto& r : records) {
        if (r.sid == *q.after_sid && r.created_ms >= cutoff) cursor = true;
      }
    }
    std::uint64_t skip = cursor ? 0 : q.page * q.page_size;
    for (const auto* r : hits) {
      if (cursor && r->sid >= *q.after_sid) continue;
      if (skip > 0) {
        --skip;
        continue;
      }
      if (out.sids.size() == q.page_size) break;
      out.sids.push_back(r->sid);
    }
    return out;
  }
};

TEST_F(trace_store_test, EveryFilterAndCombinationMatchesABruteForceReference) {
  auto store = open();
  std::mt19937_64 gen(20261128);
  const std::vector<std::string> accounts = {acct_a, acct_b, "ACcccccccccccccccccccccccccccccccc",
                                             "ACdddddddddddddddddddddddddddddddd"};
  const std::vector<std::string> orgs = {"ORfe81fe8a3d5f4d5391e901db0bf5755d",
                                         "OR00000000000000000000000000000001"};
  const std::vector<std::string> sessions = {"", "", "CA1", "CA2", "CA3", "IDx-CAy", "SM9"};
  const std::vector<std::string> codes = {"200", "201", "204", "302", "404", "500", "503", ""};
  const std::vector<std::string> paths = {"/apps/acme/voice?x=1", "/apps/acme/sms",
                                          "/apps/beta/voice", "/restcomm/2012-04-24/Calls.json",
                                          "/"};
  const std::vector<std::string> words = {"alpha", "beta",  "gamma",      "delta",
                                          "<Say>", "héllo", "\"quoted\"", "omega"};
  // Methods with a code in the covering entry, an unusual one, and letter cases.
  const std::vector<std::string> methods = {"GET",    "POST",     "post",   "PUT",
                                            "DELETE", "PROPFIND", "OPTIONS"};
  reference_store ref;
  // 3000 records over the last 150 minutes; retention is 2 h, so the oldest are expired.
  for (int i = 0; i < 3000; ++i) {
    const std::int64_t created = t0 - static_cast<std::int64_t>(gen() % (150 * minute));
    const auto& account = accounts[gen() % accounts.size()];
    std::string body;
    for (int w = static_cast<int>(gen() % 4); w > 0; --w) {
      body += words[gen() % words.size()];
      body += ' ';
    }
    auto r = make(created, account, body);
    r.org_sid = orgs[(account == acct_b ? 1 : 0) ^ (gen() % 5 == 0 ? 1 : 0)];
    r.session_sid = sessions[gen() % sessions.size()];
    r.response.code = codes[gen() % codes.size()];
    r.completed = r.response.code.starts_with("2") && gen() % 7 != 0;
    r.direction = gen() % 3 == 0 ? conf::direction::api : conf::direction::webhook;
    r.latency_ms = static_cast<std::int64_t>(gen() % 2000);
    r.request.path = paths[gen() % paths.size()];
    r.request.url = gen() % 4 == 0 ? "https://other.example/" + std::to_string(gen() % 3)
                                   : "http://127.0.0.1:9000" + r.request.path;
    r.request.method = methods[gen() % methods.size()];
    r.request.body.body.clear();
    for (int w = static_cast<int>(gen() % 3); w > 0; --w) {
      r.request.body.body += words[gen() % words.size()];
      r.request.body.body += '&';
    }
    ref.records.push_back(r);
    ASSERT_TRUE(store->submit(std::move(r)));
  }
  store->flush();
  std::map<std::string, std::string> json_of;
  for (const auto& r : ref.records) json_of[r.sid] = to_json(r);

  const std::int64_t cutoff = t0 - 2 * hour;
  auto pick_filter = [&] {
    trace_filter f;
    const auto mask = gen();
    if (mask & 1) f.completed = gen() % 2 == 0;
    if (mask & 2) f.created_from_ms = t0 - static_cast<std::int64_t>(gen() % (160 * minute));
    if (mask & 4) f.created_before_ms = t0 - static_cast<std::int64_t>(gen() % (100 * minute));
    if (mask & 8) f.session_sid = sessions[2 + gen() % (sessions.size() - 2)];
    if (mask & 16) f.min_latency_ms = static_cast<std::int64_t>(gen() % 2100);
    if (mask & 32) f.direction = gen() % 2 ? conf::direction::api : conf::direction::webhook;
    if (mask & 64) {
      const auto& c = codes[gen() % (codes.size() - 1)];
      f.response_code_prefix = c.substr(0, 1 + gen() % 3);
    }
    if (mask & 128) f.response_body_contains = words[gen() % words.size()].substr(0, 3);
    if (mask & 256) {
      const auto& p = gen() % 4 == 0 ? std::string("https://other") : paths[gen() % paths.size()];
      f.request_path_prefix = p.substr(0, 1 + gen() % p.size());
    }
    if (mask & 512) f.account_sid = accounts[gen() % accounts.size()];
    if (mask & 1024) f.org_sid = orgs[gen() % orgs.size()];
    if (mask & 2048) {
      const std::vector<std::string> asked = {"get",      "POST",    "Put",   "delete",
                                              "propfind", "OPTIONS", "PATCH", "MKCOL"};
      f.method = asked[gen() % asked.size()];
    }
    if (mask & 4096) f.request_body_contains = words[gen() % words.size()].substr(0, 3);
    return f;
  };
  // Half the queries are unfiltered but for dates and accounts: the counters path.
  for (int i = 0; i < 600; ++i) {
    list_query q;
    if (gen() % 5 == 0) {
      q.all_accounts = true;
    } else {
      for (const auto& a : accounts) {
        if (gen() % 2) q.accounts.push_back(a);
      }
    }
    if (i % 2) {
      q.filter = pick_filter();
    } else {
      if (gen() % 2)
        q.filter.created_from_ms = t0 - static_cast<std::int64_t>(gen() % (160 * minute));
      if (gen() % 2)
        q.filter.created_before_ms = t0 - static_cast<std::int64_t>(gen() % (100 * minute));
      if (gen() % 4 == 0) q.filter.account_sid = accounts[gen() % accounts.size()];
    }
    q.page_size = static_cast<std::uint32_t>(1 + gen() % 60);
    q.page = gen() % 4;
    if (gen() % 3 == 0) {
      q.after_sid = gen() % 4 == 0 ? std::string("TR0000000000000000000000000000beef")
                                   : ref.records[gen() % ref.records.size()].sid;
    }
    const auto want = ref.list(q, cutoff);
    auto got = store->list(q);
    ASSERT_EQ(got.status, query_status::ok);
    ASSERT_EQ(got.total, want.total) << "query " << i;
    const auto items = drain(got);
    ASSERT_EQ(items.size(), want.sids.size()) << "query " << i;
    for (std::size_t k = 0; k < items.size(); ++k) {
      ASSERT_EQ(sid_of(items[k]), want.sids[k]) << "query " << i << " item " << k;
      ASSERT_EQ(items[k], json_of[want.sids[k]]);
    }
  }
}

TEST_F(trace_store_test, BodiesSpreadOverSeveralChunkPartsAreFoundAndReturned) {
  auto store = open();
  // 60 bodies of 20 KB within one 10 s chunk: over 1 MB, so several 256 KiB parts.
  std::vector<std::string> sids;
  std::map<std::string, std::string> json_of;
  for (int i = 0; i < 60; ++i) {
    std::string body(20 * 1024, 'a' + i % 26);
    body += "needle-" + std::to_string(i);
    auto r = make(t0 - 5000 - i, acct_a, body);
    sids.push_back(r.sid);
    json_of[r.sid] = to_json(r);
    ASSERT_TRUE(store->submit(std::move(r)));
  }
  store->flush();
  for (const auto& sid : sids) {
    const auto got = store->get(sid);
    ASSERT_TRUE(got) << sid;
    EXPECT_EQ(got->json, json_of[sid]);
  }
  list_query q;
  q.accounts = {acct_a};
  q.filter.response_body_contains = "needle-4";  // 4 and 40..49
  auto res = store->list(q);
  EXPECT_EQ(res.total, 11u);
  for (const auto& j : drain(res)) EXPECT_EQ(j, json_of[sid_of(j)]);
  store->compact();  // the parts' operands merged into values: still the same answers
  q.filter.response_body_contains = "needle-5";
  EXPECT_EQ(store->list(q).total, 11u);
  EXPECT_EQ(store->get(sids[59])->json, json_of[sids[59]]);
}

TEST_F(trace_store_test, AWriteErrorDropsAndCountsThenWritingResumes) {
  auto store = open();
  ASSERT_TRUE(store->submit(make(t0 - 3, acct_a, "before")));
  store->flush();
  // A file size limit makes the next WAL append fail (EFBIG), as a full disk would.
  std::signal(SIGXFSZ, SIG_IGN);
  rlimit old{};
  ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &old), 0);
  rlimit tight = old;
  std::uintmax_t biggest = 0;  // the limit must stop the WAL, not any file already bigger
  for (const auto& e : fs::directory_iterator(dir_.path() / "data" / "db")) {
    if (e.is_regular_file()) biggest = std::max(biggest, e.file_size());
  }
  tight.rlim_cur = biggest + 256 * 1024;
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &tight), 0);
  ASSERT_TRUE(store->submit(make(t0 - 2, acct_a, std::string(2 * biggest + 1024 * 1024, 'x'))));
  store->flush();
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &old), 0);
  EXPECT_EQ(store->get_stats().dropped_write_error, 1u);
  EXPECT_FALSE(store->health().ok);
  EXPECT_FALSE(store->health().reason.empty());
  // Writing resumes by itself: keep submitting until a record is written (poll, deadline).
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  std::string sid;
  while (std::chrono::steady_clock::now() < deadline && store->get_stats().written < 2) {
    auto r = make(t0 - 1, acct_a, "after");
    sid = r.sid;
    ASSERT_TRUE(store->submit(std::move(r)));
    store->flush();
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_EQ(store->get_stats().written, 2u);
  EXPECT_TRUE(store->health().ok) << store->health().reason;
  EXPECT_TRUE(store->get(sid));
}

TEST_F(trace_store_test, PastItsDeadlineAListTimesOut) {
  auto store = open();
  for (int i = 0; i < 3000; ++i) ASSERT_TRUE(store->submit(make(t0 - i, acct_a, "x")));
  store->flush();
  list_query q;
  q.accounts = {acct_a};
  q.filter.response_body_contains = "y";
  q.deadline = std::chrono::steady_clock::now() - std::chrono::seconds(1);
  EXPECT_EQ(store->list(q).status, query_status::timed_out);
}

TEST_F(trace_store_test, APlannedPageStreamsWholePastTheDeadline) {
  // The deadline bounds the planning; the API has answered 200 by the time it streams, so
  // the stream must not stop half-way when the clock passes the deadline.
  auto store = open();
  for (int i = 0; i < 60; ++i) ASSERT_TRUE(store->submit(make(t0 - i, acct_a, "x")));
  store->flush();
  list_query q;
  q.accounts = {acct_a};
  q.page_size = 50;
  q.deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(200);
  auto r = store->list(q);
  ASSERT_EQ(r.status, query_status::ok);
  ASSERT_TRUE(r.records);
  std::this_thread::sleep_until(q.deadline + std::chrono::milliseconds(10));
  std::string json;
  int n = 0;
  while (r.records->next(json)) ++n;
  EXPECT_EQ(n, 50);
  EXPECT_EQ(r.records->status(), query_status::ok);
}

TEST_F(trace_store_test, MetricsAreRegistered) {
  auto store = open();
  ASSERT_TRUE(store->submit(make(t0, acct_a)));
  store->flush();
  store->maintain();
  const auto text = metrics_.render();
  for (const char* name :
       {"sidecar_records_written_total 1", "sidecar_store_write_seconds_count",
        "sidecar_store_write_stall", "sidecar_store_queue_bytes", "sidecar_store_disk_bytes",
        "sidecar_records_dropped_total{reason=\"write_error\"}"}) {
    EXPECT_NE(text.find(name), std::string::npos) << name;
  }
  EXPECT_TRUE(store->health().ok);
}

}  // namespace
}  // namespace sidecar::store
