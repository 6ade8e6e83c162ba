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

TEST(purge_set, AMarkerHidesItsAccountsRecordsUpToItsSidAndStripsThemFromChunks) {
  std::mt19937_64 rng(9);
  purge_set set;
  const std::string a = "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
  const std::string b = "ACbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
  const sid_bytes older = sid_at(t0, rng);
  const sid_bytes through = sid_at(t0 + 1'000, rng);
  const sid_bytes newer = sid_at(t0 + 2'000, rng);
  EXPECT_FALSE(set.hidden(a, older));
  set.mark(a, through);
  EXPECT_TRUE(set.hidden(a, older));
  EXPECT_TRUE(set.hidden(a, inverted(through)));  // the newest it covers, included
  EXPECT_FALSE(set.hidden(a, newer));             // written after: survives
  EXPECT_FALSE(set.hidden(b, older));             // another account's
  set.mark(a, older);                             // an older marker changes nothing
  EXPECT_EQ(set.marker(a), through);
  EXPECT_FALSE(set.marker(b));

  std::string chunk, out;
  codec::append_chunk_entry(chunk, inverted(older), "gone-1");
  codec::append_chunk_entry(chunk, inverted(newer), "kept");
  codec::append_chunk_entry(chunk, inverted(through), "gone-2");
  ASSERT_TRUE(set.strip_chunk(a, chunk, out));
  EXPECT_EQ(out.find("gone"), std::string::npos);
  EXPECT_NE(out.find("kept"), std::string::npos);
  EXPECT_FALSE(set.strip_chunk(b, chunk, out));  // b has no marker: its chunk is kept whole

  EXPECT_TRUE(set.expire_markers(t0 + 1'000).empty());  // its newest sid is not expired
  EXPECT_EQ(set.expire_markers(t0 + 1'001), std::vector<std::string>{a});
  EXPECT_FALSE(set.hidden(a, older));
}

}  // namespace
}  // namespace sidecar::store
