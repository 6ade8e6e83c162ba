// The planning of one list page (store/list_planner.hpp, docs/store.md "Queries") over the
// store's own database filled by its writer: which plan the filters allow, the accounts'
// records merged newest first, the page's skip and size, the AfterSid cursor, and the session
// and chunk plans finding exactly their matches with exact totals.
#include "store/list_planner.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "store/purge_set.hpp"
#include "store/store_codec.hpp"
#include "tests/store/writer_fixture.hpp"

namespace sidecar::store {
namespace {

constexpr const char* acme = "ACae6e420f425248d6a26948c17a9e2acf";
constexpr const char* beta = "ACbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

class list_planner_test : public testing::writer_fixture {
 protected:
  void SetUp() override {
    writer_fixture::SetUp();
    // 10 records, newest first, alternately of two accounts, 1 s apart; every third has a
    // session, every fourth a body with "needle", every fifth the response code 503.
    for (int i = 0; i < 10; ++i) {
      auto r = record(i % 2 == 0 ? acme : beta, 1000 * (i + 1),
                      i % 4 == 0 ? "<Say>needle " + std::to_string(i) + "</Say>" : "<Hangup/>");
      if (i % 3 == 0) r.session_sid = "CA00000000000000000000000000000001";
      if (i % 5 == 0) r.response.code = "503";
      newest_first_.push_back({r.account_sid, r.sid});
      ASSERT_TRUE(writer_->submit(std::move(r)));
    }
    writer_->flush();
  }
  /// The sids of a plan's items, in its order.
  static std::vector<std::string> sids_of(const std::vector<page_item>& items) {
    std::vector<std::string> out;
    for (const auto& it : items) {
      std::string_view id, inv;
      EXPECT_TRUE(codec::split_id_key(it.key, id, inv));
      out.push_back(format_sid(codec::uninvert(inv)));
    }
    return out;
  }
  std::vector<std::string> expected(const std::function<bool(int)>& keep, std::size_t skip,
                                    std::size_t n) {
    std::vector<std::string> all;
    for (int i = 0; i < 10; ++i) {
      if (keep(i)) all.push_back(newest_first_[static_cast<std::size_t>(i)].second);
    }
    all.erase(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(std::min(skip, all.size())));
    if (all.size() > n) all.resize(n);
    return all;
  }
  static constexpr std::int64_t lo = 0;
  static constexpr std::int64_t hi = max_sid_ms + 1;

