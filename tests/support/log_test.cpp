#include "support/log.hpp"

#include <gtest/gtest.h>

namespace sidecar::log {
namespace {

TEST(log, LineIsLogfmtWithLevelAndFields) {
  const std::string line = format(level::info, "listening", {{"proxy", "127.0.0.1:8080"}});
  EXPECT_NE(line.find(" level=info msg=listening proxy=127.0.0.1:8080\n"), std::string::npos);
  EXPECT_EQ(line.rfind("ts=", 0), 0u);
}

TEST(log, ValuesWithSpacesQuotesAndControlBytesStayOnOneLine) {
  const std::string line = format(level::warn, "store failing", {{"error", "disk \"full\"\nnow"}});
  EXPECT_NE(line.find(R"(msg="store failing" error="disk \"full\"\nnow")"), std::string::npos);
  EXPECT_EQ(line.find('\n'), line.size() - 1);
}

TEST(log, EmptyValueIsQuoted) {
  EXPECT_NE(format(level::error, "x", {{"k", ""}}).find(R"(k="")"), std::string::npos);
}

TEST(log, ParsesEveryLevelAndRefusesOthers) {
  EXPECT_EQ(parse_level("debug"), level::debug);
  EXPECT_EQ(parse_level("info"), level::info);
  EXPECT_EQ(parse_level("warn"), level::warn);
  EXPECT_EQ(parse_level("error"), level::error);
  EXPECT_EQ(parse_level("INFO"), std::nullopt);
  EXPECT_EQ(parse_level(""), std::nullopt);
}

TEST(log, LevelFiltersLowerLevels) {
  set_level(level::warn);
  EXPECT_FALSE(enabled(level::info));
  EXPECT_TRUE(enabled(level::error));
  set_level(level::info);
  EXPECT_TRUE(enabled(level::info));
}

}  // namespace
}  // namespace sidecar::log
