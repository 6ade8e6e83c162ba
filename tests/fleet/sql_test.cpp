// fleet::sql: every value reaches ClickHouse as one literal that reads back as itself, here and
// on the real server.
#include "fleet/sql.hpp"

#include <gtest/gtest.h>

#include <random>

#include "tests/fleet/clickhouse_server.hpp"
#include "tests/fleet/sql_literal.hpp"

namespace sidecar::fleet {
namespace {

TEST(sql_quote, EscapesQuotesBackslashesAndControlBytes) {
  EXPECT_EQ(sql::quote(""), "''");
  EXPECT_EQ(sql::quote("abc"), "'abc'");
  EXPECT_EQ(sql::quote("it's"), R"('it\'s')");
  EXPECT_EQ(sql::quote(R"(a\b)"), R"('a\\b')");
  EXPECT_EQ(sql::quote(std::string_view("\0\n\t\x7f", 4)), R"('\x00\x0a\x09\x7f')");
  EXPECT_EQ(sql::quote("caf\xc3\xa9 \xff"), "'caf\xc3\xa9 \xff'");  // other bytes as they are
  EXPECT_EQ(sql::quote("x') OR 1=1 --"), R"('x\') OR 1=1 --')");
}

TEST(sql_quote, EveryByteStringReadsBackAsItself) {
  std::mt19937_64 rng(3);
  for (int round = 0; round < 5000; ++round) {
    std::string s(rng() % 40, '\0');
    for (auto& c : s) c = static_cast<char>(rng() & 0xff);
    const auto q = sql::quote(s);
    std::size_t used = 0;
    const auto back = testing::read_literal(q, used);
    ASSERT_TRUE(back);
    EXPECT_EQ(used, q.size());
    EXPECT_EQ(*back, s);
  }
}

TEST(sql_quote, NamesAreBackquotedAndOnlyPlainNamesAccepted) {
  EXPECT_EQ(sql::identifier("traces_local"), "`traces_local`");
  EXPECT_THROW((void)sql::identifier("a`b"), std::invalid_argument);
  EXPECT_THROW((void)sql::identifier(""), std::invalid_argument);
  EXPECT_THROW((void)sql::identifier("1abc"), std::invalid_argument);
}

TEST(sql_quote, TheRealServerReadsEveryByteBack) {
  if (!testing::clickhouse_installed()) GTEST_SKIP() << "clickhouse-server is not installed";
  testing::clickhouse_server ch;
  ch.start();
  std::string all;
  for (int b = 0; b < 256; ++b) all += static_cast<char>(b);
  // hex() of the literal's value is the hex of the original bytes.
  static constexpr char digits[] = "0123456789ABCDEF";
  std::string expected;
  for (const char c : all) {
    expected += digits[static_cast<unsigned char>(c) >> 4];
    expected += digits[static_cast<unsigned char>(c) & 0xf];
  }
  EXPECT_EQ(ch.query("SELECT hex(" + sql::quote(all) + ")"), expected + "\n");
  EXPECT_EQ(ch.query("SELECT position('abc%_x', " + sql::quote("%_") + ")"), "4\n");
}

}  // namespace
}  // namespace sidecar::fleet
