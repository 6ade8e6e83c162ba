// The fleet as it runs: two clickhouse-server processes form a two-shard cluster (a
// Distributed table over each server's local table, sharded by account), and three real
// trace-sidecar binaries record webhooks and ship them. One query through any sidecar sees
// all three nodes' records with exact totals; a purge through one is gone through every other;
// a replay is refused with 409 naming the node that holds the record; a shard stopped gives
// 503, then recovery. Then
// the sidecar killed with kill -9 mid-shipping: after its restart every record it committed
// is in ClickHouse, once in answers.
#include <gtest/gtest.h>

#include <regex>

#include "tests/common/temp_dir.hpp"
#include "tests/fleet/clickhouse_server.hpp"
#include "tests/integration/harness.hpp"

namespace sidecar::testing_support {
namespace {

using fleet::testing::clickhouse_installed;
using fleet::testing::clickhouse_server;
using fleet::testing::free_port;

/// Polls `done` every 50 ms for up to a minute.
template <class F>
bool eventually_true(F&& done) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    ::poll(nullptr, 0, 50);
  }
  return done();
}

const std::regex listening_line(R"(msg=listening proxy=127\.0\.0\.1:(\d+) api=127\.0\.0\.1:(\d+))");
const std::string account_a = "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const std::string account_b = "ACcccccccccccccccccccccccccccccccc";  // on the other shard
const std::string admin = "ACeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee";

/// The tables of docs/fleet.md's cluster, without replication (one replica per shard).
void create_cluster_tables(clickhouse_server& ch) {
  const std::string columns =
      "(day Date, sid String, created_ms Int64, account_sid String, org_sid String, "
      "session_sid String, node String, completed UInt8, api UInt8, latency_ms Int64, "
      "response_code String, method String, request_path String, request_url String, "
      "request_body String, response_body String, json String)";
  for (const std::string& sql :
       {std::string("CREATE DATABASE IF NOT EXISTS traces"),
        "CREATE TABLE traces.traces_local " + columns +
            " ENGINE = ReplacingMergeTree() PARTITION BY day ORDER BY (account_sid, sid)",
        std::string("CREATE TABLE traces.traces AS traces.traces_local ENGINE = "
                    "Distributed(fleet, traces, traces_local, cityHash64(account_sid))"),
        std::string("CREATE TABLE traces.traces_local_purged (day Date, sid String, "
                    "account_sid String, purged_ms Int64) ENGINE = ReplacingMergeTree() "
                    "PARTITION BY day ORDER BY sid"),
        std::string("CREATE TABLE traces.traces_purged AS traces.traces_local_purged ENGINE "
                    "= Distributed(fleet, traces, traces_local_purged, "
                    "cityHash64(account_sid))")}) {
    ASSERT_EQ(ch.query(sql), "") << sql;
  }
}

struct sidecar_node {
  std::unique_ptr<process> proc;
  std::uint16_t proxy = 0;
  std::uint16_t api = 0;
};

class cluster_test : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!clickhouse_installed()) GTEST_SKIP() << "clickhouse-server is not installed";
    const std::vector<std::uint16_t> shards{ch1_.tcp_port(), ch2_.tcp_port()};
    ch1_.start(shards);
    ch2_.start(shards);
    create_cluster_tables(ch1_);
    create_cluster_tables(ch2_);
  }

  /// A sidecar config: webhooks to a port nobody listens on (each is recorded as a 502),
  /// attributed by their AccountSid; [fleet] on the cluster through `entry`.
  std::filesystem::path write_config(const std::string& node, const clickhouse_server& entry,
                                     bool query) {
    return dir_.write(node + ".toml", R"(
[proxy]
listen = "127.0.0.1:0"
[api]
listen = "127.0.0.1:0"
[store]
path = ")" + (dir_ / node).string() + R"("
[cache]
enabled = false
[fleet]
clickhouse = ")" + entry.url() + R"("
table = "traces"
local_table = "traces_local"
shards = [")" + ch1_.url() + R"(", ")" + ch2_.url() +
                                          R"("]
node = ")" + node + R"("
query = )" + (query ? "true" : "false") + R"(
batch_records = 100
batch_interval = "100ms"
timeout = "3s"
[[account]]
sid = ")" + account_a + R"("
auth_token = "token-a"
traces = true
[[account]]
sid = ")" + account_b + R"("
auth_token = "token-b"
traces = true
[[account]]
sid = ")" + admin + R"("
auth_token = "token-admin"
traces = true
role = "administrator"
[[route]]
prefix = "/"
upstream = "http://127.0.0.1:)" + std::to_string(closed_port_) +
                                          R"(/"
)");
  }

  sidecar_node start(const std::string& node, const clickhouse_server& entry, bool query = true) {
    sidecar_node n;
    n.proc = std::make_unique<process>(std::vector<std::string>{
        SIDECAR_BINARY, "--config", write_config(node, entry, query).string()});
    const auto m = n.proc->wait_for_err(listening_line);
    EXPECT_TRUE(m) << n.proc->err();
    if (!m) return n;
    n.proxy = static_cast<std::uint16_t>(std::stoi((*m)[1]));
    n.api = static_cast<std::uint16_t>(std::stoi((*m)[2]));
    return n;
  }

  /// `n` webhooks through a sidecar, alternating accounts; each answered 502 and recorded.
  void send(const sidecar_node& s, int n, const std::string& tag) {
    for (int i = 0; i < n; ++i) {
      const auto& account = i % 2 == 0 ? account_a : account_b;
      const auto r = http_exchange(
          s.proxy, "GET",
          "/hook?AccountSid=" + account + "&CallSid=CA" + tag + std::to_string(i % 5));
      ASSERT_EQ(status_of(r), 502) << r;
    }
  }

  static std::string list(std::uint16_t api, const std::string& account, const std::string& token,
                          const std::string& query = "") {
    return http_exchange(api, "GET", "/2012-04-24/Accounts/" + account + "/Traces.json" + query,
                         "Authorization: Basic " + base64(account + ":" + token) + "\r\n");
  }

  static std::int64_t total_of(const std::string& answer) {
    static const std::regex total(R"("total":(\d+))");
    std::smatch m;
    return std::regex_search(answer, m, total) ? std::stoll(m[1]) : -1;
  }

  std::int64_t stored_once() {
    const auto s = ch1_.query("SELECT uniqExact(sid) FROM traces.traces");
    return s.rfind("ERROR", 0) == 0 ? -1 : std::stoll(s);
  }

  temp_dir dir_;
  clickhouse_server ch1_;
  clickhouse_server ch2_;
  std::uint16_t closed_port_ = free_port();
};

