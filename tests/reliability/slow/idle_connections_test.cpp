// 10 000 idle keep-alive connections, opened by a separate client process, held by the real
// trace-sidecar with an RSS of at most 256 MiB (issue 8; labelled slow: it takes a while).
#include <gtest/gtest.h>

#include "tests/reliability/reliability.hpp"

namespace sidecar::testing_support {
namespace {

// The helper that holds the connections: a separate python3 process, so that its sockets do
// not count against the test's own limits or memory.
constexpr std::string_view idle_client = R"PY(
import resource, socket, sys
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
port, count = int(sys.argv[1]), int(sys.argv[2])
conns = []
req = b"GET /idle HTTP/1.1\r\nHost: x\r\n\r\n"
for i in range(count):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(req)
    got = b""
    while not got.endswith(b"ok"):
        chunk = s.recv(4096)
        if not chunk:
            sys.exit("connection %d closed" % i)
        got += chunk
    conns.append(s)
open(sys.argv[3], "w").write("ready %d\n" % len(conns))
sys.stdin.read()
)PY";

TEST(abuse_slow, TenThousandIdleKeepAliveConnectionsFitIn256MiB) {
  constexpr int count = 10000;
  if (raise_file_limit() < count + 100) GTEST_SKIP() << "the hard open-file limit is below 10 100";
  const temp_dir dir;
  test_upstream app;
  config_text c;
  c.proxy = "max_connections = 12000\nidle_timeout = \"300s\"\n";
  c.log = "level = \"info\"\n";
  auto s = start_sidecar(dir, c, app.port());
  ASSERT_TRUE(s->started()) << s->log();

  const auto script = dir.write("idle.py", idle_client);
  const auto ready_file = dir / "ready";
  // popen gives us the helper's stdin: it holds its connections until we close it.
  const std::string cmd = "exec python3 " + script.string() + " " +
                          std::to_string(s->proxy_port()) + " " + std::to_string(count) + " " +
                          ready_file.string();
  std::FILE* helper = ::popen(cmd.c_str(), "w");
  ASSERT_NE(helper, nullptr);
  const bool ready =
      poll_until([&] { return std::filesystem::exists(ready_file); }, std::chrono::seconds(300));
  const double open = s->metric("sidecar_proxy_connections");
  const std::uint64_t rss = rss_bytes(s->proc().pid());
  // Still serving while it holds them.
  client_connection probe(s->proxy_port());
  const int probe_status = probe.request("GET", "/probe");
  ::pclose(helper);

  ASSERT_TRUE(ready) << "the helper did not open its connections";
  std::printf("[ figures  ] %d idle keep-alive connections: sidecar RSS %.1f MiB\n", count,
              static_cast<double>(rss) / (1024.0 * 1024.0));
  RecordProperty("idle_connections_rss_bytes", std::to_string(rss));
  EXPECT_GE(open, count);
  EXPECT_GT(rss, 0u);
  EXPECT_LE(rss, 256ull << 20);
  EXPECT_EQ(probe_status, 200);
  EXPECT_EQ(s->terminate(std::chrono::seconds(60)), 0) << s->log().substr(0, 2000);
}

}  // namespace
}  // namespace sidecar::testing_support
