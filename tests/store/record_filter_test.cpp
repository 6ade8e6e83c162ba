// The Method and RequestBody filters (store/record_filter.hpp, docs/store.md "Filters"): the
// covering entry's method code decides when it can, the record decides when it must (an entry
// written before methods were indexed, an unusual method, any RequestBody), and the record's
// answer is exact (Method but for letter case, RequestBody as a substring, taken as data).
#include "store/record_filter.hpp"

#include <gtest/gtest.h>

#include <random>
#include <string>

#include "store/store_codec.hpp"
#include "store/trace_query.hpp"
#include "store/trace_record.hpp"
#include "store/trace_sid.hpp"

namespace sidecar::store {
namespace {

using verdict = record_filter::verdict;

std::string record_json(std::string method, std::string body) {
  std::mt19937_64 rng(9);
  trace_record r;
  r.sid = make_trace_sid(1'764'000'000'000, rng);
  r.account_sid = "ACae6e420f425248d6a26948c17a9e2acf";
  r.request.method = std::move(method);
  r.request.body.body = std::move(body);
  r.request.body.size = r.request.body.body.size();
  return to_json(r);
}

codec::covering entry_with(std::string_view method) {
  codec::covering c;
  c.method = codec::method_code(method);
  return c;
}

TEST(record_filter, WithoutMethodOrRequestBodyItIsInactiveAndLetsEverythingBy) {
  trace_filter f;
  f.method = "";  // an empty value filters nothing
  const record_filter rf(f);
  EXPECT_FALSE(rf.active());
  EXPECT_FALSE(rf.has_method());
  EXPECT_EQ(rf.on_covering(entry_with("GET")), verdict::yes);
}

TEST(record_filter, AUsualMethodIsDecidedByTheCoveringEntryAlone) {
  trace_filter f;
  f.method = "post";  // any letter case
  const record_filter rf(f);
  EXPECT_TRUE(rf.active());
  EXPECT_TRUE(rf.has_method());
  EXPECT_EQ(rf.on_covering(entry_with("POST")), verdict::yes);
  EXPECT_EQ(rf.on_covering(entry_with("GET")), verdict::no);
  EXPECT_EQ(rf.on_covering(entry_with("PROPFIND")), verdict::no) << "another code";
}

TEST(record_filter, AnOldEntryOrAnUnusualMethodIsDecidedByTheRecord) {
  trace_filter f;
  f.method = "PROPFIND";
  const record_filter rf(f);
  EXPECT_EQ(codec::method_code("PROPFIND"), codec::method_other);
  EXPECT_EQ(rf.on_covering(entry_with("MKCOL")), verdict::read) << "both unusual";
  EXPECT_EQ(rf.on_covering(entry_with("GET")), verdict::no);
  codec::covering old;  // written before methods were indexed
  EXPECT_EQ(rf.on_covering(old), verdict::read);
  EXPECT_TRUE(rf.on_record(record_json("propfind", "")));
  EXPECT_FALSE(rf.on_record(record_json("MKCOL", "")));
}

TEST(record_filter, RequestBodyAlwaysReadsTheRecordAndMatchesASubstringAsData) {
  trace_filter f;
  f.request_body_contains = "Digits=1*";
  const record_filter rf(f);
  EXPECT_TRUE(rf.active());
  EXPECT_FALSE(rf.has_method());
  EXPECT_EQ(rf.on_covering(entry_with("POST")), verdict::read);
  EXPECT_TRUE(rf.on_record(record_json("POST", "CallSid=CA1&Digits=1*&To=%2B1")));
  EXPECT_FALSE(rf.on_record(record_json("POST", "CallSid=CA1&Digits=12")))
      << "'*' is a character, not a pattern";
  EXPECT_FALSE(rf.on_record(record_json("POST", "digits=1*"))) << "case matters in a body";
}

TEST(record_filter, BothFiltersMustHold) {
  trace_filter f;
  f.method = "POST";
  f.request_body_contains = "Body=hi";
  const record_filter rf(f);
  EXPECT_EQ(rf.on_covering(entry_with("POST")), verdict::read);
  EXPECT_EQ(rf.on_covering(entry_with("GET")), verdict::no) << "no read when the code says no";
  EXPECT_TRUE(rf.on_record(record_json("POST", "Body=hi")));
  EXPECT_FALSE(rf.on_record(record_json("PUT", "Body=hi")));
  EXPECT_FALSE(rf.on_record(record_json("POST", "Body=bye")));
}

TEST(record_filter, ARecordThatCannotBeReadMatchesNothing) {
  trace_filter f;
  f.request_body_contains = "x";
  const record_filter rf(f);
  const std::string json = record_json("POST", "x");
  EXPECT_FALSE(rf.on_record(json.substr(0, json.size() / 2)));
  EXPECT_FALSE(rf.on_record("[]"));
  EXPECT_FALSE(rf.on_record(""));
}

}  // namespace
}  // namespace sidecar::store
