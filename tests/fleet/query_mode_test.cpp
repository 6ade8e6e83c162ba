// The Traces API in query mode (docs/fleet.md, "Purge, live stream and replay in query mode"):
// one node's records are shipped to a real ClickHouse, and two API servers, each with its own
// fleet reader, stand for two sidecars with [fleet] query = true. A purge through one is gone
// from the other's every answer (list, totals, get, HAR, curl, AfterSid) at once, a shipping
// retry does not bring it back, the auth rules are the local purge's, and audit.jsonl has it.
// The live stream answers 409 naming the node.
#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <sstream>

#include "api/server.hpp"
#include "fleet/reader.hpp"
#include "fleet/shipper.hpp"
#include "store/trace_store.hpp"
#include "tests/fleet/fleet_fixture.hpp"
#include "tests/integration/harness.hpp"

namespace sidecar::fleet {
namespace {

using namespace testing;
using testing_support::base64;
using testing_support::body_of;
using testing_support::http_exchange;
using testing_support::status_of;

const std::string admin = "ACeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee";

/// One sidecar in query mode: its own data directory (audit.jsonl), reader and API server.
struct query_sidecar {
  query_sidecar(const std::shared_ptr<conf::config>& base, const std::filesystem::path& dir,
                store::commit_feed* feed) {
    auto c = std::make_shared<conf::config>(*base);
    c->store.path = dir;
    c->api.listen.address = boost::asio::ip::make_address("127.0.0.1");
    c->api.listen.port = 0;
    std::filesystem::create_directories(dir);
    c->fleet->query = true;
    c->fleet->ship = false;
    c->fleet->node = "node-q";
    cfg = c;
    reader = std::make_unique<clickhouse_reader>(cfg, metrics);
    api =
        std::make_unique<api::server>(cfg, *reader, metrics, [] { return store::store_health{}; });
    if (feed != nullptr) api->enable_streams(*feed);
    port = api->start().port();
  }
  ~query_sidecar() { api->stop(); }

  [[nodiscard]] std::string ask(std::string_view method, const std::string& account,
                                const std::string& path, const std::string& as = "") const {
    const std::string caller = as.empty() ? account : as;
    return http_exchange(port, method, "/2012-04-24/Accounts/" + account + path,
                         "Authorization: Basic " + base64(caller + ":token-of-" + caller) + "\r\n");
  }
  [[nodiscard]] std::string audit() const {
    std::ifstream in(cfg->store.path / "audit.jsonl");
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }

  std::shared_ptr<const conf::config> cfg;
  metrics::registry metrics;
  std::unique_ptr<clickhouse_reader> reader;
  std::unique_ptr<api::server> api;
  std::uint16_t port = 0;
};

std::int64_t total_of(const std::string& answer) {
  static const std::regex total(R"("total":(\d+))");
  std::smatch m;
  return std::regex_search(answer, m, total) ? std::stoll(m[1]) : -1;
}

class query_mode_test : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!clickhouse_installed()) return;
    const std::int64_t now = now_ms();
    data_ = new shipped_store(
        5, 90, [now](int i) { return now - 3'600'000 + i * 1'000; },
        [](conf::config& c) {
          // acct_c is acct_b's sub-account; admin administers all.
          for (auto& a : c.accounts) {
            if (a.sid == acct_c) a.parent = acct_b;
          }
          conf::account ad;
          ad.sid = admin;
          ad.auth_token = "token-of-" + admin;
          ad.traces = true;
          ad.administrator = true;
          c.accounts.push_back(ad);
        });
    dir_ = &data_->dir;
    ch_ = &data_->ch;
    cfg_ = data_->cfg;
    store_ = data_->store.get();
    sids_ = &data_->sids;
  }
  static void TearDownTestSuite() {
    cfg_.reset();
    delete data_;
  }
  void SetUp() override {
    if (!clickhouse_installed()) GTEST_SKIP() << "clickhouse-server is not installed";
    q1_ = std::make_unique<query_sidecar>(cfg_, dir_->path() / "q1", &store_->feed());
    q2_ = std::make_unique<query_sidecar>(cfg_, dir_->path() / "q2", nullptr);
  }
  void TearDown() override {
    q1_.reset();
    q2_.reset();
  }

