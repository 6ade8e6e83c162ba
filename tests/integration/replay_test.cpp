// Replay (docs/api.md, "Replay") through the real trace-sidecar binary against a real app on
// 127.0.0.1: what the app receives the second time, what is recorded, and every refusal (409
// with its reason, 403, 404, 429 with Retry-After, cross-site), an upstream that hangs (504)
// or resets (502), and the sidecar's own listeners never reached.
#include <gtest/gtest.h>
#include <sys/socket.h>

#include <atomic>
#include <csignal>
#include <filesystem>
#include <future>
#include <mutex>
#include <regex>
#include <thread>

#include "tests/common/temp_dir.hpp"
#include "tests/integration/harness.hpp"

namespace sidecar::testing_support {
namespace {

const std::regex listening_line(R"(msg=listening proxy=127\.0\.0\.1:(\d+) api=127\.0\.0\.1:(\d+))");
const std::string owner = "ACae6e420f425248d6a26948c17a9e2acf";  // sub-account of parent
const std::string parent = "AC11111111111111111111111111111111";
const std::string other = "AC22222222222222222222222222222222";
const std::string admin = "AC33333333333333333333333333333333";

std::string token_of(const std::string& sid) { return "token-" + sid.substr(2, 8); }
std::string auth_of(const std::string& sid) {
  return "Authorization: Basic " + base64(sid + ":" + token_of(sid)) + "\r\n";
}

/// An app that keeps every request it receives (head and Content-Length body, as bytes) and
/// answers each one as its mode says: 200 with a small body, never (holding the connection),
/// a reset, or 200 keeping the connection, whose next request is then closed unanswered (a kept
/// connection the app gave up just as it was reused).
class app {
 public:
  enum class mode { answer, hang, reset, close_kept };
  explicit app(mode m = mode::answer)
      : mode_(m), thread_([this](std::stop_token stop) { serve(stop); }) {}
  ~app() {
    thread_.request_stop();
    thread_.join();
    for (const int fd : held_) ::close(fd);
  }
  [[nodiscard]] std::uint16_t port() const { return upstream_.port(); }
  /// The requests received so far, waiting up to the deadline for at least `n`.
  std::vector<std::string> received(std::size_t n) {
    const auto deadline = clock::now() + default_wait;
    for (;;) {
      {
        const std::lock_guard lock(mu_);
        if (requests_.size() >= n || clock::now() >= deadline) return requests_;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));  // polling with a deadline
    }
  }

 private:
  void serve(const std::stop_token& stop) {
    while (!stop.stop_requested()) {
      const int fd = upstream_.accept(std::chrono::milliseconds(50));
      if (fd < 0) continue;
      std::string req;
      read_until(fd, req, "\r\n\r\n", std::chrono::seconds(5));
      const auto head_end = req.find("\r\n\r\n");
      std::smatch m;
      std::size_t length = 0;
      static const std::regex cl(R"(\r\n[Cc]ontent-[Ll]ength: *(\d+))");
      const std::string head = head_end == std::string::npos ? req : req.substr(0, head_end);
      if (std::regex_search(head, m, cl)) length = std::stoul(m[1].str());
      while (head_end != std::string::npos && req.size() < head_end + 4 + length) {
        std::string more;
        if (!read_until(fd, more, "", std::chrono::milliseconds(200)) && more.empty()) break;
        req += more;
        if (more.empty()) break;
      }
      {
        const std::lock_guard lock(mu_);
        requests_.push_back(req);
      }
      if (mode_ == mode::hang) {
        held_.push_back(fd);
        continue;
      }
      if (mode_ == mode::reset) {
        const linger l{1, 0};
        ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
        ::close(fd);
        continue;
      }
      const bool keep = mode_ == mode::close_kept;
      send_all(fd, std::string("HTTP/1.1 200 OK\r\nContent-Type: application/xml\r\n"
                               "Content-Length: 11\r\n") +
                       (keep ? "" : "Connection: close\r\n") + "\r\n<Response/>");
      if (keep) {
        std::string next;  // not kept: it is never answered
        read_until(fd, next, "\r\n\r\n", std::chrono::seconds(2));
      }
      ::close(fd);
    }
  }

