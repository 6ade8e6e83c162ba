// The trace record's JSON: the shape of docs/records.md (its example, byte for byte, plus the
// extensions where they apply).
#include "store/trace_record.hpp"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <vector>

#include "support/json.hpp"

namespace sidecar::store {
namespace {

constexpr std::int64_t example_ms = 1625071269456;  // Wed, 30 Jun 2021 16:41:09.456 UTC

trace_record example_record() {
  trace_record r;
  r.sid = "TR018f3a2b4c5d0d2c6e0b5a1f4c3e9b8a";
  r.account_sid = "ACae6e420f425248d6a26948c17a9e2acf";
  r.account_friendly_name = "Acme";
  r.org_sid = "ORfe81fe8a3d5f4d5391e901db0bf5755d";
  r.org_name = "acme.example.com";
  r.created_ms = example_ms;
  r.session_sid = "IDbb44ef8c2ebf4d4599d0378a2a8a2ea8-CAd9e08ede8b604e739ba7d0bd477fdf49";
  r.completed = true;
  r.direction = conf::direction::webhook;
  r.latency_ms = 564;
  r.request.path = "/cpaasAppPath?AccountSid=ACae6e420f425248d6a26948c17a9e2acf";
  r.request.url =
      "http://127.0.0.1:9000/cpaasAppPath?AccountSid=ACae6e420f425248d6a26948c17a9e2acf";
  r.request.method = "GET";
  r.request.headers = {{"accept", "application/xml"}};
  r.response.code = "200";
  r.response.phrase = "OK";
  r.response.headers = {{"content-length", "43"}, {"content-type", "application/xml"}};
  r.response.body.body = "<Response><Say>hello world</Say></Response>";
  r.response.body.size = 43;
  return r;
}

simdjson::dom::element parse(simdjson::dom::parser& parser, const std::string& doc) {
  simdjson::dom::element e;
  EXPECT_EQ(parser.parse(doc).get(e), simdjson::SUCCESS) << doc;
  return e;
}

TEST(trace_json, MatchesTheContractExampleFieldForField) {
  const std::string expected =
      R"({"sid":"TR018f3a2b4c5d0d2c6e0b5a1f4c3e9b8a","api_version":"2012-04-24",)"
      R"("account_sid":"ACae6e420f425248d6a26948c17a9e2acf","account_friendly_name":"Acme",)"
      R"("org_sid":"ORfe81fe8a3d5f4d5391e901db0bf5755d","org_name":"acme.example.com",)"
      R"("date_created":"Wed, 30 Jun 2021 16:41:09 +0000",)"
      R"("date_created_ms":"Wed, 30 Jun 2021 16:41:09.456 +0000",)"
      R"("session_sid":"IDbb44ef8c2ebf4d4599d0378a2a8a2ea8-CAd9e08ede8b604e739ba7d0bd477fdf49",)"
      R"("uri":"/2012-04-24/Accounts/ACae6e420f425248d6a26948c17a9e2acf/Traces/TR018f3a2b4c5d0d2c6e0b5a1f4c3e9b8a",)"
      R"("status":"completed","direction":"webhook","latency_ms":564,)"
      R"("request":{"path":"/cpaasAppPath?AccountSid=ACae6e420f425248d6a26948c17a9e2acf",)"
      R"("url":"http://127.0.0.1:9000/cpaasAppPath?AccountSid=ACae6e420f425248d6a26948c17a9e2acf",)"
      R"("method":"GET","headers":{"accept":"application/xml"},"body":""},)"
      R"("response":{"status":{"code":"200","phrase":"OK",)"
      R"("headers":{"content-length":"43","content-type":"application/xml"},)"
      R"("body":"<Response><Say>hello world</Say></Response>"}}})";
  EXPECT_EQ(to_json(example_record()), expected);
}

TEST(trace_json, FailedApiExchangeCarriesErrorAndEmptyResponse) {
  trace_record r = example_record();
  r.completed = false;
  r.direction = conf::direction::api;
  r.error = "upstream connect refused";
  r.response = {};
  simdjson::dom::parser parser;
  const auto doc = parse(parser, to_json(r));
  EXPECT_EQ(std::string_view(doc["status"]), "failed");
  EXPECT_EQ(std::string_view(doc["direction"]), "api");
  EXPECT_EQ(std::string_view(doc["error"]), "upstream connect refused");
  EXPECT_EQ(std::string_view(doc["response"]["status"]["code"]), "");
  EXPECT_EQ(std::string_view(doc["response"]["status"]["phrase"]), "");
}

TEST(trace_json, NoErrorMemberWhenTheExchangeRanToItsEnd) {
  EXPECT_EQ(to_json(example_record()).find("\"error\""), std::string::npos);
}

TEST(trace_json, BodyExtensionsSitBesideTheirBodyOnlyWhenTheyApply) {
  trace_record r = example_record();
  r.request.body = {"AAEC", true, true, 70000};
  r.response.body.truncated = true;
  r.response.body.size = 102401;
  const std::string json = to_json(r);
  EXPECT_NE(
      json.find(
          R"("body":"AAEC","body_encoding":"base64","body_truncated":true,"body_size":70000})"),
      std::string::npos)
      << json;
  EXPECT_NE(
      json.find(
          R"("body":"<Response><Say>hello world</Say></Response>","body_truncated":true,"body_size":102401})"),
      std::string::npos)
      << json;
  const std::string plain = to_json(example_record());
  EXPECT_EQ(plain.find("body_encoding"), std::string::npos);
  EXPECT_EQ(plain.find("body_truncated"), std::string::npos);
  EXPECT_EQ(plain.find("body_size"), std::string::npos);
}

TEST(trace_json, HeaderValuesAreStringsAndOrderIsKept) {
  trace_record r = example_record();
  r.response.headers = {{"z-last", "1"}, {"a-first", "2"}};
  const std::string json = to_json(r);
  EXPECT_NE(json.find(R"("headers":{"z-last":"1","a-first":"2"})"), std::string::npos);
}

TEST(trace_json, HostileBytesInEveryStringStillGiveValidJson) {
  trace_record r = example_record();
  static constexpr char raw[] = "\"\\\0\x01\xFF\xC3\n</script>\xE2\x80\xA8";
  const std::string nasty(raw, sizeof raw - 1);
  r.session_sid = r.request.path = r.request.url = r.request.method = nasty;
  r.request.headers = {{nasty, nasty}};
  r.response.phrase = r.response.body.body = r.error = nasty;
  simdjson::dom::parser parser;
  const auto doc = parse(parser, to_json(r));
  EXPECT_EQ(std::string_view(doc["request"]["method"]).size(), 23u);  // \xFF, \xC3 -> U+FFFD
}

TEST(trace_json, AppendJsonAddsToTheBuffer) {
  std::string out = "[";
  append_json(out, example_record());
  out += "]";
  simdjson::dom::parser parser;
  const auto doc = parse(parser, out);
  EXPECT_EQ(simdjson::dom::array(doc).size(), 1u);
}

TEST(trace_json, WithoutTheResponseBodyIsTheJsonLessItsLiteralAtTheOffsetReturned) {
  // Every shape of the response body's neighbours: truncated, base64, empty, hostile bytes,
  // and a body holding what a splice marker could have been.
  std::vector<trace_record> records(5, example_record());
  records[1].response.body = {"AAEC", true, true, 70000};
  records[2].response.body = {};
  records[3].response.body.body = std::string("\"}\0\x1e\x1f", 5) + "\"body\":";
  records[4].request.body.body = records[4].response.body.body;  // the same text, twice
  for (const auto& r : records) {
    std::string out = "prefix";
    const std::size_t at = append_json_without_response_body(out, r);
    std::string literal;
    json::append_string(literal, r.response.body.body);
    out.insert(at, literal);
    EXPECT_EQ(out, "prefix" + to_json(r));
  }
}

}  // namespace
}  // namespace sidecar::store
