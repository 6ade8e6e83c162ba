// Shipping to a real clickhouse-server: records arrive byte for byte, in batches, exactly once
// in answers; nothing is lost across a ClickHouse outage or a restart of the sidecar; records
// removed locally first are counted; day partitions past retention are dropped.
#include "fleet/shipper.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "fleet/clickhouse_client.hpp"
#include "store/trace_store.hpp"
#include "tests/fleet/fleet_fixture.hpp"

namespace sidecar::fleet {
namespace {

using namespace testing;

std::string hex(std::string_view s) {
  static constexpr char digits[] = "0123456789ABCDEF";
  std::string out;
  for (const char ch : s) {
    out += digits[static_cast<unsigned char>(ch) >> 4];
    out += digits[static_cast<unsigned char>(ch) & 0xf];
  }
  return out;
}

class shipper_test : public shipping_fixture {
 protected:
  shipper_test() : shipping_fixture(7) {}

  void open() {
    store_ = std::make_unique<store::trace_store>(cfg_, metrics_);
    shipper_ = std::make_unique<shipper>(cfg_, *store_, metrics_);
  }
  void close() {
    shipper_.reset();
    store_.reset();
  }

  /// Submits `n` records of `account` created at `created` (default: now); their sids.
  std::vector<std::string> submit(int n, const std::string& account = acct_a,
                                  std::int64_t created = 0) {
    return submit_records(
        *store_, rng_, n, [&](int) { return account; },
        [&](int) { return created != 0 ? created : now_ms(); });
  }

