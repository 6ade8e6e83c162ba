// Hardening through the real binary (docs/reliability.md, "Smuggling and framing tools"): an h2c
// upgrade never opens a tunnel, a dot-segment never climbs out of a route, a chunked body with
// bare-LF lines is answered at once on both listeners, a Content-Length of 2^63 is refused,
// and [proxy] upgrades = ["h2c"] stops startup.
#include <gtest/gtest.h>

#include <mutex>

#include "tests/reliability/reliability.hpp"

namespace sidecar::testing_support {
namespace {

// Sends raw bytes and reads what comes back within `limit` (the connection is left to close).
std::string raw_exchange(std::uint16_t port, std::string_view bytes,
                         clock::duration limit = std::chrono::seconds(5)) {
  const int fd = connect_to(port);
  std::string got;
  if (fd >= 0 && send_all(fd, bytes)) read_until(fd, got, "\r\n\r\n", limit);
  if (fd >= 0) ::close(fd);
  return got;
}

// An upstream that switches to h2c when asked (101), and otherwise answers 200 with the
// request's head in its body so that the test sees what arrived.
struct h2c_app {
  std::mutex mu;
  std::vector<std::string> heads;
  test_upstream server{[this](int fd) {
    std::string buf;
    while (const auto h = read_request_head(fd, buf, std::chrono::seconds(30))) {
      {
        std::lock_guard lock(mu);
        heads.push_back(h->head);
      }
      if (h->head.find("Upgrade: h2c") != std::string::npos) {
        send_all(fd,
                 "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n");
        return;
      }
      send_all(fd, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
    }
  }};
};

TEST(hardening, H2cUpgradeGoesUpstreamAsPlainHttp11AndIsRecorded) {
  const temp_dir dir;
  h2c_app app;
  config_text c;
  c.proxy = "upgrades = [\"websocket\"]\n";
  auto s = start_sidecar(dir, c, app.server.port());
  ASSERT_TRUE(s->started()) << s->log();
  const std::string r = raw_exchange(
      s->proxy_port(),
      "GET /public/?CallSid=CAh2c HTTP/1.1\r\nHost: a\r\nConnection: Upgrade, HTTP2-Settings\r\n"
      "Upgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n");
  EXPECT_EQ(status_of(r), 200) << r;
  {
    std::lock_guard lock(app.mu);
    ASSERT_EQ(app.heads.size(), 1u);
    EXPECT_EQ(app.heads[0].find("Upgrade"), std::string::npos) << app.heads[0];
    EXPECT_EQ(app.heads[0].find("HTTP2-Settings"), std::string::npos) << app.heads[0];
  }
  EXPECT_EQ(s->wait_for_traces(1), 1);
  EXPECT_EQ(s->terminate(), 0) << s->log();
}

TEST(hardening, DotSegmentsClimbingOutOfARouteAre400) {
  const temp_dir dir;
  test_upstream app;
  config_text c;
  c.tail = "[[account]]\nsid = \"" + std::string(account_sid) + "\"\nauth_token = \"" +
           std::string(account_token) +
           "\"\ntraces = true\n\n[[route]]\nprefix = \"/pub/\"\n"
           "upstream = \"http://127.0.0.1:" +
           std::to_string(app.port()) + "/static/\"\n";
  auto s = start_sidecar(dir, c, app.port());
  ASSERT_TRUE(s->started()) << s->log();
  for (const std::string target :
       {"/pub/../ret200", "/pub/%2e%2e/ret200", "/pub/..%2fret200", "/pub/.%2e/ret200"}) {
    EXPECT_EQ(status_of(http_exchange(s->proxy_port(), "GET", target)), 400) << target;
  }
  EXPECT_EQ(app.connections(), 0);
  EXPECT_EQ(status_of(http_exchange(s->proxy_port(), "GET", "/pub/a/../b")), 200);
  EXPECT_EQ(s->terminate(), 0) << s->log();
}

TEST(hardening, BareLfChunkLinesAnd2To63LengthsAre400AtOnceOnBothListeners) {
  const temp_dir dir;
  test_upstream app;
  auto s = start_sidecar(dir, {}, app.port());  // idle_timeout is the default 60 s
  ASSERT_TRUE(s->started()) << s->log();
  const std::string bare_lf =
      "POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\nhello\n0\n\n";
  EXPECT_EQ(status_of(raw_exchange(s->proxy_port(), bare_lf)), 400);
  EXPECT_EQ(status_of(raw_exchange(s->api_port(), bare_lf)), 400);
  const std::string huge =
      "POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 9223372036854775808\r\n\r\nab";
  EXPECT_EQ(status_of(raw_exchange(s->proxy_port(), huge)), 400);
  EXPECT_EQ(s->terminate(), 0) << s->log();
}

TEST(hardening, H2cInUpgradesStopsStartup) {
  const temp_dir dir;
  config_text c;
  c.proxy = "upgrades = [\"websocket\", \"h2c\"]\n";
  const auto file = dir.write("sidecar.toml", c.render(dir / "data", 9));
  process p({SIDECAR_BINARY, "--config", file.string()});
  EXPECT_EQ(p.wait_exit(), 2) << p.err();
  EXPECT_EQ(p.err(), "trace-sidecar: " + file.string() +
                         ": [proxy] upgrades: \"h2c\" is never forwarded (docs/proxy.md)\n");
}

}  // namespace
}  // namespace sidecar::testing_support
