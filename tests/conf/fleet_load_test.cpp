// The [fleet] table (docs/fleet.md): defaults, every key, and the one-line errors.
#include <gtest/gtest.h>

#include "conf/load.hpp"

namespace sidecar::conf {
namespace {

std::string error_of(std::string_view text) {
  try {
    (void)parse(text, "f.toml");
    return "accepted";
  } catch (const config_error& e) {
    return e.what();
  }
}

TEST(fleet_config, AbsentMeansNoFleet) {
  EXPECT_FALSE(parse("", "f.toml")->fleet.has_value());
  EXPECT_FALSE(parse("[fleet]\n", "f.toml")->fleet.has_value());
}

TEST(fleet_config, ClickhouseAloneTakesTheDefaults) {
  const auto c = parse(
      "[store]\nretention = \"3d\"\n[fleet]\nclickhouse = \"http://127.0.0.1:8123/\"\n", "f.toml");
  ASSERT_TRUE(c->fleet);
  const auto& f = *c->fleet;
  EXPECT_FALSE(f.clickhouse.https);
  EXPECT_EQ(f.clickhouse.host, "127.0.0.1");
  EXPECT_EQ(f.clickhouse.port, 8123);
  EXPECT_EQ(f.database, "traces");
  EXPECT_EQ(f.table, "traces");
  EXPECT_EQ(f.user, "default");
  EXPECT_EQ(f.password, "");
  EXPECT_FALSE(f.node.empty());                    // the host name
  EXPECT_EQ(f.retention, std::chrono::hours(72));  // the store's
  EXPECT_TRUE(f.ship);
  EXPECT_FALSE(f.query);
  EXPECT_TRUE(f.shards.empty());
}

TEST(fleet_config, EveryKey) {
  const auto c = parse(R"([fleet]
clickhouse = "https://ch.example.com:8443"
database = "fleet_1"
table = "traces_all"
local_table = "traces_local"
shards = ["http://ch1:8123/", "http://ch2:8123/"]
user = "sidecar"
password = "s3cret 'quoted'"
node = "node-7"
retention = "1d"
ship = false
query = true
batch_records = 100
batch_interval = "250ms"
timeout = "3s"
)",
                       "f.toml");
  ASSERT_TRUE(c->fleet);
  const auto& f = *c->fleet;
  EXPECT_TRUE(f.clickhouse.https);
  EXPECT_EQ(f.clickhouse.port, 8443);
  EXPECT_EQ(f.database, "fleet_1");
  EXPECT_EQ(f.table, "traces_all");
  EXPECT_EQ(f.local_table, "traces_local");
  ASSERT_EQ(f.shards.size(), 2u);
  EXPECT_EQ(f.shards[1].host, "ch2");
  EXPECT_EQ(f.user, "sidecar");
  EXPECT_EQ(f.password, "s3cret 'quoted'");
  EXPECT_EQ(f.node, "node-7");
  EXPECT_EQ(f.retention, std::chrono::hours(24));
  EXPECT_FALSE(f.ship);
  EXPECT_TRUE(f.query);
  EXPECT_EQ(f.batch_records, 100u);
  EXPECT_EQ(f.batch_interval, std::chrono::milliseconds(250));
  EXPECT_EQ(f.timeout, std::chrono::seconds(3));
}

TEST(fleet_config, ErrorsNameTheKey) {
  EXPECT_EQ(error_of("[fleet]\nquery = true\n"),
            "f.toml: [fleet] clickhouse: missing: the other [fleet] keys need it");
  EXPECT_EQ(
      error_of("[fleet]\nclickhouse = \"ftp://x/\"\n").rfind("f.toml: [fleet] clickhouse: ", 0),
      0u);
  EXPECT_NE(error_of("[fleet]\nclickhouse = \"http://u:p@x/\"\n"), "accepted");
  EXPECT_NE(error_of("[fleet]\nclickhouse = \"http://x/db\"\n").find("has a path"),
            std::string::npos);
  EXPECT_NE(error_of("[fleet]\nclickhouse = \"http://x/\"\ntable = \"t; DROP TABLE y\"\n")
                .find("f.toml: [fleet] table: "),
            std::string::npos);
  EXPECT_NE(error_of("[fleet]\nclickhouse = \"http://x/\"\nlocal_table = \"l\"\n")
                .find("[fleet] shards: missing"),
            std::string::npos);
  EXPECT_NE(error_of("[fleet]\nclickhouse = \"http://x/\"\nshards = [\"http://a/\"]\n")
                .find("[fleet] local_table: missing"),
            std::string::npos);
  EXPECT_NE(error_of("[fleet]\nclickhouse = \"http://x/\"\nbatch_records = 0\n")
                .find("[fleet] batch_records: 0 is out of range"),
            std::string::npos);
  EXPECT_NE(error_of("[fleet]\nclickhouse = \"http://x/\"\nnode = \"\"\n").find("[fleet] node"),
            std::string::npos);
  EXPECT_NE(error_of("[fleet]\nclickhouse = \"http://x/\"\nshipp = true\n")
                .find("unknown key (did you mean ship?)"),
            std::string::npos);
}

TEST(fleet_config, APasswordNeverAppearsInAnError) {
  const std::string e =
      error_of("[fleet]\nclickhouse = \"http://x/\"\npassword = \"hunter2\\u0001\"\n");
  EXPECT_NE(e, "accepted");
  EXPECT_EQ(e.find("hunter2"), std::string::npos);
}

}  // namespace
}  // namespace sidecar::conf
