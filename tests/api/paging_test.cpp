// Restcomm's paging arithmetic (docs/api.md, "Paging": its formulas and worked cases) and the page
// URIs that repeat the request's path and filters.
#include "api/paging.hpp"

#include <gtest/gtest.h>

namespace sidecar::api {
namespace {

struct expected_page {
  std::uint64_t total, page, num_pages, start, end;
  bool prev, next;
};

TEST(paging, EveryFieldOfTheWorkedCasesWithPageSize50) {
  const expected_page cases[] = {
      {0, 0, 0, 0, 0, false, false},      {1, 0, 0, 0, 1, false, false},
      {34, 0, 0, 0, 34, false, false},    {49, 0, 0, 0, 49, false, false},
      {50, 0, 1, 0, 49, false, true},     {50, 1, 1, 50, 50, true, false},
      {51, 0, 1, 0, 49, false, true},     {51, 1, 1, 50, 51, true, false},
      {120, 0, 2, 0, 49, false, true},    {120, 1, 2, 50, 99, true, true},
      {120, 2, 2, 100, 120, true, false},
  };
  for (const auto& c : cases) {
    const page_result r = compute_page(c.total, c.page, 50);
    ASSERT_TRUE(r.valid) << c.total << "/" << c.page;
    EXPECT_EQ(r.numbers.page, c.page);
    EXPECT_EQ(r.numbers.page_size, 50u);
    EXPECT_EQ(r.numbers.total, c.total);
    EXPECT_EQ(r.numbers.num_pages, c.num_pages) << c.total;
    EXPECT_EQ(r.numbers.start, c.start) << c.total << "/" << c.page;
    EXPECT_EQ(r.numbers.end, c.end) << c.total << "/" << c.page;
    EXPECT_EQ(r.numbers.has_previous(), c.prev);
    EXPECT_EQ(r.numbers.has_next(), c.next);
  }
}

TEST(paging, PageBeyondTheLastIsInvalid) {
  EXPECT_FALSE(compute_page(0, 1, 50).valid);
  EXPECT_FALSE(compute_page(49, 1, 50).valid);
  EXPECT_FALSE(compute_page(120, 3, 50).valid);
  EXPECT_TRUE(compute_page(100, 2, 50).valid);  // the empty last page of a multiple
  EXPECT_FALSE(compute_page(10, 0, 0).valid);
}

TEST(paging, PageSizeOneAndThousand) {
  const page_result one = compute_page(3, 2, 1);
  ASSERT_TRUE(one.valid);
  EXPECT_EQ(one.numbers.num_pages, 3u);
  EXPECT_EQ(one.numbers.start, 2u);
  EXPECT_EQ(one.numbers.end, 2u);  // start + 1 - 1
  const page_result big = compute_page(2500, 2, 1000);
  ASSERT_TRUE(big.valid);
  EXPECT_EQ(big.numbers.start, 2000u);
  EXPECT_EQ(big.numbers.end, 2500u);
}

TEST(paging, UrisRepeatPathAndFiltersInOrderEncoded) {
  const std::vector<query_param> filters{{"Status", "completed"},
                                         {"ResponseBody", "a b&c=d+é"},
                                         {"DateCreated", "2021-06-30T16:41:09+02:00"}};
  const page_uris uris("/api/2012-04-24/Accounts/AC1/Traces.json", filters, 20);
  EXPECT_EQ(uris.list_uri(),
            "/api/2012-04-24/Accounts/AC1/Traces.json?Status=completed&ResponseBody="
            "a%20b%26c%3Dd%2B%C3%A9&DateCreated=2021-06-30T16:41:09%2B02:00");
  EXPECT_EQ(uris.page_uri(3, "TRab"),
            "/api/2012-04-24/Accounts/AC1/Traces.json?Page=3&PageSize=20&Status=completed&"
            "ResponseBody=a%20b%26c%3Dd%2B%C3%A9&DateCreated=2021-06-30T16:41:09%2B02:00&"
            "AfterSid=TRab");
}

TEST(paging, UrisWithoutFilters) {
  const page_uris uris("/2012-04-24/Accounts/AC1/Traces", {}, 50);
  EXPECT_EQ(uris.list_uri(), "/2012-04-24/Accounts/AC1/Traces");
  EXPECT_EQ(uris.page_uri(0), "/2012-04-24/Accounts/AC1/Traces?Page=0&PageSize=50");
}

TEST(paging, HeadHasTheContractsFieldsInOrder) {
  std::string out;
  json::writer w(out);
  const page_uris uris("/api/2012-04-24/Accounts/AC1/Traces", {}, 50);
  write_list_head(w, compute_page(34, 0, 50).numbers, uris, "");
  w.end_array().end_object();
  EXPECT_EQ(out, R"({"page":0,"num_pages":0,"page_size":50,"total":34,"start":"0","end":"34",)"
                 R"("uri":"/api/2012-04-24/Accounts/AC1/Traces",)"
                 R"("first_page_uri":"/api/2012-04-24/Accounts/AC1/Traces?Page=0&PageSize=50",)"
                 R"("previous_page_uri":"null","next_page_uri":"null",)"
                 R"("last_page_uri":"/api/2012-04-24/Accounts/AC1/Traces?Page=0&PageSize=50",)"
                 R"("traces":[]})");
}

TEST(paging, NextPageCarriesAfterSidAndPreviousDoesNot) {
  std::string out;
  json::writer w(out);
  const page_uris uris("/T", {}, 50);
  write_list_head(w, compute_page(120, 1, 50).numbers, uris, "TRlast");
  EXPECT_NE(out.find(R"("previous_page_uri":"/T?Page=0&PageSize=50")"), std::string::npos);
  EXPECT_NE(out.find(R"("next_page_uri":"/T?Page=2&PageSize=50&AfterSid=TRlast")"),
            std::string::npos);
  EXPECT_NE(out.find(R"("last_page_uri":"/T?Page=2&PageSize=50")"), std::string::npos);
}

}  // namespace
}  // namespace sidecar::api
