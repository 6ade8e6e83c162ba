// Operations through the real binary and real signals (docs/operations.md): SIGHUP reloads
// tokens, routes and the TLS pair at once; every bad reload file changes nothing and says why
// in one line; settings that need a restart are named; a SIGHUP during shutdown is refused;
// --check-config; the probes and /status; the access lines and the counted warnings.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <future>
#include <regex>
#include <thread>

#include "tests/common/temp_dir.hpp"
#include "tests/integration/harness.hpp"

namespace sidecar::testing_support {
namespace {

const std::regex listening_line(R"(msg=listening proxy=127\.0\.0\.1:(\d+) api=127\.0\.0\.1:(\d+))");
constexpr std::string_view account_sid = "ACae6e420f425248d6a26948c17a9e2acf";

std::vector<std::string> command(std::vector<std::string> args) {
  args.insert(args.begin(), SIDECAR_BINARY);
  return args;
}

std::uint16_t port_of(const std::vector<std::string>& m, int group) {
  return static_cast<std::uint16_t>(std::stoi(m.at(static_cast<std::size_t>(group))));
}

/// An app that answers every request 200 "ok" (Connection: close) until destroyed.
class app {
 public:
  app() : thread_([this] { serve(); }) {}
  ~app() {
    stop_ = true;
    thread_.join();
  }
  [[nodiscard]] std::uint16_t port() const { return listener_.port(); }

 private:
  void serve() {
    while (!stop_) {
      const int fd = listener_.accept(std::chrono::milliseconds(100));
      if (fd < 0) continue;
      std::string req;
      read_until(fd, req, "\r\n\r\n", std::chrono::seconds(5));
      send_all(fd, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok");
      ::close(fd);
    }
  }
  listener listener_;
  std::atomic<bool> stop_{false};
  std::jthread thread_;
};

/// The test's config: listeners on free ports, one account with `token`, one route `prefix`
/// to the app, and `extra` appended (more tables, or keys of a last table).
std::string config_text(const temp_dir& dir, std::uint16_t upstream, std::string_view token,
                        std::string_view prefix, std::string_view extra = "",
                        std::string_view proxy_extra = "") {
  return "[proxy]\nlisten = \"127.0.0.1:0\"\n" + std::string(proxy_extra) +
         "\n[api]\nlisten = \"127.0.0.1:0\"\n\n[store]\npath = \"" + (dir / "data").string() +
         "\"\n\n[cache]\nenabled = false\n\n[log]\naccess = true\n\n[[account]]\nsid = \"" +
         std::string(account_sid) + "\"\nauth_token = \"" + std::string(token) +
         "\"\ntraces = true\n\n[[route]]\nprefix = \"" + std::string(prefix) +
         "\"\nupstream = \"http://127.0.0.1:" + std::to_string(upstream) + "/\"\naccount = \"" +
         std::string(account_sid) + "\"\n" + std::string(extra);
}

/// A running sidecar on a config file the test rewrites.
struct running {
  running(const temp_dir& d, const std::string& text)
      : file(d.write("sidecar.toml", text)), p(command({"--config", file.string()})) {
    const auto m = p.wait_for_err(listening_line);
    if (!m) return;
    proxy = port_of(*m, 1);
    api = port_of(*m, 2);
  }
  /// Rewrites the file, sends SIGHUP and waits for the reload's outcome line (the n-th).
  bool reload(const temp_dir& d, const std::string& text, const std::string& outcome) {
    d.write("sidecar.toml", text);
    const std::size_t before = count(outcome);
    p.signal(SIGHUP);
    const auto deadline = clock::now() + default_wait;
    while (clock::now() < deadline) {
      pump(std::chrono::milliseconds(50));
      if (count(outcome) > before) return true;
    }
    return false;
  }
  /// Reads the sidecar's stderr for a while (wait_for_err returns at once on an old match).
  void pump(clock::duration d) { p.wait_for_err(std::regex("\\x01never\\x01"), d); }
  [[nodiscard]] std::size_t count(const std::string& needle) const {
    std::size_t n = 0;
    for (auto at = p.err().find(needle); at != std::string::npos;
         at = p.err().find(needle, at + 1)) {
      ++n;
    }
    return n;
  }
  [[nodiscard]] int list_status(std::string_view token) const {
    return status_of(
        http_exchange(api, "GET", "/2012-04-24/Accounts/" + std::string(account_sid) + "/Traces",
                      "Authorization: Basic " +
                          base64(std::string(account_sid) + ":" + std::string(token)) + "\r\n"));
  }
  [[nodiscard]] int hook_status(std::string_view path) const {
    return status_of(http_exchange(proxy, "GET", path));
  }

