// The API's decisions on their own, not through a listener: what handler::decide() answers
// for each resource, method, origin and caller, over the real RocksDB store (docs/api.md). The
// server's tests check the same answers on the wire; these check the decision and its plan.
#include "api/handler.hpp"

#include <gtest/gtest.h>

#include <random>

#include "api/routing.hpp"
#include "support/utc_time.hpp"
#include "tests/api/test_support.hpp"

namespace sidecar::api {
namespace {

using testing::accounts;
using testing::basic;
using testing::token_of;

const std::string base = "/2012-04-24/Accounts/";

std::string traces(const std::string& account, const std::string& rest = ".json") {
  return base + account + "/Traces" + rest;
}

class handler_test : public ::testing::Test {
 protected:
  /// Records of `account`, the newest last, written before this returns; their sids.
  std::vector<std::string> fill(const std::string& account, int n) {
    std::vector<std::string> sids;
    for (int i = 0; i < n; ++i) {
      store::trace_record r = testing::sample_record(account, utc::now_ms() - 1000 + i, rng_);
      r.request.body.body = "CallSid=CA1&From=%2B15550001";
      r.request.body.size = r.request.body.body.size();
      sids.push_back(env_.put(std::move(r)));
    }
    return sids;
  }

  /// decide() for `method target` sent with `account`'s credentials (none when empty).
  decision decide(std::string_view method, const std::string& target,
                  const std::string& account = accounts::parent, std::string_view origin = {},
                  std::string_view fetch_site = {}) {
    auth_ = account.empty() ? std::string() : basic(account, token_of(account));
    request_view req;
    req.method = method;
    req.target = target;
    req.authorization = auth_;
    req.origin = origin;
    req.sec_fetch_site = fetch_site;
    req.host = "127.0.0.1:8081";
    req.match = match_target(req.target);
    return handler_->decide(req);
  }

  /// The answer decide() gave; fails the test when it planned a list instead.
  static answer answer_of(decision d) {
    EXPECT_TRUE(std::holds_alternative<answer>(d));
    return std::holds_alternative<answer>(d) ? std::get<answer>(std::move(d)) : answer{};
  }

  static std::string message(const answer& a) {
    return std::string(testing::http_answer{a.status, {}, a.body}.json().at("message").as_string());
  }

