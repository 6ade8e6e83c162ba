// The fleet tests' shared helpers (see fleet_fixture.hpp).
#include "tests/fleet/fleet_fixture.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <thread>

#include "fleet/shipper.hpp"

namespace sidecar::fleet::testing {

namespace fs = std::filesystem;

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

store::trace_record make_record(std::mt19937_64& rng, std::int64_t created,
                                const std::string& account, int n) {
  store::trace_record r;
  r.sid = store::make_trace_sid(created, rng);
  r.account_sid = account;
  r.account_friendly_name = "Friendly";
  r.org_sid = n % 3 == 0 ? "ORfe81fe8a3d5f4d5391e901db0bf5755d" : "";
  r.org_name = n % 3 == 0 ? "acme.example.com" : "";
  r.created_ms = created;
  r.session_sid = "CA" + std::to_string(n % 7);
  r.completed = n % 5 != 0;
  r.direction = n % 4 == 0 ? conf::direction::api : conf::direction::webhook;
  r.latency_ms = (n * 37) % 900;
  r.request.path = n % 2 == 0 ? "/apps/voice?x=" + std::to_string(n) : "/hooks/sms";
  r.request.url = "http://127.0.0.1:9000" + r.request.path;
  r.request.method = n % 6 == 0 ? "POST" : "GET";
  r.request.headers = {{"accept", "application/xml"}};
  r.request.body.body = n % 6 == 0 ? "From=%2B1555" + std::to_string(n) : "";
  r.request.body.size = r.request.body.body.size();
  r.response.code = n % 5 == 0 ? "503" : (n % 11 == 0 ? "204" : "200");
  r.response.phrase = "OK";
  r.response.headers = {{"content-type", "application/xml"}};
  // Bytes that SQL and RowBinary must carry as data: quotes, backslashes, tabs, newlines.
  r.response.body.body =
      "<Response><Say>hello 'world' \\ \"n" + std::to_string(n % 13) + "\"\t\n</Say></Response>";
  r.response.body.size = r.response.body.body.size();
  return r;
}

conf::fleet_config sidecar_user(const clickhouse_server& ch) {
  conf::fleet_config f;
  f.clickhouse = conf::clickhouse_url{ch.url(), false, "127.0.0.1", ch.http_port()};
  f.user = "sidecar";
  f.password = clickhouse_server::password;
  return f;
}

std::shared_ptr<conf::config> fleet_config(const fs::path& data_dir, const clickhouse_server& ch,
                                           const std::string& node) {
  auto c = std::make_shared<conf::config>();
  c->store.path = data_dir;
  c->store.retention = std::chrono::hours(24 * 10);
  conf::fleet_config f = sidecar_user(ch);
  f.node = node;
  f.retention = std::chrono::hours(24 * 10);
  f.batch_records = 200;
  f.batch_interval = std::chrono::milliseconds(50);
  f.timeout = std::chrono::seconds(3);
  c->fleet = f;
  for (const auto& sid : {acct_a, acct_b, acct_c}) {
    conf::account a;
    a.sid = sid;
    a.auth_token = "token-of-" + sid;
    a.friendly_name = "Friendly";
    a.traces = true;
    c->accounts.push_back(a);
  }
  return c;
}

std::vector<std::string> submit_records(store::trace_store& store, std::mt19937_64& rng, int n,
                                        const std::function<std::string(int)>& account,
                                        const std::function<std::int64_t(int)>& created) {
  std::vector<std::string> sids;
  for (int i = 0; i < n; ++i) {
    auto r = make_record(rng, created(i), account(i), i);
    r.node = "node-1";
    sids.push_back(r.sid);
    EXPECT_TRUE(store.submit(std::move(r)));
  }
  store.flush();
  return sids;
}

shipped_store::shipped_store(std::uint64_t seed, int n,
                             const std::function<std::int64_t(int)>& created,
                             const std::function<void(conf::config&)>& configure) {
  ch.start();
  cfg = fleet_config(dir.path() / "data", ch, "node-1");
  if (configure) configure(*cfg);
  store = std::make_unique<store::trace_store>(cfg, metrics);
  std::mt19937_64 rng(seed);
  sids = submit_records(
      *store, rng, n, [](int i) { return i % 3 == 0 ? acct_a : (i % 3 == 1 ? acct_b : acct_c); },
      created);
  shipper s(cfg, *store, metrics);
  EXPECT_TRUE(eventually([&] { return s.get_stats().shipped == static_cast<std::uint64_t>(n); }));
}

std::unique_ptr<clickhouse_server> clickhouse_suite::server_;

void clickhouse_suite::SetUpTestSuite() {
  if (!clickhouse_installed()) return;
  server_ = std::make_unique<clickhouse_server>();
  server_->start();
}

void clickhouse_suite::TearDownTestSuite() { server_.reset(); }

void clickhouse_suite::SetUp() {
  if (!clickhouse_installed()) GTEST_SKIP() << "clickhouse-server is not installed";
}

void shipping_fixture::SetUp() {
  if (!clickhouse_installed()) GTEST_SKIP() << "clickhouse-server is not installed";
  ch_.start();
  cfg_ = fleet_config(dir_.path() / "data", ch_, "node-1");
}

std::int64_t shipping_fixture::stored_once() {
  const auto s = ch_.query("SELECT uniqExact(sid) FROM traces.traces");
  return s.rfind("ERROR", 0) == 0 ? -1 : std::stoll(s);
}

bool eventually(const std::function<bool()>& done, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (done()) return true;
    if (std::chrono::steady_clock::now() > deadline) return done();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

temp_dir::temp_dir() {
  std::string tmpl = (fs::temp_directory_path() / "fleet_test.XXXXXX").string();
  path_ = ::mkdtemp(tmpl.data());
}

temp_dir::~temp_dir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

}  // namespace sidecar::fleet::testing
