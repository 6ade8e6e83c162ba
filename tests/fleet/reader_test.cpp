// The fleet reader answers exactly as the local store: the same records are in a local store
// and (shipped by it) in a real ClickHouse, and both readers are asked every filter, page,
// page size and cursor; totals, pages and every record's bytes must be equal. Records shipped
// twice count once; ClickHouse failing is a failure with a message, never a partial page.
#include "fleet/reader.hpp"

#include <gtest/gtest.h>

#include "fleet/shipper.hpp"
#include "store/trace_store.hpp"
#include "tests/fleet/fleet_fixture.hpp"

namespace sidecar::fleet {
namespace {

using namespace testing;

struct answer {
  store::query_status status = store::query_status::failed;
  std::uint64_t total = 0;
  std::vector<std::string> records;
  std::optional<store::record_stream::extent> extent;
};

answer ask(store::trace_reader& r, const store::list_query& q) {
  answer a;
  auto res = r.list(q);
  a.status = res.status;
  a.total = res.total;
  if (!res.records) return a;
  a.extent = res.records->page_extent();
  std::string json;
  while (res.records->next(json)) a.records.push_back(json);
  return a;
}

std::string describe(const store::list_query& q) {
  const auto& f = q.filter;
  std::string s = "accounts=" + std::to_string(q.accounts.size()) + (q.all_accounts ? " all" : "") +
                  " page=" + std::to_string(q.page) + " size=" + std::to_string(q.page_size);
  if (q.after_sid) s += " after=" + *q.after_sid;
  if (f.completed) s += " completed=" + std::to_string(*f.completed);
  if (f.created_from_ms) s += " from=" + std::to_string(*f.created_from_ms);
  if (f.created_before_ms) s += " before=" + std::to_string(*f.created_before_ms);
  if (f.session_sid) s += " session=" + *f.session_sid;
  if (f.min_latency_ms) s += " latency=" + std::to_string(*f.min_latency_ms);
  if (f.direction) s += " direction=" + std::string(conf::to_string(*f.direction));
  if (f.response_code_prefix) s += " code=" + *f.response_code_prefix;
  if (f.response_body_contains) s += " body=" + *f.response_body_contains;
  if (f.request_path_prefix) s += " path=" + *f.request_path_prefix;
  if (f.account_sid) s += " account=" + *f.account_sid;
  if (f.org_sid) s += " org=" + *f.org_sid;
  if (f.method) s += " method=" + *f.method;
  if (f.request_body_contains) s += " request_body=" + *f.request_body_contains;
  return s;
}

class reader_test : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!clickhouse_installed()) return;
    // 360 records over the last 6 hours, three accounts, varied fields; some share a ms.
    const std::int64_t now = now_ms();
    data_ = new shipped_store(
        11, 360, [now](int i) { return now - 6 * 3'600'000 + (i / 2) * 60'000; },
        [](conf::config& c) { c.fleet->query = true; });
    ch_ = &data_->ch;
    cfg_ = data_->cfg;
    metrics_ = &data_->metrics;
    store_ = data_->store.get();
    sids_ = &data_->sids;
    // Some records shipped twice (a retried batch): they must count once.
    ASSERT_EQ(ch_->query("INSERT INTO traces.traces SELECT * FROM traces.traces WHERE "
                         "latency_ms < 200"),
              "");
    // And every record shipped again, twice: more copies of a sid than a page has room for
    // (the reader then asks for more rows), in parts that have not merged.
    for (int i = 0; i < 2; ++i) {
      ASSERT_EQ(ch_->query("INSERT INTO traces.traces SELECT * FROM traces.traces"), "");
    }
    ASSERT_NE(ch_->query("SELECT count() FROM traces.traces"), "360\n");
    reader_ = new clickhouse_reader(cfg_, *metrics_);
  }
  static void TearDownTestSuite() {
    delete reader_;
    cfg_.reset();
    delete data_;
  }
  void SetUp() override {
    if (!clickhouse_installed()) GTEST_SKIP() << "clickhouse-server is not installed";
  }

  /// Both readers, every page of `q` (by Page, and by AfterSid from each page's last sid).
  void compare_all_pages(store::list_query q) {
    SCOPED_TRACE(describe(q));
    const auto first_local = ask(*store_, q);
    ASSERT_EQ(first_local.status, store::query_status::ok);
    const std::uint64_t pages = first_local.total / q.page_size + 1;
    std::optional<std::string> cursor;
    for (std::uint64_t p = 0; p < pages && p < 12; ++p) {
      q.page = p;
      q.after_sid.reset();
      compare(q);
      if (cursor) {
        auto c = q;
        c.page = 0;
        c.after_sid = cursor;
        compare(c);
      }
      const auto local = ask(*store_, q);
      if (!local.records.empty()) {
        const auto& last = local.records.back();
        cursor = last.substr(last.find("\"sid\":\"") + 7, 34);
      }
    }
  }

