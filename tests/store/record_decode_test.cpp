// Reading a record's JSON back into a trace_record (store/record_decode.hpp): every field of
// docs/records.md survives to_json and back, fields a record may lack take their defaults, and
// anything that is not a record (cut, another shape, hostile) is refused, never half-read.
#include "store/record_decode.hpp"

#include <gtest/gtest.h>

#include <random>
#include <string>

#include "store/trace_record.hpp"
#include "store/trace_sid.hpp"
#include "tests/store/record_fixtures.hpp"

namespace sidecar::store {
namespace {

constexpr std::int64_t created = 1'764'000'000'123;

trace_record full_record() {
  std::mt19937_64 rng(7);
  trace_record r;
  r.sid = make_trace_sid(created, rng);
  r.created_ms = created;
  r.account_sid = "ACae6e420f425248d6a26948c17a9e2acf";
  r.account_friendly_name = "Acme \"Voice\" \\ Ops";
  r.org_sid = "ORae6e420f425248d6a26948c17a9e2acf";
  r.org_name = "Acme";
  r.session_sid = "CA5e3a1d1c1e2f4a6b8c0d2e4f6a8b0c2d";
  r.completed = true;
  r.direction = conf::direction::api;
  r.latency_ms = 42;
  r.request.path = "/2012-04-24/Accounts/AC/Calls.json?x=%22y%22";
  r.request.url = "https://platform.example" + r.request.path;
  r.request.method = "POST";
  r.request.headers = {{"content-type", "application/x-www-form-urlencoded"},
                       {"x-odd", "tab\there, quote \" and \x01 control"}};
  r.request.body.body = "From=%2B1555&Body=line%0Atwo";
  r.request.body.size = r.request.body.body.size();
  r.response.code = "201";
  r.response.phrase = "Created";
  r.response.headers = {{"content-type", "application/octet-stream"}};
  r.response.body.body = "AAECAwQ=";  // base64 of five bytes
  r.response.body.base64 = true;
  r.response.body.size = 5;
  r.node = "node-7";
  r.replay_of = make_trace_sid(created - 1000, rng);
  return r;
}

TEST(record_decode, EveryFieldSurvivesTheJsonAndBack) {
  const trace_record r = full_record();
  const auto back = decode_record(to_json(r));
  ASSERT_TRUE(back);
  testing::expect_same_record(r, *back);
  // Decoding is the inverse of encoding: the JSON of what was read is the JSON that was read.
  EXPECT_EQ(to_json(*back), to_json(r));
}

TEST(record_decode, ACutBodyKeepsItsRecordedSizeAndAFailedExchangeItsError) {
  trace_record r = full_record();
  r.completed = false;
  r.error = "upstream_response_timeout";
  r.response = {};
  r.request.body.body = std::string(64, 'x');
  r.request.body.truncated = true;
  r.request.body.size = 1'000'000;
  r.session_sid.clear();
  r.replay_of.clear();
  r.node.clear();
  const auto back = decode_record(to_json(r));
  ASSERT_TRUE(back);
  testing::expect_same_record(r, *back);
  EXPECT_TRUE(back->request.body.truncated);
  EXPECT_EQ(back->request.body.size, 1'000'000u) << "body_size, not the bytes kept";
}

TEST(record_decode, AnUncutBodyGetsItsSizeFromItsBytesDecodedFromBase64) {
  trace_record r = full_record();
  r.response.body.size = 0;  // the JSON carries no body_size for a body that was not cut
  const auto back = decode_record(to_json(r));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->response.body.size, 5u) << "five bytes, not the eight characters of base64";
}

TEST(record_decode, TheRequestPartsAndTheSessionAreReadAlone) {
  const trace_record r = full_record();
  const std::string json = to_json(r);
  std::string method, body;
  ASSERT_TRUE(decode_request_parts(json, method, body));
  EXPECT_EQ(method, "POST");
  EXPECT_EQ(body, r.request.body.body);
  EXPECT_EQ(decode_session_sid(json), r.session_sid);

  trace_record none = r;
  none.session_sid.clear();
  EXPECT_EQ(decode_session_sid(to_json(none)), "");
}

TEST(record_decode, WhatIsNotARecordIsRefusedWhole) {
  const std::string json = to_json(full_record());
  std::string method, body;
  for (const std::string& bad :
       {std::string(), std::string("null"), std::string("[]"), std::string("{}"),
        std::string("{\"sid\":42}"), std::string("not json at all"),
        json.substr(0, json.size() / 2), json.substr(0, json.size() - 1), json + "garbage"}) {
    SCOPED_TRACE(bad.substr(0, 60));
    EXPECT_FALSE(decode_record(bad));
    EXPECT_FALSE(decode_request_parts(bad, method, body));
  }
}

TEST(record_decode, TheSessionIsReadUpToItsFieldOnly) {
  const trace_record r = full_record();
  const std::string json = to_json(r);
  const auto field = json.find("\"session_sid\"");
  ASSERT_NE(field, std::string::npos);
  for (const std::string& bad :
       {std::string(), std::string("null"), std::string("[]"), std::string("{}"),
        std::string("not json"), json.substr(0, field), std::string("{\"session_sid\":7}")}) {
    SCOPED_TRACE(bad.substr(0, 60));
    EXPECT_EQ(decode_session_sid(bad), "");
  }
  // Past the field nothing is looked at: a document cut after it still names its session.
  EXPECT_EQ(decode_session_sid(json.substr(0, json.size() - 1)), r.session_sid);
}

}  // namespace
}  // namespace sidecar::store
