// The inspector's resources through the real API server over the real RocksDB trace_store:
// Accounts, HAR (validated by npm har-validator), curl (run by bash against a real server that
// captures what it received), 405 with each resource's Allow, cross-site refusal.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

#include "api/har.hpp"
#include "api/server.hpp"
#include "support/text.hpp"
#include "store/trace_record.hpp"
#include "store/trace_store.hpp"
#include "support/ascii.hpp"
#include "support/base64.hpp"
#include "support/net.hpp"
#include "support/utc_time.hpp"
#include "tests/api/test_support.hpp"

namespace sidecar::api {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using testing::accounts;
using testing::http_answer;
using testing::http_client;

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

/// Runs a shell command line; its exit status and what it wrote on stdout and stderr.
struct run_result {
  int status = -1;
  std::string output;
};
run_result run(const std::string& command) {
  run_result r;
  FILE* p = ::popen((command + " 2>&1").c_str(), "r");
  if (p == nullptr) return r;
  char buf[4096];
  std::size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) r.output.append(buf, n);
  const int st = ::pclose(p);
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

/// A real HTTP server on 127.0.0.1:0 that answers 200 to every request and keeps the last
/// request it received, parsed by Beast from the bytes on the wire.
class capture_server {
 public:
  capture_server() : acceptor_(ioc_, tcp::endpoint(net::ip::make_address("127.0.0.1"), 0)) {
    thread_ = std::thread([this] { serve(); });
  }
  ~capture_server() {
    stop_ = true;
    beast::error_code ec;
    acceptor_.close(ec);
    // Wake the accept with a connection of our own.
    tcp::socket s(ioc_);
    s.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port_), ec);
    thread_.join();
  }
  [[nodiscard]] std::uint16_t port() const { return port_; }
  /// The last request received, waiting up to 10 s for one.
  std::optional<http::request<http::string_body>> last() {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, std::chrono::seconds(10), [this] { return got_.has_value(); });
    auto out = std::move(got_);
    got_.reset();
    return out;
  }

 private:
  void serve() {
    while (!stop_) {
      beast::error_code ec;
      tcp::socket s(ioc_);
      acceptor_.accept(s, ec);
      if (ec || stop_) return;
      beast::flat_buffer buf;
      http::request_parser<http::string_body> parser;
      parser.body_limit(1u << 26);
      http::read(s, buf, parser, ec);
      if (ec) continue;
      {
        const std::lock_guard lock(mu_);
        got_ = parser.release();
      }
      cv_.notify_all();
      http::response<http::string_body> res{http::status::ok, 11};
      res.body() = "ok";
      res.keep_alive(false);
      res.prepare_payload();
      http::write(s, res, ec);
    }
  }

  net::io_context ioc_;
  tcp::acceptor acceptor_;
  std::uint16_t port_ = acceptor_.local_endpoint().port();
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::condition_variable cv_;
  std::optional<http::request<http::string_body>> got_;
  std::thread thread_;
};

class inspector : public ::testing::Test {
 protected:
  store::trace_record make(const std::string& account, std::int64_t created_ms) {
    store::trace_record r = testing::sample_record(account, created_ms, rng_);
    r.account_friendly_name = "Friendly";
    r.session_sid = "CA" + std::to_string(created_ms);
    r.latency_ms = 250;
    r.request.path = "/apps/voice?From=%2B1555&To=a+b";
    r.request.url = "http://127.0.0.1:9000/apps/voice?From=%2B1555&To=a+b";
    r.request.headers = {{"content-type", "application/x-www-form-urlencoded"},
                         {"authorization", "Basic [REDACTED]"}};
    r.request.body.body = "CallSid=CA1&Digits=1";
    r.request.body.size = r.request.body.body.size();
    r.response.headers = {{"content-type", "application/xml"}};
    r.response.body.body = "<Response><Say>hello</Say></Response>";
    r.response.body.size = r.response.body.body.size();
    return r;
  }
  std::string put(store::trace_record r) { return env_.put(std::move(r)); }
  http_answer get(const std::string& target, const std::string& sid) {
    return http_client(env_.port).get(target, sid);
  }
  std::string traces(const std::string& account) {
    return "/2012-04-24/Accounts/" + account + "/Traces";
  }
  fs::path write(const std::string& name, const std::string& bytes) {
    const fs::path p = env_.dir() / name;
    std::ofstream(p, std::ios::binary) << bytes;
    return p;
  }
  /// har-validator's verdict on a HAR document ("" when valid); skips when npm's packages
  /// are not installed (scripts/install-deps installs them).
  std::string har_errors(const std::string& har) {
    const fs::path tools = fs::path(SIDECAR_SOURCE_DIR) / "tests" / "tools";
    if (!fs::exists(tools / "node_modules" / "har-validator")) return "skip";
    const auto r = run("node " + (tools / "validate_har.js").string() + " " +
                       write("answer.har", har).string());
    return r.status == 0 ? "" : r.output + " (status " + std::to_string(r.status) + ")";
  }

  testing::store_env env_;
  std::mt19937_64 rng_{7};
};

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

TEST_F(inspector, CurlCommandIsPlainTextAndVisibleAsTheTraceIs) {
  const std::string sid = put(make(accounts::grandchild, now_ms() - 1000));
  const http_answer a = get(traces(accounts::parent) + "/" + sid + ".curl", accounts::parent);
  ASSERT_EQ(a.status, 200u) << a.body;
  EXPECT_EQ(a.header("content-type"), "text/plain; charset=utf-8");
  EXPECT_NE(a.body.find("'authorization: Basic [REDACTED]'"), std::string::npos) << a.body;
  EXPECT_EQ(get(traces(accounts::other) + "/" + sid + ".curl", accounts::other).status, 404u);
  EXPECT_EQ(get(traces(accounts::parent) + "/TR1.curl", accounts::parent).status, 404u);
}

