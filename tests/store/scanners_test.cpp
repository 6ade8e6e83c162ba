// The body search the ResponseBody filter runs over chunks (store/scanners.hpp): finder and
// contains agree with a plain search on every needle and buffer, including a finder reused over
// buffers unlike the one it learnt its rare bytes from.
#include "store/scanners.hpp"

#include <gtest/gtest.h>

#include <random>
#include <string>

namespace sidecar::store {
namespace {

std::string random_text(std::mt19937_64& rng, std::size_t n, char alphabet) {
  std::uniform_int_distribution<int> pick(0, alphabet - 'a');
  std::string s;
  for (std::size_t i = 0; i < n; ++i) s.push_back(static_cast<char>('a' + pick(rng)));
  return s;
}

TEST(scanners, FinderAgreesWithAPlainSearch) {
  std::mt19937_64 rng(11);
  for (int round = 0; round < 2000; ++round) {
    const std::string needle = random_text(rng, 1 + rng() % 5, 'd');
    finder f(needle);
    for (int buffer = 0; buffer < 4; ++buffer) {
      // Buffers of other alphabets than the first: what was rare there may be common here.
      const std::string hay = random_text(rng, rng() % 60, buffer % 2 ? 'd' : 'f');
      EXPECT_EQ(f.in(hay), hay.find(needle) != std::string::npos)
          << "needle " << needle << " in " << hay;
      EXPECT_EQ(contains(hay, needle), hay.find(needle) != std::string::npos);
    }
  }
}

TEST(scanners, AnEmptyNeedleIsEverywhereAndAShortBufferHoldsNothing) {
  finder empty("");
  EXPECT_TRUE(empty.in(""));
  EXPECT_TRUE(contains("", ""));
  finder f("abc");
  EXPECT_FALSE(f.in("ab"));
  EXPECT_FALSE(f.in(""));
  EXPECT_FALSE(contains({}, "abc"));
  EXPECT_TRUE(f.in("xxabc"));
  EXPECT_TRUE(f.in("abcxx"));
}

TEST(scanners, ANeedleAtTheEndOfABufferIsFound) {
  finder f("\xff\x01");
  const std::string hay = std::string(100'000, 'a') + "\xff\x01";
  EXPECT_TRUE(f.in(hay));
  EXPECT_FALSE(f.in(hay.substr(0, hay.size() - 1)));
}

}  // namespace
}  // namespace sidecar::store
