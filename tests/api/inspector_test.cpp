// The inspector's resources through the real API server over the real RocksDB trace_store:
// Accounts, HAR (validated by npm har-validator, opened in Chromium), 405 with each resource's
// Allow, cross-site refusal. curl is in curl_command_test.cpp, purge in purge_test.cpp.
#include <gtest/gtest.h>

#include "tests/api/inspector_fixture.hpp"

namespace sidecar::api {
namespace {

using namespace inspector_testing;  // NOLINT(google-build-using-namespace)

TEST_F(inspector, AccountsListsWhatTheCallerMayReadItselfFirst) {
  for (const std::string prefix : {"", "/restcomm", "/api"}) {
    const http_answer a = get(prefix + "/2012-04-24/Accounts.json", accounts::child);
    ASSERT_EQ(a.status, 200u) << a.body;
    EXPECT_EQ(a.header("content-type"), "application/json");
    const auto list = a.json().at("accounts").as_array();
    ASSERT_EQ(list.size(), 2u);
    EXPECT_EQ(list[0].at("sid").as_string(), accounts::child);
    EXPECT_EQ(list[0].at("parent_sid").as_string(), accounts::parent);
    EXPECT_EQ(list[0].at("friendly_name").as_string(), "acct-2");
    EXPECT_TRUE(list[0].at("traces").as_bool());
    EXPECT_EQ(list[1].at("sid").as_string(), accounts::grandchild);
  }
  const auto top = get("/2012-04-24/Accounts.json", accounts::parent).json().at("accounts");
  EXPECT_EQ(top.as_array().size(), 4u);  // parent, child, grandchild, sibling
  EXPECT_TRUE(top.as_array()[0].at("parent_sid").is_null());
  const auto all = get("/2012-04-24/Accounts.json", accounts::admin).json().at("accounts");
  EXPECT_EQ(all.as_array().size(), env_.cfg->accounts.size());
  EXPECT_EQ(all.as_array()[0].at("sid").as_string(), accounts::admin);
  EXPECT_EQ(http_client(env_.port).request("GET", "/2012-04-24/Accounts.json").status, 401u);
  EXPECT_EQ(get("/2012-04-24/Accounts.json", accounts::off).status, 200u);
}

TEST_F(inspector, HarOfATraceIsValidHar12WithEveryField) {
  store::trace_record r = make(accounts::child, now_ms() - 60'000);
  r.response.code = "302";
  r.response.phrase = "Found";
  r.response.headers.push_back({"location", "https://example.com/next"});
  r.response.body.body = "AAECAw==";  // the bytes 0 1 2 3
  r.response.body.base64 = true;
  r.response.body.size = 4;
  r.request.body.truncated = true;
  r.request.body.size = 5000;
  const std::int64_t created = r.created_ms;
  const std::string sid = put(std::move(r));

  const http_answer a = get(traces(accounts::parent) + "/" + sid + ".har", accounts::parent);
  ASSERT_EQ(a.status, 200u) << a.body;
  EXPECT_EQ(a.header("content-type"), "application/json");
  const std::string verdict = har_errors(a.body);
  if (verdict != "skip") {
    EXPECT_EQ(verdict, "");
  }
  const auto log = a.json().at("log");
  EXPECT_EQ(log.at("version").as_string(), "1.2");
  EXPECT_EQ(log.at("creator").at("name").as_string(), "trace-sidecar");
  ASSERT_EQ(log.at("entries").as_array().size(), 1u);
  const auto e = log.at("entries").as_array()[0];
  EXPECT_EQ(e.at("startedDateTime").as_string(), utc::iso8601(created - 250, true));
  EXPECT_EQ(e.at("time").as_int64(), 250);
  const auto req = e.at("request");
  EXPECT_EQ(req.at("method").as_string(), "POST");
  EXPECT_EQ(req.at("url").as_string(), "http://127.0.0.1:9000/apps/voice?From=%2B1555&To=a+b");
  EXPECT_EQ(req.at("httpVersion").as_string(), "HTTP/1.1");
  EXPECT_TRUE(req.at("cookies").as_array().empty());
  EXPECT_EQ(req.at("headers").as_array()[1].at("value").as_string(), "Basic [REDACTED]");
  EXPECT_EQ(req.at("queryString").as_array()[0].at("value").as_string(), "+1555");
  EXPECT_EQ(req.at("queryString").as_array()[1].at("value").as_string(), "a b");
  EXPECT_EQ(req.at("postData").at("mimeType").as_string(), "application/x-www-form-urlencoded");
  EXPECT_EQ(req.at("postData").at("text").as_string(), "CallSid=CA1&Digits=1");
  EXPECT_EQ(req.at("headersSize").as_int64(), -1);
  EXPECT_EQ(req.at("bodySize").as_int64(), 5000);
  const auto res = e.at("response");
  EXPECT_EQ(res.at("status").as_int64(), 302);
  EXPECT_EQ(res.at("statusText").as_string(), "Found");
  EXPECT_EQ(res.at("redirectURL").as_string(), "https://example.com/next");
  EXPECT_EQ(res.at("content").at("encoding").as_string(), "base64");
  EXPECT_EQ(res.at("content").at("text").as_string(), "AAECAw==");
  EXPECT_EQ(res.at("content").at("size").as_int64(), 4);
  EXPECT_TRUE(e.at("cache").as_object().empty());
  EXPECT_EQ(e.at("timings").at("send").as_int64(), 0);
  EXPECT_EQ(e.at("timings").at("wait").as_int64(), 250);
  EXPECT_EQ(e.at("timings").at("receive").as_int64(), 0);
  EXPECT_EQ(e.at("_trace_sid").as_string(), sid);
  EXPECT_EQ(e.at("_account_sid").as_string(), accounts::child);
  EXPECT_EQ(e.at("_direction").as_string(), "webhook");
  EXPECT_TRUE(e.at("_body_truncated").as_bool());
  EXPECT_EQ(e.at("_session_sid").as_string(), "CA" + std::to_string(created));

  // Visibility as for the JSON: a trace outside the path's subtree is 404.
  EXPECT_EQ(get(traces(accounts::sibling) + "/" + sid + ".har", accounts::parent).status, 404u);
}

TEST_F(inspector, HarOpensInChromiumWhichAnswersFromIt) {
  // A real HAR consumer: Chromium through Playwright's routeFromHAR (tests/tools/open_har.mjs)
  // answers a page's navigation from the HAR's entries.
  const fs::path root(SIDECAR_SOURCE_DIR);
  if (!fs::exists(root / "tests" / "web" / "node_modules" / "playwright-core") ||
      !fs::exists("/usr/bin/chromium")) {
    GTEST_SKIP() << "Playwright (npm ci in tests/web) or chromium not installed";
  }
  const std::int64_t base = now_ms() - 60'000;
  store::trace_record text = make(accounts::other, base);
  text.request.method = "GET";
  text.request.body = {};
  text.request.url = "http://127.0.0.1:9/voice.xml?CallSid=CA1";
  text.response.body.body = "<Response><Say>héllo \"world\"</Say></Response>";
  text.response.body.size = text.response.body.body.size();
  store::trace_record binary = make(accounts::other, base + 1000);
  binary.request.method = "GET";
  binary.request.body = {};
  binary.request.url = "http://127.0.0.1:9/media/beep.wav";
  binary.response.headers = {{"content-type", "audio/wav"}};
  std::string bytes;
  for (int i = 0; i < 256; ++i) bytes.push_back(static_cast<char>(i));
  binary.response.body.body.clear();
  base64::append_encoded(binary.response.body.body, bytes);
  binary.response.body.base64 = true;
  binary.response.body.size = bytes.size();
  std::string text_b64;
  base64::append_encoded(text_b64, text.response.body.body);
  const std::string binary_b64 = binary.response.body.body;
  put(std::move(text));
  put(std::move(binary));

  const http_answer a = get(traces(accounts::other) + ".har", accounts::other);
  ASSERT_EQ(a.status, 200u);
  const fs::path file = write("page.har", a.body);
  // Newest first: entry 1 is the XML one. (A navigation to the audio entry opens Chromium's
  // media player, which keeps the page loading: only the document entry is opened.)
  const run_result r = run("node " + (root / "tests" / "tools" / "open_har.mjs").string() + " " +
                           file.string() + " 1");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(r.output, "200 " + text_b64 + "\n");
  EXPECT_NE(a.body.find(binary_b64), std::string::npos);
}

TEST_F(inspector, HarPageFollowsTheListWithALinkToTheNextPage) {
  const std::int64_t base = now_ms() - 600'000;
  std::vector<std::string> sids;
  for (int i = 0; i < 5; ++i) {
    store::trace_record r = make(accounts::other, base + i * 1000);
    if (i == 3) {
      r.response.code = "";  // no response at all
      r.response.phrase = "";
      r.completed = false;
      r.error = "upstream connect refused";
    }
    sids.push_back(put(std::move(r)));
  }
  std::reverse(sids.begin(), sids.end());
  std::string next = traces(accounts::other) + ".har?PageSize=2&Status=completed";
  std::vector<std::string> seen;
  for (int pages = 0; !next.empty(); ++pages) {
    ASSERT_LT(pages, 5);
    const http_answer a = get(next, accounts::other);
    ASSERT_EQ(a.status, 200u) << a.body;
    const std::string verdict = har_errors(a.body);
    if (verdict != "skip") {
      EXPECT_EQ(verdict, "") << next;
    }
    const json::value doc = a.json();
    for (const auto& e : doc.at("log").at("entries").as_array()) {
      seen.emplace_back(e.at("_trace_sid").as_string());
    }
    const std::string link = a.header("link");
    next.clear();
    if (!link.empty()) {
      ASSERT_TRUE(link.starts_with("<") && link.ends_with(">; rel=\"next\"")) << link;
      next = link.substr(1, link.size() - 14);
      EXPECT_NE(next.find("Status=completed"), std::string::npos) << next;
      EXPECT_NE(next.find("Traces.har?"), std::string::npos) << next;
    }
  }
  EXPECT_EQ(seen, (std::vector<std::string>{sids[0], sids[2], sids[3], sids[4]}));
  // Every record as HAR, the failed one with status 0.
  const http_answer all = get(traces(accounts::other) + ".har", accounts::other);
  EXPECT_TRUE(all.header("link").empty());
  const auto entries = all.json().at("log").at("entries").as_array();
  ASSERT_EQ(entries.size(), 5u);
  EXPECT_EQ(entries[1].at("response").at("status").as_int64(), 0);
  EXPECT_EQ(entries[1].at("_error").as_string(), "upstream connect refused");
  const std::string verdict = har_errors(all.body);
  if (verdict != "skip") {
    EXPECT_EQ(verdict, "");
  }
  // The list's filters, Method and RequestBody included.
  EXPECT_EQ(get(traces(accounts::other) + ".har?Method=get", accounts::other)
                .json()
                .at("log")
                .at("entries")
                .as_array()
                .size(),
            0u);
  EXPECT_EQ(
      get(traces(accounts::other) + ".har?RequestBody=Digits%3D1&Method=post", accounts::other)
          .json()
          .at("log")
          .at("entries")
          .as_array()
          .size(),
      5u);
  EXPECT_EQ(get(traces(accounts::other) + ".har?Status=x", accounts::other).status, 400u);
}

TEST_F(inspector, EachResourceAnswers405WithItsOwnAllow) {
  const std::string sid = put(make(accounts::parent, now_ms() - 1000));
  const std::string t = traces(accounts::parent);
  for (const std::string& target : {std::string("/2012-04-24/Accounts.json"), t + ".har",
                                    t + "/" + sid + ".har", t + "/" + sid + ".curl"}) {
    for (const std::string m : {"POST", "PUT", "DELETE"}) {
      const http_answer a = http_client(env_.port).request(m, target);
      EXPECT_EQ(a.status, 405u) << m << " " << target;
      EXPECT_EQ(a.header("allow"), "GET, HEAD") << m << " " << target;
    }
  }
}

TEST_F(inspector, CrossSiteUnsafeRequestsAreRefusedWith403) {
  const std::string sid = put(make(accounts::parent, now_ms() - 1000));
  const std::string t = traces(accounts::parent);
  const std::string auth = testing::basic(accounts::parent, testing::token_of(accounts::parent));
  using headers = std::map<std::string, std::string>;
  for (const headers& h : std::vector<headers>{{{"Origin", "https://evil.example"}},
                                               {{"Origin", "null"}},
                                               {{"Origin", "http://127.0.0.1:1"}},
                                               {{"Sec-Fetch-Site", "cross-site"}},
                                               {{"Sec-Fetch-Site", "same-site"}}}) {
    auto with_auth = h;
    with_auth["Authorization"] = auth;
    const http_answer del = http_client(env_.port).request("DELETE", t + "/" + sid, with_auth);
    EXPECT_EQ(del.status, 403u) << h.begin()->first << ": " << h.begin()->second;
    EXPECT_NE(del.body.find("another site"), std::string::npos) << del.body;
    EXPECT_EQ(http_client(env_.port).request("DELETE", t + "?All=true", with_auth).status, 403u);
    // Safe requests from a browser are never refused.
    EXPECT_EQ(http_client(env_.port).request("GET", t, with_auth).status, 200u);
  }
  EXPECT_EQ(get(t + "/" + sid, accounts::parent).status, 200u);  // nothing was deleted
  // The listener's own origin (the client sends Host: 127.0.0.1) and same-origin pass.
  const http_answer own = http_client(env_.port).request(
      "DELETE", t + "/" + sid,
      {{"Authorization", auth}, {"Origin", "http://127.0.0.1"}, {"Sec-Fetch-Site", "same-origin"}});
  EXPECT_EQ(own.status, 204u) << own.body;
}

}  // namespace
}  // namespace sidecar::api