  /// A retried batch: the record's rows shipped again, after the purge.
  static void ship_again(const std::string& where) {
    ASSERT_EQ(ch_->query("INSERT INTO traces.traces SELECT * FROM traces.traces WHERE " + where),
              "");
  }

  static inline shipped_store* data_ = nullptr;
  static inline temp_dir* dir_ = nullptr;
  static inline clickhouse_server* ch_ = nullptr;
  static inline std::shared_ptr<conf::config> cfg_;
  static inline store::trace_store* store_ = nullptr;
  static inline std::vector<std::string>* sids_ = nullptr;
  std::unique_ptr<query_sidecar> q1_;
  std::unique_ptr<query_sidecar> q2_;
};

TEST_F(query_mode_test, APurgedTraceIsGoneFromEveryAnswerOfEverySidecarAtOnce) {
  const std::string sid = (*sids_)[30];  // acct_a's
  const std::string item = "/Traces/" + sid;
  ASSERT_EQ(status_of(q2_->ask("GET", acct_a, item + ".json")), 200);
  const auto before = total_of(q2_->ask("GET", acct_a, "/Traces.json"));
  ASSERT_EQ(before, 30);

  // Another account, and a parent for its sub-account's record, may not.
  EXPECT_EQ(status_of(q1_->ask("DELETE", acct_a, item, acct_b)), 403);
  EXPECT_EQ(status_of(q1_->ask("DELETE", acct_c, "/Traces/" + (*sids_)[2], acct_b)), 403);
  EXPECT_EQ(status_of(q1_->ask("DELETE", acct_b, item)), 404);  // not in b's tree

  const auto deleted = q1_->ask("DELETE", acct_a, item);
  ASSERT_EQ(status_of(deleted), 204) << deleted;
  // Through the other sidecar, with no wait: every answer.
  for (const std::string suffix : {".json", "", ".har", ".curl"}) {
    EXPECT_EQ(status_of(q2_->ask("GET", acct_a, item + suffix)), 404) << suffix;
  }
  const auto list = q2_->ask("GET", acct_a, "/Traces.json?PageSize=1000");
  EXPECT_EQ(total_of(list), before - 1) << list;
  EXPECT_EQ(list.find(sid), std::string::npos);
  EXPECT_EQ(q2_->ask("GET", acct_a, "/Traces.har?PageSize=1000").find(sid), std::string::npos);
  // Its sid is no longer a cursor: Page decides, as for an unknown sid.
  EXPECT_EQ(body_of(q2_->ask("GET", acct_a, "/Traces.json?PageSize=5&AfterSid=" + sid)),
            body_of(q2_->ask("GET", acct_a,
                             "/Traces.json?PageSize=5&AfterSid=TR" + std::string(32, 'f'))));
  // A retried batch ships the record again: still gone.
  ship_again("sid = '" + sid + "'");
  EXPECT_EQ(status_of(q1_->ask("GET", acct_a, item + ".json")), 404);
  EXPECT_EQ(total_of(q1_->ask("GET", acct_a, "/Traces.json")), before - 1);
  // Once only: a second purge finds nothing; the audit has the first.
  EXPECT_EQ(status_of(q2_->ask("DELETE", acct_a, item)), 404);
  const auto audit = q1_->audit();
  EXPECT_NE(audit.find(R"("caller":")" + acct_a + R"(","account":")" + acct_a + R"(","sid":")" +
                       sid + R"(","deleted":1})"),
            std::string::npos)
      << audit;
  EXPECT_EQ(q2_->audit(), "");
}