  purge_set purged_;
  // The planner keeps a reference to its read options: they outlive it.
  const rocksdb::ReadOptions read_options_;
  std::vector<std::pair<std::string, std::string>> newest_first_;
};

TEST_F(list_planner_test, WithoutFiltersThePageIsAMergeOfTheAccountsNewestFirst) {
  list_query q;
  q.page = 1;
  q.page_size = 3;
  page_planner plan(db_, purged_, q, read_options_, std::nullopt, false);
  EXPECT_TRUE(plan.unfiltered());
  ASSERT_EQ(plan.plan_unfiltered({acme, beta}, lo, hi, 10), query_status::ok);
  EXPECT_EQ(plan.total(), 10u) << "the total given from the counters";
  EXPECT_EQ(sids_of(plan.take_items()), expected([](int) { return true; }, 3, 3));
}

TEST_F(list_planner_test, OneAccountsPageHoldsOnlyItsRecords) {
  list_query q;
  q.page_size = 50;
  page_planner plan(db_, purged_, q, read_options_, std::nullopt, false);
  ASSERT_EQ(plan.plan_unfiltered({beta}, lo, hi, 5), query_status::ok);
  EXPECT_EQ(sids_of(plan.take_items()), expected([](int i) { return i % 2 == 1; }, 0, 50));
}

TEST_F(list_planner_test, AfterSidContinuesAfterTheCursorsRecord) {
  list_query q;
  q.page_size = 4;
  const auto cursor = parse_sid(newest_first_[2].second);
  const std::string key = codec::id_sid_key(acme, *cursor);
  page_planner plan(db_, purged_, q, read_options_, key.substr(key.size() - 16), false);
  ASSERT_EQ(plan.plan_unfiltered({acme, beta}, lo, hi, 10), query_status::ok);
  EXPECT_EQ(sids_of(plan.take_items()), expected([](int) { return true; }, 3, 4));
}

TEST_F(list_planner_test, ASessionIsPlannedFromItsOwnIndexWithAnExactTotal) {
  list_query q;
  q.filter.session_sid = "CA00000000000000000000000000000001";
  page_planner plan(db_, purged_, q, read_options_, std::nullopt, false);
  EXPECT_FALSE(plan.unfiltered());
  ASSERT_EQ(plan.plan_session({acme, beta}, lo, hi), query_status::ok);
  EXPECT_EQ(plan.total(), 4u) << "records 0, 3, 6 and 9";
  EXPECT_EQ(sids_of(plan.take_items()), expected([](int i) { return i % 3 == 0; }, 0, 50));
}

TEST_F(list_planner_test, AResponseBodyFilterScansTheChunksForExactlyItsMatches) {
  list_query q;
  q.filter.response_body_contains = "needle";
  page_planner plan(db_, purged_, q, read_options_, std::nullopt, false);
  EXPECT_FALSE(plan.unfiltered());
  ASSERT_EQ(plan.plan_chunks({acme, beta}, lo, hi), query_status::ok);
  EXPECT_EQ(plan.total(), 3u) << "records 0, 4 and 8";
  EXPECT_EQ(sids_of(plan.take_items()), expected([](int i) { return i % 4 == 0; }, 0, 50));
}

TEST_F(list_planner_test, TheUnfilteredPageSkipsPurgedRecordsAndWhatAMarkerCovers) {
  // The index chunks keep a purged record's entry until compaction: the page must not.
  purged_.add(*parse_sid(newest_first_[1].second));
  // acme's marker at record 4 covers acme's records 4, 6 and 8 (older ones), not beta's.
  purged_.mark(acme, *parse_sid(newest_first_[4].second));
  list_query q;
  q.page_size = 50;
  page_planner plan(db_, purged_, q, read_options_, std::nullopt, false);
  ASSERT_EQ(plan.plan_unfiltered({acme, beta}, lo, hi, 6), query_status::ok);
  EXPECT_EQ(sids_of(plan.take_items()),
            expected([](int i) { return i != 1 && i != 4 && i != 6 && i != 8; }, 0, 50));
}

TEST_F(list_planner_test, CoveringFiltersOnTopOfASessionOrABodySearchReadTheIndexChunks) {
  for (const bool server_error : {true, false}) {
    list_query q;
    q.filter.response_code_prefix = server_error ? "5" : "2";
    q.filter.session_sid = "CA00000000000000000000000000000001";
    page_planner session(db_, purged_, q, read_options_, std::nullopt, false);
    ASSERT_EQ(session.plan_session({acme, beta}, lo, hi), query_status::ok);
    // The session's records are 0, 3, 6 and 9; of those, 0 answered 503.
    EXPECT_EQ(sids_of(session.take_items()),
              expected([&](int i) { return i % 3 == 0 && (i % 5 == 0) == server_error; }, 0, 50));

    q.filter.session_sid.reset();
    q.filter.response_body_contains = "needle";
    page_planner body(db_, purged_, q, read_options_, std::nullopt, false);
    ASSERT_EQ(body.plan_chunks({acme, beta}, lo, hi), query_status::ok);
    // The needle is in 0, 4 and 8.
    EXPECT_EQ(sids_of(body.take_items()),
              expected([&](int i) { return i % 4 == 0 && (i % 5 == 0) == server_error; }, 0, 50));
  }
}

TEST_F(list_planner_test, APlanPastItsDeadlineTimesOut) {
  list_query q;
  q.filter.response_body_contains = "needle";
  q.deadline = std::chrono::steady_clock::now() - std::chrono::seconds(1);
  page_planner plan(db_, purged_, q, read_options_, std::nullopt, false);
  EXPECT_EQ(plan.plan_chunks({acme, beta}, lo, hi), query_status::timed_out);
}

}  // namespace
}  // namespace sidecar::store
