// Abuse, through the real binary: slowloris cut off by header_timeout, max_connections
// enforced, oversized heads (431) and targets (414), the API's PageSize and query length
// bounded. (10 000 idle connections: slow/idle_connections_test.cpp.)
#include <gtest/gtest.h>

#include "tests/reliability/reliability.hpp"

namespace sidecar::testing_support {
namespace {

TEST(abuse, SlowlorisDrippingHeadersIsCutOffByHeaderTimeout) {
  const temp_dir dir;
  test_upstream app;
  config_text c;
  c.proxy = "header_timeout = \"2s\"\n";
  auto s = start_sidecar(dir, c, app.port());
  ASSERT_TRUE(s->started()) << s->log();

  const int fd = connect_to(s->proxy_port());
  ASSERT_GE(fd, 0);
  // 40 bytes at one every 500 ms would take 20 s: the sidecar must hang up long before.
  const std::string head = "GET /drip HTTP/1.1\r\nHost: x\r\nX-Slow: 1234567\r\n\r\n";
  std::size_t sent = 0;
  bool closed = false;
  for (; sent < head.size() && !closed; ++sent) {
    if (!send_all(fd, head.substr(sent, 1))) {
      closed = true;
      break;
    }
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 500) == 1) {
      char b[256];
      if (::recv(fd, b, sizeof b, 0) <= 0) closed = true;
    }
  }
  ::close(fd);
  EXPECT_TRUE(closed) << "the whole dripped head was accepted";
  EXPECT_LT(sent, head.size());
  EXPECT_EQ(app.connections(), 0) << "a dripped head reached the upstream";
  EXPECT_EQ(s->terminate(), 0) << s->log();
}

TEST(abuse, MaxConnectionsIsEnforcedAndFreedSlotsAreReused) {
  const temp_dir dir;
  test_upstream app;
  config_text c;
  c.proxy = "max_connections = 8\n";
  auto s = start_sidecar(dir, c, app.port());
  ASSERT_TRUE(s->started()) << s->log();

  std::vector<std::unique_ptr<client_connection>> held;
  for (int i = 0; i < 8; ++i) {
    held.push_back(std::make_unique<client_connection>(s->proxy_port()));
    ASSERT_EQ(held.back()->request("GET", "/held"), 200);
  }
  ASSERT_TRUE(poll_until([&] { return s->metric("sidecar_proxy_connections") == 8; }));

  // The ninth is answered 503 and closed, without reaching the upstream.
  const int before = app.connections();
  const std::string refused = http_exchange(s->proxy_port(), "GET", "/ninth");
  EXPECT_EQ(status_of(refused), 503) << refused;

  held.pop_back();
  ASSERT_TRUE(poll_until([&] { return s->metric("sidecar_proxy_connections") == 7; }));
  client_connection late(s->proxy_port());
  EXPECT_EQ(late.request("GET", "/late"), 200);
  EXPECT_LE(app.connections() - before, 1);
  EXPECT_EQ(s->terminate(), 0) << s->log();
}

TEST(abuse, OversizedHeadIs431AndOversizedTargetIs414) {
  const temp_dir dir;
  test_upstream app;
  config_text c;
  c.proxy = "max_header_bytes = \"8KiB\"\n";
  auto s = start_sidecar(dir, c, app.port());
  ASSERT_TRUE(s->started()) << s->log();

  const std::string big_header = "X-Big: " + std::string(16 * 1024, 'h') + "\r\n";
  const std::string r431 = http_exchange(s->proxy_port(), "GET", "/big", big_header);
  EXPECT_EQ(status_of(r431), 431) << r431.substr(0, 200);
  const std::string r414 = http_exchange(s->proxy_port(), "GET", "/" + std::string(16 * 1024, 't'));
  EXPECT_EQ(status_of(r414), 414) << r414.substr(0, 200);
  // Many small headers add up the same way.
  std::string many;
  for (int i = 0; i < 1000; ++i) many += "X-H" + std::to_string(i) + ": v\r\n";
  EXPECT_EQ(status_of(http_exchange(s->proxy_port(), "GET", "/many", many)), 431);
  EXPECT_EQ(app.connections(), 0) << "an oversized head reached the upstream";
  // Local answers are counted, not recorded.
  client_connection ok(s->proxy_port());
  EXPECT_EQ(ok.request("GET", "/fine?CallSid=CAfine"), 200);
  EXPECT_EQ(s->wait_for_traces(1), 1);
  EXPECT_EQ(s->trace_total(), 1);
  EXPECT_EQ(s->terminate(), 0) << s->log();
}

TEST(abuse, ApiPageSizeAndQueryLengthAreBounded) {
  const temp_dir dir;
  test_upstream app;
  auto s = start_sidecar(dir, {}, app.port());
  ASSERT_TRUE(s->started()) << s->log();
  const std::string list = "/2012-04-24/Accounts/" + std::string(account_sid) + "/Traces.json";

  EXPECT_EQ(status_of(s->api_get(list + "?PageSize=1000")), 200);
  for (const std::string bad : {"1001", "0", "-1", "99999999999999999999", "1e3"}) {
    const std::string r = s->api_get(list + "?PageSize=" + bad);
    EXPECT_EQ(status_of(r), 400) << "PageSize=" << bad << ": " << r;
  }
  EXPECT_EQ(status_of(s->api_get(list + "?Page=99999999999999999999999")), 400);

  // A query string bigger than the API's head limit (16 KiB) is refused before any work;
  // the listener keeps serving.
  const std::string long_query = list + "?ResponseBody=" + std::string(64 * 1024, 'q');
  const int status = status_of(s->api_get(long_query));
  EXPECT_TRUE(status == 414 || status == 431) << status;
  EXPECT_EQ(status_of(s->api_get(list)), 200);
  EXPECT_EQ(s->terminate(), 0) << s->log();
}

}  // namespace
}  // namespace sidecar::testing_support
