// Statistical timing test of the credential check: a wrong token for a known SID, a token
// sharing a long prefix with the right one, and an unknown SID take the same time. Samples of
// the cases are interleaved in random order and their medians compared with a wide tolerance,
// so that the test detects a structural difference (an early return, a skipped hash) without
// depending on how fast or busy the machine is.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <random>

#include "api/auth.hpp"
#include "tests/api/test_support.hpp"

namespace sidecar::api {
namespace {

using testing::accounts;

double median_ns(std::vector<double>& v) {
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(v.size() / 2), v.end());
  return v[v.size() / 2];
}

TEST(auth_timing, UnknownSidWrongTokenAndNearMissTakeTheSameTime) {
  const auto cfg = testing::make_config();
  const authenticator auth(*cfg);
  // A long token makes any work that depends on the token visible.
  const std::string right = testing::token_of(accounts::parent);
  const std::vector<basic_credentials> cases{
      {accounts::parent, std::string(right.size(), 'x')},           // known SID, wrong token
      {accounts::parent, right.substr(0, right.size() - 1) + "!"},  // near miss
      {"AC" + std::string(32, 'f'), right},                         // unknown SID
  };
  constexpr int rounds = 3;  // a busy machine may spoil one round; a real leak spoils all
  int agreeing_rounds = 0;
  std::mt19937 rng(7);
  for (int round = 0; round < rounds; ++round) {
    std::vector<std::vector<double>> samples(cases.size());
    std::vector<std::size_t> order;
    for (int i = 0; i < 4000; ++i) {
      for (std::size_t c = 0; c < cases.size(); ++c) order.push_back(c);
    }
    std::shuffle(order.begin(), order.end(), rng);
    for (const std::size_t c : order) {
      const auto t0 = std::chrono::steady_clock::now();
      const conf::account* a = auth.check(cases[c]);
      const auto t1 = std::chrono::steady_clock::now();
      ASSERT_EQ(a, nullptr);
      samples[c].push_back(std::chrono::duration<double, std::nano>(t1 - t0).count());
    }
    std::vector<double> medians;
    for (auto& s : samples) medians.push_back(median_ns(s));
    const auto [lo, hi] = std::minmax_element(medians.begin(), medians.end());
    if (*hi <= *lo * 1.25) ++agreeing_rounds;
    RecordProperty("round" + std::to_string(round),
                   std::to_string(*lo) + ".." + std::to_string(*hi));
  }
  EXPECT_GE(agreeing_rounds, 1) << "medians differ by more than 25% in every round";
}

}  // namespace
}  // namespace sidecar::api
