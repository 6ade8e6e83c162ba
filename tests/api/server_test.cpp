// The API over real HTTP on 127.0.0.1:0, against the in-memory trace_reader double: routes,
// auth matrix, tenancy, filters, paging and its cursor, HEAD, errors, /healthz and /metrics.
#include "api/server.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "conf/load.hpp"
#include "tests/api/test_support.hpp"

namespace sidecar::api {
namespace {

using testing::accounts;
using testing::fake_trace;
using testing::http_answer;
using testing::http_client;
using testing::make_sid;
namespace json = boost::json;

constexpr std::int64_t t0 = 1625071269456;  // 2021-06-30T16:41:09.456Z

class api_server : public ::testing::Test {
 protected:
  void SetUp() override { start(testing::make_config()); }
  void TearDown() override {
    if (server_) server_->stop();
  }

  void start(std::shared_ptr<conf::config> cfg) {
    cfg_ = cfg;
    server_ = std::make_unique<server>(cfg, reader_, registry_, [this] {
      return healthy_ ? store::store_health{} : store::store_health{false, "disk full"};
    });
    port_ = server_->start().port();
  }

  /// n records of `account`, one ms apart from t0, newest last; returns their sids.
  std::vector<std::string> add(const std::string& account, int n, std::int64_t from = t0) {
    std::vector<std::string> sids;
    for (int i = 0; i < n; ++i) {
      fake_trace t;
      t.created_ms = from + i;
      t.sid = make_sid(t.created_ms, ++counter_);
      t.account_sid = account;
      t.org_sid = "OR1";
      t.response_body = "<Response>a b</Response>";
      sids.push_back(t.sid);
      reader_.add(t);
    }
    return sids;
  }

  http_answer get(const std::string& target, const std::string& sid = accounts::parent) {
    return http_client(port_).get(target, sid);
  }

  static std::string list(const std::string& account, const std::string& query = "",
                          const std::string& prefix = "") {
    return prefix + "/2012-04-24/Accounts/" + account + "/Traces" +
           (query.empty() ? "" : "?" + query);
  }
  static std::string item(const std::string& account, const std::string& sid) {
    return "/2012-04-24/Accounts/" + account + "/Traces/" + sid;
  }
  static std::vector<std::string> sids_of(const json::value& page) {
    std::vector<std::string> out;
    for (const auto& t : page.at("traces").as_array()) {
      out.emplace_back(t.at("sid").as_string());
    }
    return out;
  }

