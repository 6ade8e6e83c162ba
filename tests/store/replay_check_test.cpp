// What is checked of a record before it is replayed, and the replay's request body
// (store/replay_check.cpp, docs/api.md "Replay"): each reason a record cannot be sent again as
// it was recorded, and the body's headers taken as data, never as more header lines.
#include <gtest/gtest.h>

#include <string>

#include "store/replayer.hpp"

namespace sidecar::store {
namespace {

trace_record sendable() {
  trace_record r;
  r.request.method = "POST";
  r.request.url = "http://app.example/rcml?From=%2B1555";
  r.request.headers = {{"content-type", "application/x-www-form-urlencoded"}};
  r.request.body.body = "From=%2B1555&Body=hello";
  r.request.body.size = r.request.body.body.size();
  return r;
}

TEST(replay_check, ARecordAsRecordedIsSendable) {
  EXPECT_EQ(replay_refusal(sendable(), {}), "");
  trace_record binary = sendable();
  binary.request.body.body = "77+9[REDACTED]";  // base64 text: its characters are not the body's
  binary.request.body.base64 = true;
  EXPECT_EQ(replay_refusal(binary, {}), "");
}

TEST(replay_check, EachAlteredPartOfTheRecordIsAReasonNamedInTheRefusal) {
  trace_record cut = sendable();
  cut.request.body.truncated = true;
  cut.request.body.size = 1'000'000;
  EXPECT_NE(replay_refusal(cut, {}).find("cut (23 of 1000000 bytes kept)"), std::string::npos);

  trace_record replaced = sendable();
  replaced.request.body.body = "Body=caf\xEF\xBF\xBD";
  EXPECT_NE(replay_refusal(replaced, {}).find("U+FFFD"), std::string::npos);

  trace_record redacted_body = sendable();
  redacted_body.request.body.body = "Password=[REDACTED]";
  EXPECT_NE(replay_refusal(redacted_body, {}).find("body has a redacted field"), std::string::npos);

  trace_record redacted_url = sendable();
  redacted_url.request.url = "http://app.example/rcml?token=[REDACTED]";
  EXPECT_NE(replay_refusal(redacted_url, {}).find("URL has a redacted field"), std::string::npos);

  trace_record in_path = sendable();
  in_path.request.url = "http://app.example/[REDACTED]/rcml";  // a path, not a field
  EXPECT_EQ(replay_refusal(in_path, {}), "");
}

TEST(replay_check, ARedactedHeaderMustBeSuppliedWhateverTheLetterCase) {
  trace_record r = sendable();
  r.request.headers.emplace_back("authorization", "Basic [REDACTED]");
  const std::string refusal = replay_refusal(r, {});
  EXPECT_NE(refusal.find("header authorization was redacted"), std::string::npos) << refusal;
  EXPECT_NE(refusal.find("{\"headers\": {\"authorization\""), std::string::npos)
      << "it says how to supply it";
  EXPECT_EQ(replay_refusal(r, {{"Authorization", "Basic dTpw"}}), "");
  EXPECT_NE(replay_refusal(r, {{"x-other", "1"}}), "");
}

TEST(replay_check, TheBodyIsEmptyOrAnObjectOfHeaders) {
  std::string error;
  for (const std::string_view empty : {"", "  \r\n\t"}) {
    const auto none = decode_replay_body(empty, error);
    ASSERT_TRUE(none);
    EXPECT_TRUE(none->empty());
  }
  const auto h = decode_replay_body(
      R"({"headers": {"Authorization": "Basic dTpw", "X-Token": "a \"quoted\" value"}})", error);
  ASSERT_TRUE(h) << error;
  EXPECT_EQ(*h, (header_list{{"authorization", "Basic dTpw"}, {"x-token", "a \"quoted\" value"}}));
}

TEST(replay_check, AnythingElseIsRefusedWithAReasonAndNeverBecomesAHeaderLine) {
  const std::pair<std::string_view, std::string_view> cases[] = {
      {"[]", "must be a JSON object"},
      {"{", "must be a JSON object"},
      {"not json", "must be a JSON object"},
      {R"({"hdrs": {}})", "Unknown member \"hdrs\""},
      {R"({"headers": []})", "\"headers\" must be an object"},
      {R"({"headers": {"x": 1}})", "string values"},
      {R"({"headers": {"bad name": "v"}})", "tokens"},
      {R"({"headers": {"": "v"}})", "tokens"},
      {R"({"headers": {"x": "a\r\nInjected: yes"}})", "without line breaks"},
      {R"({"headers": {"x": "a\nb"}})", "without line breaks"},
      {R"({"headers": {"x": "a\u0000b"}})", "without line breaks"},
  };
  for (const auto& [body, reason] : cases) {
    SCOPED_TRACE(body);
    std::string error;
    EXPECT_FALSE(decode_replay_body(body, error));
    EXPECT_NE(error.find(reason), std::string::npos) << error;
  }
}

}  // namespace
}  // namespace sidecar::store
