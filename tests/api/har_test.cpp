// HAR entries rendered straight from a stored record's JSON (api/har.hpp): every string comes
// out as the record holds it, whatever its bytes, checked against the record read back by the
// store's own decoder (store/record_decode.hpp).
#include "api/har.hpp"

#include <gtest/gtest.h>

#include <array>
#include <boost/json.hpp>

#include "store/record_decode.hpp"
#include "store/trace_record.hpp"

namespace sidecar::api {
namespace {

namespace json = boost::json;

store::trace_record awkward_record() {
  store::trace_record r;
  r.created_ms = 1'700'000'000'123;
  r.sid = store::make_trace_sid(r.created_ms, std::array<std::uint8_t, 10>{1, 2, 3});
  r.account_sid = "ACbe0c4bbe0c4bbe0c4bbe0c4bbe0c4bbe";
  r.session_sid = "CA\"quoted\"\\session";
  r.direction = conf::direction::api;
  r.latency_ms = 250;
  r.error = "upstream: reset\n(after 3 bytes)";
  r.request.path = "/apps/voice?From=%2B1555&To=a+b";
  r.request.url = "http://127.0.0.1:9000/apps/voice?From=%2B1555&To=a+b&q=\"x\"";
  r.request.method = "POST";
  r.request.headers = {{"Content-Type", "application/x-www-form-urlencoded"},
                       {"x-tab", "a\tb\x01 \xc3\xa9 \xff end"},
                       {"x-quote", "say \"hi\" \\ bye"}};
  r.request.body.body = "Body=\xe2\x82\xac \x7f \"q\" \n\r\t \x02 \xc0";
  r.request.body.size = 5000;
  r.request.body.truncated = true;
  r.response.code = "302";
  r.response.phrase = "Found \"here\"";
  r.response.headers = {{"location", "https://example.com/next?a=\"1\""},
                        {"content-type", "audio/wav"}};
  r.response.body.body = "AAECAwQ=";
  r.response.body.base64 = true;
  r.response.body.size = 5;
  return r;
}

json::object entry_of(const std::string& har) {
  const json::value v = json::parse(har);
  const auto& entries = v.at("log").at("entries").as_array();
  EXPECT_EQ(entries.size(), 1u);
  return entries.at(0).as_object();
}

std::string text(const json::value& v) { return std::string(v.as_string()); }

TEST(har, EveryStringComesOutAsTheRecordHoldsIt) {
  const std::string stored = store::to_json(awkward_record());
  const auto back = store::decode_record(stored);
  ASSERT_TRUE(back);
  const auto har = har_of(stored);
  ASSERT_TRUE(har);
  const json::object e = entry_of(*har);

  EXPECT_EQ(text(e.at("startedDateTime")), "2023-11-14T22:13:19.873Z");
  EXPECT_EQ(e.at("time").as_int64(), 250);
  EXPECT_EQ(text(e.at("_trace_sid")), back->sid);
  EXPECT_EQ(text(e.at("_session_sid")), back->session_sid);
  EXPECT_EQ(text(e.at("_account_sid")), back->account_sid);
  EXPECT_EQ(text(e.at("_direction")), "api");
  EXPECT_EQ(text(e.at("_error")), back->error);
  EXPECT_TRUE(e.at("_body_truncated").as_bool());

  const auto& req = e.at("request").as_object();
  EXPECT_EQ(text(req.at("method")), "POST");
  EXPECT_EQ(text(req.at("url")), back->request.url);
  ASSERT_EQ(req.at("headers").as_array().size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) {
    const auto& h = req.at("headers").as_array()[i];
    EXPECT_EQ(text(h.at("name")), back->request.headers[i].first);
    EXPECT_EQ(text(h.at("value")), back->request.headers[i].second);
  }
  const auto& query = req.at("queryString").as_array();
  ASSERT_EQ(query.size(), 3u);
  EXPECT_EQ(text(query[0].at("value")), "+1555");
  EXPECT_EQ(text(query[1].at("value")), "a b");
  EXPECT_EQ(text(query[2].at("value")), "\"x\"");
  EXPECT_EQ(text(req.at("postData").at("mimeType")), "application/x-www-form-urlencoded");
  EXPECT_EQ(text(req.at("postData").at("text")), back->request.body.body);
  EXPECT_EQ(req.at("bodySize").as_int64(), 5000);
  EXPECT_TRUE(req.at("_body_truncated").as_bool());

  const auto& res = e.at("response").as_object();
  EXPECT_EQ(res.at("status").as_int64(), 302);
  EXPECT_EQ(text(res.at("statusText")), "Found \"here\"");
  EXPECT_EQ(text(res.at("redirectURL")), "https://example.com/next?a=\"1\"");
  EXPECT_EQ(text(res.at("content").at("mimeType")), "audio/wav");
  EXPECT_EQ(text(res.at("content").at("text")), "AAECAwQ=");
  EXPECT_EQ(text(res.at("content").at("encoding")), "base64");
  EXPECT_EQ(res.at("content").at("size").as_int64(), 5);
  EXPECT_EQ(res.at("bodySize").as_int64(), 5);
  EXPECT_FALSE(res.contains("_body_truncated"));
}

TEST(har, TextBodySizeCountsTheRecordedBytesNotTheirEscapes) {
  store::trace_record r = awkward_record();
  r.request.body = {};
  r.request.body.body = "a\"b\\c\nd\x01\xc3\xa9";  // 10 bytes, 18 once escaped
  r.response.body = {};
  r.response.code = "";
  r.error.clear();
  const auto har = har_of(store::to_json(r));
  ASSERT_TRUE(har);
  const json::object e = entry_of(*har);
  EXPECT_EQ(e.at("request").at("bodySize").as_int64(), 10);
  EXPECT_EQ(e.at("request").at("postData").at("text").as_string(), r.request.body.body);
  EXPECT_EQ(e.at("response").at("status").as_int64(), 0);
  EXPECT_EQ(e.at("response").at("content").at("size").as_int64(), 0);
  EXPECT_EQ(e.at("response").at("content").at("text").as_string(), "");
  EXPECT_FALSE(e.contains("_error"));
  EXPECT_FALSE(e.contains("_body_truncated"));
}

TEST(har, ARequestWithoutBodyHasNoPostDataAndAPlainQueryIsSplitAsTheDecoderWould) {
  store::trace_record r = awkward_record();
  r.request.method = "GET";
  r.request.url = "http://127.0.0.1:9000/x?a=1&&b&c=d=e#frag";
  r.request.body = {};
  const auto har = har_of(store::to_json(r));
  ASSERT_TRUE(har);
  const json::object e = entry_of(*har);
  EXPECT_FALSE(e.at("request").as_object().contains("postData"));
  EXPECT_EQ(e.at("request").at("bodySize").as_int64(), 0);
  // A query that needs no decoding: the same pairs as the decoder gives.
  const auto& query = e.at("request").at("queryString").as_array();
  ASSERT_EQ(query.size(), 3u);
  EXPECT_EQ(text(query[0].at("name")), "a");
  EXPECT_EQ(text(query[0].at("value")), "1");
  EXPECT_EQ(text(query[1].at("name")), "b");
  EXPECT_EQ(text(query[1].at("value")), "");
  EXPECT_EQ(text(query[2].at("name")), "c");
  EXPECT_EQ(text(query[2].at("value")), "d=e");
}

TEST(har, APageOfEntriesIsOneLogAndWhatIsNotARecordIsLeftOut) {
  std::string out;
  append_har_head(out);
  bool first = true;
  for (const std::string& stored :
       {store::to_json(awkward_record()), std::string("{\"not\":\"a record\"}"),
        std::string("{\"sid\":"), store::to_json(awkward_record())}) {
    if (append_har_entry(out, stored, first)) first = false;
  }
  append_har_tail(out);
  const json::value v = json::parse(out);
  EXPECT_EQ(v.at("log").at("entries").as_array().size(), 2u);
  EXPECT_FALSE(har_of("[]"));
  EXPECT_FALSE(har_of(""));
}

}  // namespace
}  // namespace sidecar::api
