// store/capture: the record's error texts, one per way an exchange can fail, the memory a
// capture is charged against the store's queue_bytes, and its reuse: reset() to a fresh
// capture's values with its buffers kept, trim() of what a spare should not hold.
#include "store/capture.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <set>
#include <string>
#include <vector>

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

// A capture whose every member differs from a fresh one's.
capture every_member_set() {
  capture c;
  c.completed_at = std::chrono::system_clock::time_point(std::chrono::seconds(1'798'419'723));
  c.latency = std::chrono::milliseconds(12);
  c.client_address = "203.0.113.9:51234";
  c.direction = conf::direction::api;
  c.route_account = "ACae6e420f425248d6a26948c17a9e2acf";
  c.route_prefix = "/apps/acme/voice/";
  c.forward_proxy = true;
  c.capture_bodies = false;
  c.method = "POST";
  c.upstream_url = "http://app.example:8080/voice.xml?CallSid=CA1234567890";
  c.target_at = 23;
  c.request_headers = {{"Content-Type", "application/x-www-form-urlencoded"}};
  c.request_body = {"AccountSid=AC1&CallSid=CA1&From=%2B15551234567", 47};
  c.request_form.emplace();
  c.request_form->call_sid = "CA1";
  c.request_form_in_head = true;
  c.status_code = 502;
  c.reason = "Bad Gateway";
  c.response_headers = {{"Content-Type", "application/json"}};
  c.response_body = {"{\"message\":\"upstream connect refused\",\"status\":502}", 52};
  c.sidecar_answered = true;
  c.upgraded = true;
  c.error = exchange_error::upstream_connect_refused;
  c.replay = capture::replay_origin{"TR1", "AC1", "CA1", "TR2", {"Authorization"}};
  c.config = std::make_shared<conf::config>();
  return c;
}

// A member added to capture must be reset by capture::reset() and set above: this size is the
// reminder (x86-64, libstdc++).
static_assert(sizeof(capture) == 752, "a member was added: reset() it, and set it above");

TEST(capture, ResetGivesAFreshCaptureAndKeepsItsBuffers) {
  capture c = every_member_set();
  ASSERT_NE(c, capture{});
  const std::size_t url_capacity = c.upstream_url.capacity();
  const std::size_t headers_capacity = c.request_headers.buffer().capacity();
  c.reset();
  EXPECT_EQ(c, capture{});
  EXPECT_EQ(c.upstream_url.capacity(), url_capacity) << "the buffers stay for the next exchange";
  EXPECT_EQ(c.request_headers.buffer().capacity(), headers_capacity);
}

// The positions of the members that, set alone from `full`, leave a capture equal to a fresh
// one: none should, or the comparison that reset() is tested with would miss them.
template <auto... Members>
std::vector<std::size_t> members_not_compared(const capture& full) {
  std::vector<std::size_t> missed;
  std::size_t at = 0;
  const auto check = [&](auto member) {
    capture c;
    c.*member = full.*member;
    if (c == capture{}) missed.push_back(at);
    ++at;
  };
  (check(Members), ...);
  return missed;
}

TEST(capture, EveryMemberCountsInTheComparisonThatResetIsTestedWith) {
  const auto missed = members_not_compared<
      &capture::completed_at, &capture::latency, &capture::client_address, &capture::direction,
      &capture::route_account, &capture::route_prefix, &capture::forward_proxy,
      &capture::capture_bodies, &capture::method, &capture::upstream_url, &capture::target_at,
      &capture::request_headers, &capture::request_body, &capture::request_form,
      &capture::request_form_in_head, &capture::status_code, &capture::reason,
      &capture::response_headers, &capture::response_body, &capture::sidecar_answered,
      &capture::upgraded, &capture::error, &capture::replay, &capture::config>(every_member_set());
  EXPECT_TRUE(missed.empty()) << "member #" << missed.front() << " is not compared";
}

TEST(capture, TrimFreesLargeBuffersAndLetsGoOfTheConfiguration) {
  capture c = every_member_set();
  c.response_body.head.assign(20'000, 'x');
  c.response_headers.emplace_back("X-Long", std::string(20'000, 'v'));
  const std::string url = c.upstream_url;
  c.trim(16 << 10);
  EXPECT_EQ(c.response_body.head.capacity(), std::string().capacity()) << "freed";
  EXPECT_EQ(c.response_headers.buffer().capacity(), std::string().capacity()) << "freed";
  EXPECT_EQ(c.upstream_url, url) << "a small buffer stays as it was";
  EXPECT_EQ(c.config, nullptr);
  EXPECT_FALSE(c.replay);
  EXPECT_FALSE(c.request_form);
}

}  // namespace
}  // namespace sidecar::store
