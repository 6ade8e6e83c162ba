// Property test: over random account trees and random queries, the API never returns a record
// of an account the caller may not read or outside the path account's subtree, and answers
// 403 exactly where docs/api.md ("Auth and tenancy") says. Expectations are computed here,
// independently of conf.
#include <gtest/gtest.h>

#include <random>
#include <set>

#include "api/server.hpp"
#include "tests/api/test_support.hpp"

namespace sidecar::api {
namespace {

struct tree {
  std::vector<conf::account> accounts;
  [[nodiscard]] int index_of(const std::string& sid) const {
    for (std::size_t i = 0; i < accounts.size(); ++i) {
      if (accounts[i].sid == sid) return static_cast<int>(i);
    }
    return -1;
  }
  /// `a` is `root` or below it.
  [[nodiscard]] bool below(int a, int root) const {
    for (int i = a; i >= 0; i = index_of(accounts[static_cast<std::size_t>(i)].parent)) {
      if (i == root) return true;
    }
    return false;
  }
  [[nodiscard]] bool may_read(int caller, int target) const {
    return accounts[static_cast<std::size_t>(caller)].administrator || below(target, caller);
  }
};

std::string sid_for(int i) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "AC%032x", i + 1);
  return buf;
}

TEST(tenancy, RandomTreesAndQueriesNeverCrossTenants) {
  std::mt19937 rng(20261128);
  int checked = 0;
  for (int round = 0; round < 8; ++round) {
    tree t;
    const int n = 4 + static_cast<int>(rng() % 8);
    auto cfg = testing::make_config();
    cfg->accounts.clear();
    for (int i = 0; i < n; ++i) {
      conf::account a;
      a.sid = sid_for(i);
      a.auth_token = "tok" + std::to_string(i);
      a.traces = rng() % 5 != 0;
      a.administrator = rng() % 9 == 0;
      if (i > 0 && rng() % 3 != 0) a.parent = sid_for(static_cast<int>(rng() % i));
      a.org_sid = "OR" + std::to_string(rng() % 2);
      cfg->accounts.push_back(a);
    }
    t.accounts = cfg->accounts;

    testing::memory_reader reader;
    std::vector<testing::fake_trace> all;
    for (int k = 0; k < 60; ++k) {
      testing::fake_trace f;
      f.created_ms = 1625071269456 + k;
      f.sid = testing::make_sid(f.created_ms, static_cast<std::uint64_t>(k));
      const int owner = static_cast<int>(rng() % static_cast<unsigned>(n));
      f.account_sid = sid_for(owner);
      f.org_sid = t.accounts[static_cast<std::size_t>(owner)].org_sid;
      f.completed = rng() % 2 == 0;
      all.push_back(f);
      reader.add(f);
    }
    metrics::registry reg;
    server s(cfg, reader, reg, {});
    testing::http_client c(s.start().port());

    for (int q = 0; q < 40; ++q, ++checked) {
      const int caller = static_cast<int>(rng() % static_cast<unsigned>(n));
      const int path = static_cast<int>(rng() % static_cast<unsigned>(n));
      const std::string token = "tok" + std::to_string(caller);
      const std::string base = "/2012-04-24/Accounts/" + sid_for(path) + "/Traces";
      const bool readable = t.may_read(caller, path);
      const bool active = t.accounts[static_cast<std::size_t>(path)].traces;

      if (rng() % 3 == 0) {  // one trace by sid
        const auto& f = all[rng() % all.size()];
        const auto a = c.get(base + "/" + f.sid, sid_for(caller), token);
        const int owner = t.index_of(f.account_sid);
        const unsigned want = !readable ? 403 : !active ? 403 : t.below(owner, path) ? 200 : 404;
        ASSERT_EQ(a.status, want) << "caller " << caller << " path " << path << " owner " << owner;
        continue;
      }
      std::string query = "PageSize=1000";
      int filter_account = -1;
      if (rng() % 3 == 0) {
        filter_account = static_cast<int>(rng() % static_cast<unsigned>(n));
        query += "&AccountSid=" + sid_for(filter_account);
      }
      if (rng() % 4 == 0) query += "&OrgSid=OR1";
      if (rng() % 4 == 0) query += "&Status=failed";
      const auto a = c.get(base + "?" + query, sid_for(caller), token);
      if (!readable || !active || (filter_account >= 0 && !t.may_read(caller, filter_account))) {
        ASSERT_EQ(a.status, 403u) << a.body;
        continue;
      }
      ASSERT_EQ(a.status, 200u) << a.body;
      std::set<std::string> want;
      for (const auto& f : all) {
        const int owner = t.index_of(f.account_sid);
        if (!t.below(owner, path)) continue;
        if (filter_account >= 0 && owner != filter_account) continue;
        if (query.find("OrgSid=OR1") != std::string::npos && f.org_sid != "OR1") continue;
        if (query.find("Status=failed") != std::string::npos && f.completed) continue;
        want.insert(f.sid);
      }
      std::set<std::string> got;
      const boost::json::value body = a.json();
      for (const auto& r : body.at("traces").as_array()) {
        const std::string owner_sid(r.at("account_sid").as_string());
        const int owner = t.index_of(owner_sid);
        ASSERT_TRUE(t.may_read(caller, owner)) << "caller " << caller << " got " << owner_sid;
        ASSERT_TRUE(t.below(owner, path));
        got.emplace(r.at("sid").as_string());
      }
      ASSERT_EQ(got, want);
      ASSERT_EQ(body.at("total").as_int64(), static_cast<std::int64_t>(want.size()));
    }
    s.stop();
  }
  EXPECT_EQ(checked, 8 * 40);
}

}  // namespace
}  // namespace sidecar::api
