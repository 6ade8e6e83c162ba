// The real trace-sidecar binary: config errors (one line, exit 2), --help/--version, its
// allocator, the embedded default and its local account, one sidecar per data directory, the
// README's tour (a webhook through the proxy read back from the API), and SIGTERM with an exchange
// in flight (it finishes, exit 0).
#include <gtest/gtest.h>

#include <future>
#include <regex>
#include <thread>

#include "tests/common/temp_dir.hpp"
#include "tests/integration/harness.hpp"

namespace sidecar::testing_support {
namespace {

const std::regex listening_line(R"(msg=listening proxy=127\.0\.0\.1:(\d+) api=127\.0\.0\.1:(\d+))");

std::vector<std::string> command(std::vector<std::string> args) {
  args.insert(args.begin(), SIDECAR_BINARY);
  return args;
}

std::uint16_t port_of(const std::vector<std::string>& m, int group) {
  return static_cast<std::uint16_t>(std::stoi(m.at(static_cast<std::size_t>(group))));
}

/// A config file with both listeners on free ports, the data under `dir`, one account with
/// traces, and one route to `upstream_port`.
std::filesystem::path write_config(const temp_dir& dir, std::uint16_t upstream_port) {
  return dir.write("sidecar.toml", R"(
[proxy]
listen = "127.0.0.1:0"
drain_timeout = "10s"

[api]
listen = "127.0.0.1:0"

[store]
path = ")" + (dir / "data").string() + R"("

[cache]
enabled = false

[[account]]
sid = "ACae6e420f425248d6a26948c17a9e2acf"
auth_token = "integration-test-token"
traces = true

[[route]]
prefix = "/"
upstream = "http://127.0.0.1:)" + std::to_string(upstream_port) +
                                       R"(/"
account = "ACae6e420f425248d6a26948c17a9e2acf"
)");
}

TEST(sidecar_binary, BadConfigPrintsOneLineNamingTheKeyAndExitsTwo) {
  const temp_dir dir;
  const auto bad = dir.write("bad.toml", "[proxy]\nconnect_timeout = \"5 parsecs\"\n");
  process p(command({"--config", bad.string()}));
  EXPECT_EQ(p.wait_exit(), 2);
  EXPECT_EQ(p.err(), "trace-sidecar: " + bad.string() +
                         ": [proxy] connect_timeout: \"5 parsecs\" is not a duration (use e.g. "
                         "\"90s\", \"15m\", \"48h\", \"2d\")\n");
  EXPECT_EQ(p.out(), "");
}

TEST(sidecar_binary, MissingConfigFileAndUnknownFlagExitTwo) {
  const temp_dir dir;
  process missing(command({"--config=" + (dir / "nope.toml").string()}));
  EXPECT_EQ(missing.wait_exit(), 2);
  EXPECT_EQ(missing.err(), "trace-sidecar: " + (dir / "nope.toml").string() +
                               ": cannot read it: No such file or directory\n");
  process unknown(command({"--frobnicate"}));
  EXPECT_EQ(unknown.wait_exit(), 2);
  EXPECT_EQ(unknown.err(),
            "trace-sidecar: command line: unknown option \"--frobnicate\" (see --help)\n");
}

TEST(sidecar_binary, HelpAndVersionExitZero) {
  process help(command({"--help"}));
  EXPECT_EQ(help.wait_exit(), 0);
  EXPECT_NE(help.out().find("Usage: trace-sidecar"), std::string::npos) << help.out();
  EXPECT_NE(help.out().find("--proxy-listen"), std::string::npos);
  process version(command({"--version"}));
  EXPECT_EQ(version.wait_exit(), 0);
  EXPECT_TRUE(std::regex_match(version.out(), std::regex(R"(trace-sidecar \d+\.\d+\.\d+\n)")))
      << version.out();
}

TEST(sidecar_binary, ItsMallocIsJemallocOutsideTheSanitizerBuilds) {
  // docs/store.md, "The allocator". jemalloc prints its statistics at exit when MALLOC_CONF
  // asks; glibc's malloc and the sanitizers' ignore that variable.
  process p({"/usr/bin/env", "MALLOC_CONF=stats_print:true", SIDECAR_BINARY, "--version"});
  EXPECT_EQ(p.wait_exit(), 0);
  const bool jemalloc = p.err().find("Begin jemalloc statistics") != std::string::npos;
  EXPECT_EQ(jemalloc, SIDECAR_JEMALLOC_LINKED == 1) << p.err().substr(0, 400);
}

TEST(sidecar_binary, EmbeddedDefaultPrintsTheSidAndTheFileButNeverTheToken) {
  const temp_dir dir;
  const auto data = dir / "trace-data";
  process p(command({"--data-dir", data.string(), "--proxy-listen", "127.0.0.1:0", "--api-listen",
                     "127.0.0.1:0"}));
  const auto m = p.wait_for_err(listening_line);
  ASSERT_TRUE(m) << p.err();
  EXPECT_NE(port_of(*m, 1), 0);
  EXPECT_NE(port_of(*m, 2), 0);

  const std::string file = read_file(data / "local-account.toml");
  std::smatch sid;
  ASSERT_TRUE(std::regex_search(file, sid, std::regex(R"re(sid = "(AC[0-9a-f]{32})")re"))) << file;
  std::smatch token;
  ASSERT_TRUE(std::regex_search(file, token, std::regex(R"re(auth_token = "([0-9a-f]{32,})")re")));
  EXPECT_NE(p.err().find("sid=" + sid[1].str()), std::string::npos) << p.err();
  EXPECT_NE(p.err().find((data / "local-account.toml").string()), std::string::npos) << p.err();

  p.signal(SIGTERM);
  EXPECT_EQ(p.wait_exit(), 0) << p.err();
  EXPECT_EQ(p.err().find(token[1].str()), std::string::npos) << "the token was logged";
  EXPECT_EQ(p.out().find(token[1].str()), std::string::npos) << "the token was printed";
}

TEST(sidecar_binary, SecondSidecarOnTheSameDataDirectoryIsRefused) {
  const temp_dir dir;
  const listener upstream;
  const auto config = write_config(dir, upstream.port());
  process first(command({"--config", config.string()}));
  ASSERT_TRUE(first.wait_for_err(listening_line)) << first.err();

  process second(command({"--config", config.string()}));
  EXPECT_EQ(second.wait_exit(), 2);
  EXPECT_EQ(second.err(), "trace-sidecar: data directory \"" + (dir / "data").string() +
                              "\" is in use by another trace-sidecar (pid " +
                              std::to_string(first.pid()) +
                              "): run one sidecar per data directory\n");

  first.signal(SIGINT);
  EXPECT_EQ(first.wait_exit(), 0) << first.err();
}

TEST(sidecar_binary, ATakenListenAddressIsOneLineNamingTheFlagAndNothingIsStarted) {
  const temp_dir dir;
  const listener taken;  // holds a port
  const auto data = dir / "fresh";
  const std::string at = "127.0.0.1:" + std::to_string(taken.port());
  process p(command({"--data-dir", data.string(), "--proxy-listen", "127.0.0.1:0",
                     "--api-listen", at}));
  EXPECT_EQ(p.wait_exit(), 2);
  EXPECT_EQ(p.err(), "trace-sidecar: command line: --api-listen: cannot listen on " + at +
                         ": Address already in use\n");
  // Refused before the store, the cache or the data directory's lock were made.
  EXPECT_FALSE(std::filesystem::exists(data / "db"));
  EXPECT_FALSE(std::filesystem::exists(data / "media"));
  EXPECT_FALSE(std::filesystem::exists(data / "sidecar.lock"));

  const auto config = write_config(dir, taken.port());
  const std::string text = read_file(config);
  const auto file = dir.write("taken.toml", std::regex_replace(text, std::regex(R"(\[proxy\]\nlisten = "127.0.0.1:0")"),
                                                              "[proxy]\nlisten = \"" + at + "\""));
  process q(command({"--config", file.string()}));
  EXPECT_EQ(q.wait_exit(), 2);
  EXPECT_EQ(q.err(), "trace-sidecar: " + file.string() + ": [proxy] listen: cannot listen on " +
                         at + ": Address already in use\n");
}

TEST(sidecar_binary, WebhookThroughTheProxyIsReadBackFromTheApi) {
  const temp_dir dir;
  const listener upstream;
  // The app: answers one request with a small RCML document.
  std::jthread app([&upstream] {
    const int fd = upstream.accept();
    if (fd < 0) return;
    std::string req;
    read_until(fd, req, "\r\n\r\n");
    send_all(fd,
             "HTTP/1.1 200 OK\r\nContent-Type: application/xml\r\nContent-Length: 43\r\n\r\n"
             "<Response><Say>hello world</Say></Response>");
    std::string rest;
    read_until(fd, rest, "", std::chrono::seconds(5));  // until the proxy closes or gives up
    ::close(fd);
  });
  process p(command({"--data-dir", (dir / "d").string(), "--proxy-listen", "127.0.0.1:0",
                     "--api-listen", "127.0.0.1:0", "--upstream",
                     "http://127.0.0.1:" + std::to_string(upstream.port()) + "/"}));
  const auto m = p.wait_for_err(listening_line);
  ASSERT_TRUE(m) << p.err();
  const std::uint16_t proxy = port_of(*m, 1);
  const std::uint16_t api = port_of(*m, 2);
  const std::string file = read_file(dir / "d" / "local-account.toml");
  std::smatch sid;
  std::smatch token;
  ASSERT_TRUE(std::regex_search(file, sid, std::regex(R"re(sid = "(AC[0-9a-f]{32})")re")));
  ASSERT_TRUE(std::regex_search(file, token, std::regex(R"re(auth_token = "([^"]+)")re")));

  const std::string hook =
      http_exchange(proxy, "GET", "/voice?AccountSid=" + sid[1].str() + "&CallSid=CA123");
  EXPECT_EQ(status_of(hook), 200) << hook;
  EXPECT_EQ(body_of(hook), "<Response><Say>hello world</Say></Response>");

  // Records are written off the request path: poll the API until it shows up.
  const std::string auth =
      "Authorization: Basic " + base64(sid[1].str() + ":" + token[1].str()) + "\r\n";
  const std::regex one_trace(R"("total"\s*:\s*1\b)");
  std::string list;
  const auto deadline = clock::now() + default_wait;
  while (clock::now() < deadline) {
    list = http_exchange(api, "GET", "/2012-04-24/Accounts/" + sid[1].str() + "/Traces.json", auth);
    if (std::regex_search(list, one_trace)) break;
    ::poll(nullptr, 0, 20);
  }
  EXPECT_EQ(status_of(list), 200) << list;
  EXPECT_TRUE(std::regex_search(list, one_trace)) << list;
  EXPECT_NE(list.find("hello world"), std::string::npos) << list;
  EXPECT_NE(list.find("CA123"), std::string::npos) << list;

  // Without credentials: 401.
  EXPECT_EQ(
      status_of(http_exchange(api, "GET", "/2012-04-24/Accounts/" + sid[1].str() + "/Traces")),
      401);
  p.signal(SIGTERM);
  EXPECT_EQ(p.wait_exit(), 0) << p.err();
}

TEST(sidecar_binary, SigtermLetsAnExchangeInFlightFinishAndExitsZero) {
  const temp_dir dir;
  const listener upstream;
  std::promise<void> request_arrived;
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  // A slow app: sends the head and half of the body, then waits to be released.
  std::jthread app([&upstream, &request_arrived, released] {
    const int fd = upstream.accept();
    if (fd < 0) {
      request_arrived.set_value();
      return;
    }
    std::string req;
    read_until(fd, req, "\r\n\r\n");
    send_all(fd, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 10\r\n\r\nhello");
    request_arrived.set_value();
    released.wait_for(default_wait);
    send_all(fd, "world");
    std::string rest;
    read_until(fd, rest, "", std::chrono::seconds(5));
    ::close(fd);
  });
  const auto config = write_config(dir, upstream.port());
  process p(command({"--config", config.string()}));
  const auto m = p.wait_for_err(listening_line);
  ASSERT_TRUE(m) << p.err();
  const std::uint16_t proxy_port = port_of(*m, 1);

  // The client runs on its own thread: its response completes only after the SIGTERM.
  std::string response;
  std::jthread client([&response, proxy = proxy_port] {
    response = http_exchange(proxy, "GET",
                             "/slow?AccountSid=ACae6e420f425248d6a26948c17a9e2acf&CallSid=CAslow");
  });
  ASSERT_EQ(request_arrived.get_future().wait_for(default_wait), std::future_status::ready);

  p.signal(SIGTERM);
  const bool shutting_down = p.wait_for_err(std::regex("shutting down")).has_value();
  release.set_value();
  client.join();
  EXPECT_TRUE(shutting_down) << p.err();
  EXPECT_EQ(status_of(response), 200) << response;
  EXPECT_EQ(body_of(response), "helloworld") << response;
  EXPECT_EQ(p.wait_exit(), 0) << p.err();
  EXPECT_NE(p.err().find("msg=stopped"), std::string::npos) << p.err();

  // A new connection after the stop finds nobody listening.
  EXPECT_EQ(connect_to(proxy_port), -1);
}

}  // namespace
}  // namespace sidecar::testing_support