  void compare(const store::list_query& q) {
    SCOPED_TRACE(describe(q));
    const auto local = ask(*store_, q);
    const auto fleet = ask(*reader_, q);
    ASSERT_EQ(local.status, store::query_status::ok);
    ASSERT_EQ(fleet.status, store::query_status::ok);
    EXPECT_EQ(fleet.total, local.total);
    ASSERT_EQ(fleet.records.size(), local.records.size());
    for (std::size_t i = 0; i < local.records.size(); ++i) {
      EXPECT_EQ(fleet.records[i], local.records[i]) << "record " << i;
    }
    ASSERT_TRUE(fleet.extent);
    EXPECT_EQ(fleet.extent->count, local.records.size());
    ++compared_;
  }

  store::list_query base(std::vector<std::string> accounts = {acct_a, acct_b, acct_c}) {
    store::list_query q;
    q.accounts = std::move(accounts);
    q.page_size = 50;
    return q;
  }

  static inline shipped_store* data_ = nullptr;
  static inline clickhouse_server* ch_ = nullptr;
  static inline std::shared_ptr<conf::config> cfg_;
  static inline metrics::registry* metrics_ = nullptr;
  static inline store::trace_store* store_ = nullptr;
  static inline clickhouse_reader* reader_ = nullptr;
  static inline std::vector<std::string>* sids_ = nullptr;
  int compared_ = 0;
};

TEST_F(reader_test, UnfilteredListsOfEveryAccountSetAndPageSize) {
  for (const std::uint32_t size : {1u, 7u, 50u, 120u, 1000u}) {
    auto q = base();
    q.page_size = size;
    if (size == 1) {
      compare(q);  // 360 pages: only the first and a few
      q.page = 359;
      compare(q);
      q.page = 360;
      compare(q);
      continue;
    }
    compare_all_pages(q);
  }
  compare_all_pages(base({acct_a}));
  compare_all_pages(base({acct_b, acct_c}));
  compare_all_pages(base({}));
  auto all = base({});
  all.all_accounts = true;
  compare_all_pages(all);
  EXPECT_EQ(ask(*reader_, base()).total, 360u);  // shipped twice, counted once
}

TEST_F(reader_test, EachListTimesItsPageAndItsTotal) {
  auto count_of = [](const std::string& part) {
    const std::string text = metrics_->render();
    const std::string series = "sidecar_fleet_list_seconds_count{part=\"" + part + "\"} ";
    const auto at = text.find(series);
    return at == std::string::npos ? -1.0 : std::stod(text.substr(at + series.size()));
  };
  const double pages = count_of("page");
  const double totals = count_of("total");
  ASSERT_GE(pages, 0);
  ASSERT_GE(totals, 0);
  EXPECT_EQ(ask(*reader_, base()).total, 360u);
  EXPECT_EQ(count_of("page"), pages + 1);
  EXPECT_EQ(count_of("total"), totals + 1);
}

