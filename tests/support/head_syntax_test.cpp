// The head's byte rules: field_of answers as Beast's string_to_field does, for every name Beast
// knows in any case and for names it does not; token_end stops where a name's token bytes stop.
#include "support/head_syntax.hpp"

#include <gtest/gtest.h>

#include <random>
#include <string>

#include "support/ascii.hpp"

namespace sidecar::head_syntax {
namespace {

TEST(head_syntax, KnowsEveryFieldBeastKnowsInAnyCase) {
  for (auto i = static_cast<unsigned>(http::field::unknown) + 1;
       i <= static_cast<unsigned>(http::field::xref); ++i) {
    const auto f = static_cast<http::field>(i);
    const auto canonical = http::to_string(f);
    const std::string name(canonical.data(), canonical.size());
    std::string upper = name;
    for (char& c : upper) c = static_cast<char>(c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c);
    for (const std::string& spelled : {name, ascii::to_lower(name), upper}) {
      ASSERT_EQ(field_of(spelled), http::string_to_field(spelled)) << spelled;
      ASSERT_EQ(field_of(spelled), f) << spelled;
    }
  }
}

TEST(head_syntax, NamesBeastDoesNotKnowAreUnknown) {
  for (const std::string_view name :
       {"", "X-Forwarded-For", "Hos", "Hostt", "Content-Lengt", "Content_Length", "Xontent-Length",
        "Host ", "x", "Content-Length-Content-Length", "Accept-Charse"}) {
    EXPECT_EQ(field_of(name), http::field::unknown) << name;
    EXPECT_EQ(field_of(name), http::string_to_field(name)) << name;
  }
  // Random token strings, and Beast's names with one byte changed.
  std::mt19937 rng(7);
  const std::string_view bytes(
      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.!~^");
  for (int round = 0; round < 20000; ++round) {
    std::string name;
    if (round % 2 == 0) {
      const auto f = static_cast<http::field>(1 + rng() % static_cast<unsigned>(http::field::xref));
      const auto canonical = http::to_string(f);
      name.assign(canonical.data(), canonical.size());
      name[rng() % name.size()] = bytes[rng() % bytes.size()];
    } else {
      for (std::size_t n = 1 + rng() % 24; n > 0; --n) name += bytes[rng() % bytes.size()];
    }
    ASSERT_EQ(field_of(name), http::string_to_field(name)) << name;
  }
}

TEST(head_syntax, TokenEndStopsAtTheFirstByteThatIsNoToken) {
  const std::string line =
      "Content-Type: text/plain\r\nX-Long_Name.With~Marks-And-More-Bytes: v\r\n";
  EXPECT_EQ(token_end(line, 0), line.find(':'));
  const std::size_t second = line.find('X');
  EXPECT_EQ(token_end(line, second), line.find(':', second));
  EXPECT_EQ(token_end("Host", 0), 4u);                         // to the end of short data
  EXPECT_EQ(token_end("Ho st: a long line of bytes", 0), 2u);  // a space is no token byte
  EXPECT_EQ(token_end("abcdefghijklmnopqrstuvwxyz0123456789(x", 0), 36u);
  EXPECT_EQ(token_end(": empty", 0), 0u);
}

}  // namespace
}  // namespace sidecar::head_syntax