TEST_F(cluster_test, OneQueryThroughAnySidecarSeesEveryNodeThenAShardDownIs503) {
  auto n1 = start("node-1", ch1_);
  auto n2 = start("node-2", ch1_);
  auto n3 = start("node-3", ch2_);
  ASSERT_TRUE(n1.api && n2.api && n3.api);
  send(n1, 30, "x");
  send(n2, 20, "y");
  send(n3, 10, "z");
  // Records are shipped off the request path: poll until every node's are in.
  ASSERT_TRUE(eventually_true([&] { return stored_once() == 60; })) << stored_once();
  // Both shards hold some: sharded by account.
  EXPECT_NE(ch1_.query("SELECT count() FROM traces.traces_local"), "0\n");
  EXPECT_NE(ch2_.query("SELECT count() FROM traces.traces_local"), "0\n");

  for (const auto* s : {&n1, &n2, &n3}) {
    const auto all = list(s->api, admin, "token-admin", "?PageSize=1000");
    // The admin's path account has no records of its own; its list holds its subtree only.
    EXPECT_EQ(status_of(all), 200) << all;
    const auto a = list(s->api, account_a, "token-a", "?PageSize=1000");
    EXPECT_EQ(total_of(a), 30) << a;
    for (const std::string node : {"node-1", "node-2", "node-3"}) {
      EXPECT_NE(a.find("\"node\":\"" + node + "\""), std::string::npos) << node;
    }
    const auto b = list(s->api, account_b, "token-b", "?PageSize=7&Page=4");
    EXPECT_EQ(total_of(b), 30) << b;
    EXPECT_NE(b.find(R"("num_pages":4)"), std::string::npos) << b;
    EXPECT_NE(b.find(R"("end":"30")"), std::string::npos) << b;
    const auto session = list(s->api, account_a, "token-a", "?SessionSid=CAz0");
    EXPECT_EQ(total_of(session), 1) << session;  // node-3's i = 0 only
  }
  // The same answer through every sidecar, byte for byte.
  EXPECT_EQ(body_of(list(n1.api, account_a, "token-a", "?PageSize=13&Page=1")),
            body_of(list(n3.api, account_a, "token-a", "?PageSize=13&Page=1")));

  // Purges through one sidecar are gone through every other (whichever server they enter
  // by) at once, and a retried batch does not bring them back.
  const auto by_session = http_exchange(
      n1.api, "DELETE", "/2012-04-24/Accounts/" + account_b + "/Traces?SessionSid=CAy1",
      "Authorization: Basic " + base64(account_b + ":token-b") + "\r\n");
  EXPECT_EQ(status_of(by_session), 200) << by_session;
  EXPECT_NE(body_of(by_session).find(R"({"deleted":2})"), std::string::npos) << by_session;
  const auto newest = list(n3.api, account_b, "token-b", "?PageSize=1");
  std::smatch sid;
  ASSERT_TRUE(std::regex_search(newest, sid, std::regex(R"re("sid":"(TR[0-9a-f]{32})")re")));
  const std::string item = "/2012-04-24/Accounts/" + account_b + "/Traces/" + sid[1].str();
  const auto one = http_exchange(n2.api, "DELETE", item,
                                 "Authorization: Basic " + base64(admin + ":token-admin") + "\r\n");
  EXPECT_EQ(status_of(one), 204) << one;
  for (const auto* s : {&n1, &n2, &n3}) {
    EXPECT_EQ(total_of(list(s->api, account_b, "token-b")), 27);
    EXPECT_EQ(total_of(list(s->api, account_b, "token-b", "?SessionSid=CAy1")), 0);
    EXPECT_EQ(
        status_of(http_exchange(s->api, "GET", item + ".json",
                                "Authorization: Basic " + base64(account_b + ":token-b") + "\r\n")),
        404);
  }
  for (auto* ch : {&ch1_, &ch2_}) {
    ASSERT_EQ(ch->query("INSERT INTO traces.traces_local SELECT * FROM traces.traces_local WHERE "
                        "account_sid = '" +
                        account_b + "'"),
              "");
  }
  EXPECT_EQ(total_of(list(n1.api, account_b, "token-b")), 27);
  // The live stream stays with the node that records: 409, naming this one.
  const auto stream =
      http_exchange(n3.api, "GET", "/2012-04-24/Accounts/" + account_a + "/Traces/Stream",
                    "Authorization: Basic " + base64(account_a + ":token-a") + "\r\n");
  EXPECT_EQ(status_of(stream), 409) << stream;
  EXPECT_NE(stream.find(R"(node \"node-3\")"), std::string::npos) << stream;
  // Replay stays with the node that holds the record: in query mode, 409 naming it.
  {
    const auto held = list(n1.api, account_a, "token-a", "?SessionSid=CAz0");
    std::smatch m;
    static const std::regex sid_pattern(R"re("sid":"(TR[0-9a-f]{32})")re");
    ASSERT_TRUE(std::regex_search(held, m, sid_pattern)) << held;
    const auto replay = http_exchange(
        n1.api, "POST", "/2012-04-24/Accounts/" + account_a + "/Traces/" + m[1].str() + "/Replay",
        "Authorization: Basic " + base64(account_a + ":token-a") + "\r\nContent-Length: 0\r\n");
    EXPECT_EQ(status_of(replay), 409) << replay;
    EXPECT_NE(body_of(replay).find(R"(node \"node-3\")"), std::string::npos) << replay;
  }

  ch2_.stop();
  const auto down = list(n1.api, account_a, "token-a");
  EXPECT_EQ(status_of(down), 503) << down;
  EXPECT_NE(body_of(down).find("ClickHouse"), std::string::npos) << down;
  EXPECT_EQ(body_of(down).find("DB::Exception"), std::string::npos) << down;
  send(n1, 4, "w");  // recorded locally meanwhile, shipped when the shard is back
  ch2_.start();
  ASSERT_TRUE(eventually_true([&] { return total_of(list(n2.api, account_a, "token-a")) == 32; }));
  EXPECT_EQ(stored_once(), 64);
}