  mode mode_;
  listener upstream_;
  std::mutex mu_;
  std::vector<std::string> requests_;
  std::vector<int> held_;
  std::jthread thread_;
};

std::string header_value(const std::string& raw, const std::string& lower_name) {
  const std::regex r("\\r\\n" + lower_name + ": *([^\\r]*)", std::regex::icase);
  std::smatch m;
  return std::regex_search(raw, m, r) ? m[1].str() : std::string();
}

std::string json_text(const std::string& json, const std::string& key) {
  const std::regex r("\"" + key + "\":\"([^\"]*)\"");
  std::smatch m;
  return std::regex_search(json, m, r) ? m[1].str() : std::string();
}

class replay : public ::testing::Test {
 protected:
  /// Starts the sidecar with a route to `upstream` (and `extra` TOML appended).
  void start(std::uint16_t upstream, const std::string& extra = {}) {
    upstream_port_ = upstream;
    config_ = dir_.write("sidecar.toml", config_text(upstream, extra));
    sidecar_ = std::make_unique<process>(
        std::vector<std::string>{SIDECAR_BINARY, "--config", config_.string()});
    const auto m = sidecar_->wait_for_err(listening_line);
    ASSERT_TRUE(m) << sidecar_->err();
    proxy_ = static_cast<std::uint16_t>(std::stoi(m->at(1)));
    api_ = static_cast<std::uint16_t>(std::stoi(m->at(2)));
  }
  std::string config_text(std::uint16_t upstream, const std::string& extra) const {
    std::string accounts;
    for (const auto& [sid, more] :
         std::vector<std::pair<std::string, std::string>>{{parent, ""},
                                                          {owner, "parent = \"" + parent + "\"\n"},
                                                          {other, ""},
                                                          {admin, "role = \"administrator\"\n"}}) {
      accounts += "[[account]]\nsid = \"" + sid + "\"\nauth_token = \"" + token_of(sid) +
                  "\"\ntraces = true\n" + more + "\n";
    }
    return R"([proxy]
listen = "127.0.0.1:0"
upstream_timeout = "2s"

[api]
listen = "127.0.0.1:0"

[store]
path = ")" +
           (dir_ / "data").string() +
           R"("
body_limit = "1KiB"

[cache]
enabled = false

)" + accounts +
           R"([[route]]
prefix = "/"
upstream = "http://127.0.0.1:)" +
           std::to_string(upstream) + R"(/"
account = ")" +
           owner + "\"\n" + extra;
  }
  void TearDown() override {
    if (!sidecar_) return;
    sidecar_->signal(SIGTERM);
    EXPECT_EQ(sidecar_->wait_exit(), 0) << sidecar_->err();
  }

