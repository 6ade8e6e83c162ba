// support/base64: RFC 4648's test vectors both ways, and the strict decoder's refusals.
#include "support/base64.hpp"

#include <gtest/gtest.h>

#include <string>
#include <utility>

namespace sidecar::base64 {
namespace {

const std::pair<std::string_view, std::string_view> vectors[] = {
    {"", ""},
    {"f", "Zg=="},
    {"fo", "Zm8="},
    {"foo", "Zm9v"},
    {"foob", "Zm9vYg=="},
    {"fooba", "Zm9vYmE="},
    {"foobar", "Zm9vYmFy"},
    {std::string_view("\0\xff\xfe", 3), "AP/+"}};

TEST(base64, EncodesWithPadding) {
  for (const auto& [in, want] : vectors) {
    std::string out = "x";
    append_encoded(out, in);
    EXPECT_EQ(out, "x" + std::string(want));
  }
}

TEST(base64, DecodesWhatItEncodes) {
  for (const auto& [want, in] : vectors) EXPECT_EQ(decode(in), std::string(want)) << in;
  std::string all;
  for (int b = 0; b < 256; ++b) all += static_cast<char>(b);
  std::string encoded;
  append_encoded(encoded, all);
  EXPECT_EQ(decode(encoded), all);
}

TEST(base64, RefusesAnythingButPaddedBase64) {
  for (const std::string_view bad : {"Zg", "Zg=", "Zm9v Zm9v", " Zm9v", "Zm9v ", "Zm9v\n",
                                     "Zg==Zg==", "Z===", "Zm9-", "Zm9_", "Zm=v", "===="}) {
    EXPECT_EQ(decode(bad), std::nullopt) << bad;
  }
}

}  // namespace
}  // namespace sidecar::base64
