// Purge (api/purge, docs/api.md "Purge"): one trace or what a list holds, gone from every
// answer at once and audited; only the record's own account or an administrator may purge.
#include <gtest/gtest.h>

#include "tests/api/inspector_fixture.hpp"

namespace sidecar::api {
namespace {

using namespace inspector_testing;  // NOLINT(google-build-using-namespace)

TEST_F(inspector, DeletedTraceIsGoneFromEveryAnswerAtOnceAndAudited) {
  const std::int64_t base = now_ms() - 600'000;
  std::vector<std::string> sids;
  for (int i = 0; i < 6; ++i) {
    store::trace_record r = make(accounts::parent, base + i * 1000);
    r.response.body.body = "<Response><Say>marker-" + std::to_string(i) + "</Say></Response>";
    sids.push_back(put(std::move(r)));
  }
  const std::string t = traces(accounts::parent);
  const std::string victim = sids[2];
  const std::string auth = testing::basic(accounts::parent, testing::token_of(accounts::parent));
  const http_answer del = http_client(env_.port).request("DELETE", t + "/" + victim + ".json",
                                                         {{"Authorization", auth}});
  ASSERT_EQ(del.status, 204u) << del.body;
  EXPECT_TRUE(del.body.empty());
  for (const std::string suffix : {"", ".json", ".har", ".curl"}) {
    EXPECT_EQ(get(t + "/" + victim + suffix, accounts::parent).status, 404u) << suffix;
  }
  // Lists: unfiltered (counters), covering filters (index chunks), ResponseBody (body chunks),
  // SessionSid, RequestBody (the records): the total and the page both lose it.
  for (const std::string q : {"", "?Status=completed", "?ResponseBody=marker-", "?Method=POST",
                              "?RequestBody=Digits", "?Latency=1"}) {
    const json::value page = get(t + q, accounts::parent).json();
    EXPECT_EQ(page.at("total").as_int64(), 5) << q;
    for (const auto& r : page.at("traces").as_array()) {
      EXPECT_NE(r.at("sid").as_string(), victim) << q;
    }
  }
  EXPECT_EQ(get(t + "?ResponseBody=marker-2", accounts::parent).json().at("total").as_int64(), 0);
  EXPECT_EQ(get(t + "?SessionSid=CA" + std::to_string(base + 2000), accounts::parent)
                .json()
                .at("total")
                .as_int64(),
            0);
  EXPECT_EQ(get(t + ".har", accounts::parent).json().at("log").at("entries").as_array().size(), 5u);
  // Again: 404, as for GET.
  EXPECT_EQ(
      http_client(env_.port).request("DELETE", t + "/" + victim, {{"Authorization", auth}}).status,
      404u);
  // The audit trail: one line with the time, the caller, the path account and the sid.
  std::ifstream audit(env_.dir() / "data" / "audit.jsonl");
  std::string line;
  ASSERT_TRUE(std::getline(audit, line));
  const json::value v = json::parse(line);
  EXPECT_EQ(v.at("caller").as_string(), accounts::parent);
  EXPECT_EQ(v.at("account").as_string(), accounts::parent);
  EXPECT_EQ(v.at("sid").as_string(), victim);
  EXPECT_EQ(v.at("deleted").as_int64(), 1);
  EXPECT_FALSE(v.at("time").as_string().empty());
  EXPECT_FALSE(std::getline(audit, line));
}

TEST_F(inspector, OnlyTheRecordsOwnAccountOrAnAdministratorMayPurge) {
  const std::string sid = put(make(accounts::child, now_ms() - 1000));
  const auto del = [&](const std::string& path_account, const std::string& caller) {
    return http_client(env_.port)
        .request("DELETE", traces(path_account) + "/" + sid,
                 {{"Authorization", testing::basic(caller, testing::token_of(caller))}})
        .status;
  };
  EXPECT_EQ(del(accounts::parent, accounts::parent), 403u);  // reads it, may not purge it
  EXPECT_EQ(del(accounts::child, accounts::parent), 403u);
  EXPECT_EQ(del(accounts::sibling, accounts::sibling), 404u);  // not in its subtree
  EXPECT_EQ(del(accounts::other, accounts::other), 404u);
  EXPECT_EQ(get(traces(accounts::child) + "/" + sid, accounts::child).status, 200u);
  EXPECT_EQ(del(accounts::parent, accounts::admin), 204u);
  EXPECT_EQ(get(traces(accounts::child) + "/" + sid, accounts::child).status, 404u);
}

TEST_F(inspector, ListPurgeDeletesWhatTheListHoldsAndNeedsAFilterOrAll) {
  const std::int64_t base = now_ms() - 600'000;
  std::vector<std::string> failed, ok;
  for (int i = 0; i < 120; ++i) {
    store::trace_record r = make(accounts::sibling, base + i * 100);
    if (i % 3 == 0) {
      r.completed = false;
      r.response.code = "500";
      failed.push_back(r.sid);
    } else {
      ok.push_back(r.sid);
    }
    EXPECT_TRUE(env_.store->submit(std::move(r)));
  }
  put(make(accounts::parent, base));  // the parent's own record
  const std::string t = traces(accounts::sibling);
  const auto del = [&](const std::string& target, const std::string& caller) {
    return http_client(env_.port).request(
        "DELETE", target, {{"Authorization", testing::basic(caller, testing::token_of(caller))}});
  };
  EXPECT_EQ(del(t, accounts::sibling).status, 400u);
  EXPECT_EQ(del(t + "?Page=1&PageSize=5", accounts::sibling).status, 400u);  // paging: no filter
  EXPECT_EQ(del(t + "?All=yes", accounts::sibling).status, 400u);
  EXPECT_EQ(del(t + "?Status=bogus", accounts::sibling).status, 400u);
  const http_answer a = del(t + "?Status=failed&PageSize=5", accounts::sibling);
  ASSERT_EQ(a.status, 200u) << a.body;
  EXPECT_EQ(a.header("content-type"), "application/json");
  EXPECT_EQ(a.json().at("deleted").as_int64(), 40);  // all pages, not the first 5
  const json::value left = get(t + "?PageSize=1000", accounts::sibling).json();
  EXPECT_EQ(left.at("total").as_int64(), 80);
  EXPECT_EQ(get(t + "?Status=failed", accounts::sibling).json().at("total").as_int64(), 0);
  // A parent may not purge a list holding its sub-accounts' records...
  EXPECT_EQ(del(traces(accounts::parent) + "?All=true", accounts::parent).status, 403u);
  // ...but its own, named by AccountSid, yes.
  const http_answer own =
      del(traces(accounts::parent) + "?AccountSid=" + accounts::parent, accounts::parent);
  EXPECT_EQ(own.json().at("deleted").as_int64(), 1) << own.body;
  EXPECT_EQ(del(t + "?All=true", accounts::sibling).json().at("deleted").as_int64(), 80);
  EXPECT_EQ(get(t, accounts::sibling).json().at("total").as_int64(), 0);
  std::ifstream audit(env_.dir() / "data" / "audit.jsonl");
  std::string line, last;
  int lines = 0;
  while (std::getline(audit, line)) {
    last = line;
    ++lines;
  }
  EXPECT_EQ(lines, 3);
  EXPECT_EQ(json::parse(last).at("filters").at("All").as_string(), "true");
  EXPECT_EQ(json::parse(last).at("deleted").as_int64(), 80);
}

}  // namespace
}  // namespace sidecar::api
