// The list's query string: decoding, every filter with good and bad values, DateCreated in
// all its forms, and the paging parameters.
#include "api/list_params.hpp"

#include <gtest/gtest.h>

namespace sidecar::api {
namespace {

list_params ok(std::string_view q) {
  auto r = parse_list_params(q);
  EXPECT_TRUE(r.params.has_value()) << q << ": " << r.error;
  return r.params ? *r.params : list_params{};
}

std::string bad(std::string_view q) {
  auto r = parse_list_params(q);
  EXPECT_FALSE(r.params.has_value()) << q;
  return r.error;
}

TEST(list_params, DefaultsWithoutQuery) {
  const list_params p = ok("");
  EXPECT_EQ(p.page, 0u);
  EXPECT_EQ(p.page_size, 50u);
  EXPECT_FALSE(p.after_sid);
  EXPECT_TRUE(p.filters.empty());
  EXPECT_FALSE(p.filter.completed);
}

TEST(list_params, QueryIsPercentDecodedOnceAndPlusIsSpace) {
  const auto q = parse_query("a=%2541&b=x+y&c&=v&&d=%e2%82%ac");
  ASSERT_TRUE(q);
  ASSERT_EQ(q->size(), 5u);
  EXPECT_EQ((*q)[0].value, "%41");  // once, not twice
  EXPECT_EQ((*q)[1].value, "x y");
  EXPECT_EQ((*q)[2].name, "c");
  EXPECT_EQ((*q)[2].value, "");
  EXPECT_EQ((*q)[3].name, "");  // "=v": kept, and matches no parameter
  EXPECT_EQ((*q)[4].name, "d");
  EXPECT_EQ((*q)[4].value, "\xe2\x82\xac");
  EXPECT_FALSE(parse_query("a=%zz"));
  EXPECT_FALSE(parse_query("a=%4"));
  EXPECT_FALSE(parse_query("a=%"));
}

TEST(list_params, MalformedEscapeIs400) {
  EXPECT_NE(bad("Status=%zz").find("malformed"), std::string::npos);
}

TEST(list_params, Status) {
  EXPECT_EQ(ok("Status=completed").filter.completed, true);
  EXPECT_EQ(ok("Status=failed").filter.completed, false);
  for (const auto q : {"Status=Completed", "Status=", "Status=ok", "Status=completed%20"}) {
    EXPECT_NE(bad(q).find("Status"), std::string::npos) << q;
  }
}

TEST(list_params, DateCreatedForms) {
  const std::int64_t day = 1625011200000;  // 2021-06-30T00:00:00Z
  const std::int64_t at = day + (16 * 3600 + 41 * 60 + 9) * 1000LL;
  EXPECT_EQ(parse_instant("2021-06-30"), day);
  EXPECT_EQ(parse_instant("2021-06-30T16:41:09"), at);
  EXPECT_EQ(parse_instant("2021-06-30T16:41:09Z"), at);
  EXPECT_EQ(parse_instant("2021-06-30T16:41:09.456Z"), at + 456);
  EXPECT_EQ(parse_instant("2021-06-30T16:41:09.4"), at + 400);
  EXPECT_EQ(parse_instant("2021-06-30T16:41:09.123456789"), at + 123);
  EXPECT_EQ(parse_instant("2021-06-30T16:41:09+02:00"), at - 2 * 3600 * 1000);
  EXPECT_EQ(parse_instant("2021-06-30T16:41:09-05:30"), at + (5 * 60 + 30) * 60 * 1000);
  EXPECT_EQ(parse_instant("2021-06-30T16:41:09.5+01:00"), at + 500 - 3600 * 1000);
  EXPECT_EQ(parse_instant("2021-06-30T16:41:09 02:00"), at - 2 * 3600 * 1000);  // '+' as space
  EXPECT_EQ(parse_instant("2024-02-29"), 1709164800000);
  EXPECT_EQ(parse_instant("1970-01-01"), 0);
}

TEST(list_params, DateCreatedRejects) {
  for (const auto s : {"",
                       "2021",
                       "2021-6-30",
                       "2021-06-30T",
                       "2021-06-30T16:41",
                       "2021-06-30 16:41:09",
                       "2021-13-01",
                       "2021-02-29",
                       "2021-06-31",
                       "2021-00-10",
                       "2021-06-30T24:00:00",
                       "2021-06-30T16:60:09",
                       "2021-06-30T16:41:60",
                       "2021-06-30T16:41:09.",
                       "2021-06-30T16:41:09.1234567890",
                       "2021-06-30T16:41:09z",
                       "2021-06-30t16:41:09",
                       "2021-06-30T16:41:09+2:00",
                       "2021-06-30T16:41:09+02",
                       "2021-06-30T16:41:09+0200",
                       "2021-06-30T16:41:09+24:00",
                       "2021-06-30T16:41:09Zjunk",
                       "2021-06-30Z",
                       "yesterday",
                       "2021-06-30T16:41:09+02:00x",
                       "+2021-06-30"}) {
    EXPECT_FALSE(parse_instant(s)) << s;
  }
}

TEST(list_params, DateCreatedAndBeforeAreParsedAndNamedInErrors) {
  const list_params p = ok("DateCreated=2021-06-30&DateCreatedBefore=2021-07-01T00:00:00Z");
  EXPECT_EQ(p.filter.created_from_ms, 1625011200000);
  EXPECT_EQ(p.filter.created_before_ms, 1625097600000);
  const std::string e1 = bad("DateCreated=2021-06-31");
  EXPECT_NE(e1.find("DateCreated must be"), std::string::npos);
  EXPECT_NE(e1.find("YYYY-MM-DD"), std::string::npos);
  EXPECT_NE(bad("DateCreatedBefore=soon").find("DateCreatedBefore must be"), std::string::npos);
  // An encoded '+' offset.
  EXPECT_EQ(ok("DateCreated=2021-06-30T02:00:00%2B02:00").filter.created_from_ms, 1625011200000);
  // An unencoded '+' arrives as a space and still means an offset.
  EXPECT_EQ(ok("DateCreated=2021-06-30T02:00:00+02:00").filter.created_from_ms, 1625011200000);
}

TEST(list_params, Latency) {
  EXPECT_EQ(ok("Latency=0").filter.min_latency_ms, 0);
  EXPECT_EQ(ok("Latency=564").filter.min_latency_ms, 564);
  // Any number of digits is a non-negative integer: past 18 digits it saturates (no record
  // is that slow); leading zeros do not count.
  EXPECT_EQ(ok("Latency=1234567890123456789").filter.min_latency_ms, 999'999'999'999'999'999);
  EXPECT_EQ(ok("Latency=99999999999999999999999999").filter.min_latency_ms,
            999'999'999'999'999'999);
  EXPECT_EQ(ok("Latency=0000000000000000000000042").filter.min_latency_ms, 42);
  for (const auto q : {"Latency=-1", "Latency=1.5", "Latency=", "Latency=abc", "Latency=+3"}) {
    EXPECT_NE(bad(q).find("Latency must be a non-negative integer"), std::string::npos) << q;
  }
}

TEST(list_params, DirectionIsCaseInsensitive) {
  EXPECT_EQ(ok("Direction=webhook").filter.direction, conf::direction::webhook);
  EXPECT_EQ(ok("Direction=API").filter.direction, conf::direction::api);
  EXPECT_EQ(ok("Direction=Api").filter.direction, conf::direction::api);
  EXPECT_EQ(ok("Direction=WebHook").filter.direction, conf::direction::webhook);
  EXPECT_NE(bad("Direction=both").find("Direction must be webhook or api"), std::string::npos);
  EXPECT_NE(bad("Direction=").find("Direction"), std::string::npos);
}

TEST(list_params, ResponseCodeOneToThreeDigits) {
  EXPECT_EQ(ok("ResponseCode=2").filter.response_code_prefix, "2");
  EXPECT_EQ(ok("ResponseCode=20").filter.response_code_prefix, "20");
  EXPECT_EQ(ok("ResponseCode=404").filter.response_code_prefix, "404");
  for (const auto q :
       {"ResponseCode=", "ResponseCode=2000", "ResponseCode=2x", "ResponseCode=-2"}) {
    EXPECT_NE(bad(q).find("ResponseCode must be 1 to 3 digits"), std::string::npos) << q;
  }
}

TEST(list_params, TextFiltersAreExactDecodedStrings) {
  const list_params p =
      ok("SessionSid=ID1-CA2&ResponseBody=%3CSay%3Ehello&RequestPath=https%3A%2F%2Fs3.amazonaws.com"
         "&AccountSid=AC9&OrgSid=OR7");
  EXPECT_EQ(p.filter.session_sid, "ID1-CA2");
  EXPECT_EQ(p.filter.response_body_contains, "<Say>hello");
  EXPECT_EQ(p.filter.request_path_prefix, "https://s3.amazonaws.com");
  EXPECT_EQ(p.filter.account_sid, "AC9");
  EXPECT_EQ(p.filter.org_sid, "OR7");
  ASSERT_EQ(p.filters.size(), 5u);
  EXPECT_EQ(p.filters[1].name, "ResponseBody");
  EXPECT_EQ(p.filters[1].value, "<Say>hello");
}

TEST(list_params, MethodAndRequestBodyAreDecodedStringsKeptForPageUris) {
  const list_params p = ok("Method=post&RequestBody=CallStatus%3Dcompleted%26x&Method=GET");
  EXPECT_EQ(p.filter.method, "post");  // letter case is the store's business
  EXPECT_EQ(p.filter.request_body_contains, "CallStatus=completed&x");
  ASSERT_EQ(p.filters.size(), 2u);
  EXPECT_EQ(p.filters[0].name, "Method");
  EXPECT_EQ(p.filters[1].name, "RequestBody");
  EXPECT_EQ(p.filters[1].value, "CallStatus=completed&x");
}

TEST(list_params, EmptyTextFilterIsAbsent) {
  const list_params p = ok("SessionSid=&ResponseBody=&Method=&RequestBody=");
  EXPECT_FALSE(p.filter.session_sid);
  EXPECT_FALSE(p.filter.response_body_contains);
  EXPECT_FALSE(p.filter.method);
  EXPECT_FALSE(p.filter.request_body_contains);
  EXPECT_TRUE(p.filters.empty());
}

TEST(list_params, NamesAreCaseSensitiveAndUnknownOnesIgnored) {
  const list_params p = ok("status=bogus&STATUS=x&Foo=bar&pagesize=0");
  EXPECT_FALSE(p.filter.completed);
  EXPECT_EQ(p.page_size, 50u);
  EXPECT_TRUE(p.filters.empty());
}

TEST(list_params, FirstOfARepeatedParameterWins) {
  const list_params p = ok("Status=failed&Status=completed&PageSize=10&PageSize=20");
  EXPECT_EQ(p.filter.completed, false);
  EXPECT_EQ(p.page_size, 10u);
  EXPECT_EQ(p.filters.size(), 1u);
}

TEST(list_params, FiltersKeepTheRequestsOrderAndPagingIsNotAFilter) {
  const list_params p = ok("Page=2&Latency=5&AfterSid=TRx&Status=failed&PageSize=7&Direction=api");
  EXPECT_EQ(p.page, 2u);
  EXPECT_EQ(p.page_size, 7u);
  EXPECT_EQ(p.after_sid, "TRx");
  ASSERT_EQ(p.filters.size(), 3u);
  EXPECT_EQ(p.filters[0].name, "Latency");
  EXPECT_EQ(p.filters[1].name, "Status");
  EXPECT_EQ(p.filters[2].name, "Direction");
  EXPECT_EQ(p.filters[2].value, "api");  // as given
}

TEST(list_params, PageAndPageSizeBounds) {
  EXPECT_EQ(ok("Page=0").page, 0u);
  EXPECT_EQ(ok("Page=17").page, 17u);
  EXPECT_EQ(ok("PageSize=1").page_size, 1u);
  EXPECT_EQ(ok("PageSize=1000").page_size, 1000u);
  // A huge page is an integer (saturated); the handler answers it 400 as beyond the last page.
  EXPECT_EQ(ok("Page=1234567890123456789").page, 999'999'999'999'999'999u);
  for (const auto q : {"Page=-1", "Page=x", "Page=", "Page=1.0"}) {
    EXPECT_NE(bad(q).find("Page must be a non-negative integer"), std::string::npos) << q;
  }
  for (const auto q : {"PageSize=0", "PageSize=1001", "PageSize=", "PageSize=-5", "PageSize=ten"}) {
    EXPECT_NE(bad(q).find("PageSize must be an integer from 1 to 1000"), std::string::npos) << q;
  }
}

}  // namespace
}  // namespace sidecar::api
