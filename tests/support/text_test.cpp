// The byte-level text helpers: UTF-8 validation (whole and cut) and repair.
#include <gtest/gtest.h>

#include "support/text.hpp"

namespace sidecar {
namespace {

TEST(utf8, ValidTextIsValid) {
  EXPECT_TRUE(text::is_valid_utf8(""));
  EXPECT_TRUE(text::is_valid_utf8("plain"));
  EXPECT_TRUE(text::is_valid_utf8("caf\xC3\xA9 \xF0\x9F\x93\x9E \xEF\xBF\xBF \xF4\x8F\xBF\xBF"));
}

TEST(utf8, IllFormedSequencesAreInvalid) {
  for (const char* bad :
       {"\x80", "\xC0\x80", "\xC1\xBF", "\xE0\x80\x80", "\xED\xA0\x80", "\xF0\x80\x80\x80",
        "\xF4\x90\x80\x80", "\xF5\x80\x80\x80", "\xFF", "\xC3", "a\xE2\x82"}) {
    EXPECT_FALSE(text::is_valid_utf8(bad)) << bad;
  }
}

TEST(utf8, APrefixMayEndInTheMiddleOfACharacter) {
  EXPECT_TRUE(text::is_valid_utf8_prefix("caf\xC3"));
  EXPECT_TRUE(text::is_valid_utf8_prefix("x\xF0\x9F\x93"));
  EXPECT_TRUE(text::is_valid_utf8_prefix("x\xE2\x82"));
  EXPECT_FALSE(text::is_valid_utf8_prefix("x\xFF"));
  EXPECT_FALSE(
      text::is_valid_utf8_prefix("x\xC3"
                                 "a"));
  EXPECT_FALSE(text::is_valid_utf8_prefix("x\xE0\x80"));  // overlong even before its end
  EXPECT_FALSE(text::is_valid_utf8_prefix("\x80"));
}

TEST(utf8, RepairReplacesEachMaximalSubpart) {
  std::string out;
  text::append_utf8(out,
                    "a\xE2\x82"
                    "b\xFF\xFE"
                    "c\xC3\xA9");
  EXPECT_EQ(out,
            "a\xEF\xBF\xBD"
            "b\xEF\xBF\xBD\xEF\xBF\xBD"
            "c\xC3\xA9");
}

}  // namespace
}  // namespace sidecar