  /// A webhook through the proxy; the raw response.
  std::string webhook(const std::string& body, const std::string& headers = {},
                      const std::string& path = "/voice") {
    return http_exchange(proxy_, "POST", path,
                         "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: " +
                             std::to_string(body.size()) + "\r\n" + headers + "\r\n" + body);
  }
  /// The newest trace's sid (waiting for it to be readable).
  std::string newest_sid(std::size_t at_least = 1) {
    const auto deadline = clock::now() + default_wait;
    for (;;) {
      const std::string list = http_exchange(
          api_, "GET", "/2012-04-24/Accounts/" + owner + "/Traces.json", auth_of(admin));
      const std::regex total(R"("total":(\d+))");
      std::smatch m;
      if (std::regex_search(list, m, total) && std::stoul(m[1].str()) >= at_least) {
        return json_text(list, "sid");
      }
      if (clock::now() >= deadline) return {};
      std::this_thread::sleep_for(std::chrono::milliseconds(10));  // polling with a deadline
    }
  }
  std::string replay_of(const std::string& sid, const std::string& caller = owner,
                        const std::string& body = {}, const std::string& headers = {},
                        const std::string& account = owner) {
    return http_exchange(api_, "POST",
                         "/2012-04-24/Accounts/" + account + "/Traces/" + sid + "/Replay",
                         auth_of(caller) + headers +
                             "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body);
  }

  const temp_dir dir_;
  std::filesystem::path config_;
  std::unique_ptr<process> sidecar_;
  std::uint16_t upstream_port_ = 0;
  std::size_t records_ = 0;
  std::uint16_t proxy_ = 0;
  std::uint16_t api_ = 0;
};

TEST_F(replay, SendsTheRecordedRequestAgainByteForByteAndRecordsItWithReplayOf) {
  app up;
  start(up.port());
  const std::string body = "AccountSid=" + owner + "&CallSid=CA42&Digits=1%262&Note=caf%C3%A9";
  ASSERT_EQ(status_of(webhook(body, "X-Custom: a \"quoted\" value\r\n")), 200);
  const std::string sid = newest_sid();
  ASSERT_FALSE(sid.empty());

  const std::string answer = replay_of(sid);
  ASSERT_EQ(status_of(answer), 201) << answer;
  const std::string record = body_of(answer);
  EXPECT_EQ(json_text(record, "replay_of"), sid);
  EXPECT_EQ(json_text(record, "session_sid"), "CA42");
  EXPECT_EQ(json_text(record, "account_sid"), owner);
  const std::string new_sid = json_text(record, "sid");
  EXPECT_NE(new_sid, sid);
  EXPECT_EQ(header_value(answer, "location"),
            "/2012-04-24/Accounts/" + owner + "/Traces/" + new_sid);

  // What the app received the second time is what it received the first time.
  const auto got = up.received(2);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(body_of(got[1]), body);
  EXPECT_EQ(body_of(got[0]), body_of(got[1]));
  EXPECT_EQ(got[1].substr(0, got[1].find("\r\n")), "POST /voice HTTP/1.1");
  for (const std::string name : {"host", "content-type", "content-length", "x-custom",
                                 "x-forwarded-for", "x-forwarded-proto"}) {
    EXPECT_EQ(header_value(got[1], name), header_value(got[0], name)) << name;
  }

  // Readable at once, the same bytes as the answer.
  const std::string read =
      http_exchange(api_, "GET", header_value(answer, "location"), auth_of(owner));
  EXPECT_EQ(status_of(read), 200);
  EXPECT_EQ(body_of(read), record);

  // A replay of the replay names the first original.
  const std::string again = replay_of(new_sid);
  ASSERT_EQ(status_of(again), 201) << again;
  EXPECT_EQ(json_text(body_of(again), "replay_of"), sid);
}

TEST_F(replay, ARedactedHeaderMustBeSuppliedAndIsRecordedRedacted) {
  app up;
  start(up.port());
  ASSERT_EQ(status_of(webhook("AccountSid=" + owner + "&CallSid=CA1",
                              "Authorization: Bearer first-secret\r\n")),
            200);
  const std::string sid = newest_sid();

  const std::string refused = replay_of(sid);
  EXPECT_EQ(status_of(refused), 409) << refused;
  EXPECT_NE(body_of(refused).find("authorization was redacted"), std::string::npos) << refused;

  const std::string answer =
      replay_of(sid, owner, R"({"headers": {"Authorization": "Bearer fresh-secret"}})",
                "Content-Type: application/json\r\n");
  ASSERT_EQ(status_of(answer), 201) << answer;
  EXPECT_EQ(header_value(up.received(2).at(1), "authorization"), "Bearer fresh-secret");
  EXPECT_EQ(body_of(answer).find("fresh-secret"), std::string::npos);
  EXPECT_NE(body_of(answer).find(R"("authorization":"Bearer [REDACTED]")"), std::string::npos)
      << body_of(answer);

  const std::string bad = replay_of(sid, owner, R"({"headers": ["x"]})");
  EXPECT_EQ(status_of(bad), 400) << bad;
}

TEST_F(replay, RefusesWith409WhatCannotBeSentAsRecorded) {
  app up;
  start(up.port());
  auto refusal = [&](const std::string& body, const std::string& headers) {
    EXPECT_EQ(status_of(webhook(body, headers)), 200);
    const std::string answer = replay_of(newest_sid(++records_));
    EXPECT_EQ(status_of(answer), 409) << answer;
    return json_text(body_of(answer), "message");
  };
  // Cut: over [store] body_limit (1 KiB).
  EXPECT_NE(refusal("AccountSid=" + owner + "&Pad=" + std::string(2000, 'x'), "").find("was cut"),
            std::string::npos);
  // Bytes that are not UTF-8 in a text body.
  EXPECT_NE(refusal("AccountSid=" + owner + "&Bad=\xff\xfe", "").find("U+FFFD"), std::string::npos);
  // A redacted field.
  EXPECT_NE(refusal("AccountSid=" + owner + "&Password=hunter2", "").find("redacted field"),
            std::string::npos);
  EXPECT_EQ(up.received(3).size(), 3u);  // the app saw the originals only

  // A URL the configuration no longer allows: the route now goes elsewhere.
  EXPECT_EQ(status_of(webhook("AccountSid=" + owner + "&CallSid=CA9")), 200);
  const std::string sid = newest_sid(++records_);
  app elsewhere;
  dir_.write("sidecar.toml", config_text(elsewhere.port(), ""));
  sidecar_->signal(SIGHUP);
  ASSERT_TRUE(sidecar_->wait_for_err(std::regex("msg=\"?reload done")));
  const std::string answer = replay_of(sid);
  EXPECT_EQ(status_of(answer), 409) << answer;
  EXPECT_NE(body_of(answer).find("no longer allowed"), std::string::npos) << answer;
  EXPECT_EQ(elsewhere.received(0).size(), 0u);
}

TEST_F(replay, OnlyTheOwnAccountOrAnAdministratorMayReplay) {
  app up;
  start(up.port());
  ASSERT_EQ(status_of(webhook("AccountSid=" + owner + "&CallSid=CA1")), 200);
  const std::string sid = newest_sid();

  // The parent reads the trace but may not act on it.
  EXPECT_EQ(status_of(http_exchange(api_, "GET", "/2012-04-24/Accounts/" + owner + "/Traces/" + sid,
                                    auth_of(parent))),
            200);
  const std::string by_parent = replay_of(sid, parent);
  EXPECT_EQ(status_of(by_parent), 403) << by_parent;
  // Another tenant does not see it (under its own account or the owner's).
  EXPECT_EQ(status_of(replay_of(sid, other, {}, {}, other)), 404);
  EXPECT_EQ(status_of(replay_of(sid, other)), 403);
  EXPECT_EQ(status_of(replay_of("TR" + std::string(32, '0'))), 404);
  EXPECT_EQ(status_of(replay_of("nonsense")), 404);
  // Another site's page.
  EXPECT_EQ(status_of(replay_of(sid, owner, {}, "Origin: http://evil.example\r\n")), 403);
  EXPECT_EQ(status_of(replay_of(sid, owner, {}, "Sec-Fetch-Site: cross-site\r\n")), 403);
  // GET is not a replay.
  const std::string get = http_exchange(
      api_, "GET", "/2012-04-24/Accounts/" + owner + "/Traces/" + sid + "/Replay", auth_of(owner));
  EXPECT_EQ(status_of(get), 405);
  EXPECT_EQ(header_value(get, "allow"), "POST");
  EXPECT_EQ(up.received(1).size(), 1u);  // nothing was sent again

  EXPECT_EQ(status_of(replay_of(sid, admin)), 201);
  EXPECT_EQ(up.received(2).size(), 2u);
}

TEST_F(replay, SixtyOneInAMinuteIsRefusedWithRetryAfter) {
  app up;
  start(up.port());
  ASSERT_EQ(status_of(webhook("AccountSid=" + owner + "&CallSid=CA1")), 200);
  const std::string sid = newest_sid();
  for (int i = 0; i < 60; ++i) ASSERT_EQ(status_of(replay_of(sid)), 201) << i;
  const std::string answer = replay_of(sid);
  EXPECT_EQ(status_of(answer), 429) << answer;
  const int retry = std::atoi(header_value(answer, "retry-after").c_str());
  EXPECT_GE(retry, 1);
  EXPECT_LE(retry, 60);
  EXPECT_EQ(up.received(61).size(), 61u);  // the original and sixty replays
}

TEST_F(replay, HangingUpstreamIs504AndTheEleventhInFlightIs429) {
  app up(app::mode::hang);
  start(up.port());
  EXPECT_EQ(status_of(webhook("AccountSid=" + owner + "&CallSid=CA1")), 504);
  const std::string sid = newest_sid();
  ASSERT_FALSE(sid.empty());

  std::vector<std::future<std::string>> ten;
  for (int i = 0; i < 10; ++i) {
    ten.push_back(std::async(std::launch::async, [&] { return replay_of(sid); }));
  }
  up.received(11);  // all ten are at the app, in flight
  const std::string eleventh = replay_of(sid);
  EXPECT_EQ(status_of(eleventh), 429) << eleventh;
  EXPECT_FALSE(header_value(eleventh, "retry-after").empty());
  for (auto& f : ten) {
    const std::string answer = f.get();
    EXPECT_EQ(status_of(answer), 504) << answer;
    const std::string location = header_value(answer, "location");
    ASSERT_FALSE(location.empty());
    const std::string record = body_of(http_exchange(api_, "GET", location, auth_of(owner)));
    EXPECT_EQ(json_text(record, "error"), "upstream response timeout");
    EXPECT_EQ(json_text(record, "replay_of"), sid);
  }
}

TEST_F(replay, ResettingUpstreamIs502AndRecorded) {
  app up(app::mode::reset);
  start(up.port());
  EXPECT_EQ(status_of(webhook("AccountSid=" + owner + "&CallSid=CA1")), 502);
  const std::string sid = newest_sid();
  const std::string answer = replay_of(sid);
  EXPECT_EQ(status_of(answer), 502) << answer;
  const std::string record =
      body_of(http_exchange(api_, "GET", header_value(answer, "location"), auth_of(owner)));
  EXPECT_EQ(json_text(record, "status"), "failed");
  EXPECT_EQ(json_text(record, "replay_of"), sid);
  EXPECT_FALSE(json_text(record, "error").empty());
}

TEST_F(replay, AnIdempotentReplayOnAKeptConnectionClosedUnansweredGoesOnceMoreOnANewOne) {
  // Each answer leaves its connection in the pool; the app closes it when the next request
  // arrives there, before a byte of an answer: the replay goes once more on a new connection
  // (docs/proxy.md, "Retry rule"), and the app sees it once.
  app up(app::mode::close_kept);
  start(up.port());
  ASSERT_EQ(status_of(http_exchange(proxy_, "GET", "/status")), 200);
  const std::string sid = newest_sid();
  ASSERT_FALSE(sid.empty());
  for (std::size_t n = 2; n <= 3; ++n) {
    const std::string answer = replay_of(sid);
    ASSERT_EQ(status_of(answer), 201) << answer;
    EXPECT_EQ(json_text(body_of(answer), "replay_of"), sid);
    const auto got = up.received(n);
    ASSERT_EQ(got.size(), n);
    EXPECT_EQ(got[n - 1].substr(0, got[n - 1].find("\r\n")), "GET /status HTTP/1.1");
  }
}

TEST_F(replay, NeverGoesToTheSidecarsOwnListeners) {
  app up;
  // The operator lists loopback addresses by address: the forward proxy then reaches them (its
  // own API included), and a replay of such a record must not.
  start(up.port());
  dir_.write("sidecar.toml",
             std::regex_replace(config_text(up.port(), ""), std::regex("upstream_timeout"),
                                "forward_hosts = [\"127.0.0.1:" + std::to_string(api_) +
                                    "\", \"0.0.0.0:" + std::to_string(api_) +
                                    "\"]\nforward_account = "
                                    "\"" +
                                    owner + "\"\nupstream_timeout"));
  sidecar_->signal(SIGHUP);
  ASSERT_TRUE(sidecar_->wait_for_err(std::regex("msg=\"?reload done")));
  std::size_t records = 0;
  for (const std::string host : {"127.0.0.1", "0.0.0.0"}) {
    const std::string through =
        http_exchange(proxy_, "GET", "http://" + host + ":" + std::to_string(api_) + "/healthz");
    ASSERT_EQ(status_of(through), 200) << through;
    const std::string sid = newest_sid(++records);
    const std::string answer = replay_of(sid);
    EXPECT_EQ(status_of(answer), 409) << answer;
    EXPECT_NE(body_of(answer).find("own listeners"), std::string::npos) << answer;
  }
}

}  // namespace
}  // namespace sidecar::testing_support