  testing::memory_reader reader_;
  metrics::registry registry_;
  std::shared_ptr<conf::config> cfg_;
  std::atomic<bool> healthy_{true};
  std::unique_ptr<server> server_;
  std::uint16_t port_ = 0;
  std::uint64_t counter_ = 0;
};

void expect_error(const http_answer& a, unsigned status, const std::string& needle = "") {
  EXPECT_EQ(a.status, status) << a.body;
  EXPECT_EQ(a.header("content-type"), "application/json");
  const json::value v = a.json();
  EXPECT_EQ(v.at("status").as_int64(), status);
  const std::string message(v.at("message").as_string());
  EXPECT_NE(message.find(needle), std::string::npos) << message;
}

// --- routes, methods, content type -----------------------------------------------------

TEST_F(api_server, ListAndItemUnderEveryPrefixWithAndWithoutJson) {
  const auto sids = add(accounts::parent, 1);
  for (const std::string prefix : {"", "/restcomm", "/api"}) {
    for (const std::string suffix : {"", ".json"}) {
      const std::string l =
          prefix + "/2012-04-24/Accounts/" + accounts::parent + "/Traces" + suffix;
      const http_answer a = get(l);
      EXPECT_EQ(a.status, 200u) << l;
      EXPECT_EQ(a.json().at("uri").as_string(), l);
      EXPECT_EQ(a.json().at("first_page_uri").as_string(), l + "?Page=0&PageSize=50");
      const http_answer i =
          get(prefix + "/2012-04-24/Accounts/" + accounts::parent + "/Traces/" + sids[0] + suffix);
      EXPECT_EQ(i.status, 200u);
      EXPECT_EQ(i.json().at("sid").as_string(), sids[0]);
    }
  }
}

TEST_F(api_server, JsonWhateverAcceptSays) {
  http_client c(port_);
  const http_answer a = c.request(
      "GET", list(accounts::parent),
      {{"Authorization", testing::basic(accounts::parent, testing::token_of(accounts::parent))},
       {"Accept", "application/xml"}});
  EXPECT_EQ(a.status, 200u);
  EXPECT_EQ(a.header("content-type"), "application/json");
}

TEST_F(api_server, OtherMethodsAre405WithAllow) {
  for (const std::string m : {"POST", "PUT", "PATCH", "OPTIONS"}) {
    for (const std::string& t : std::vector<std::string>{list(accounts::parent),
                                                         item(accounts::parent, make_sid(t0, 1))}) {
      const http_answer a = http_client(port_).request(m, t);
      expect_error(a, 405, "GET, HEAD, DELETE");
      EXPECT_EQ(a.header("allow"), "GET, HEAD, DELETE") << m << " " << t;
    }
  }
  for (const std::string m : {"POST", "PUT", "DELETE", "PATCH", "OPTIONS"}) {
    for (const std::string t : {"/healthz", "/metrics"}) {
      const http_answer a = http_client(port_).request(m, t);
      expect_error(a, 405, "GET, HEAD");
      EXPECT_EQ(a.header("allow"), "GET, HEAD") << m << " " << t;
    }
  }
}

TEST_F(api_server, UnknownPathIs404Json) {
  expect_error(get("/2012-04-24/Accounts/" + accounts::parent + "/Calls"), 404);
  expect_error(http_client(port_).request("GET", "/nothing"), 404);
}

TEST_F(api_server, AServerWithoutStreamsOrReplaysSays503AndStaysUsable) {
  // This fixture's server was built without a commit feed or a replayer (main gives both).
  const std::string traces = "/2012-04-24/Accounts/" + accounts::parent + "/Traces";
  expect_error(get(traces + "/Stream"), 503, "Live streams are not available");
  const std::string replay = traces + "/" + make_sid(t0, 1) + "/Replay";
  expect_error(http_client(port_).request("POST", replay), 503, "Replay is not available");
  // Its other methods are still the handler's: 405 with the resource's own.
  const http_answer get_replay = http_client(port_).request("GET", replay);
  expect_error(get_replay, 405, "POST");
  EXPECT_EQ(get_replay.header("allow"), "POST");
  EXPECT_EQ(get(list(accounts::parent)).status, 200);
}

TEST_F(api_server, KeepAliveServesSeveralRequestsOnOneConnection) {
  add(accounts::parent, 3);
  http_client c(port_);
  for (int i = 0; i < 3; ++i) {
    const http_answer a = c.get(list(accounts::parent), accounts::parent);
    EXPECT_EQ(a.status, 200u);
    EXPECT_EQ(a.json().at("total").as_int64(), 3);
  }
}

TEST_F(api_server, OversizedHeadIs431) {
  const std::string target = list(accounts::parent, "ResponseBody=" + std::string(20000, 'x'));
  expect_error(http_client(port_).get(target, accounts::parent), 431);
}

// --- auth ------------------------------------------------------------------------------

TEST_F(api_server, AuthMatrix) {
  add(accounts::parent, 1);
  add(accounts::child, 1);
  struct row {
    std::string caller, path;
    unsigned status;
  };
  const row rows[] = {
      {accounts::parent, accounts::parent, 200},      // own
      {accounts::parent, accounts::child, 200},       // parent -> child
      {accounts::parent, accounts::grandchild, 200},  // transitively
      {accounts::child, accounts::parent, 403},       // child -> parent
      {accounts::sibling, accounts::child, 403},      // sibling
      {accounts::other, accounts::parent, 403},       // unrelated
      {accounts::admin, accounts::parent, 200},       // administrator
      {accounts::admin, accounts::child, 200},
      {accounts::hashed, accounts::hashed, 200},  // auth_token_sha256
  };
  for (const row& r : rows) {
    const http_answer a = get(list(r.path), r.caller);
    EXPECT_EQ(a.status, r.status) << r.caller << " reading " << r.path << ": " << a.body;
    if (r.status == 403) expect_error(a, 403, "may not read");
  }
}

TEST_F(api_server, ChildListIncludesSubAccountsOnly) {
  add(accounts::parent, 2);
  add(accounts::child, 3);
  add(accounts::grandchild, 4);
  add(accounts::sibling, 5);
  EXPECT_EQ(get(list(accounts::parent)).json().at("total").as_int64(), 14);
  EXPECT_EQ(get(list(accounts::child)).json().at("total").as_int64(), 7);
  EXPECT_EQ(get(list(accounts::grandchild), accounts::grandchild).json().at("total").as_int64(), 4);
}

TEST_F(api_server, MissingWrongAndMalformedCredentialsAre401WithChallenge) {
  const std::string l = list(accounts::parent);
  std::vector<http_answer> answers;
  answers.push_back(http_client(port_).request("GET", l));
  answers.push_back(http_client(port_).get(l, accounts::parent, "wrong-token"));
  answers.push_back(
      http_client(port_).get(l, accounts::parent, testing::token_of(accounts::child)));
  answers.push_back(http_client(port_).get(l, "ACffffffffffffffffffffffffffffffff"));
  for (const std::string& h :
       std::vector<std::string>{"Basic", "Basic !!!!", "Bearer abc", "Basic YWJj",
                                "basic" + testing::basic(accounts::parent, "x").substr(5)}) {
    answers.push_back(http_client(port_).request("GET", l, {{"Authorization", h}}));
  }
  for (const auto& a : answers) {
    expect_error(a, 401);
    EXPECT_EQ(a.header("www-authenticate"), "Basic realm=\"Restcomm realm\"");
  }
}

TEST_F(api_server, TracesNotActivatedIs403) {
  expect_error(get(list(accounts::off), accounts::off), 403, "Traces are not activated");
  expect_error(get(item(accounts::off, make_sid(t0, 1)), accounts::off), 403, "not activated");
  expect_error(get(list(accounts::off), accounts::admin), 403, "not activated");
}

TEST_F(api_server, UnknownPathAccountIs403ForAccountsAnd404ForAdministrators) {
  const std::string unknown = "ACeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee";
  expect_error(get(list(unknown), accounts::parent), 403, "may not read");
  expect_error(get(list(unknown), accounts::admin), 404, "not found");
}

// --- one trace ---------------------------------------------------------------------------

TEST_F(api_server, TraceThroughAnyAncestorPathTheCallerMayRead) {
  const auto g = add(accounts::grandchild, 1)[0];
  EXPECT_EQ(get(item(accounts::grandchild, g)).status, 200u);
  EXPECT_EQ(get(item(accounts::child, g)).status, 200u);
  EXPECT_EQ(get(item(accounts::parent, g)).status, 200u);
  EXPECT_EQ(get(item(accounts::grandchild, g), accounts::grandchild).status, 200u);
  EXPECT_EQ(get(item(accounts::grandchild, g), accounts::admin).body,
            get(item(accounts::grandchild, g)).body);
}

TEST_F(api_server, TraceOutsideThePathAccountsSubtreeIs404) {
  const auto p = add(accounts::parent, 1)[0];
  const auto s = add(accounts::sibling, 1)[0];
  expect_error(get(item(accounts::child, p)), 404, "not found");  // an ancestor's
  expect_error(get(item(accounts::child, s)), 404, "not found");  // a sibling's
  expect_error(get(item(accounts::other, p), accounts::admin), 404);
  expect_error(get(item(accounts::parent, make_sid(t0, 999))), 404);  // missing
  expect_error(get(item(accounts::parent, "TRnot-a-sid")), 404);
  expect_error(get(item(accounts::child, p), accounts::sibling), 403);  // path first
}

// --- filters -------------------------------------------------------------------------------

TEST_F(api_server, EachFilterNarrowsTheList) {
  const auto mk = [&](auto edit) {
    fake_trace t;
    t.created_ms = t0 + static_cast<std::int64_t>(counter_);
    t.sid = make_sid(t.created_ms, ++counter_);
    t.account_sid = accounts::parent;
    t.org_sid = "OR1";
    edit(t);
    reader_.add(t);
    return t.sid;
  };
  const auto failed = mk([](fake_trace& t) {
    t.completed = false;
    t.response_code = "502";
  });
  const auto early = mk([](fake_trace& t) { t.created_ms = t0 - 86'400'000; });
  const auto session = mk([](fake_trace& t) { t.session_sid = "ID1-CA1"; });
  const auto slow = mk([](fake_trace& t) { t.latency_ms = 900; });
  const auto api = mk([](fake_trace& t) { t.direction = conf::direction::api; });
  const auto notfound = mk([](fake_trace& t) {
    t.response_code = "404";
    t.completed = false;
  });
  const auto body = mk([](fake_trace& t) { t.response_body = "<Response><Say>hi there</Say>"; });
  const auto s3 = mk([](fake_trace& t) { t.request_url = "https://s3.amazonaws.com/b/x.wav"; });
  const auto childs = add(accounts::child, 1)[0];
  const auto org = mk([](fake_trace& t) { t.org_sid = "OR2"; });

  const auto only = [&](const std::string& q) {
    return sids_of(get(list(accounts::parent, q)).json());
  };
  using v = std::vector<std::string>;
  EXPECT_EQ(only("Status=failed"), (v{notfound, failed}));
  EXPECT_EQ(only("DateCreatedBefore=2021-06-30"), v{early});
  EXPECT_EQ(only("DateCreated=2021-06-30T16:41:09.456Z&DateCreatedBefore=2021-06-30T16:41:09.457Z"),
            (v{childs, failed}));  // both made at t0
  EXPECT_EQ(only("SessionSid=ID1-CA1"), v{session});
  EXPECT_EQ(only("Latency=900"), v{slow});
  EXPECT_EQ(only("Direction=API"), v{api});
  EXPECT_EQ(only("ResponseCode=4"), v{notfound});
  EXPECT_EQ(only("ResponseCode=50"), v{failed});
  EXPECT_EQ(only("ResponseBody=hi%20there"), v{body});
  EXPECT_EQ(only("RequestPath=https%3A%2F%2Fs3.amazonaws.com"), v{s3});
  EXPECT_EQ(only("AccountSid=" + accounts::child), v{childs});
  EXPECT_EQ(only("OrgSid=OR2"), v{org});
  // Combined, ANDed.
  EXPECT_EQ(only("Status=failed&ResponseCode=5"), v{failed});
  EXPECT_TRUE(only("Status=completed&ResponseCode=5").empty());
  // Unknown parameters are ignored.
  EXPECT_EQ(only("Bogus=1").size(), 10u);
}

TEST_F(api_server, EachBadFilterValueIs400NamingTheParameter) {
  for (const auto& [q, name] : std::vector<std::pair<std::string, std::string>>{
           {"Status=done", "Status"},
           {"DateCreated=2021-02-30", "DateCreated"},
           {"DateCreated=30/06/2021", "DateCreated"},
           {"DateCreatedBefore=2021-06-30T25:00:00", "DateCreatedBefore"},
           {"Latency=-5", "Latency"},
           {"Direction=sideways", "Direction"},
           {"ResponseCode=2xx", "ResponseCode"},
           {"Page=first", "Page"},
           {"PageSize=0", "PageSize"},
           {"PageSize=1001", "PageSize"}}) {
    expect_error(get(list(accounts::parent, q)), 400, name);
  }
}

TEST_F(api_server, AccountSidFilterTheCallerMayNotReadIs403) {
  expect_error(get(list(accounts::child, "AccountSid=" + accounts::parent), accounts::child), 403,
               "AccountSid");
  expect_error(get(list(accounts::parent, "AccountSid=" + accounts::other)), 403, "AccountSid");
  // Readable but outside the path's subtree: an empty list, not someone else's records.
  add(accounts::other, 2);
  const http_answer a =
      get(list(accounts::parent, "AccountSid=" + accounts::other), accounts::admin);
  EXPECT_EQ(a.json().at("total").as_int64(), 0);
}

// --- paging ---------------------------------------------------------------------------------

/// The list of `account` in a server of its own holding `total` records of it.
TEST_F(api_server, PagingArithmeticOnTheWorkedCases) {
  for (const int total : {0, 1, 34, 49, 50, 51, 120}) {
    testing::memory_reader r;
    metrics::registry reg;
    server s(cfg_, r, reg, {});
    std::vector<std::string> newest_first;
    for (int i = 0; i < total; ++i) {
      fake_trace t;
      t.created_ms = t0 + i;
      t.sid = make_sid(t.created_ms, static_cast<std::uint64_t>(i));
      t.account_sid = accounts::grandchild;
      newest_first.insert(newest_first.begin(), t.sid);
      r.add(t);
    }
    const std::uint16_t port = s.start().port();
    const std::string path = list(accounts::grandchild, "", "/restcomm");
    const int num_pages = total / 50;
    for (int page = 0; page <= num_pages; ++page) {
      const std::string target = path + "?Page=" + std::to_string(page);
      const http_answer a = http_client(port).get(target, accounts::parent);
      ASSERT_EQ(a.status, 200u) << a.body;
      const json::object o = a.json().as_object();
      const int start = page * 50;
      const int items = page == num_pages ? total - start : 50;
      const std::string end = std::to_string(page == num_pages ? total : start + 49);
      const std::string at = std::to_string(total) + "/" + std::to_string(page);
      // Field order as in docs/api.md's example (Restcomm's).
      std::vector<std::string> keys;
      for (const auto& kv : o) keys.emplace_back(kv.key());
      EXPECT_EQ(keys, (std::vector<std::string>{"page", "num_pages", "page_size", "total", "start",
                                                "end", "uri", "first_page_uri", "previous_page_uri",
                                                "next_page_uri", "last_page_uri", "traces"}));
      EXPECT_EQ(o.at("page").as_int64(), page) << at;
      EXPECT_EQ(o.at("num_pages").as_int64(), num_pages) << at;
      EXPECT_EQ(o.at("page_size").as_int64(), 50) << at;
      EXPECT_EQ(o.at("total").as_int64(), total) << at;
      EXPECT_EQ(o.at("start").as_string(), std::to_string(start)) << at;
      EXPECT_EQ(o.at("end").as_string(), end) << at;
      EXPECT_EQ(o.at("uri").as_string(), path) << at;
      EXPECT_EQ(o.at("first_page_uri").as_string(), path + "?Page=0&PageSize=50") << at;
      EXPECT_EQ(o.at("last_page_uri").as_string(),
                path + "?Page=" + std::to_string(num_pages) + "&PageSize=50")
          << at;
      EXPECT_EQ(o.at("previous_page_uri").as_string(),
                page == 0 ? "null" : path + "?Page=" + std::to_string(page - 1) + "&PageSize=50")
          << at;
      const std::vector<std::string> got = sids_of(o);
      ASSERT_EQ(static_cast<int>(got.size()), items) << at;
      EXPECT_TRUE(std::equal(got.begin(), got.end(), newest_first.begin() + start)) << at;
      EXPECT_EQ(o.at("next_page_uri").as_string(),
                page == num_pages ? std::string("null")
                                  : path + "?Page=" + std::to_string(page + 1) +
                                        "&PageSize=50&AfterSid=" + got.back())
          << at;
    }
    expect_error(
        http_client(port).get(path + "?Page=" + std::to_string(num_pages + 1), accounts::parent),
        400, "beyond the last page");
    s.stop();
  }
}

TEST_F(api_server, PageUrisKeepEveryFilterInTheRequestsOrder) {
  add(accounts::parent, 5);
  const std::string path = "/api/2012-04-24/Accounts/" + accounts::parent + "/Traces.json";
  const http_answer a =
      get(path + "?Direction=webhook&PageSize=2&Foo=1&Status=completed&ResponseBody=a+b&Page=1");
  ASSERT_EQ(a.status, 200u) << a.body;
  const json::value v = a.json();
  const std::string f = "Direction=webhook&Status=completed&ResponseBody=a%20b";
  EXPECT_EQ(v.at("uri").as_string(), path + "?" + f);
  EXPECT_EQ(v.at("first_page_uri").as_string(), path + "?Page=0&PageSize=2&" + f);
  EXPECT_EQ(v.at("previous_page_uri").as_string(), path + "?Page=0&PageSize=2&" + f);
  EXPECT_EQ(v.at("next_page_uri").as_string(),
            path + "?Page=2&PageSize=2&" + f + "&AfterSid=" + sids_of(v).back());
  EXPECT_EQ(v.at("last_page_uri").as_string(), path + "?Page=2&PageSize=2&" + f);
}

TEST_F(api_server, AfterSidIsACursorAndAnUnknownOneLeavesItToPage) {
  const auto sids = add(accounts::parent, 10);  // newest last
  const json::value p0 = get(list(accounts::parent, "PageSize=3")).json();
  const std::string next(p0.at("next_page_uri").as_string());
  const auto newer = add(accounts::parent, 4, t0 + 100);  // arrive before the next page is read
  const json::value p1 = get(next).json();
  EXPECT_EQ(sids_of(p1), (std::vector<std::string>{sids[6], sids[5], sids[4]}));
  // Unknown cursor: Page decides (page 1 of the 14 now stored).
  const json::value u =
      get(list(accounts::parent, "PageSize=3&Page=1&AfterSid=" + make_sid(t0 - 5, 7))).json();
  EXPECT_EQ(sids_of(u), (std::vector<std::string>{newer[0], sids[9], sids[8]}));
}

TEST_F(api_server, CursorWalkWhileRecordsArriveSeesEachRecordOnce) {
  add(accounts::parent, 120);
  std::set<std::string> seen;
  std::string next = list(accounts::parent, "PageSize=7");
  std::int64_t arriving = t0 + 10'000;
  int pages = 0;
  while (next != "null") {
    const json::value page = get(next).json();
    for (const auto& sid : sids_of(page)) EXPECT_TRUE(seen.insert(sid).second) << sid;
    next = std::string(page.at("next_page_uri").as_string());
    add(accounts::parent, 3, arriving);  // newer than everything: must not shift the walk
    arriving += 10;
    ASSERT_LT(++pages, 100);
  }
  EXPECT_EQ(seen.size(), 120u);
}

// --- HEAD, errors, health, metrics ----------------------------------------------------------

TEST_F(api_server, HeadGivesTheHeadersOnly) {
  const auto sids = add(accounts::parent, 3);
  const std::map<std::string, std::string> auth{
      {"Authorization", testing::basic(accounts::parent, testing::token_of(accounts::parent))}};
  http_client c(port_);
  const http_answer l = c.request("HEAD", list(accounts::parent), auth);
  EXPECT_EQ(l.status, 200u);
  EXPECT_EQ(l.header("content-type"), "application/json");
  EXPECT_TRUE(l.body.empty());
  const http_answer i = c.request("HEAD", item(accounts::parent, sids[0]), auth);
  EXPECT_EQ(i.status, 200u);
  EXPECT_TRUE(i.body.empty());
  EXPECT_EQ(i.header("content-length"),
            std::to_string(get(item(accounts::parent, sids[0])).body.size()));
  const http_answer denied = c.request("HEAD", list(accounts::parent));
  EXPECT_EQ(denied.status, 401u);
  EXPECT_TRUE(denied.body.empty());
  // The connection is still usable after HEAD answers.
  EXPECT_EQ(c.request("GET", list(accounts::parent), auth).status, 200u);
}

TEST_F(api_server, ListIsChunked) {
  add(accounts::parent, 3);
  const http_answer a = get(list(accounts::parent));
  EXPECT_EQ(a.header("transfer-encoding"), "chunked");
  EXPECT_EQ(a.json().at("traces").as_array().size(), 3u);
}

TEST_F(api_server, QueryTimeoutIs503) {
  reader_.time_out(true);
  expect_error(get(list(accounts::parent)), 503, "query_timeout");
}

TEST_F(api_server, AFailedReadOfOneTraceIs503NotNotFound) {
  add(accounts::parent, 1);
  const std::string sid =
      get(list(accounts::parent)).json().at("traces").at(0).at("sid").as_string().c_str();
  reader_.fail_reads(true);
  expect_error(get(list(accounts::parent) + "/" + sid), 503, "could not answer");
  reader_.fail_reads(false);
  EXPECT_EQ(get(list(accounts::parent) + "/" + sid).status, 200u);
}

TEST_F(api_server, HealthzServesWhateverTheStoreAndStatusSaysWhy) {
  EXPECT_EQ(http_client(port_).request("GET", "/healthz").status, 200u);
  healthy_ = false;
  // A full disk stops recording, never traffic: liveness stays 200, /status names the store.
  EXPECT_EQ(http_client(port_).request("GET", "/healthz").status, 200u);
  EXPECT_EQ(http_client(port_).request("GET", "/ready").status, 200u);
  const http_answer status = http_client(port_).request("GET", "/status");
  EXPECT_EQ(status.status, 200u);
  EXPECT_NE(status.body.find(R"("store":{"state":"failing","enabled":true,"reason":"disk full")"),
            std::string::npos)
      << status.body;
  EXPECT_NE(status.body.find(R"("status":"failing")"), std::string::npos) << status.body;
}

TEST_F(api_server, MetricsCountRequestsByStatusWithoutAuth) {
  get(list(accounts::parent));
  http_client(port_).request("GET", list(accounts::parent));
  const http_answer m = http_client(port_).request("GET", "/metrics");
  EXPECT_EQ(m.status, 200u);
  EXPECT_EQ(m.header("content-type"), "text/plain; version=0.0.4");
  EXPECT_NE(m.body.find("sidecar_api_requests_total{status=\"200\"} 1"), std::string::npos)
      << m.body;
  EXPECT_NE(m.body.find("sidecar_api_requests_total{status=\"401\"} 1"), std::string::npos);
}

TEST_F(api_server, Http10GetsTheListUnchunkedAndAClose) {
  add(accounts::parent, 2);
  http_client c(port_);
  const http_answer a =
      c.raw("GET " + list(accounts::parent) + " HTTP/1.0\r\nAuthorization: " +
            testing::basic(accounts::parent, testing::token_of(accounts::parent)) + "\r\n\r\n");
  EXPECT_EQ(a.status, 200u);
  EXPECT_TRUE(a.header("transfer-encoding").empty());
  EXPECT_EQ(a.json().at("traces").as_array().size(), 2u);
}

TEST_F(api_server, MalformedRequestIs400AndLargeBodyIs413) {
  expect_error(http_client(port_).raw("GET /healthz HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n"),
               400);
  expect_error(http_client(port_).raw("POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: "
                                      "100000\r\n\r\n"),  // refused from the head alone
               413);
}

TEST_F(api_server, StopClosesIdleKeepAliveConnections) {
  http_client idle(port_);
  EXPECT_EQ(idle.request("GET", "/healthz").status, 200u);
  server_->stop();
  EXPECT_ANY_THROW(idle.request("GET", "/healthz"));  // closed by the server
  EXPECT_ANY_THROW(http_client{port_});               // and nothing listens any more
}

TEST(api_server_start, PlainListenerOnANonLoopbackAddressNeedsAllowInsecure) {
  testing::memory_reader r;
  metrics::registry reg;
  auto cfg = testing::make_config();
  cfg->api.listen.address = net::ip::make_address("0.0.0.0");
  server s(cfg, r, reg, {});
  EXPECT_THROW(s.start(), conf::config_error);
  auto allowed = testing::make_config();
  allowed->api.listen.address = net::ip::make_address("0.0.0.0");
  allowed->api.allow_insecure = true;
  server s2(allowed, r, reg, {});
  EXPECT_NE(s2.start().port(), 0);
}

TEST(api_server_start, UnusableTlsFilesAreAConfigError) {
  testing::memory_reader r;
  metrics::registry reg;
  auto cfg = testing::make_config();
  cfg->api.tls = conf::tls_files{"/nonexistent/cert.pem", "/nonexistent/key.pem"};
  server s(cfg, r, reg, {});
  EXPECT_THROW(s.start(), conf::config_error);
}

}  // namespace
}  // namespace sidecar::api
