// Shipping through faults, each ending with every record in ClickHouse once in answers:
// ClickHouse killed mid-batch and restarted, ClickHouse slow (a delaying proxy in front),
// ClickHouse answering errors (its table dropped while records arrive).
#include <gtest/gtest.h>

#include "fleet/reader.hpp"
#include "fleet/shipper.hpp"
#include "store/trace_store.hpp"
#include "tests/fleet/delay_proxy.hpp"
#include "tests/fleet/fleet_fixture.hpp"

namespace sidecar::fleet {
namespace {

using namespace testing;

class faults_test : public shipping_fixture {
 protected:
  faults_test() : shipping_fixture(5) {}

  void submit(int n) {
    submit_records(
        *store_, rng_, n, [](int i) { return i % 2 == 0 ? acct_a : acct_b; },
        [](int) { return now_ms(); });
  }

  /// The fleet reader's total over both accounts: what a user of the API sees.
  std::uint64_t answered_total() {
    metrics::registry m;
    clickhouse_reader reader(cfg_, m);
    store::list_query q;
    q.accounts = {acct_a, acct_b};
    const auto r = reader.list(q);
    return r.status == store::query_status::ok ? r.total : 0;
  }
};

TEST_F(faults_test, ClickHouseKilledMidBatchAndRestarted) {
  // A little delay on the way makes each 2 MB batch take a few seconds: the kill lands in one.
  delay_proxy slow(ch_.http_port(), std::chrono::milliseconds(20));
  cfg_->fleet->clickhouse.port = slow.port();
  cfg_->fleet->batch_records = 2000;
  store_ = std::make_unique<store::trace_store>(cfg_, metrics_);
  submit(8000);  // a backlog before shipping starts: four batches
  shipper_ = std::make_unique<shipper>(cfg_, *store_, metrics_);
  ASSERT_TRUE(eventually([&] { return shipper_->get_stats().shipped > 0; }));
  ch_.stop(true);  // kill -9, while the next batches are on their way
  EXPECT_LT(shipper_->get_stats().shipped, 8000u);
  ch_.start();
  ASSERT_TRUE(
      eventually([&] { return shipper_->get_stats().backlog == 0; }, std::chrono::seconds(60)));
  EXPECT_EQ(stored_once(), 8000);
  EXPECT_EQ(answered_total(), 8000u);
}

TEST_F(faults_test, ASlowClickHouseNeverSlowsTheWriter) {
  delay_proxy slow(ch_.http_port(), std::chrono::milliseconds(150));
  cfg_->fleet->clickhouse.port = slow.port();
  cfg_->fleet->batch_records = 100;
  store_ = std::make_unique<store::trace_store>(cfg_, metrics_);
  shipper_ = std::make_unique<shipper>(cfg_, *store_, metrics_);
  const auto start = std::chrono::steady_clock::now();
  submit(3000);  // queued and committed while ClickHouse answers slowly
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_LT(took, std::chrono::seconds(5));
  EXPECT_EQ(store_->get_stats().written, 3000u);
  EXPECT_EQ(store_->get_stats().dropped_queue_full, 0u);
  ASSERT_TRUE(
      eventually([&] { return shipper_->get_stats().backlog == 0; }, std::chrono::seconds(120)));
  EXPECT_EQ(stored_once(), 3000);
  EXPECT_EQ(answered_total(), 3000u);
}

TEST_F(faults_test, ATimeoutIsRetriedAndCountsOnce) {
  // Slower than the timeout: each insert may arrive and still be counted a failure, then sent
  // again; the answers count every record once.
  delay_proxy slow(ch_.http_port(), std::chrono::milliseconds(700));
  cfg_->fleet->clickhouse.port = slow.port();
  cfg_->fleet->timeout = std::chrono::milliseconds(1000);
  store_ = std::make_unique<store::trace_store>(cfg_, metrics_);
  shipper_ = std::make_unique<shipper>(cfg_, *store_, metrics_);
  submit(300);
  ASSERT_TRUE(eventually([&] { return shipper_->get_stats().failed_batches > 0; }));
  EXPECT_NE(metrics_.render().find("sidecar_fleet_batches_failed_total{kind=\"timeout\"}"),
            std::string::npos);
  // The proxy goes away: the shipper reaches ClickHouse directly again (a new client).
  shipper_.reset();
  cfg_->fleet->clickhouse.port = ch_.http_port();
  shipper_ = std::make_unique<shipper>(cfg_, *store_, metrics_);
  ASSERT_TRUE(eventually([&] { return shipper_->get_stats().backlog == 0; }));
  EXPECT_EQ(stored_once(), 300);
  EXPECT_EQ(answered_total(), 300u);
}

TEST_F(faults_test, ClickHouseAnsweringErrorsThenWorkingAgain) {
  store_ = std::make_unique<store::trace_store>(cfg_, metrics_);
  shipper_ = std::make_unique<shipper>(cfg_, *store_, metrics_);
  submit(100);
  ASSERT_TRUE(eventually([&] { return stored_once() == 100; }));
  // An operator drops the table: inserts fail with ClickHouse's "table doesn't exist".
  ASSERT_EQ(ch_.query("DROP TABLE traces.traces"), "");
  submit(100);
  ASSERT_TRUE(eventually([&] { return shipper_->get_stats().backlog == 0; }));
  EXPECT_GE(shipper_->get_stats().failed_batches, 1u);
  EXPECT_NE(metrics_.render().find("sidecar_fleet_batches_failed_total{kind=\"http\"} "),
            std::string::npos);
  // The first 100 went with the table; the next 100 are there once.
  EXPECT_EQ(stored_once(), 100);
  EXPECT_EQ(answered_total(), 100u);
}

}  // namespace
}  // namespace sidecar::fleet
