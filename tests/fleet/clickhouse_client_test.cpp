// The ClickHouse HTTP client (fleet/clickhouse_client.hpp, docs/fleet.md "Safety") against a
// real clickhouse-server: queries and RowBinary inserts as the `sidecar` user (Basic auth, a
// password with quotes), a ClickHouse error reported by its code without its text, a wrong
// password, a refused connection and a server that hangs, each as its kind of failure.
#include "fleet/clickhouse_client.hpp"

#include <gtest/gtest.h>
#include <sys/socket.h>

#include <chrono>
#include <memory>
#include <string>

#include "tests/fleet/clickhouse_server.hpp"
#include "tests/fleet/fleet_fixture.hpp"

namespace sidecar::fleet {
namespace {

using testing::clickhouse_server;

class clickhouse_client_test : public testing::clickhouse_suite {
 protected:
  static conf::fleet_config fleet(std::string password = clickhouse_server::password) {
    conf::fleet_config f = testing::sidecar_user(*server_);
    f.password = std::move(password);
    f.timeout = std::chrono::seconds(2);
    return f;
  }
};

TEST_F(clickhouse_client_test, AQueryAnswersItsRowsAsTheSidecarUser) {
  const auto f = fleet();
  clickhouse_client c(f.clickhouse, f);
  const auto a = c.query(
      "SELECT any(user), 1 + 1 FROM system.processes WHERE query LIKE '%1 + 1%' "
      "FORMAT TabSeparated");
  ASSERT_TRUE(a.ok()) << a.describe();
  EXPECT_EQ(a.status, 200u);
  EXPECT_EQ(a.body, "sidecar\t2\n") << "the password with quotes went through as Basic auth";
  // The connection is kept: a second query on the same client.
  EXPECT_TRUE(c.query("SELECT 1").ok());
}

TEST_F(clickhouse_client_test, ARowBinaryInsertLandsByteForByte) {
  const auto f = fleet();
  clickhouse_client c(f.clickhouse, f);
  ASSERT_TRUE(
      c.query("CREATE TABLE IF NOT EXISTS default.client_rows (s String) ENGINE = Log").ok());
  std::string rows;
  const std::string value("quote ' \" and \0 nul\n", 20);
  rows.push_back(static_cast<char>(value.size()));  // RowBinary: varint length, then bytes
  rows += value;
  const auto ins = c.insert("INSERT INTO default.client_rows FORMAT RowBinary", rows);
  ASSERT_TRUE(ins.ok()) << ins.describe();
  const auto back = c.query("SELECT hex(s) FROM default.client_rows FORMAT TabSeparated");
  ASSERT_TRUE(back.ok());
  std::string hex;
  for (const unsigned char ch : value) {
    static const char* digits = "0123456789ABCDEF";
    hex += digits[ch >> 4];
    hex += digits[ch & 15];
  }
  EXPECT_EQ(back.body, hex + "\n");
}

TEST_F(clickhouse_client_test, AClickHouseErrorIsItsCodeNeverItsText) {
  const auto f = fleet();
  clickhouse_client c(f.clickhouse, f);
  const auto a = c.query("SELECT 'secret record body' FROM default.no_such_table");
  EXPECT_FALSE(a.ok());
  EXPECT_EQ(a.fail, clickhouse_answer::failure::http);
  EXPECT_EQ(a.status, 404u);
  EXPECT_EQ(a.code, 60) << "UNKNOWN_TABLE";
  EXPECT_TRUE(a.body.empty()) << "ClickHouse's text can echo the SQL";
  EXPECT_EQ(a.describe().find("secret"), std::string::npos) << a.describe();
  EXPECT_NE(a.describe().find("60"), std::string::npos) << a.describe();
  EXPECT_EQ(a.kind(), "http");
}

TEST_F(clickhouse_client_test, AWrongPasswordIsRefusedAndNotShown) {
  const auto f = fleet("wrong-password");
  clickhouse_client c(f.clickhouse, f);
  const auto a = c.query("SELECT 1");
  EXPECT_FALSE(a.ok());
  EXPECT_EQ(a.fail, clickhouse_answer::failure::http);
  EXPECT_EQ(a.describe().find("wrong-password"), std::string::npos) << a.describe();
}

TEST_F(clickhouse_client_test, ARefusedConnectionAndAHungServerAreTheirKinds) {
  // A port nobody listens on: bound, never listening.
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  auto f = fleet();
  f.clickhouse.port = ntohs(a.sin_port);
  clickhouse_client refused(f.clickhouse, f);
  const auto r = refused.query("SELECT 1");
  ::close(fd);
  EXPECT_EQ(r.fail, clickhouse_answer::failure::connect) << r.describe();
  EXPECT_EQ(r.kind(), "connect");

  const auto g = fleet();
  clickhouse_client hung(g.clickhouse, g);
  server_->pause();
  const auto started = std::chrono::steady_clock::now();
  const auto t = hung.query("SELECT 1", 1 << 20,
                            std::chrono::steady_clock::now() + std::chrono::milliseconds(500));
  const auto took = std::chrono::steady_clock::now() - started;
  server_->resume();
  EXPECT_EQ(t.fail, clickhouse_answer::failure::timeout) << t.describe();
  EXPECT_LT(took, std::chrono::seconds(2)) << "the deadline bounds the wait";
}

TEST_F(clickhouse_client_test, AnAnswerPastItsBoundIsRefused) {
  const auto f = fleet();
  clickhouse_client c(f.clickhouse, f);
  const auto a = c.query("SELECT number FROM system.numbers LIMIT 100000", 1000);
  EXPECT_EQ(a.fail, clickhouse_answer::failure::too_large) << a.describe();
  EXPECT_TRUE(c.query("SELECT 1").ok()) << "the client goes on after a refused answer";
}

}  // namespace
}  // namespace sidecar::fleet
