// A record's JSON read in place (store/record_view.hpp, docs/api.md "Performance"): the
// fields as views into the JSON, strings as their encoded tokens, so a renderer copies them
// out without escaping them again; cut and hostile documents are refused.
#include "store/record_view.hpp"

#include <gtest/gtest.h>

#include <random>
#include <string>

#include "store/trace_record.hpp"
#include "store/trace_sid.hpp"

namespace sidecar::store {
namespace {

constexpr std::int64_t created = 1'764'000'000'123;

trace_record sample() {
  std::mt19937_64 rng(3);
  trace_record r;
  r.sid = make_trace_sid(created, rng);
  r.created_ms = created;
  r.account_sid = "ACae6e420f425248d6a26948c17a9e2acf";
  r.session_sid = "CA5e3a1d1c1e2f4a6b8c0d2e4f6a8b0c2d";
  r.completed = true;
  r.latency_ms = 17;
  r.request.path = "/rcml?To=%2B1";
  r.request.url = "http://app.example:8080/rcml?To=%2B1";
  r.request.method = "POST";
  r.request.headers = {{"content-type", "application/x-www-form-urlencoded"},
                       {"x-quote", "say \"hi\"\n"}};
  r.request.body.body = "To=%2B1";
  r.request.body.size = r.request.body.body.size();
  r.response.code = "200";
  r.response.phrase = "OK";
  r.response.headers = {{"content-type", "text/xml"}};
  r.response.body.body = std::string(10, 'x');
  r.response.body.truncated = true;
  r.response.body.size = 4096;
  return r;
}

TEST(record_view, FieldsAreViewsAndStringsTheirEncodedTokens) {
  const trace_record r = sample();
  const std::string json = to_json(r);
  record_view v;
  ASSERT_TRUE(view_record(json, v));
  EXPECT_EQ(v.sid, r.sid) << "the sid is decoded";
  EXPECT_EQ(v.created_ms, created);
  EXPECT_EQ(v.account_sid, "\"" + r.account_sid + "\"") << "a token keeps its quotes";
  EXPECT_EQ(v.session_sid, "\"" + r.session_sid + "\"");
  EXPECT_EQ(v.latency_ms, 17);
  EXPECT_TRUE(v.error.empty());
  EXPECT_EQ(v.request.method, "\"POST\"");
  EXPECT_EQ(v.request.url, "\"http://app.example:8080/rcml?To=%2B1\"");
  EXPECT_EQ(v.request.url_text, r.request.url) << "url_text is decoded";
  EXPECT_EQ(v.response.code, "200");
  EXPECT_EQ(v.response.phrase, "\"OK\"");
  ASSERT_EQ(v.request.headers.size(), 2u);
  EXPECT_EQ(v.request.headers[0].name, "content-type");
  EXPECT_EQ(v.request.headers[1].value, "\"say \\\"hi\\\"\\n\"") << "escapes as written";
  EXPECT_EQ(v.request.body.text, "\"To=%2B1\"");
  EXPECT_FALSE(v.request.body.base64);
  EXPECT_EQ(v.request.body.size, 7u);
  EXPECT_TRUE(v.response.body.truncated);
  EXPECT_EQ(v.response.body.size, 4096u) << "a cut body's recorded size";
}

TEST(record_view, AHeaderIsFoundByItsLowerCaseNameOrNotAtAll) {
  const std::string json = to_json(sample());
  record_view v;
  ASSERT_TRUE(view_record(json, v));
  EXPECT_EQ(header_token(v.request.headers, "content-type"),
            "\"application/x-www-form-urlencoded\"");
  EXPECT_EQ(header_token(v.response.headers, "content-type"), "\"text/xml\"");
  EXPECT_EQ(header_token(v.request.headers, "authorization"), "");
}

TEST(record_view, FieldsARecordLacksAreEmptyTokens) {
  trace_record r = sample();
  r.session_sid.clear();
  r.response = {};
  r.completed = false;
  r.error = "upstream_connect_failed";
  const std::string json = to_json(r);
  record_view v;
  ASSERT_TRUE(view_record(json, v));
  EXPECT_EQ(v.session_sid, empty_token);
  EXPECT_EQ(v.response.phrase, empty_token);
  EXPECT_TRUE(v.response.headers.empty());
  EXPECT_EQ(v.response.body.text, empty_token);
  EXPECT_NE(v.error.find("upstream_connect_failed"), std::string_view::npos);
}

TEST(record_view, AViewReusesItsVectorsFromOneRecordToTheNext) {
  const std::string first = to_json(sample());
  trace_record r = sample();
  r.request.headers = {{"x-one", "1"}};
  const std::string second = to_json(r);
  record_view v;
  ASSERT_TRUE(view_record(first, v));
  ASSERT_EQ(v.request.headers.size(), 2u);
  ASSERT_TRUE(view_record(second, v));
  ASSERT_EQ(v.request.headers.size(), 1u) << "the second record's headers only";
  EXPECT_EQ(v.request.headers[0].name, "x-one");
}

TEST(record_view, CutAndHostileDocumentsAreRefused) {
  const std::string json = to_json(sample());
  record_view v;
  for (const std::string& bad :
       {std::string(), std::string("null"), std::string("[]"), std::string("\"TR\""),
        std::string("{\"sid\":"), std::string(100'000, '['), json.substr(0, json.size() / 2),
        json.substr(0, json.size() - 1), std::string("{\"sid\":\"not a sid\"}")}) {
    SCOPED_TRACE(bad.substr(0, 40));
    EXPECT_FALSE(view_record(bad, v));
  }
}

}  // namespace
}  // namespace sidecar::store