  /// uniqExact(sid) and count() of the table.
  std::pair<std::uint64_t, std::uint64_t> counts() {
    const auto s = ch_.query("SELECT uniqExact(sid), count() FROM traces.traces");
    if (s.rfind("ERROR", 0) == 0) return {0, 0};
    const auto tab = s.find('\t');
    return {std::stoull(s.substr(0, tab)), std::stoull(s.substr(tab + 1))};
  }
};

TEST_F(shipper_test, CreatesTheTableAndShipsEveryRecordByteForByte) {
  open();
  const auto sids = submit(450);
  ASSERT_TRUE(eventually([&] { return counts().first == 450; }));
  EXPECT_TRUE(eventually([&] { return shipper_->get_stats().backlog == 0; }));
  const auto s = shipper_->get_stats();
  EXPECT_EQ(s.shipped, 450u);
  EXPECT_GE(s.batches, 2u);  // batch_records = 200 (more when behind: the next test)
  EXPECT_EQ(s.failed_batches, 0u);
  EXPECT_TRUE(shipper_->health().ok);
  // The JSON in ClickHouse is the local store's, byte for byte, with the node.
  for (const auto& sid : {sids.front(), sids[200], sids.back()}) {
    const auto local = store_->get(sid);
    ASSERT_TRUE(local);
    EXPECT_NE(local->json.find(R"("node":"node-1")"), std::string::npos);
    EXPECT_EQ(ch_.query("SELECT hex(json) FROM traces.traces WHERE sid = '" + sid + "'"),
              hex(local->json) + "\n");
  }
  EXPECT_EQ(ch_.query("SELECT DISTINCT node FROM traces.traces"), "node-1\n");
  EXPECT_EQ(ch_.query("SELECT engine FROM system.tables WHERE database = 'traces' AND name = "
                      "'traces'"),
            "ReplacingMergeTree\n");
  // The metrics a user scrapes.
  const auto text = metrics_.render();
  EXPECT_NE(text.find("sidecar_fleet_records_shipped_total 450"), std::string::npos);
  EXPECT_NE(text.find("sidecar_fleet_backlog_records 0"), std::string::npos);
}

TEST_F(shipper_test, ABacklogDrainsInLargerBatchesEachRecordOnce) {
  store_ = std::make_unique<store::trace_store>(cfg_, metrics_);
  const auto sids = submit(3000);  // fifteen batches of batch_records = 200 wait
  shipper_ = std::make_unique<shipper>(cfg_, *store_, metrics_);
  ASSERT_TRUE(eventually([&] { return shipper_->get_stats().backlog == 0; }));
  const auto s = shipper_->get_stats();
  EXPECT_EQ(s.shipped, 3000u);
  // The first batch holds batch_records; once ClickHouse's pace is known, batches grow (up to
  // eight times) while the backlog lasts.
  EXPECT_LT(s.batches, 15u);
  EXPECT_EQ(counts(), std::make_pair(std::uint64_t{3000}, std::uint64_t{3000}));
  EXPECT_EQ(ch_.query("SELECT min(sid), max(sid) FROM traces.traces"),
            *std::min_element(sids.begin(), sids.end()) + "\t" +
                *std::max_element(sids.begin(), sids.end()) + "\n");
}

TEST_F(shipper_test, AnOutageLosesNothingAndEveryRecordCountsOnce) {
  open();
  submit(100);
  ASSERT_TRUE(eventually([&] { return counts().first == 100; }));
  ch_.stop();
  const auto during = submit(300);
  ASSERT_TRUE(eventually([&] { return shipper_->get_stats().failed_batches > 0; }));
  EXPECT_FALSE(shipper_->health().ok);
  EXPECT_EQ(shipper_->health().reason, "cannot connect to ClickHouse");
  EXPECT_GE(shipper_->get_stats().backlog, 300u);
  EXPECT_NE(metrics_.render().find("sidecar_fleet_batches_failed_total{kind=\"connect\"}"),
            std::string::npos);
  ch_.start();
  ASSERT_TRUE(eventually([&] { return counts().first == 400; }));
  EXPECT_TRUE(eventually([&] { return shipper_->health().ok; }));
  EXPECT_EQ(shipper_->get_stats().backlog, 0u);
  EXPECT_EQ(shipper_->get_stats().lost, 0u);
}

TEST_F(shipper_test, ARestartShipsWhatTheOutboxHeld) {
  open();
  submit(50);
  ASSERT_TRUE(eventually([&] { return counts().first == 50; }));
  ch_.stop();
  submit(120);
  close();  // the sidecar stops with 120 records unshipped
  ch_.start();
  open();
  ASSERT_TRUE(eventually([&] { return counts().first == 170; }));
  EXPECT_TRUE(eventually([&] { return shipper_->get_stats().backlog == 0; }));
}

TEST_F(shipper_test, ShippingTurnedOffEmptiesTheOutboxAtStart) {
  ch_.stop();
  open();
  submit(40);  // waiting: ClickHouse is away
  close();
  cfg_->fleet->ship = false;
  store_ = std::make_unique<store::trace_store>(cfg_, metrics_);
  std::vector<store::outbox_entry> entries;
  ASSERT_TRUE(store_->outbox_read(0, 100, entries));
  EXPECT_TRUE(entries.empty());
  EXPECT_TRUE(store_->get(submit(1).front()));  // the records themselves stay
}

TEST_F(shipper_test, WithoutShippingTheOutboxStaysEmpty) {
  cfg_->fleet->ship = false;
  store_ = std::make_unique<store::trace_store>(cfg_, metrics_);
  submit(10);
  std::vector<store::outbox_entry> entries;
  ASSERT_TRUE(store_->outbox_read(0, 100, entries));
  EXPECT_TRUE(entries.empty());
}

TEST_F(shipper_test, RecordsRemovedLocallyBeforeShippingAreCounted) {
  cfg_->store.retention = std::chrono::hours(1);
  std::atomic<std::int64_t> now{now_ms()};
  store::trace_store::options o;
  o.now_ms = [&now] { return now.load(); };
  o.maintenance_interval = std::chrono::hours(1);
  store_ = std::make_unique<store::trace_store>(cfg_, metrics_, o);
  submit(30);
  // The 30 records expire locally before the shipper builds their batch (a batch already
  // built ships its rows: docs/fleet.md).
  now += 2 * 3'600'000;
  shipper_ = std::make_unique<shipper>(cfg_, *store_, metrics_);
  submit(5, acct_a, now.load());
  ASSERT_TRUE(eventually([&] { return shipper_->get_stats().lost == 30; }));
  EXPECT_TRUE(eventually([&] { return counts().first == 5; }));
  EXPECT_NE(
      metrics_.render().find("sidecar_fleet_records_lost_total{reason=\"removed_locally\"} 30"),
      std::string::npos);
}

TEST_F(shipper_test, DayPartitionsPastRetentionAreDropped) {
  cfg_->fleet->retention = std::chrono::hours(24);
  open();
  const std::int64_t day = 86'400'000;
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(store_->submit(make_record(rng_, now_ms() - 3 * day, acct_a, i)));
    ASSERT_TRUE(store_->submit(make_record(rng_, now_ms(), acct_b, i)));
  }
  store_->flush();
  ASSERT_TRUE(eventually([&] { return counts().first == 40; }));
  shipper_->drop_expired_partitions();
  ASSERT_TRUE(eventually([&] { return shipper_->get_stats().partitions_dropped >= 1; }));
  EXPECT_TRUE(eventually([&] { return counts().first == 20; }));
  EXPECT_EQ(ch_.query("SELECT DISTINCT account_sid FROM traces.traces"), acct_b + "\n");
}

TEST_F(shipper_test, AWrongPasswordIsAnHttpFailureWithoutClickHouseText) {
  cfg_->fleet->password = "wrong";
  open();
  submit(5);
  ASSERT_TRUE(eventually([&] { return shipper_->get_stats().failed_batches > 0; }));
  const auto h = shipper_->health();
  EXPECT_FALSE(h.ok);
  EXPECT_EQ(h.reason.rfind("ClickHouse answered HTTP ", 0), 0u) << h.reason;
  EXPECT_EQ(h.reason.find("Exception"), std::string::npos);
  EXPECT_EQ(h.reason.find("wrong"), std::string::npos);
  EXPECT_EQ(counts().first, 0u);
}

}  // namespace
}  // namespace sidecar::fleet