  testing::store_env env_;
  // The handler under test, over the same store as the environment's own server.
  std::unique_ptr<handler> handler_ = std::make_unique<handler>(
      env_.cfg, *env_.store, [s = env_.store.get()] { return s->health(); }, env_.registry);
  std::mt19937_64 rng_{7};
  std::string auth_;
};

TEST_F(handler_test, UnknownPathsAre404AndTheWebPageIsServedWithoutCredentials) {
  const answer nope = answer_of(decide("GET", "/nope", ""));
  EXPECT_EQ(nope.status, 404u);
  EXPECT_EQ(message(nope), "No such resource on the Traces API");
  const answer page = answer_of(decide("GET", "/", ""));
  EXPECT_EQ(page.status, 200u);
  EXPECT_TRUE(page.content_type.starts_with("text/html")) << page.content_type;
}

TEST_F(handler_test, AMethodNotAllowedNamesTheResourcesOwnMethods) {
  const answer list = answer_of(decide("PUT", traces(accounts::parent)));
  EXPECT_EQ(list.status, 405u);
  EXPECT_EQ(list.allow, "GET, HEAD, DELETE");
  const answer har = answer_of(decide("DELETE", traces(accounts::parent, ".har")));
  EXPECT_EQ(har.allow, "GET, HEAD");
  const answer replay = answer_of(decide("GET", traces(accounts::parent, "/TR0/Replay")));
  EXPECT_EQ(replay.allow, "POST");
}

TEST_F(handler_test, UnsafeRequestsFromAnotherSitesPageAreRefused) {
  const std::string list = traces(accounts::parent) + "?All=true";
  EXPECT_EQ(answer_of(decide("DELETE", list, accounts::parent, "https://evil.example")).status,
            403u);
  EXPECT_EQ(answer_of(decide("DELETE", list, accounts::parent, {}, "cross-site")).status, 403u);
  // The page's own origin may delete; a read from anywhere is only a matter of credentials.
  EXPECT_EQ(answer_of(decide("DELETE", list, accounts::parent, "http://127.0.0.1:8081")).status,
            200u);
  EXPECT_TRUE(std::holds_alternative<list_plan>(
      decide("GET", traces(accounts::parent), accounts::parent, "https://evil.example")));
}

TEST_F(handler_test, CredentialsAndTheAccountTreeDecideWhoReadsWhat) {
  const answer none = answer_of(decide("GET", traces(accounts::parent), ""));
  EXPECT_EQ(none.status, 401u);
  EXPECT_TRUE(none.challenge);
  request_view wrong;
  wrong.method = "GET";
  const std::string target = traces(accounts::parent);
  wrong.target = target;
  const std::string bad = basic(accounts::parent, "not-the-token");
  wrong.authorization = bad;
  wrong.match = match_target(wrong.target);
  EXPECT_EQ(std::get<answer>(handler_->decide(wrong)).status, 401u);

  EXPECT_TRUE(std::holds_alternative<list_plan>(
      decide("GET", traces(accounts::grandchild), accounts::parent)));  // a descendant
  const answer up = answer_of(decide("GET", traces(accounts::parent), accounts::child));
  EXPECT_EQ(up.status, 403u);
  EXPECT_EQ(message(up), "Account " + accounts::child + " may not read the traces of account " +
                             accounts::parent);
  const answer off = answer_of(decide("GET", traces(accounts::off), accounts::admin));
  EXPECT_EQ(off.status, 403u);
  EXPECT_EQ(message(off), "Traces are not activated for account " + accounts::off);
  const std::string unknown = "AC" + std::string(32, 'f');
  EXPECT_EQ(answer_of(decide("GET", traces(unknown), accounts::admin)).status, 404u);
}

TEST_F(handler_test, ProbesAnswerAtOnceWithoutCredentials) {
  EXPECT_EQ(answer_of(decide("GET", "/healthz", "")).status, 200u);
  EXPECT_EQ(answer_of(decide("GET", "/ready", "")).status, 200u);
  const answer metrics = answer_of(decide("GET", "/metrics", ""));
  EXPECT_EQ(metrics.status, 200u);
  EXPECT_EQ(metrics.content_type, "text/plain; version=0.0.4");
  for (const char* target : {"/healthz", "/ready", "/status", "/metrics", "/nope"}) {
    EXPECT_TRUE(handler::answers_at_once(match_target(target).kind)) << target;
  }
  EXPECT_FALSE(handler::answers_at_once(match_target(traces(accounts::parent)).kind));
}

TEST_F(handler_test, AListIsPlannedWithItsTotalAndTheNextPageAfterItsLastRecord) {
  const auto sids = fill(accounts::child, 3);  // newest last
  decision d = decide("GET", traces(accounts::parent, ".json?PageSize=2"));
  ASSERT_TRUE(std::holds_alternative<list_plan>(d));
  list_plan& plan = std::get<list_plan>(d);
  EXPECT_EQ(plan.numbers.total, 3u);
  EXPECT_EQ(plan.last_sid, sids[1]);  // the page holds the two newest
  EXPECT_NE(plan.next_uri().find("AfterSid=" + sids[1]), std::string::npos) << plan.next_uri();
  ASSERT_NE(plan.records, nullptr);
  std::string json;
  std::vector<std::string> streamed;
  while (plan.records->next(json)) streamed.emplace_back(record_sid(json));
  EXPECT_EQ(streamed, (std::vector<std::string>{sids[2], sids[1]}));

  const list_plan head = std::get<list_plan>(decide("HEAD", traces(accounts::parent)));
  EXPECT_EQ(head.records, nullptr);
  const answer beyond = answer_of(decide("GET", traces(accounts::parent, ".json?Page=5")));
  EXPECT_EQ(beyond.status, 400u);
  // num_pages is the last page's index (docs/api.md): 0 for one page.
  EXPECT_EQ(message(beyond), "Page 5 is beyond the last page (0) for PageSize 50");
}

TEST_F(handler_test, OneTraceAsJsonHarAndCurlWithinTheCallersTreeOnly) {
  const std::string sid = fill(accounts::grandchild, 1).front();
  const answer json = answer_of(decide("GET", traces(accounts::parent, "/" + sid + ".json")));
  EXPECT_EQ(json.status, 200u);
  EXPECT_EQ(record_sid(json.body), sid);
  const answer har = answer_of(decide("GET", traces(accounts::parent, "/" + sid + ".har")));
  EXPECT_EQ(har.status, 200u);
  EXPECT_NE(har.body.find("\"log\""), std::string::npos);
  const answer curl = answer_of(decide("GET", traces(accounts::parent, "/" + sid + ".curl")));
  EXPECT_EQ(curl.content_type, "text/plain; charset=utf-8");
  EXPECT_TRUE(curl.body.starts_with("# trace " + sid + "\n")) << curl.body;
  EXPECT_NE(curl.body.find("\ncurl --globoff"), std::string::npos) << curl.body;

  // Outside the path's tree, malformed or unknown: the same 404.
  const std::string not_found = "Trace " + sid + " was not found";
  const answer sibling =
      answer_of(decide("GET", traces(accounts::sibling, "/" + sid), accounts::sibling));
  EXPECT_EQ(sibling.status, 404u);
  EXPECT_EQ(message(sibling), not_found);
  EXPECT_EQ(answer_of(decide("GET", traces(accounts::parent, "/TRnot-a-sid"))).status, 404u);
}

}  // namespace
}  // namespace sidecar::api
