// The fleet's ClickHouse tables (fleet/schema.hpp, docs/fleet.md "Schema") on a real
// clickhouse-server: the DDL runs, and runs again without harm; a record's row built from its
// JSON lands with the filter columns taken from that JSON; tombstones go beside the table in
// the record's day; names are quoted, and only plain ones accepted.
#include "fleet/schema.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <random>
#include <string>

#include "fleet/clickhouse_client.hpp"
#include "store/trace_record.hpp"
#include "tests/fleet/clickhouse_server.hpp"
#include "tests/fleet/fleet_fixture.hpp"

namespace sidecar::fleet {
namespace {

using testing::clickhouse_server;

class schema_test : public testing::clickhouse_suite {
 protected:
  void SetUp() override {
    clickhouse_suite::SetUp();
    if (IsSkipped()) return;
    f_ = testing::sidecar_user(*server_);
    f_.database =
        "schema_" +
        std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()).substr(0, 20);
    client_ = std::make_unique<clickhouse_client>(f_.clickhouse, f_);
  }
  void run(const std::string& sql) {
    const auto a = client_->query(sql);
    ASSERT_TRUE(a.ok()) << a.describe() << "\n" << sql;
  }
  void create() {
    run(create_database_sql(f_));
    run(create_table_sql(f_, f_.table));
    run(create_tombstone_table_sql(f_, f_.table));
  }
  std::string select(const std::string& sql) {
    const auto a = client_->query(sql + " FORMAT TabSeparated");
    EXPECT_TRUE(a.ok()) << a.describe() << "\n" << sql;
    return a.body;
  }

  conf::fleet_config f_;
  std::unique_ptr<clickhouse_client> client_;
};

TEST_F(schema_test, TheTablesAreCreatedAndCreatingThemAgainIsHarmless) {
  create();
  create();
  const std::string tables =
      select("SELECT name FROM system.tables WHERE database = '" + f_.database + "' ORDER BY name");
  EXPECT_EQ(tables, f_.table + "\n" + f_.table + "_purged\n");
}

TEST_F(schema_test, ARecordsRowCarriesItsJsonAndTheColumnsTakenFromIt) {
  create();
  std::mt19937_64 rng(3);
  store::trace_record r = testing::make_record(rng, testing::now_ms() - 1000, testing::acct_a, 1);
  r.request.method = "POST";
  const std::string json = store::to_json(r);
  row_encoder enc;
  std::string rows;
  ASSERT_TRUE(enc.append(rows, r.sid, json));
  EXPECT_FALSE(enc.append(rows, r.sid, "{\"not\": \"a record\"}"));
  const auto ins = client_->insert(insert_sql(f_), rows);
  ASSERT_TRUE(ins.ok()) << ins.describe();
  const std::string got = select("SELECT sid, account_sid, json FROM " + table_name(f_, f_.table));
  EXPECT_EQ(got.substr(0, got.find('\t')), r.sid);
  EXPECT_NE(got.find(testing::acct_a), std::string::npos);
  EXPECT_EQ(select("SELECT count() FROM " + table_name(f_, f_.table) + " WHERE json = '" +
                   [&] {
                     std::string q;
                     for (const char c : json) {
                       if (c == '\'' || c == '\\') q += '\\';
                       q += c;
                     }
                     return q;
                   }() +
                   "'"),
            "1\n")
      << "the JSON is stored byte for byte";
}

TEST_F(schema_test, TombstonesGoBesideTheTableInTheRecordsDay) {
  create();
  std::string rows;
  EXPECT_FALSE(append_tombstone(rows, "not-a-sid", testing::acct_a, testing::now_ms()));
  EXPECT_TRUE(rows.empty());
  std::mt19937_64 rng(4);
  const auto r = testing::make_record(rng, testing::now_ms() - 1000, testing::acct_b, 2);
  ASSERT_TRUE(append_tombstone(rows, r.sid, testing::acct_b, testing::now_ms()));
  const auto ins = client_->insert(insert_tombstones_sql(f_), rows);
  ASSERT_TRUE(ins.ok()) << ins.describe();
  EXPECT_EQ(select("SELECT count() FROM " + table_name(f_, f_.table + "_purged")), "1\n");
}

TEST_F(schema_test, NamesAreQuotedAndOnlyPlainNamesAccepted) {
  conf::fleet_config plain;
  plain.database = "traces_2";
  EXPECT_EQ(table_name(plain, "Traces"), "`traces_2`.`Traces`");
  // The loader accepts only such names ([fleet] database and table); anything else never
  // reaches SQL.
  conf::fleet_config odd;
  odd.database = "db`x";
  EXPECT_THROW((void)table_name(odd, "t"), std::invalid_argument);
  EXPECT_THROW((void)table_name(plain, "t'; DROP TABLE y; --"), std::invalid_argument);
  EXPECT_THROW((void)table_name(plain, ""), std::invalid_argument);
  EXPECT_EQ(day_of(0), 0);
  EXPECT_EQ(day_of(86'400'000 - 1), 0);
  EXPECT_EQ(day_of(86'400'000), 1);
}

}  // namespace
}  // namespace sidecar::fleet
