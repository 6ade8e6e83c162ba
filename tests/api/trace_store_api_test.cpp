// The API over the real RocksDB trace_store, filled with records through submit(): paging on
// docs/api.md's worked cases ("Paging"), every filter, a trace through an ancestor's path, and a
// cursor walk through all pages while new records keep arriving.
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <random>
#include <set>
#include <thread>

#include "api/server.hpp"
#include "store/trace_record.hpp"
#include "store/trace_store.hpp"
#include "tests/api/test_support.hpp"

namespace sidecar::api {
namespace {

namespace fs = std::filesystem;
using testing::accounts;
using testing::http_answer;
using testing::http_client;

std::string leaf(int i) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "AC%032x", 0x100 + i);
  return buf;
}

class api_over_store : public ::testing::Test {
 protected:
  store::trace_record make(const std::string& account, std::int64_t created_ms) {
    store::trace_record r = testing::sample_record(account, created_ms, rng_);
    r.account_friendly_name = "Friendly";
    const conf::account* a = env_.cfg->find_account(account);
    r.org_sid = a != nullptr ? a->org_sid : "";
    r.request.path = "/apps/voice?x=1";
    r.request.url = "http://127.0.0.1:9000/apps/voice?x=1";
    r.request.method = "GET";
    r.request.headers = {{"accept", "application/xml"}};
    r.response.headers = {{"content-type", "application/xml"}};
    r.response.body.body = "<Response><Say>hello</Say></Response>";
    r.response.body.size = r.response.body.body.size();
    return r;
  }

  /// Submits records (newest last) and waits until they are written; returns their sids.
  std::vector<std::string> fill(const std::string& account, int n, std::int64_t from) {
    std::vector<std::string> sids;
    for (int i = 0; i < n; ++i) {
      store::trace_record r = make(account, from + i);
      sids.push_back(r.sid);
      EXPECT_TRUE(env_.store->submit(std::move(r)));
    }
    env_.store->flush();
    return sids;
  }

  http_answer get(const std::string& target, const std::string& sid) {
    return http_client(env_.port).get(target, sid);
  }
  static std::vector<std::string> sids_of(const boost::json::value& page) {
    std::vector<std::string> out;
    for (const auto& t : page.at("traces").as_array()) out.emplace_back(t.at("sid").as_string());
    return out;
  }
  static std::int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }

  testing::store_env env_{[](conf::config& cfg) {
    for (int i = 0; i < 8; ++i) {
      conf::account a;
      a.sid = leaf(i);
      a.auth_token = testing::token_of(a.sid);
      a.traces = true;
      a.org_sid = "OR0000000000000000000000000000000" + std::to_string(i % 2);
      cfg.accounts.push_back(a);
    }
  }};
  std::mt19937_64 rng_{99};
};

TEST_F(api_over_store, PagingOnTheWorkedCases) {
  const int totals[] = {0, 1, 34, 49, 50, 51, 120};
  const std::int64_t base = now_ms() - 600'000;
  for (int k = 0; k < 7; ++k) {
    auto sids = fill(leaf(k), totals[k], base + k * 1000);
    std::reverse(sids.begin(), sids.end());  // newest first
    const std::string path = "/api/2012-04-24/Accounts/" + leaf(k) + "/Traces.json";
    const int total = totals[k];
    const int num_pages = total / 50;
    for (int page = 0; page <= num_pages; ++page) {
      const http_answer a = get(path + "?Page=" + std::to_string(page), leaf(k));
      ASSERT_EQ(a.status, 200u) << a.body;
      const auto v = a.json();
      const std::string at = std::to_string(total) + "/" + std::to_string(page);
      const int start = page * 50;
      EXPECT_EQ(v.at("total").as_int64(), total) << at;
      EXPECT_EQ(v.at("num_pages").as_int64(), num_pages) << at;
      EXPECT_EQ(v.at("start").as_string(), std::to_string(start)) << at;
      EXPECT_EQ(v.at("end").as_string(), std::to_string(page == num_pages ? total : start + 49))
          << at;
      const auto got = sids_of(v);
      ASSERT_EQ(static_cast<int>(got.size()), page == num_pages ? total - start : 50) << at;
      EXPECT_TRUE(std::equal(got.begin(), got.end(), sids.begin() + start)) << at;
      EXPECT_EQ(v.at("next_page_uri").as_string(),
                page == num_pages ? std::string("null")
                                  : path + "?Page=" + std::to_string(page + 1) +
                                        "&PageSize=50&AfterSid=" + got.back())
          << at;
    }
    EXPECT_EQ(get(path + "?Page=" + std::to_string(num_pages + 1), leaf(k)).status, 400u);
  }
}

TEST_F(api_over_store, CursorWalkWhileNewRecordsArriveSeesEveryRecordOnce) {
  const std::int64_t base = now_ms() - 3'600'000;
  const auto original = fill(leaf(7), 300, base);
  std::atomic<bool> done{false};
  // New records carry the real time of their creation, as the proxy's do (a counter running
  // ahead of the clock dated them in the future, which made this test flaky).
  std::thread writer([&] {
    for (int n = 1; !done.load(); ++n) {
      env_.store->submit(make(leaf(7), now_ms()));
      if (n % 10 == 0) env_.store->flush();
    }
  });
  std::set<std::string> seen;
  std::string next = "/2012-04-24/Accounts/" + leaf(7) + "/Traces?PageSize=25";
  int pages = 0;
  while (next != "null") {
    const http_answer a = get(next, leaf(7));
    ASSERT_EQ(a.status, 200u) << a.body;
    const auto v = a.json();
    for (const auto& sid : sids_of(v)) EXPECT_TRUE(seen.insert(sid).second) << "twice: " << sid;
    next = std::string(v.at("next_page_uri").as_string());
    ASSERT_LT(++pages, 1000);
  }
  done = true;
  writer.join();
  for (const auto& sid : original) EXPECT_EQ(seen.count(sid), 1u) << "missed: " << sid;
}