  std::filesystem::path file;
  process p;
  std::uint16_t proxy = 0;
  std::uint16_t api = 0;
};

TEST(operations, SighupSwapsTokensAndRoutesAtOnce) {
  const temp_dir dir;
  const app upstream;
  running s(dir, config_text(dir, upstream.port(), "token-one", "/a/"));
  ASSERT_NE(s.api, 0) << s.p.err();
  EXPECT_EQ(s.list_status("token-one"), 200);
  EXPECT_EQ(s.hook_status("/a/x?CallSid=CA1"), 200);

  ASSERT_TRUE(
      s.reload(dir, config_text(dir, upstream.port(), "token-two", "/b/"), "msg=\"reload done\""))
      << s.p.err();
  EXPECT_EQ(s.list_status("token-one"), 401);  // the old token: refused at once
  EXPECT_EQ(s.list_status("token-two"), 200);
  EXPECT_EQ(s.hook_status("/a/x?CallSid=CA2"), 404);  // a removed route stops matching
  EXPECT_EQ(s.hook_status("/b/x?CallSid=CA3"), 200);
  EXPECT_EQ(s.count("msg=\"reload done\""), 1u);

  s.p.signal(SIGTERM);
  EXPECT_EQ(s.p.wait_exit(), 0) << s.p.err();
}

TEST(operations, EveryBadReloadFileChangesNothingAndSaysWhyInOneLine) {
  const temp_dir dir;
  const app upstream;
  const std::string good = config_text(dir, upstream.port(), "token-one", "/a/");
  running s(dir, good);
  ASSERT_NE(s.api, 0) << s.p.err();
  const std::string twice =
      "\n[[account]]\nsid = \"" + std::string(account_sid) + "\"\nauth_token = \"other-token\"\n";
  dir.write("cert.pem", "-----BEGIN CERTIFICATE-----\nnot one\n-----END CERTIFICATE-----\n");
  ASSERT_EQ(std::system(("openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=one "
                         "-keyout " +
                         (dir / "k1.pem").string() + " -out " + (dir / "c1.pem").string() +
                         " 2>/dev/null && "
                         "openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=two "
                         "-keyout " +
                         (dir / "k2.pem").string() + " -out " + (dir / "c2.pem").string() +
                         " 2>/dev/null")
                            .c_str()),
            0);
  const struct {
    std::string name, text, problem;
  } cases[] = {
      {"unknown key", config_text(dir, upstream.port(), "token-two", "/b/", "", "bogus = 1"),
       "[proxy] bogus: unknown key"},
      {"wrong type",
       config_text(dir, upstream.port(), "token-two", "/b/", "", "connect_timeout = 5"),
       "[proxy] connect_timeout"},
      {"missing certificate",
       config_text(dir, upstream.port(), "token-two", "/b/", "",
                   "tls_cert = \"" + (dir / "none.pem").string() + "\"\ntls_key = \"" +
                       (dir / "k1.pem").string() + "\""),
       "tls_cert"},
      {"mismatched pair",
       config_text(dir, upstream.port(), "token-two", "/b/", "",
                   "tls_cert = \"" + (dir / "c1.pem").string() + "\"\ntls_key = \"" +
                       (dir / "k2.pem").string() + "\""),
       "does not match the certificate"},
      {"bad route URL",
       config_text(dir, upstream.port(), "token-two", "/b/") + "\n[[route]]\nprefix = \"/c/\"\n"
                                                               "upstream = \"ftp://x/\"\n",
       "[[route]] #2 upstream"},
      {"account twice", config_text(dir, upstream.port(), "token-two", "/b/", twice),
       "[[account]] #2"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    ASSERT_TRUE(s.reload(dir, c.text, "reload refused")) << s.p.err();
    const auto line_at = s.p.err().rfind("reload refused");
    const std::string line = s.p.err().substr(line_at, s.p.err().find('\n', line_at) - line_at);
    EXPECT_NE(line.find(c.problem), std::string::npos) << line;
    EXPECT_NE(line.find(s.file.string()), std::string::npos) << line;
    // The running configuration stays: the old token and route, not the file's new ones.
    EXPECT_EQ(s.list_status("token-one"), 200);
    EXPECT_EQ(s.list_status("token-two"), 401);
    EXPECT_EQ(s.hook_status("/a/x"), 200);
    EXPECT_EQ(s.hook_status("/b/x"), 404);
  }
  EXPECT_EQ(s.count("reload refused"), std::size(cases));
  EXPECT_EQ(s.count("reload done"), 0u);
  s.p.signal(SIGTERM);
  EXPECT_EQ(s.p.wait_exit(), 0) << s.p.err();
}

TEST(operations, TlsPairSwapsForNewConnectionsAndAMismatchKeepsTheOldPair) {
  const temp_dir dir;
  const app upstream;
  const auto gen = [&](const char* cn, const char* key, const char* cert) {
    return std::system(
        ("openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=" + std::string(cn) +
         " -keyout " + (dir / key).string() + " -out " + (dir / cert).string() + " 2>/dev/null")
            .c_str());
  };
  ASSERT_EQ(gen("one", "key.pem", "cert.pem"), 0);
  ASSERT_EQ(gen("two", "k2.pem", "c2.pem"), 0);
  const std::string tls = "tls_cert = \"" + (dir / "cert.pem").string() + "\"\ntls_key = \"" +
                          (dir / "key.pem").string() + "\"";
  const std::string text = config_text(dir, upstream.port(), "token-one", "/a/", "", tls);
  running s(dir, text);
  ASSERT_NE(s.proxy, 0) << s.p.err();
  const auto subject = [&] {
    const std::string cmd = "openssl s_client -connect 127.0.0.1:" + std::to_string(s.proxy) +
                            " </dev/null 2>/dev/null | openssl x509 -noout -subject 2>/dev/null";
    std::string out;
    if (FILE* f = ::popen(cmd.c_str(), "r")) {
      char buf[256];
      while (std::fgets(buf, sizeof buf, f)) out += buf;
      ::pclose(f);
    }
    return out;
  };
  EXPECT_NE(subject().find("CN = one"), std::string::npos);
  // A connection opened before the swap stays open and usable after it.
  const int kept = connect_to(s.proxy);
  ASSERT_GE(kept, 0);

  // The rotation tool has written the new key but not yet the new certificate: refused.
  std::filesystem::copy_file(dir / "k2.pem", dir / "key.pem",
                             std::filesystem::copy_options::overwrite_existing);
  ASSERT_TRUE(s.reload(dir, text, "reload refused")) << s.p.err();
  EXPECT_NE(s.p.err().find("does not match the certificate"), std::string::npos) << s.p.err();
  EXPECT_NE(subject().find("CN = one"), std::string::npos);  // the old pair still serves

  std::filesystem::copy_file(dir / "c2.pem", dir / "cert.pem",
                             std::filesystem::copy_options::overwrite_existing);
  ASSERT_TRUE(s.reload(dir, text, "reload done")) << s.p.err();
  EXPECT_NE(subject().find("CN = two"), std::string::npos);
  std::string out;
  EXPECT_TRUE(send_all(kept, "x"));  // not closed by the reload (the handshake is the client's)
  ::close(kept);
  s.p.signal(SIGTERM);
  EXPECT_EQ(s.p.wait_exit(), 0) << s.p.err();
}

TEST(operations, SettingsThatNeedARestartAreNamedAndKept) {
  const temp_dir dir;
  const app upstream;
  running s(dir, config_text(dir, upstream.port(), "token-one", "/a/"));
  ASSERT_NE(s.api, 0) << s.p.err();
  std::string moved = config_text(dir, upstream.port(), "token-two", "/a/", "", "threads = 3");
  moved = std::regex_replace(moved, std::regex(R"(path = "[^"]*")"),
                             "path = \"" + (dir / "elsewhere").string() + "\"");
  ASSERT_TRUE(s.reload(dir, moved, "reload done")) << s.p.err();
  EXPECT_NE(s.p.err().find("setting=\"[proxy] threads\""), std::string::npos) << s.p.err();
  EXPECT_NE(s.p.err().find("setting=\"[store] path\""), std::string::npos) << s.p.err();
  EXPECT_FALSE(std::filesystem::exists(dir / "elsewhere"));
  EXPECT_EQ(s.list_status("token-two"), 200);  // the rest of the file applies
  s.p.signal(SIGTERM);
  EXPECT_EQ(s.p.wait_exit(), 0) << s.p.err();
}

TEST(operations, FlagsKeepOverridingTheFileAcrossReloads) {
  const temp_dir dir;
  const app upstream;
  const auto file =
      dir.write("sidecar.toml", config_text(dir, upstream.port(), "token-one", "/a/"));
  process p(command({"--config", file.string(), "--log-level", "warn"}));
  // The file asks for debug and access lines (and a restart-only change, whose warning shows
  // that the reload ran); --log-level warn wins, before and after the reload.
  std::string text = config_text(dir, upstream.port(), "token-two", "/a/", "", "threads = 3");
  text.replace(text.find("access = true"), 13, "access = true\nlevel = \"debug\"");
  // The lock file is made after the signals are blocked: from then on a SIGHUP waits for the
  // signal thread (nothing logs at warn before it).
  auto deadline = clock::now() + default_wait;
  while (!std::filesystem::exists(dir / "data" / "sidecar.lock") && clock::now() < deadline) {
    ::poll(nullptr, 0, 10);
  }
  deadline = clock::now() + default_wait;
  bool reloaded = false;
  while (!reloaded && clock::now() < deadline) {
    dir.write("sidecar.toml", text);
    p.signal(SIGHUP);
    reloaded = p.wait_for_err(std::regex("setting=\"\\[proxy\\] threads\""),
                              std::chrono::milliseconds(500))
                   .has_value();
  }
  EXPECT_TRUE(reloaded) << p.err();
  p.signal(SIGTERM);
  EXPECT_EQ(p.wait_exit(), 0) << p.err();
  EXPECT_EQ(p.err().find("level=info"), std::string::npos) << p.err();
  EXPECT_EQ(p.err().find("level=debug"), std::string::npos) << p.err();
}

TEST(operations, ReloadsInARowAndDuringAReloadAllEndInTheLastFile) {
  const temp_dir dir;
  const app upstream;
  running s(dir, config_text(dir, upstream.port(), "token-one", "/a/"));
  ASSERT_NE(s.api, 0) << s.p.err();
  dir.write("sidecar.toml", config_text(dir, upstream.port(), "token-two", "/a/"));
  for (int i = 0; i < 20; ++i) s.p.signal(SIGHUP);
  // However the signals were folded, the last reload read the last file.
  const auto deadline = clock::now() + default_wait;
  while (clock::now() < deadline && s.list_status("token-two") != 200) ::poll(nullptr, 0, 20);
  EXPECT_EQ(s.list_status("token-two"), 200) << s.p.err();
  s.pump(std::chrono::milliseconds(300));
  EXPECT_GE(s.count("reload done"), 1u);
  EXPECT_EQ(s.count("reload refused"), 0u);
  s.p.signal(SIGTERM);
  EXPECT_EQ(s.p.wait_exit(), 0) << s.p.err();
}

TEST(operations, SighupDuringShutdownIsRefusedWithALineAndReadyTurns503) {
  const temp_dir dir;
  listener slow;
  std::promise<void> arrived;
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::jthread slow_app([&slow, &arrived, released] {
    const int fd = slow.accept();
    if (fd < 0) return arrived.set_value();
    std::string req;
    read_until(fd, req, "\r\n\r\n");
    arrived.set_value();
    released.wait_for(default_wait);
    send_all(fd, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
    std::string rest;
    read_until(fd, rest, "", std::chrono::seconds(5));
    ::close(fd);
  });
  running s(dir, config_text(dir, slow.port(), "token-one", "/"));
  ASSERT_NE(s.api, 0) << s.p.err();
  EXPECT_EQ(status_of(http_exchange(s.api, "GET", "/ready")), 200);
  std::string response;
  std::jthread client([&response, port = s.proxy] {
    response = http_exchange(port, "GET", "/slow?CallSid=CAslow");
  });
  ASSERT_EQ(arrived.get_future().wait_for(default_wait), std::future_status::ready);
  s.p.signal(SIGTERM);
  ASSERT_TRUE(s.p.wait_for_err(std::regex("shutting down"))) << s.p.err();
  EXPECT_EQ(status_of(http_exchange(s.api, "GET", "/ready")), 503);  // draining
  EXPECT_EQ(status_of(http_exchange(s.api, "GET", "/healthz")), 200);
  s.p.signal(SIGHUP);
  EXPECT_TRUE(s.p.wait_for_err(std::regex("reload refused: shutting down"))) << s.p.err();
  release.set_value();
  client.join();
  EXPECT_EQ(status_of(response), 200) << response;
  EXPECT_EQ(s.p.wait_exit(), 0) << s.p.err();
}

TEST(operations, CheckConfigSaysOkOrTheOneLineAndNeverTouchesTheDataDirectory) {
  const temp_dir dir;
  const app upstream;
  const std::string text = config_text(dir, upstream.port(), "token-one", "/a/");
  const auto file = dir.write("check.toml", text);
  {
    process ok(command({"--check-config", "--config", file.string()}));
    EXPECT_EQ(ok.wait_exit(), 0);
    EXPECT_EQ(ok.out(), "config ok\n");
    EXPECT_FALSE(std::filesystem::exists(dir / "data"));
  }
  {
    const auto fresh = dir / "fresh";
    process def(command({"--check-config", "--data-dir", fresh.string()}));
    EXPECT_EQ(def.wait_exit(), 0) << def.err();
    EXPECT_EQ(def.out(), "config ok\n");
    EXPECT_FALSE(std::filesystem::exists(fresh));  // no local account written
  }
  {
    const auto bad = dir.write("bad.toml", "[proxy]\nbogus = 1\n");
    process p(command({"--check-config", "--config", bad.string()}));
    EXPECT_EQ(p.wait_exit(), 2);
    EXPECT_EQ(p.err(), "trace-sidecar: " + bad.string() + ": [proxy] bogus: unknown key\n");
    EXPECT_EQ(p.out(), "");
  }
  {
    const auto unreadable = dir / "nope.toml";
    process p(command({"--check-config", "--config", unreadable.string()}));
    EXPECT_EQ(p.wait_exit(), 2);
    EXPECT_EQ(p.err(), "trace-sidecar: " + unreadable.string() +
                           ": cannot read it: No such file or directory\n");
  }
  // The file of a running sidecar, its data directory locked: the normal case.
  running s(dir, text);
  ASSERT_NE(s.api, 0) << s.p.err();
  process live(command({"--check-config", "--config", s.file.string()}));
  EXPECT_EQ(live.wait_exit(), 0) << live.err();
  EXPECT_EQ(live.out(), "config ok\n");
  s.p.signal(SIGTERM);
  EXPECT_EQ(s.p.wait_exit(), 0) << s.p.err();
}

TEST(operations, StatusNamesEachPartAndLogsExplainWhatWasNotRecorded) {
  const temp_dir dir;
  const app upstream;
  running s(dir, config_text(dir, upstream.port(), "token-one", "/a/"));
  ASSERT_NE(s.api, 0) << s.p.err();
  const std::string status = http_exchange(s.api, "GET", "/status");
  EXPECT_EQ(status_of(status), 200);
  for (const char* part : {"\"proxy\":{\"state\":\"ok\"", "\"store\":{\"state\":\"ok\"",
                           "\"cache\":{\"state\":\"ok\",\"enabled\":false",
                           "\"fleet\":{\"state\":\"ok\",\"enabled\":false"}) {
    EXPECT_NE(status.find(part), std::string::npos) << part << "\n" << status;
  }
  // A webhook for an unknown account: forwarded, not recorded, and said so.
  EXPECT_EQ(s.hook_status("/a/x?AccountSid=AC00000000000000000000000000000001&CallSid=CAx"), 200);
  EXPECT_TRUE(s.p.wait_for_err(
      std::regex("level=warn msg=\"records skipped\" reason=unknown_account count=1")))
      << s.p.err();
  EXPECT_TRUE(s.p.wait_for_err(std::regex(
      "msg=exchange trace=- why_none=unknown_account .*route=/a/ .*method=GET path=/x status=200")))
      << s.p.err();
  EXPECT_EQ(s.hook_status("/a/y?CallSid=CAy&AuthToken=secret"), 200);
  EXPECT_TRUE(s.p.wait_for_err(std::regex("msg=exchange trace=TR[0-9a-f]{32} why_none=- account=" +
                                          std::string(account_sid) + " .*path=/y status=200")))
      << s.p.err();
  EXPECT_EQ(s.p.err().find("secret"), std::string::npos) << "a query reached the log";
  EXPECT_EQ(s.list_status("wrong"), 401);
  EXPECT_TRUE(s.p.wait_for_err(
      std::regex("level=warn msg=\"api auth failed\".* user=" + std::string(account_sid))))
      << s.p.err();
  const std::string metrics = http_exchange(s.api, "GET", "/metrics");
  for (const char* name :
       {"sidecar_build_info{version=", "process_cpu_seconds_total ", "process_open_fds ",
        "process_resident_memory_bytes ", "process_start_time_seconds ",
        "sidecar_proxy_request_duration_seconds_count{direction=\"webhook\"} 2",
        "sidecar_api_request_duration_seconds_bucket"}) {
    EXPECT_NE(metrics.find(name), std::string::npos) << name;
  }
  s.p.signal(SIGTERM);
  EXPECT_EQ(s.p.wait_exit(), 0) << s.p.err();
}

}  // namespace
}  // namespace sidecar::testing_support