TEST_F(cluster_test, ASidecarKilledMidShippingShipsEverythingAfterItsRestart) {
  auto n1 = start("node-1", ch1_, false);
  ASSERT_TRUE(n1.api);
  ch2_.pause();  // the shard of one account hangs: batches cannot finish
  send(n1, 200, "k");
  // Killed once every record is committed (in the outbox or shipped) and shipping is stuck.
  const auto metric = [](const std::string& text, const std::string& name) {
    const auto at = text.find("\n" + name + " ");
    return at == std::string::npos ? -1 : std::stoll(text.substr(at + name.size() + 2));
  };
  ASSERT_TRUE(eventually_true([&] {
    const auto m = http_exchange(n1.api, "GET", "/metrics");
    return metric(m, "sidecar_fleet_backlog_records") +
               metric(m, "sidecar_fleet_records_shipped_total") ==
           200;
  }));
  n1.proc->signal(SIGKILL);
  EXPECT_NE(n1.proc->wait_exit(), 0);
  ch2_.resume();
  auto again = start("node-1", ch1_, false);
  ASSERT_TRUE(again.api);
  // Every record the sidecar committed is in ClickHouse, each once in answers.
  std::int64_t local = -1;
  ASSERT_TRUE(eventually_true([&] {
    local = total_of(list(again.api, account_a, "token-a")) +
            total_of(list(again.api, account_b, "token-b"));
    return local > 0 && stored_once() == local;
  })) << local
      << " local, " << stored_once() << " in ClickHouse";
  EXPECT_EQ(local, 200);
  auto reader = start("node-q", ch2_, true);
  EXPECT_EQ(total_of(list(reader.api, account_a, "token-a")) +
                total_of(list(reader.api, account_b, "token-b")),
            local);
}

}  // namespace
}  // namespace sidecar::testing_support
