// support/percent: decoding strict and lenient, '+' as a space, comparing without decoding
// into a string, and encoding a query value.
#include "support/percent.hpp"

#include <gtest/gtest.h>

namespace sidecar::percent {
namespace {

TEST(percent, DecodesEscapesOfEitherCase) {
  EXPECT_EQ(decode("a%2Fb%2fc", false), "a/b/c");
  EXPECT_EQ(decode("%00%FF", false), std::string("\0\xff", 2));
  EXPECT_EQ(decode("a+b", true), "a b");
  EXPECT_EQ(decode("a+b", false), "a+b");
  EXPECT_EQ(decode("", true), "");
}

TEST(percent, StrictDecodingRefusesMalformedEscapes) {
  for (const std::string_view bad : {"%", "%4", "a%zz", "%g0", "x%2"}) {
    EXPECT_EQ(decode(bad, true), std::nullopt) << bad;
  }
}

TEST(percent, LenientDecodingKeepsMalformedEscapes) {
  EXPECT_EQ(decode_lenient("a%2Fb%zz%4", false), "a/b%zz%4");
  EXPECT_EQ(decode_lenient("a+b", true), "a b");
  EXPECT_EQ(decode_lenient("a+b", false), "a+b");
  EXPECT_EQ(decode_lenient("%", true), "%");
  EXPECT_EQ(decode_lenient("%%41+", true), "%A ");
}

TEST(percent, DecodedEqualsComparesTheDecodedForm) {
  EXPECT_TRUE(decoded_equals("api%5Fkey", "api_key"));
  EXPECT_TRUE(decoded_equals("auth+token", "auth token"));
  EXPECT_TRUE(decoded_equals("plain", "plain"));
  EXPECT_TRUE(decoded_equals("50%zz", "50%zz"));
  EXPECT_FALSE(decoded_equals("api%5Fkey", "api%5Fkey"));
  EXPECT_FALSE(decoded_equals("pin", "pin2"));
  EXPECT_FALSE(decoded_equals("pin2", "pin"));
}

TEST(percent, EncodesAQueryValue) {
  std::string out = "?x=";
  append_query_value(out, "AC1 /a:b&c=d+e%\xff~._-");
  EXPECT_EQ(out, "?x=AC1%20/a:b%26c%3Dd%2Be%25%FF~._-");
  for (const std::string_view s : {"", "a b", "100%", "\x01\x7f"}) {
    std::string encoded;
    append_query_value(encoded, s);
    EXPECT_EQ(decode(encoded, false), std::string(s)) << s;
  }
}

}  // namespace
}  // namespace sidecar::percent
