// Reading one table's keys: each getter's type and range checks with the exact one-line error,
// the unknown-key refusal with its "did you mean" suggestion, sub-tables and arrays of tables.
#include "conf/table_reader.hpp"

#include <gtest/gtest.h>

#include <functional>
#include <vector>

#include "conf/config_error.hpp"

namespace sidecar::conf::detail {
namespace {

/// The error line of running `read` on a reader of `text`'s top level labelled "[t]", or
/// "accepted".
std::string error_of(std::string_view text, const std::function<void(const table_reader&)>& read) {
  const toml::table top = parse_toml(text, "x.toml");
  try {
    read(table_reader("x.toml", "[t]", top));
    return "accepted";
  } catch (const config_error& e) {
    return e.what();
  }
}

TEST(table_reader, MissingKeysAreNulloptAndPresentOnesTheirValue) {
  const toml::table top = parse_toml(
      "s = \"a\"\nb = true\ni = 7\nd = \"90s\"\nz = \"64KiB\"\nn = 512\nl = [\"x\", \"y\"]\n",
      "x.toml");
  const table_reader r("x.toml", "[t]", top);
  EXPECT_EQ(r.string("s"), "a");
  EXPECT_EQ(r.string("missing"), std::nullopt);
  EXPECT_EQ(r.boolean("b"), true);
  EXPECT_EQ(r.integer("i", 0, 10), 7);
  EXPECT_EQ(r.dur("d", duration::zero(), std::chrono::hours(1)), std::chrono::seconds(90));
  EXPECT_EQ(r.size("z", 0, max_size), 64u * 1024);
  EXPECT_EQ(r.size("n", 0, max_size), 512u);
  std::vector<std::string> seen;
  EXPECT_TRUE(r.strings("l", [&](std::string_view v) { seen.emplace_back(v); }));
  EXPECT_EQ(seen, (std::vector<std::string>{"x", "y"}));
  EXPECT_FALSE(r.strings("missing", [](std::string_view) { FAIL(); }));
}

TEST(table_reader, WrongTypesNameTheKeyAndBothTypes) {
  EXPECT_EQ(error_of("s = 1\n", [](const table_reader& r) { (void)r.string("s"); }),
            "x.toml: [t] s: must be a string, not an integer");
  EXPECT_EQ(error_of("b = \"yes\"\n", [](const table_reader& r) { (void)r.boolean("b"); }),
            "x.toml: [t] b: must be true or false, not a string");
  EXPECT_EQ(error_of("l = [\"a\", 2]\n",
                     [](const table_reader& r) { (void)r.strings("l", [](std::string_view) {}); }),
            "x.toml: [t] l: must hold only strings, not an integer");
}

TEST(table_reader, RangesAndUnitsAreChecked) {
  EXPECT_EQ(error_of("i = 11\n", [](const table_reader& r) { (void)r.integer("i", 0, 10); }),
            "x.toml: [t] i: 11 is out of range (0 to 10)");
  EXPECT_EQ(error_of("d = 90\n",
                     [](const table_reader& r) {
                       (void)r.dur("d", duration::zero(), std::chrono::hours(1));
                     }),
            "x.toml: [t] d: 90 is not a duration: give it a unit, as a string (e.g. \"90s\", "
            "\"15m\", \"48h\", \"2d\")");
  EXPECT_EQ(error_of("z = -1\n", [](const table_reader& r) { (void)r.size("z", 0, max_size); }),
            "x.toml: [t] z: -1 is not a size (use e.g. 512, \"64KiB\", \"1GiB\")");
  EXPECT_NE(error_of("z = 1\n", [](const table_reader& r) { (void)r.size("z", 1024, max_size); })
                .find("is out of range (at least"),
            std::string::npos);
}

TEST(table_reader, TextRefusesEmptyAndControlCharacters) {
  EXPECT_EQ(error_of("p = \"\"\n", [](const table_reader& r) { (void)r.text("p"); }),
            "x.toml: [t] p: must not be empty");
  EXPECT_NE(error_of("p = \"a\\u0001b\"\n", [](const table_reader& r) { (void)r.text("p"); })
                .find("holds control characters"),
            std::string::npos);
}

TEST(table_reader, UnknownKeyIsTheFirstInFileOrderWithANearSuggestion) {
  EXPECT_EQ(error_of("listen = \"a\"\nconect_timeout = \"1s\"\nzzz = 1\n",
                     [](const table_reader& r) {
                       r.only({"listen", "connect_timeout"});
                     }),
            "x.toml: [t] conect_timeout: unknown key (did you mean connect_timeout?)");
  EXPECT_EQ(error_of("zzz = 1\n", [](const table_reader& r) { r.only({"listen"}); }),
            "x.toml: [t] zzz: unknown key");
  EXPECT_EQ(error_of("listen = 1\n", [](const table_reader& r) { r.only({"listen"}); }),
            "accepted");
}

TEST(table_reader, SubTablesAndArraysOfTables) {
  const toml::table top = parse_toml("[a]\nk = 1\n[[r]]\nx = 1\n[[r]]\nx = 2\n", "x.toml");
  ASSERT_NE(sub_table(top, "x.toml", "a"), nullptr);
  EXPECT_EQ(sub_table(top, "x.toml", "none"), nullptr);
  const auto routes = table_array(top, "x.toml", "r");
  ASSERT_EQ(routes.size(), 2u);
  EXPECT_EQ(routes[1].first, "[[r]] #2");
  EXPECT_TRUE(table_array(top, "x.toml", "none").empty());

  const toml::table wrong = parse_toml("a = 1\n[r]\nx = 1\n", "x.toml");
  try {
    (void)sub_table(wrong, "x.toml", "a");
    FAIL() << "accepted";
  } catch (const config_error& e) {
    EXPECT_STREQ(e.what(), "x.toml: [a]: must be a table, not an integer");
  }
  try {
    (void)table_array(wrong, "x.toml", "r");
    FAIL() << "accepted";
  } catch (const config_error& e) {
    EXPECT_STREQ(e.what(),
                 "x.toml: [[r]]: must be an array of tables (write each one as [[r]]), not a "
                 "single table");
  }
}

}  // namespace
}  // namespace sidecar::conf::detail
