// The set of purged sids (store/purge_set.hpp): batches added at once are seen by lookups, and
// expiry forgets exactly the sids older than the cutoff, however the set was filled.
#include "store/purge_set.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "store/trace_sid.hpp"

namespace sidecar::store {
namespace {

constexpr std::int64_t t0 = 1'780'000'000'000;

sid_bytes sid_at(std::int64_t ms, std::mt19937_64& rng) {
  return *parse_sid(make_trace_sid(ms, rng));
}

std::string inverted(const sid_bytes& sid) {
  std::string inv;
  for (const auto b : sid) inv.push_back(static_cast<char>(~b));
  return inv;
}

TEST(purge_set, ABatchIsSeenByLookupsAndExpiresByTheSidsTime) {
  std::mt19937_64 rng(7);
  purge_set set;
  std::vector<sid_bytes> batch;
  for (int i = 0; i < 1000; ++i) batch.push_back(sid_at(t0 + i * 1000, rng));
  set.add(batch);
  EXPECT_EQ(set.size(), 1000u);
  for (const auto& sid : batch) EXPECT_TRUE(set.contains_inv(inverted(sid)));
  EXPECT_FALSE(set.contains_inv(inverted(sid_at(t0, rng))));

  EXPECT_TRUE(set.expire(t0).empty());  // nothing older than the oldest
  const auto gone = set.expire(t0 + 500 * 1000);
  EXPECT_EQ(gone.size(), 500u);
  for (const auto& sid : gone) EXPECT_LT(sid_ms(sid), t0 + 500 * 1000);
  EXPECT_EQ(set.size(), 500u);
  EXPECT_FALSE(set.contains_inv(inverted(batch[499])));
  EXPECT_TRUE(set.contains_inv(inverted(batch[500])));
}

TEST(purge_set, AnOlderSidAddedAfterAnExpiryStillExpires) {
  // The walk is skipped while the oldest sid is newer than the cutoff: a single add of an
  // older sid, or a batch after the set emptied, must move that bound.
  std::mt19937_64 rng(8);
  purge_set set;
  set.add(std::vector<sid_bytes>{sid_at(t0 + 10'000, rng)});
  EXPECT_TRUE(set.expire(t0 + 5'000).empty());
  set.add(sid_at(t0 + 1'000, rng));
  EXPECT_EQ(set.expire(t0 + 5'000).size(), 1u);
  EXPECT_EQ(set.expire(t0 + 20'000).size(), 1u);
  EXPECT_EQ(set.size(), 0u);
  set.add(std::vector<sid_bytes>{sid_at(t0 + 3'000, rng), sid_at(t0 + 2'000, rng)});
  EXPECT_EQ(set.expire(t0 + 2'500).size(), 1u);
  EXPECT_EQ(set.size(), 1u);
}

}  // namespace
}  // namespace sidecar::store
