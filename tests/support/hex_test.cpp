// support/hex: digit values of either case, and the three ways of appending digits.
#include "support/hex.hpp"

#include <gtest/gtest.h>

#include <array>
#include <string>
#include <string_view>

namespace sidecar::hex {
namespace {

TEST(hex, ValuesOfDigits) {
  EXPECT_EQ(value('0'), 0);
  EXPECT_EQ(value('9'), 9);
  EXPECT_EQ(value('a'), 10);
  EXPECT_EQ(value('F'), 15);
  for (const char c : {'g', 'G', '/', ':', '@', '`', ' ', '\0'}) EXPECT_EQ(value(c), -1) << c;
  EXPECT_EQ(lower_value('f'), 15);
  EXPECT_EQ(lower_value('F'), -1);
}

TEST(hex, EveryByteIsADigitOfItsValueOrNone) {
  const std::string_view digits = "0123456789abcdef";
  const std::string_view upper = "ABCDEF";
  for (int b = 0; b < 256; ++b) {
    const char c = static_cast<char>(b);
    const auto lower_at = digits.find(c);
    const auto upper_at = upper.find(c);
    const int lower = lower_at == std::string_view::npos ? -1 : static_cast<int>(lower_at);
    const int either = upper_at == std::string_view::npos ? lower : static_cast<int>(upper_at) + 10;
    EXPECT_EQ(value(c), either) << b;
    EXPECT_EQ(lower_value(c), lower) << b;
  }
}

TEST(hex, AppendsBytesAndFixedWidths) {
  std::string out;
  append_byte(out, 0x0f);
  append_byte(out, 0xa0, upper_digits);
  EXPECT_EQ(out, "0fA0");
  out.clear();
  const std::array<std::uint8_t, 3> bytes = {0x00, 0x7f, 0xff};
  append_bytes(out, bytes);
  EXPECT_EQ(out, "007fff");
  out.clear();
  append_fixed(out, 0x1234, 6);
  EXPECT_EQ(out, "001234");
  out.clear();
  append_fixed(out, 0xabcdef, 2);
  EXPECT_EQ(out, "ef");
}

TEST(hex, DecodesExactlyTwoDigitsPerByte) {
  std::array<std::uint8_t, 3> out{};
  EXPECT_TRUE(decode("007fFF", out));
  EXPECT_EQ(out, (std::array<std::uint8_t, 3>{0x00, 0x7f, 0xff}));
  EXPECT_FALSE(decode("007fFF", out, /*lower_only=*/true));
  EXPECT_TRUE(decode("007fff", out, /*lower_only=*/true));
  EXPECT_FALSE(decode("007ff", out));    // too short
  EXPECT_FALSE(decode("007fff0", out));  // too long
  EXPECT_FALSE(decode("007fgf", out));
  EXPECT_FALSE(decode("00 fff", out));
}

}  // namespace
}  // namespace sidecar::hex