/// Runs the .curl answer of a record with bash against a capturing server and compares what
/// the server received with the recorded request.
class curl_replay : public inspector {
 protected:
  void replay_and_compare(store::trace_record r, const std::string& target) {
    capture_server peer;
    r.request.url = "http://127.0.0.1:" + std::to_string(peer.port()) + target;
    r.request.path = target;
    const store::trace_record recorded = r;
    const std::string sid = put(std::move(r));
    const http_answer a = get(traces(accounts::parent) + "/" + sid + ".curl", accounts::parent);
    ASSERT_EQ(a.status, 200u) << a.body;
    const fs::path script = write("replay.sh", a.body);
    const run_result ran = run("cd " + env_.dir().string() + " && bash " + script.string());
    ASSERT_EQ(ran.status, 0) << ran.output << "\n" << a.body;
    const auto got = peer.last();
    ASSERT_TRUE(got) << a.body;
    EXPECT_EQ(got->method_string(), recorded.request.method);
    EXPECT_EQ(got->target(), target);
    const auto body = recorded.request.body.base64 ? base64::decode(recorded.request.body.body)
                                                   : recorded.request.body.body;
    ASSERT_TRUE(body);
    EXPECT_EQ(got->body(), *body) << a.body;
    // Every recorded header arrived with its value, and nothing else but Host and framing.
    std::size_t extra = 0;
    std::size_t fields = 0;
    for (const auto& f : *got) {
      ++fields;
      const std::string name = ascii::to_lower(f.name_string());
      if (name == "host" || name == "content-length") continue;
      const auto it = std::find_if(recorded.request.headers.begin(), recorded.request.headers.end(),
                                   [&](const auto& h) { return h.first == name; });
      if (it == recorded.request.headers.end()) {
        ++extra;
        ADD_FAILURE() << "not recorded: " << name << ": " << f.value();
      } else {
        EXPECT_EQ(f.value(), it->second) << name;
      }
    }
    EXPECT_EQ(fields - extra, recorded.request.headers.size() +
                                  (got->count(http::field::host) ? 1 : 0) +
                                  (got->count(http::field::content_length) ? 1 : 0))
        << a.body;
  }
};

TEST_F(curl_replay, TextBodyWithShellMetacharactersArrivesByteForByte) {
  store::trace_record r = make(accounts::parent, now_ms() - 1000);
  const fs::path trap = env_.dir() / "trap";
  r.request.body.body = "a='1' \"2\" $HOME ${PATH} `touch " + trap.string() + "` $(touch " +
                        trap.string() + ") \\ back\\slash % %s %% \n second line\r\n" +
                        std::string("nul:\0:end", 9) + " héllo ☃ '\\'' !! !$";
  r.request.body.size = r.request.body.body.size();
  r.request.headers = {{"content-type", "text/plain; charset=utf-8"},
                       {"x-odd", "it's \"quoted\" $HOME `id` $(id) \\ ; % ! ~ * ? [a] {b,c}"},
                       {"x-utf8", "héllo"},
                       {"x-empty", ""},
                       {"authorization", "Basic [REDACTED]"}};
  r.request.method = "PUT";
  replay_and_compare(std::move(r), "/hook/a%20b?x=$HOME&y=%24(id)&z='q'");
  EXPECT_FALSE(fs::exists(trap)) << "a command substitution in the body ran";
}

TEST_F(curl_replay, BinaryBodyWithEveryByteArrivesByteForByte) {
  store::trace_record r = make(accounts::parent, now_ms() - 1000);
  std::string bytes;
  for (int i = 0; i < 256; ++i) bytes.push_back(static_cast<char>(i));
  bytes += bytes;
  r.request.body.body.clear();
  base64::append_encoded(r.request.body.body, bytes);
  r.request.body.base64 = true;
  r.request.body.size = bytes.size();
  r.request.headers = {{"content-type", "application/octet-stream"}};
  replay_and_compare(std::move(r), "/upload");
}

TEST_F(curl_replay, NoBodyAndNoContentTypeSendsNothingCurlWouldAdd) {
  store::trace_record r = make(accounts::parent, now_ms() - 1000);
  r.request.method = "GET";
  r.request.body = {};
  r.request.headers = {{"accept", "application/xml"}, {"x-twilio-signature", "abc="}};
  replay_and_compare(std::move(r), "/status?CallSid=CA1");
}

TEST_F(curl_replay, ACutBodyIsSentAsKeptUnderAComment) {
  store::trace_record r = make(accounts::parent, now_ms() - 1000);
  r.request.headers = {};  // no content-type: curl must not add one
  r.request.body.body = "kept part";
  r.request.body.truncated = true;
  r.request.body.size = 123456;
  replay_and_compare(std::move(r), "/cut");
}

TEST_F(inspector, CurlCommentSaysHowMuchOfACutBodyWasKept) {
  store::trace_record r = make(accounts::parent, now_ms() - 1000);
  r.request.body.body = "kept part";
  r.request.body.truncated = true;
  r.request.body.size = 123456;
  const std::string sid = put(std::move(r));
  const http_answer a = get(traces(accounts::parent) + "/" + sid + ".curl", accounts::parent);
  EXPECT_NE(a.body.find("\n# the request body was cut when recorded: 9 of 123456 bytes kept"),
            std::string::npos)
      << a.body;
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
  const http_answer del =
      http_client(env_.port).request("DELETE", t + "/" + victim + ".json", {{"Authorization", auth}});
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