TEST_F(reader_test, EveryFilterAloneAndCombined) {
  const std::int64_t now = now_ms();
  std::vector<store::trace_filter> filters;
  auto add = [&](auto&& set) {
    store::trace_filter f;
    set(f);
    filters.push_back(f);
  };
  add([](auto& f) { f.completed = true; });
  add([](auto& f) { f.completed = false; });
  add([&](auto& f) { f.created_from_ms = now - 3 * 3'600'000; });
  add([&](auto& f) { f.created_before_ms = now - 2 * 3'600'000; });
  add([&](auto& f) {
    f.created_from_ms = now - 4 * 3'600'000 + 30'000;
    f.created_before_ms = now - 3 * 3'600'000;
  });
  add([](auto& f) { f.session_sid = "CA3"; });
  add([](auto& f) { f.session_sid = "CA-none"; });
  add([](auto& f) { f.min_latency_ms = 500; });
  add([](auto& f) { f.min_latency_ms = 0; });
  add([](auto& f) { f.direction = conf::direction::api; });
  add([](auto& f) { f.direction = conf::direction::webhook; });
  add([](auto& f) { f.response_code_prefix = "2"; });
  add([](auto& f) { f.response_code_prefix = "20"; });
  add([](auto& f) { f.response_code_prefix = "503"; });
  add([](auto& f) { f.response_body_contains = "n7\""; });
  add([](auto& f) { f.response_body_contains = "'world' \\"; });
  add([](auto& f) { f.response_body_contains = "%"; });  // data, not a pattern
  add([](auto& f) { f.response_body_contains = ""; });
  add([](auto& f) { f.request_path_prefix = "/apps/voice?x=1"; });
  add([](auto& f) { f.request_path_prefix = "http://127.0.0.1:9000/hooks"; });
  add([](auto& f) { f.request_path_prefix = "/h_oks"; });  // '_' is data too
  add([](auto& f) { f.account_sid = acct_b; });
  add([](auto& f) { f.account_sid = "ACdddddddddddddddddddddddddddddddd"; });
  add([](auto& f) { f.org_sid = "ORfe81fe8a3d5f4d5391e901db0bf5755d"; });
  add([](auto& f) { f.org_sid = "x') OR 1=1 --"; });
  add([](auto& f) { f.method = "post"; });
  add([](auto& f) { f.method = "GET"; });
  add([](auto& f) { f.method = "DELETE"; });
  add([](auto& f) { f.request_body_contains = "%2B15556"; });
  add([](auto& f) { f.request_body_contains = "'"; });
  add([](auto& f) {
    f.completed = true;
    f.direction = conf::direction::webhook;
    f.min_latency_ms = 100;
    f.response_code_prefix = "2";
  });
  add([](auto& f) {
    f.session_sid = "CA2";
    f.response_body_contains = "n2";
    f.completed = true;
  });
  add([&](auto& f) {
    f.response_body_contains = "hello";
    f.request_path_prefix = "/apps";
    f.org_sid = "ORfe81fe8a3d5f4d5391e901db0bf5755d";
    f.created_from_ms = now - 5 * 3'600'000;
  });
  for (const auto& f : filters) {
    auto q = base();
    q.filter = f;
    q.page_size = 20;
    compare_all_pages(q);
    auto one = base({acct_c});
    one.filter = f;
    compare(one);
  }
}

TEST_F(reader_test, CursorsKnownUnknownAndExpired) {
  auto q = base();
  q.page_size = 25;
  for (const std::size_t i : {0u, 1u, 100u, 358u, 359u}) {
    q.after_sid = (*sids_)[i];
    compare(q);
    q.page = 3;  // ignored with a known cursor
    compare(q);
    q.page = 0;
  }
  q.after_sid = "TR" + std::string(32, 'f');  // not stored: Page decides
  q.page = 2;
  compare(q);
  q.after_sid = "TR0000000000000000000000000000000a";  // long expired
  compare(q);
  q.after_sid = "not a sid";
  compare(q);
  // A cursor of another account's record still places the page.
  auto a_only = base({acct_a});
  a_only.after_sid = (*sids_)[181];  // acct_c's
  compare(a_only);
}

TEST_F(reader_test, GetAnswersTheSameRecordAndNothingForUnknownSids) {
  for (const std::size_t i : {0u, 57u, 359u}) {
    const auto local = store_->get((*sids_)[i]);
    const auto fleet = reader_->get((*sids_)[i]);
    ASSERT_TRUE(local);
    ASSERT_EQ(fleet.status, store::query_status::ok);
    ASSERT_TRUE(fleet.trace);
    EXPECT_EQ(fleet.trace->json, local->json);
    EXPECT_EQ(fleet.trace->account_sid, local->account_sid);
  }
  EXPECT_FALSE(reader_->get("TR" + std::string(32, 'e')).trace);
  EXPECT_FALSE(reader_->get("TR0000000000000000000000000000000a").trace);
  EXPECT_FALSE(reader_->get("x' OR '1'='1").trace);
}

TEST_F(reader_test, AServerThatIsDownFailsWithAMessage) {
  auto cfg = std::make_shared<conf::config>(*cfg_);
  cfg->fleet->clickhouse.port = free_port();  // nobody listens there
  cfg->fleet->timeout = std::chrono::seconds(2);
  metrics::registry m;
  clickhouse_reader down(cfg, m);
  const auto r = down.list(base());
  EXPECT_EQ(r.status, store::query_status::failed);
  EXPECT_EQ(r.failure, "cannot connect to ClickHouse");
  EXPECT_FALSE(r.records);
  const auto g = down.get((*sids_)[3]);
  EXPECT_EQ(g.status, store::query_status::failed);
  EXPECT_FALSE(g.trace);
}

}  // namespace
}  // namespace sidecar::fleet
