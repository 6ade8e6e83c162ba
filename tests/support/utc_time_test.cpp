// support/utc_time: calendar fields, and the RFC 2822, ISO 8601 and IMF-fixdate forms.
#include "support/utc_time.hpp"

#include <gtest/gtest.h>

namespace sidecar::utc {
namespace {

constexpr std::int64_t example_ms = 1625071269456;  // Wed, 30 Jun 2021 16:41:09.456 UTC

TEST(utc_time, SplitsIntoCalendarFields) {
  const civil_time t = split(example_ms);
  EXPECT_EQ(t.year, 2021);
  EXPECT_EQ(t.month, 6u);
  EXPECT_EQ(t.day, 30u);
  EXPECT_EQ(t.weekday, 3u);
  EXPECT_EQ(t.hour, 16);
  EXPECT_EQ(t.minute, 41);
  EXPECT_EQ(t.second, 9);
  EXPECT_EQ(t.millis, 456);
}

TEST(utc_time, DaysFromCivilRefusesDatesThatDoNotExist) {
  EXPECT_EQ(days_from_civil(1970, 1, 1), 0);
  EXPECT_EQ(days_from_civil(2021, 6, 30), 18808);
  EXPECT_EQ(days_from_civil(1969, 12, 31), -1);
  EXPECT_EQ(days_from_civil(2024, 2, 29), 19782);
  EXPECT_EQ(days_from_civil(2023, 2, 29), std::nullopt);
  EXPECT_EQ(days_from_civil(2023, 13, 1), std::nullopt);
  EXPECT_EQ(days_from_civil(2023, 4, 31), std::nullopt);
}

TEST(utc_time, Rfc2822WithSecondsOrMillis) {
  EXPECT_EQ(rfc2822(example_ms, false).view(), "Wed, 30 Jun 2021 16:41:09 +0000");
  EXPECT_EQ(rfc2822(example_ms, true).view(), "Wed, 30 Jun 2021 16:41:09.456 +0000");
  EXPECT_EQ(rfc2822(0, true).view(), "Thu, 01 Jan 1970 00:00:00.000 +0000");
  EXPECT_EQ(rfc2822(1798419723005, true).view(), "Mon, 28 Dec 2026 01:02:03.005 +0000");
}

TEST(utc_time, WithoutMillisIsTheSecondsForm) {
  for (const std::int64_t ms : {example_ms, std::int64_t{0}, std::int64_t{1798419723005},
                                std::int64_t{-1}, std::int64_t{281474976710655}}) {
    EXPECT_EQ(without_millis(rfc2822(ms, true)).view(), rfc2822(ms, false).view()) << ms;
  }
  EXPECT_EQ(without_millis(rfc2822(example_ms, false)).view(), rfc2822(example_ms, false).view());
}

TEST(utc_time, InstantsBeforeTheEpochFloorTheirMillis) {
  EXPECT_EQ(rfc2822(-1, true).view(), "Wed, 31 Dec 1969 23:59:59.999 +0000");
  EXPECT_EQ(iso8601(-1, true), "1969-12-31T23:59:59.999Z");
}

TEST(utc_time, Iso8601AndHttpDate) {
  EXPECT_EQ(iso8601(example_ms, true), "2021-06-30T16:41:09.456Z");
  EXPECT_EQ(iso8601(example_ms, false), "2021-06-30T16:41:09Z");
  EXPECT_EQ(http_date(784111777000), "Sun, 06 Nov 1994 08:49:37 GMT");
  EXPECT_EQ(http_date(784111777999), "Sun, 06 Nov 1994 08:49:37 GMT");
}

TEST(utc_time, NowIsTheSystemClock) {
  const std::int64_t before = std::chrono::duration_cast<std::chrono::milliseconds>(
                                  std::chrono::system_clock::now().time_since_epoch())
                                  .count();
  const std::int64_t now = now_ms();
  EXPECT_GE(now, before);
  EXPECT_LT(now - before, 60'000);
}

}  // namespace
}  // namespace sidecar::utc