TEST_F(api_over_store, EachFilterThroughTheStore) {
  const std::int64_t base = now_ms() - 7'200'000;
  const std::string a = leaf(0);
  std::vector<store::trace_record> rs;
  for (int i = 0; i < 8; ++i) rs.push_back(make(a, base + i * 60'000));
  rs[1].completed = false;
  rs[1].response.code = "502";
  rs[2].session_sid = "ID1-CA9";
  rs[3].latency_ms = 777;
  rs[4].direction = conf::direction::api;
  rs[5].response.body.body = "<Response><Play>https://cdn/x.wav</Play></Response>";
  rs[6].request.url = "https://s3.amazonaws.com/bucket/a.wav";
  rs[6].request.path = "/bucket/a.wav";
  rs[7].request.method = "POST";
  rs[7].request.body.body = "CallSid=CA1&CallStatus=no-answer&Digits=$(1)";
  std::vector<std::string> sid;
  for (auto& r : rs) {
    sid.push_back(r.sid);
    ASSERT_TRUE(env_.store->submit(std::move(r)));
  }
  fill(leaf(1), 1, base);  // another tenant's record, never listed below
  env_.store->flush();
  const std::string path = "/2012-04-24/Accounts/" + a + "/Traces";
  const auto only = [&](const std::string& q) {
    const http_answer ans = get(path + "?" + q, a);
    EXPECT_EQ(ans.status, 200u) << q << ": " << ans.body;
    return sids_of(ans.json());
  };
  using v = std::vector<std::string>;
  EXPECT_EQ(only("Status=failed"), v{sid[1]});
  EXPECT_EQ(only("SessionSid=ID1-CA9"), v{sid[2]});
  EXPECT_EQ(only("Latency=700"), v{sid[3]});
  EXPECT_EQ(only("Direction=API"), v{sid[4]});
  EXPECT_EQ(only("ResponseCode=5"), v{sid[1]});
  EXPECT_EQ(only("ResponseBody=%3CPlay%3E"), v{sid[5]});
  EXPECT_EQ(only("RequestPath=https%3A%2F%2Fs3.amazonaws.com"), v{sid[6]});
  EXPECT_EQ(only("RequestPath=/bucket"), v{sid[6]});
  EXPECT_EQ(only("AccountSid=" + a).size(), 8u);
  EXPECT_EQ(only("OrgSid=" + env_.cfg->find_account(a)->org_sid).size(), 8u);
  EXPECT_EQ(only("OrgSid=ORnone").size(), 0u);
  // DateCreated is inclusive, DateCreatedBefore exclusive; both in UTC ISO-8601.
  const auto iso = [](std::int64_t ms) {
    const std::time_t s = ms / 1000;
    std::tm tm{};
    gmtime_r(&s, &tm);
    char buf[96];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                  static_cast<int>(ms % 1000));
    return std::string(buf);
  };
  EXPECT_EQ(only("DateCreated=" + iso(base + 6 * 60'000)), (v{sid[7], sid[6]}));
  EXPECT_EQ(only("DateCreatedBefore=" + iso(base + 60'000)), v{sid[0]});
  EXPECT_EQ(only("Status=completed&Latency=700&Direction=webhook"), v{sid[3]});
  EXPECT_EQ(only("Method=post"), v{sid[7]});
  EXPECT_EQ(only("Method=GET").size(), 7u);
  EXPECT_EQ(only("Method=PROPFIND").size(), 0u);
  EXPECT_EQ(only("RequestBody=CallStatus%3Dno-answer"), v{sid[7]});
  EXPECT_EQ(only("RequestBody=%24(1)&Method=POST&Status=completed"), v{sid[7]});
  EXPECT_EQ(only("RequestBody=no-answer&Method=GET").size(), 0u);
  EXPECT_EQ(get(path + "?Latency=x", a).status, 400u);
}

TEST_F(api_over_store, TraceJsonIsTheRecordsAndReachableThroughAnAncestor) {
  store::trace_record r = make(accounts::grandchild, now_ms() - 5000);
  const std::string expected = store::to_json(r);
  const std::string sid = r.sid;
  ASSERT_TRUE(env_.store->submit(std::move(r)));
  env_.store->flush();
  for (const auto& path_account : {accounts::grandchild, accounts::child, accounts::parent}) {
    const http_answer a =
        get("/restcomm/2012-04-24/Accounts/" + path_account + "/Traces/" + sid + ".json",
            accounts::parent);
    EXPECT_EQ(a.status, 200u);
    EXPECT_EQ(a.body, expected);
  }
  EXPECT_EQ(
      get("/2012-04-24/Accounts/" + accounts::sibling + "/Traces/" + sid, accounts::parent).status,
      404u);
  EXPECT_EQ(
      get("/2012-04-24/Accounts/" + accounts::other + "/Traces/" + sid, accounts::admin).status,
      404u);
}

}  // namespace
}  // namespace sidecar::api
