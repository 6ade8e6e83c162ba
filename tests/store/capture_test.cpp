// store/capture: the record's error texts, one per way an exchange can fail, and the memory a
// capture is charged against the store's queue_bytes.
#include "store/capture.hpp"

#include <gtest/gtest.h>

#include <set>

namespace sidecar::store {
namespace {

TEST(capture, EveryFailureHasItsOwnText) {
  EXPECT_EQ(describe(exchange_error::none), "");
  std::set<std::string_view> texts;
  const int last = static_cast<int>(exchange_error::shutdown);
  for (int e = 1; e <= last; ++e) {
    const std::string_view text = describe(static_cast<exchange_error>(e));
    EXPECT_FALSE(text.empty()) << e;
    EXPECT_TRUE(texts.insert(text).second) << text;
  }
  EXPECT_EQ(describe(exchange_error::upstream_connect_refused), "upstream connect refused");
  EXPECT_EQ(describe(static_cast<exchange_error>(last + 1)), "unknown error");
}

TEST(capture, MemorySizeCountsWhatItHoldsOnTheHeap) {
  capture c;
  const std::size_t empty = c.memory_size();
  EXPECT_GE(empty, sizeof(capture));

  c.request_body.head.assign(10'000, 'x');
  const std::size_t with_body = c.memory_size();
  EXPECT_GE(with_body - empty, 10'000u);

  c.response_headers.emplace_back("X-Long", std::string(1'000, 'v'));
  EXPECT_GE(c.memory_size() - with_body, 1'000u);

  const std::size_t before_form = c.memory_size();
  c.request_form.emplace();
  c.request_form->call_sid = std::string(500, 'c');
  EXPECT_GE(c.memory_size() - before_form, 500u);

  const std::size_t before_method = c.memory_size();
  c.method = "GET";  // within the small-string buffer: no heap
  EXPECT_EQ(c.memory_size(), before_method);
}

}  // namespace
}  // namespace sidecar::store