TEST_F(query_mode_test, APurgeByFiltersDeletesEveryPageItsListHolds) {
  // SessionSid is CA0..CA6 (make_record): acct_b's records of one session.
  const std::string session = "/Traces.json?AccountSid=" + acct_b + "&SessionSid=CA1";
  const auto matching = total_of(q2_->ask("GET", acct_b, session));
  ASSERT_GT(matching, 0);
  const auto b_total = total_of(q2_->ask("GET", acct_b, "/Traces.json?AccountSid=" + acct_b));
  const auto tree_total = total_of(q2_->ask("GET", acct_b, "/Traces.json"));

  EXPECT_EQ(status_of(q1_->ask("DELETE", acct_b, "/Traces")), 400);  // no filter, no All=true
  // The list of b's tree holds acct_c's records: a parent may not purge them.
  const auto refused = q1_->ask("DELETE", acct_b, "/Traces?SessionSid=CA1");
  EXPECT_EQ(status_of(refused), 403) << refused;

  const auto r = q1_->ask("DELETE", acct_b, "/Traces?AccountSid=" + acct_b + "&SessionSid=CA1");
  ASSERT_EQ(status_of(r), 200) << r;
  EXPECT_NE(body_of(r).find(R"({"deleted":)" + std::to_string(matching) + "}"), std::string::npos)
      << r;
  EXPECT_EQ(total_of(q2_->ask("GET", acct_b, session)), 0);
  EXPECT_EQ(total_of(q2_->ask("GET", acct_b, "/Traces.json?AccountSid=" + acct_b)),
            b_total - matching);
  EXPECT_EQ(total_of(q2_->ask("GET", acct_b, "/Traces.json")), tree_total - matching);
  ship_again("account_sid = '" + acct_b + "' AND session_sid = 'CA1'");
  EXPECT_EQ(total_of(q2_->ask("GET", acct_b, session)), 0);

  // An administrator purges a whole account with All=true.
  const auto c_total = total_of(q2_->ask("GET", acct_c, "/Traces.json", admin));
  ASSERT_GT(c_total, 0);
  const auto all = q2_->ask("DELETE", acct_c, "/Traces?All=true", admin);
  ASSERT_EQ(status_of(all), 200) << all;
  EXPECT_NE(body_of(all).find(R"({"deleted":)" + std::to_string(c_total) + "}"), std::string::npos)
      << all;
  EXPECT_EQ(total_of(q1_->ask("GET", acct_c, "/Traces.json")), 0);
  EXPECT_NE(q2_->audit().find(R"("filters":{"All":"true"},"deleted":)" + std::to_string(c_total)),
            std::string::npos)
      << q2_->audit();
}

TEST_F(query_mode_test, APurgeWithClickHouseDownIs503WithAMessage) {
  auto down_cfg = std::make_shared<conf::config>(*cfg_);
  down_cfg->fleet->clickhouse.port = free_port();  // nobody listens there
  query_sidecar down(down_cfg, dir_->path() / "down", nullptr);
  const auto r = down.ask("DELETE", acct_a, "/Traces?All=true");
  EXPECT_EQ(status_of(r), 503) << r;
  EXPECT_NE(body_of(r).find("ClickHouse"), std::string::npos) << r;
  EXPECT_EQ(down.audit(), "");
}

TEST_F(query_mode_test, TheLiveStreamIs409NamingTheNode) {
  EXPECT_EQ(status_of(http_exchange(q1_->port, "GET",
                                    "/2012-04-24/Accounts/" + acct_a + "/Traces/Stream")),
            401);
  const auto r = q1_->ask("GET", acct_a, "/Traces/Stream");
  EXPECT_EQ(status_of(r), 409) << r;
  EXPECT_NE(body_of(r).find(R"(node \"node-q\")"), std::string::npos) << r;
  EXPECT_NE(body_of(r).find("the node that records"), std::string::npos) << r;
}

}  // namespace
}  // namespace sidecar::fleet
