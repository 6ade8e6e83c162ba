// …/Traces/{TraceSid}.curl (api/curl_command, docs/api.md "curl"): plain text, visible as
// the trace is, and run by bash against a real server that captures what it received: the
// recorded request arrives byte for byte, whatever its body and headers hold.
#include "api/curl_command.hpp"

#include <gtest/gtest.h>

#include "tests/api/inspector_fixture.hpp"

namespace sidecar::api {
namespace {

using namespace inspector_testing;  // NOLINT(google-build-using-namespace)

TEST(curl_quoting, EachValueIsOneSingleQuotedWordThatBashGivesBackUnchanged) {
  // Every byte but NUL (which no shell argument can hold: a body goes through printf's octal
  // escapes instead, tested below).
  std::string every_byte;
  for (int c = 1; c < 256; ++c) every_byte += static_cast<char>(c);
  const std::string values[] = {
      "plain",
      "it's",
      "''",
      "$HOME $(id) `id` ${x:-y} \\ \" ! * ? [a] ~ # ; & | < >",
      "two\nlines\r\n",
      "",
      every_byte,
  };
  const fs::path out = fs::temp_directory_path() / ("curl-quoting-" + std::to_string(::getpid()));
  for (const std::string& v : values) {
    SCOPED_TRACE(v.substr(0, 40));
    std::string quoted;
    append_shell_quoted(quoted, v);
    ASSERT_EQ(quoted.front(), '\'');
    ASSERT_EQ(quoted.back(), '\'');
    // One argument for bash, given back byte for byte.
    const auto r = run("bash -c 'printf %s \"$1\" > \"$2\"; echo $#' bash " + quoted + " " +
                       out.string() + " ''");
    EXPECT_EQ(r.status, 0) << r.output;
    EXPECT_EQ(r.output, "3\n") << "the value stayed one word";
    std::ifstream in(out, std::ios::binary);
    const std::string got((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_EQ(got, v);
  }
  fs::remove(out);
}

TEST_F(inspector, CurlCommandIsPlainTextAndVisibleAsTheTraceIs) {
  const std::string sid = put(make(accounts::grandchild, now_ms() - 1000));
  const http_answer a = get(traces(accounts::parent) + "/" + sid + ".curl", accounts::parent);
  ASSERT_EQ(a.status, 200u) << a.body;
  EXPECT_EQ(a.header("content-type"), "text/plain; charset=utf-8");
  EXPECT_NE(a.body.find("'authorization: Basic [REDACTED]'"), std::string::npos) << a.body;
  EXPECT_EQ(get(traces(accounts::other) + "/" + sid + ".curl", accounts::other).status, 404u);
  EXPECT_EQ(get(traces(accounts::parent) + "/TR1.curl", accounts::parent).status, 404u);
}

/// Runs the .curl answer of a record with bash against a capturing server and compares what
/// the server received with the recorded request.
class curl_replay : public inspector {
 protected:
  void replay_and_compare(store::trace_record r, const std::string& target) {
    capture_server peer;
    r.request.url = "http://127.0.0.1:" + std::to_string(peer.port()) + target;
    r.request.path = target;
    const store::trace_record recorded = r;
    const std::string sid = put(std::move(r));
    const http_answer a = get(traces(accounts::parent) + "/" + sid + ".curl", accounts::parent);
    ASSERT_EQ(a.status, 200u) << a.body;
    const fs::path script = write("replay.sh", a.body);
    const run_result ran = run("cd " + env_.dir().string() + " && bash " + script.string());
    ASSERT_EQ(ran.status, 0) << ran.output << "\n" << a.body;
    const auto got = peer.last();
    ASSERT_TRUE(got) << a.body;
    EXPECT_EQ(got->method_string(), recorded.request.method);
    EXPECT_EQ(got->target(), target);
    const auto body = recorded.request.body.base64 ? base64::decode(recorded.request.body.body)
                                                   : recorded.request.body.body;
    ASSERT_TRUE(body);
    EXPECT_EQ(got->body(), *body) << a.body;
    // Every recorded header arrived with its value, and nothing else but Host and framing.
    std::size_t extra = 0;
    std::size_t fields = 0;
    for (const auto& f : *got) {
      ++fields;
      const std::string name = ascii::to_lower(f.name_string());
      if (name == "host" || name == "content-length") continue;
      const auto it = std::find_if(recorded.request.headers.begin(), recorded.request.headers.end(),
                                   [&](const auto& h) { return h.first == name; });
      if (it == recorded.request.headers.end()) {
        ++extra;
        ADD_FAILURE() << "not recorded: " << name << ": " << f.value();
      } else {
        EXPECT_EQ(f.value(), it->second) << name;
      }
    }
    EXPECT_EQ(fields - extra, recorded.request.headers.size() +
                                  (got->count(http::field::host) ? 1 : 0) +
                                  (got->count(http::field::content_length) ? 1 : 0))
        << a.body;
  }
};

TEST_F(curl_replay, TextBodyWithShellMetacharactersArrivesByteForByte) {
  store::trace_record r = make(accounts::parent, now_ms() - 1000);
  const fs::path trap = env_.dir() / "trap";
  r.request.body.body = "a='1' \"2\" $HOME ${PATH} `touch " + trap.string() + "` $(touch " +
                        trap.string() + ") \\ back\\slash % %s %% \n second line\r\n" +
                        std::string("nul:\0:end", 9) + " héllo ☃ '\\'' !! !$";
  r.request.body.size = r.request.body.body.size();
  r.request.headers = {{"content-type", "text/plain; charset=utf-8"},
                       {"x-odd", "it's \"quoted\" $HOME `id` $(id) \\ ; % ! ~ * ? [a] {b,c}"},
                       {"x-utf8", "héllo"},
                       {"x-empty", ""},
                       {"authorization", "Basic [REDACTED]"}};
  r.request.method = "PUT";
  replay_and_compare(std::move(r), "/hook/a%20b?x=$HOME&y=%24(id)&z='q'");
  EXPECT_FALSE(fs::exists(trap)) << "a command substitution in the body ran";
}

TEST_F(curl_replay, BinaryBodyWithEveryByteArrivesByteForByte) {
  store::trace_record r = make(accounts::parent, now_ms() - 1000);
  std::string bytes;
  for (int i = 0; i < 256; ++i) bytes.push_back(static_cast<char>(i));
  bytes += bytes;
  r.request.body.body.clear();
  base64::append_encoded(r.request.body.body, bytes);
  r.request.body.base64 = true;
  r.request.body.size = bytes.size();
  r.request.headers = {{"content-type", "application/octet-stream"}};
  replay_and_compare(std::move(r), "/upload");
}

TEST_F(curl_replay, NoBodyAndNoContentTypeSendsNothingCurlWouldAdd) {
  store::trace_record r = make(accounts::parent, now_ms() - 1000);
  r.request.method = "GET";
  r.request.body = {};
  r.request.headers = {{"accept", "application/xml"}, {"x-twilio-signature", "abc="}};
  replay_and_compare(std::move(r), "/status?CallSid=CA1");
}

TEST_F(curl_replay, ACutBodyIsSentAsKeptUnderAComment) {
  store::trace_record r = make(accounts::parent, now_ms() - 1000);
  r.request.headers = {};  // no content-type: curl must not add one
  r.request.body.body = "kept part";
  r.request.body.truncated = true;
  r.request.body.size = 123456;
  replay_and_compare(std::move(r), "/cut");
}

TEST_F(inspector, CurlCommentSaysHowMuchOfACutBodyWasKept) {
  store::trace_record r = make(accounts::parent, now_ms() - 1000);
  r.request.body.body = "kept part";
  r.request.body.truncated = true;
  r.request.body.size = 123456;
  const std::string sid = put(std::move(r));
  const http_answer a = get(traces(accounts::parent) + "/" + sid + ".curl", accounts::parent);
  EXPECT_NE(a.body.find("\n# the request body was cut when recorded: 9 of 123456 bytes kept"),
            std::string::npos)
      << a.body;
}

}  // namespace
}  // namespace sidecar::api
