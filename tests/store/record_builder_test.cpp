// Record building, one test per rule of docs/records.md and per edge: attribution of the
// account and the session, status, times, paths, header maps and redaction, and bodies.
#include "store/record_builder.hpp"

#include <gtest/gtest.h>
#include <zlib.h>

#include <array>
#include <cstdio>
#include <set>

#include "store/trace_record.hpp"
#include "support/base64.hpp"
#include "support/text.hpp"
#include "tests/store/record_fixtures.hpp"

namespace sidecar::store {
namespace {

using namespace sidecar::store::testing;
using conf::direction;

const std::string replacement = "\xEF\xBF\xBD";

std::string header(const header_list& h, std::string_view name) {
  for (const auto& [n, v] : h) {
    if (n == name) return v;
  }
  return "<absent>";
}

class record_builder_test : public ::testing::Test {
 protected:
  std::shared_ptr<conf::config> cfg_ = make_config();

  build_result build(const capture& c) {
    record_builder b(cfg_);
    auto r = b.build(c);
    if (r.record) {
      EXPECT_TRUE(parses_as_json(to_json(*r.record)));
    }
    return r;
  }
  trace_record record(const capture& c) {
    auto r = build(c);
    EXPECT_TRUE(r.record.has_value()) << "skipped: " << to_string(r.skipped);
    return r.record.value_or(trace_record{});
  }
};

// --- sids --------------------------------------------------------------------------------

TEST_F(record_builder_test, SidsAreWellFormedDistinctAndRandomInEveryDigitAfterTheirPlace) {
  record_builder b(cfg_);
  capture c = simple_capture("http://h/x?AccountSid=" + std::string(acme));
  std::set<std::string> sids;
  std::array<std::set<char>, 16> digits;  // the values seen at each random hex digit
  for (int i = 0; i < 5000; ++i) {  // past the 410 sids of one draw of random bytes
    const auto r = b.build(c);
    ASSERT_TRUE(r.record);
    const std::string& sid = r.record->sid;
    ASSERT_EQ(sid_time_ms(sid), r.record->created_ms) << sid;
    // One millisecond (the capture's): each sid's place among its records, in hex.
    char place[5];
    std::snprintf(place, sizeof place, "%04x", i);
    ASSERT_EQ(sid.substr(14, 4), place) << sid;
    sids.insert(sid);
    for (std::size_t d = 0; d < 16; ++d) digits[d].insert(sid[18 + d]);
  }
  EXPECT_EQ(sids.size(), 5000u);
  for (std::size_t d = 0; d < 16; ++d) EXPECT_EQ(digits[d].size(), 16u) << "digit " << d;
}

TEST_F(record_builder_test, SidsOfOneMillisecondSortInTheOrderTheyWereWritten) {
  record_builder b(cfg_);
  capture c = simple_capture("http://h/x?AccountSid=" + std::string(acme));
  const auto at = [&](std::int64_t ms) {
    c.completed_at = std::chrono::system_clock::time_point(std::chrono::milliseconds(ms));
    return b.build(c).record.value().sid;
  };
  const std::string a = at(1798419723456);
  const std::string a2 = at(1798419723456);
  const std::string later = at(1798419723457);
  const std::string late = at(1798419723456);  // after a later millisecond: random bits only
  const std::string later2 = at(1798419723457);
  EXPECT_EQ(a.substr(14, 4), "0000");
  EXPECT_EQ(a2.substr(14, 4), "0001");
  EXPECT_EQ(later.substr(14, 4), "0000");  // a new millisecond starts again
  EXPECT_EQ(later2.substr(14, 4), "0001");
  EXPECT_LT(a, a2);
  EXPECT_LT(a2, later);
  EXPECT_LT(later, later2);
  EXPECT_EQ(sid_time_ms(late), 1798419723456);
  EXPECT_NE(late, a);
  EXPECT_NE(late, a2);
}

// --- account attribution: webhook -------------------------------------------------------

TEST_F(record_builder_test, WebhookAccountFromQueryString) {
  capture c = capture_from("voice-rcml-get.http", direction::webhook);
  c.route_account = other;
  const auto r = record(c);
  EXPECT_EQ(r.account_sid, acme);
  EXPECT_EQ(r.account_friendly_name, "Acme");
  EXPECT_EQ(r.org_sid, "ORfe81fe8a3d5f4d5391e901db0bf5755d");
  EXPECT_EQ(r.org_name, "acme.example.com");
}

TEST_F(record_builder_test, NodeNamesTheSidecarOnlyWithAFleet) {
  const capture c = capture_from("voice-rcml-get.http", direction::webhook);
  const auto plain = to_json(record(c));
  EXPECT_EQ(plain.find("\"node\""), std::string::npos);
  cfg_->fleet.emplace();
  cfg_->fleet->node = "node-3";
  const auto r = record(c);
  EXPECT_EQ(r.node, "node-3");
  EXPECT_NE(to_json(r).find(R"("latency_ms":)"), std::string::npos);
  EXPECT_NE(to_json(r).find(R"(,"node":"node-3","request":{)"), std::string::npos);
}

TEST_F(record_builder_test, WebhookAccountFromFormBodyWithCharset) {
  capture c = capture_from("voice-rcml-request.http", direction::webhook);
  c.route_account = other;
  EXPECT_EQ(record(c).account_sid, acme);
}

TEST_F(record_builder_test, WebhookAccountFromFormBodyWithoutCharset) {
  capture c = simple_capture("http://h/x");
  c.method = "POST";
  c.request_headers = {{"Content-Type", "application/x-www-form-urlencoded"}};
  c.request_body = {"AccountSid=" + std::string(other), 45};
  scan_form_as_the_proxy_does(c);
  EXPECT_EQ(record(c).account_sid, other);
}

TEST_F(record_builder_test, WebhookQueryStringBeatsFormBody) {
  capture c = capture_from("voice-rcml-request.http", direction::webhook);
  c.upstream_url += "?AccountSid=" + std::string(other);
  EXPECT_EQ(record(c).account_sid, other);
}

TEST_F(record_builder_test, WebhookBodyOfAnotherTypeIsNotReadForTheAccount) {
  capture c = simple_capture("http://h/x");
  c.request_headers = {{"Content-Type", "text/plain"}};
  c.request_body = {"AccountSid=" + std::string(other), 45};
  scan_form_as_the_proxy_does(c);
  c.route_account = acme;
  EXPECT_EQ(record(c).account_sid, acme);
}

TEST_F(record_builder_test, WebhookAccountFallsBackToTheRoute) {
  capture c = capture_from("media-fetch.http", direction::webhook);
  c.route_account = acme;
  EXPECT_EQ(record(c).account_sid, acme);
}

TEST_F(record_builder_test, ForwardProxyCaptureUsesForwardAccount) {
  capture c = simple_capture("http://app.example.com/media/x.wav");
  c.forward_proxy = true;
  c.route_account = other;  // the proxy passes forward_account here
  EXPECT_EQ(record(c).account_sid, other);
}

TEST_F(record_builder_test, PercentEncodedAccountSidIsDecoded) {
  capture c = simple_capture("http://h/x?%41ccountSid=%41C00000000000000000000000000000001");
  EXPECT_EQ(record(c).account_sid, other);
}

TEST_F(record_builder_test, AFormBodyIsReadOnlyAsTheProxyScannedIt) {
  // The kept head names an account, but the proxy did not scan the body (no form, or not a
  // webhook): the record takes no parameter from it (store/form_scan.hpp, is_form_body).
  capture c = simple_capture("http://h/x");
  c.request_headers = {{"Content-Type", "application/x-www-form-urlencoded"}};
  c.request_body = {"AccountSid=" + std::string(other), 45};
  c.route_account = acme;
  EXPECT_EQ(record(c).account_sid, acme);
}

TEST_F(record_builder_test, TheProxysScanOfTheWholeFormBodyDecides) {
  // The kept head was cut before the pair (or nothing was kept): the proxy's scan of the
  // whole body still names the account and the session.
  capture c = simple_capture("http://h/x");
  c.request_headers = {{"Content-Type", "application/x-www-form-urlencoded"}};
  c.request_body = {"Pad=xxxx", 100'000};
  c.route_account = acme;
  c.request_form.emplace();
  c.request_form->account_sid = std::string(other);
  c.request_form->message_sid = "MMscanned";
  const trace_record r = record(c);
  EXPECT_EQ(r.account_sid, other);
  EXPECT_EQ(r.session_sid, "MMscanned");
}

TEST_F(record_builder_test, TheQueryStringStillBeatsTheScannedForm) {
  capture c = simple_capture("http://h/x?AccountSid=" + std::string(acme));
  c.request_headers = {{"Content-Type", "application/x-www-form-urlencoded"}};
  c.request_form.emplace();
  c.request_form->account_sid = std::string(other);
  EXPECT_EQ(record(c).account_sid, acme);
}

TEST_F(record_builder_test, NoAccountAnywhereIsSkipped) {
  const auto r = build(capture_from("media-fetch.http", direction::webhook));
  EXPECT_FALSE(r.record);
  EXPECT_EQ(r.skipped, skip_reason::no_account);
  EXPECT_EQ(to_string(r.skipped), "no_account");
}

TEST_F(record_builder_test, UnknownAccountIsSkippedWithoutFallingBackToTheRoute) {
  capture c = simple_capture("http://h/x?AccountSid=" + std::string(stranger));
  c.route_account = acme;
  const auto r = build(c);
  EXPECT_FALSE(r.record);
  EXPECT_EQ(r.skipped, skip_reason::unknown_account);
}

TEST_F(record_builder_test, AccountWithoutTracesIsSkipped) {
  const auto r = build(simple_capture("http://h/x?AccountSid=" + std::string(untraced)));
  EXPECT_FALSE(r.record);
  EXPECT_EQ(r.skipped, skip_reason::traces_not_enabled);
}

TEST_F(record_builder_test, UnknownRouteAccountIsSkipped) {
  capture c = simple_capture("http://h/x");
  c.route_account = stranger;
  EXPECT_EQ(build(c).skipped, skip_reason::unknown_account);
}

// --- account attribution: api -------------------------------------------------------------

TEST_F(record_builder_test, ApiAccountFromPathWithJsonSuffixRemoved) {
  capture c = simple_capture(
      "http://p/restcomm/2012-04-24/Accounts/" + std::string(other) + ".json", direction::api);
  EXPECT_EQ(record(c).account_sid, other);
}

TEST_F(record_builder_test, ApiAccountFromPathSegmentBeforeSubresource) {
  capture c = capture_from("api-create-call.http", direction::api);
  c.route_account = other;
  EXPECT_EQ(record(c).account_sid, acme);
}

TEST_F(record_builder_test, ApiAccountFromPathWithXmlSuffixRemoved) {
  capture c =
      simple_capture("http://p/2012-04-24/Accounts/" + std::string(other) + ".xml", direction::api);
  EXPECT_EQ(record(c).account_sid, other);
}

TEST_F(record_builder_test, ApiPathBeatsBasicUser) {
  capture c = capture_from("api-create-call.http", direction::api);  // Basic user is acme
  set_url(c, "http://p/2012-04-24/Accounts/" + std::string(other) + "/Calls.json");
  EXPECT_EQ(record(c).account_sid, other);
}

TEST_F(record_builder_test, ApiAccountFromBasicUserWhenThePathHasNone) {
  capture c = capture_from("api-create-call.http", direction::api);
  set_url(c, "http://p/restcomm/2012-04-24/Organizations.json");
  c.route_account = other;
  EXPECT_EQ(record(c).account_sid, acme);
}

TEST_F(record_builder_test, ApiAccountFallsBackToTheRoute) {
  capture c = simple_capture("http://p/restcomm/2012-04-24/Organizations.json", direction::api);
  c.route_account = other;
  EXPECT_EQ(record(c).account_sid, other);
}

TEST_F(record_builder_test, ApiBasicUserThatIsNotAnAccountSidFallsBackToTheRoute) {
  capture c = simple_capture("http://p/restcomm/2012-04-24/Organizations.json", direction::api);
  c.request_headers = {
      {"Authorization", "Basic YWRtaW5AZXhhbXBsZS5jb206cHc="}};  // admin@example.com:pw
  c.route_account = other;
  EXPECT_EQ(record(c).account_sid, other);
}

TEST_F(record_builder_test, ApiQueryAccountSidIsNotAnAttributionSource) {
  capture c = simple_capture("http://p/x?AccountSid=" + std::string(other), direction::api);
  c.route_account = acme;
  EXPECT_EQ(record(c).account_sid, acme);
}

// --- session ------------------------------------------------------------------------------

TEST_F(record_builder_test, WebhookSessionFromCallSidInQuery) {
  EXPECT_EQ(record(capture_from("voice-rcml-get.http", direction::webhook)).session_sid, call_sid);
}

TEST_F(record_builder_test, WebhookSessionFromCallSidInFormBody) {
  EXPECT_EQ(record(capture_from("voice-status-callback.http", direction::webhook)).session_sid,
            call_sid);
}

TEST_F(record_builder_test, WebhookSessionFromMessageSid) {
  EXPECT_EQ(record(capture_from("sms-status-callback.http", direction::webhook)).session_sid,
            "SMd1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6");
}

TEST_F(record_builder_test, WebhookSessionFromSmsSid) {
  EXPECT_EQ(record(capture_from("sms-incoming.http", direction::webhook)).session_sid,
            "SMd1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6");
}

TEST_F(record_builder_test, WebhookCallSidInBodyBeatsMessageSidInQuery) {
  capture c = capture_from("voice-status-callback.http", direction::webhook);
  c.upstream_url += "?MessageSid=SM1&SmsSid=SM2";
  EXPECT_EQ(record(c).session_sid, call_sid);
}

TEST_F(record_builder_test, WebhookMessageSidBeatsSmsSid) {
  capture c =
      simple_capture("http://h/x?SmsSid=SM2&MessageSid=SM1&AccountSid=" + std::string(acme));
  EXPECT_EQ(record(c).session_sid, "SM1");
}

TEST_F(record_builder_test, WebhookWithoutSessionHasEmptySession) {
  capture c = capture_from("media-fetch.http", direction::webhook);
  c.route_account = acme;
  EXPECT_EQ(record(c).session_sid, "");
}

TEST_F(record_builder_test, ApiSessionFromCallsPathSegment) {
  capture c = simple_capture("http://p/restcomm/2012-04-24/Accounts/" + std::string(acme) +
                                 "/Calls/" + std::string(call_sid) + ".json",
                             direction::api);
  EXPECT_EQ(record(c).session_sid, call_sid);
}

TEST_F(record_builder_test, ApiSessionFromSmsMessagesPathSegment) {
  capture c = simple_capture("http://p/2012-04-24/Accounts/" + std::string(acme) +
                                 "/SMS/Messages/SMd1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6.xml",
                             direction::api);
  EXPECT_EQ(record(c).session_sid, "SMd1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6");
}

TEST_F(record_builder_test, ApiSessionFromMessagesPathSegment) {
  capture c = simple_capture(
      "http://p/2012-04-24/Accounts/" + std::string(acme) + "/Messages/MM123/Media?x=1",
      direction::api);
  EXPECT_EQ(record(c).session_sid, "MM123");
}

TEST_F(record_builder_test, ApiSessionFromJsonResponseSid) {
  capture c = capture_from("api-create-call.http", direction::api);
  c.response_headers = {{"Content-Type", "application/json;charset=UTF-8"}};
  c.response_body.head = read_fixture("api-create-call.response.json");
  c.response_body.size = c.response_body.head.size();
  EXPECT_EQ(record(c).session_sid, call_sid);
}

TEST_F(record_builder_test, ApiSessionFromXmlResponseSid) {
  capture c = capture_from("api-create-call.http", direction::api);
  c.response_headers = {{"Content-Type", "application/xml"}};
  c.response_body.head = "<RestcommResponse><Call><Sid>" + std::string(call_sid) +
                         "</Sid><Status>queued</Status></Call></RestcommResponse>";
  c.response_body.size = c.response_body.head.size();
  EXPECT_EQ(record(c).session_sid, call_sid);
}

TEST_F(record_builder_test, ApiInvalidOrCutJsonResponseGivesNoSession) {
  capture c = capture_from("api-create-call.http", direction::api);
  c.response_headers = {{"Content-Type", "application/json"}};
  for (const std::string body : {"{\"sid\": ", "{\"sid\": 12}", "not json", "[\"sid\"]", "{\"si"}) {
    c.response_body = {body, body.size() + 100};
    EXPECT_EQ(record(c).session_sid, "") << body;
  }
}

TEST_F(record_builder_test, ApiPathSessionBeatsResponseSid) {
  capture c = simple_capture(
      "http://p/2012-04-24/Accounts/" + std::string(acme) + "/Calls/CA1.json", direction::api);
  c.response_headers = {{"Content-Type", "application/json"}};
  c.response_body = {R"({"sid":"CA2"})", 13};
  EXPECT_EQ(record(c).session_sid, "CA1");
}

// --- status, times, identity -------------------------------------------------------------

TEST_F(record_builder_test, TwoHundredsAreCompletedOthersFailed) {
  capture c = simple_capture("http://h/x?AccountSid=" + std::string(acme));
  for (const int code : {200, 201, 204, 299}) {
    c.status_code = code;
    EXPECT_TRUE(record(c).completed) << code;
  }
  for (const int code : {100, 199, 300, 302, 404, 500, 503}) {
    c.status_code = code;
    EXPECT_FALSE(record(c).completed) << code;
    EXPECT_EQ(record(c).response.code, std::to_string(code));
  }
}

TEST_F(record_builder_test, TwoHundredWithAnErrorIsFailedAndCarriesTheError) {
  capture c = simple_capture("http://h/x?AccountSid=" + std::string(acme));
  c.error = exchange_error::upstream_reset_mid_body;
  const auto r = record(c);
  EXPECT_FALSE(r.completed);
  EXPECT_EQ(r.error, "upstream reset mid-body");
  EXPECT_EQ(r.response.code, "200");
}

TEST_F(record_builder_test, UpgradeTunnelledToItsEndIsCompleted) {
  capture c = simple_capture("http://h/ws?AccountSid=" + std::string(acme));
  c.status_code = 101;
  c.reason = "Switching Protocols";
  c.upgraded = true;
  EXPECT_TRUE(record(c).completed);
  c.upgraded = false;
  EXPECT_FALSE(record(c).completed);
}

TEST_F(record_builder_test, SidecarGatewayAnswerIsRecordedAsFailed) {
  capture c = simple_capture("http://h/x?AccountSid=" + std::string(acme));
  c.status_code = 504;
  c.reason = "";
  c.sidecar_answered = true;
  c.error = exchange_error::upstream_response_timeout;
  const auto r = record(c);
  EXPECT_FALSE(r.completed);
  EXPECT_EQ(r.response.code, "504");
  EXPECT_EQ(r.response.phrase, "Gateway Timeout");
  EXPECT_EQ(r.error, "upstream response timeout");
}

TEST_F(record_builder_test, NoResponseAtAllHasEmptyCodeAndPhrase) {
  capture c = simple_capture("http://h/x?AccountSid=" + std::string(acme));
  c.status_code = 0;
  c.reason.clear();
  c.error = exchange_error::client_closed;
  const auto r = record(c);
  EXPECT_FALSE(r.completed);
  EXPECT_EQ(r.response.code, "");
  EXPECT_EQ(r.response.phrase, "");
  EXPECT_EQ(r.error, "client closed the connection");
}

TEST_F(record_builder_test, LatencyIsWholeMillisecondsOfTheMonotonicDuration) {
  capture c = simple_capture("http://h/x?AccountSid=" + std::string(acme));
  c.latency = std::chrono::microseconds(564'999);
  EXPECT_EQ(record(c).latency_ms, 564);
}

TEST_F(record_builder_test, CreationTimeIsCompletionTimeAndTheSidCarriesIt) {
  capture c = simple_capture("http://h/x?AccountSid=" + std::string(acme));
  const auto r = record(c);
  EXPECT_EQ(r.created_ms, 1798419723456);
  EXPECT_EQ(sid_time_ms(r.sid), 1798419723456);
  EXPECT_EQ(r.direction, direction::webhook);
}

TEST_F(record_builder_test, ClockBeforeTheEpochStillGivesAgreeingSidAndDate) {
  capture c = simple_capture("http://h/x?AccountSid=" + std::string(acme));
  c.completed_at = std::chrono::system_clock::time_point(std::chrono::milliseconds(-5000));
  const auto r = record(c);
  EXPECT_EQ(r.created_ms, 0);
  EXPECT_EQ(sid_time_ms(r.sid), 0);
}

TEST_F(record_builder_test, EveryRecordGetsItsOwnSid) {
  record_builder b(cfg_);
  capture c = simple_capture("http://h/x?AccountSid=" + std::string(acme));
  std::set<std::string> sids;
  for (int i = 0; i < 500; ++i) sids.insert(b.build(c).record->sid);
  EXPECT_EQ(sids.size(), 500u);
}

// --- request path and url ------------------------------------------------------------------

TEST_F(record_builder_test, PathIsPathAndQueryAndUrlTheFullUpstreamUrl) {
  const auto r = record(capture_from("voice-rcml-get.http", direction::webhook));
  EXPECT_EQ(r.request.path.substr(0, 16), "/voice?CallSid=I");
  EXPECT_EQ(r.request.url, "http://127.0.0.1:9000" + r.request.path);
  EXPECT_EQ(r.request.method, "GET");
}

TEST_F(record_builder_test, TheUrlIsTheOriginAsCapturedThenThePath) {
  // The origin is the proxy's (never a userinfo: tests/proxy/server_test.cpp's forward-proxy
  // case drops it); only the target is split.
  capture c = simple_capture("https://app.example.com:8443/base/x?AccountSid=" + std::string(acme) +
                             "#frag");
  const auto r = record(c);
  EXPECT_EQ(r.request.url, "https://app.example.com:8443/base/x?AccountSid=" + std::string(acme));
  EXPECT_EQ(r.request.path, "/base/x?AccountSid=" + std::string(acme));
}

TEST_F(record_builder_test, SecretQueryValuesAreRedactedInPathAndUrl) {
  capture c = simple_capture("http://h/x?AccountSid=" + std::string(acme) +
                             "&AuthToken=tok1&PASSWORD=pw&x=1&Api_Key=k&secret=s&auth_token=t");
  const auto r = record(c);
  const std::string want = "/x?AccountSid=" + std::string(acme) +
                           "&AuthToken=[REDACTED]&PASSWORD=[REDACTED]&x=1&Api_Key=[REDACTED]"
                           "&secret=[REDACTED]&auth_token=[REDACTED]";
  EXPECT_EQ(r.request.path, want);
  EXPECT_EQ(r.request.url, "http://h" + want);
}

TEST_F(record_builder_test, ConfiguredRedactFieldsApplyToQueries) {
  cfg_->store.redact_fields = {"pin"};
  const auto r = record(simple_capture("http://h/x?Pin=1234&AccountSid=" + std::string(acme)));
  EXPECT_EQ(r.request.path, "/x?Pin=[REDACTED]&AccountSid=" + std::string(acme));
}

// --- headers -------------------------------------------------------------------------------

TEST_F(record_builder_test, HeaderNamesAreLowerCasedAndRepeatsJoinedInFirstSeenOrder) {
  capture c = simple_capture("http://h/x?AccountSid=" + std::string(acme));
  c.request_headers = {{"X-B", "1"}, {"Accept", "text/xml"}, {"x-b", "2"}, {"X-B", "3"}};
  c.response_headers = {{"Content-Length", "0"}, {"Vary", "a"}, {"VARY", "b"}};
  const auto r = record(c);
  EXPECT_EQ(r.request.headers, (header_list{{"x-b", "1, 2, 3"}, {"accept", "text/xml"}}));
  EXPECT_EQ(r.response.headers, (header_list{{"content-length", "0"}, {"vary", "a, b"}}));
}

TEST_F(record_builder_test, NamesOfOneLengthAndLastByteAreNotRepeatsOfEachOther) {
  capture c = simple_capture("http://h/x?AccountSid=" + std::string(acme));
  c.request_headers = {{"X-AB", "1"}, {"X-CB", "2"}, {"x-ab", "3"}, {"Y-CB", "4"}};
  EXPECT_EQ(record(c).request.headers,
            (header_list{{"x-ab", "1, 3"}, {"x-cb", "2"}, {"y-cb", "4"}}));
}

TEST_F(record_builder_test, ThousandsOfHeadersAreJoinedInFirstSeenOrder) {
  capture c = simple_capture("http://h/x?AccountSid=" + std::string(acme));
  for (int round = 0; round < 2; ++round) {
    for (int i = 0; i < 3000; ++i) {
      c.request_headers.emplace_back("X-H" + std::to_string(i), std::to_string(round));
    }
  }
  c.request_headers.emplace_back("Cookie", "c");
  const auto r = record(c);
  ASSERT_EQ(r.request.headers.size(), 3001u);
  EXPECT_EQ(r.request.headers[0], (std::pair<std::string, std::string>{"x-h0", "0, 1"}));
  EXPECT_EQ(r.request.headers[2999], (std::pair<std::string, std::string>{"x-h2999", "0, 1"}));
  EXPECT_EQ(r.request.headers[3000].second, "[REDACTED]");
}

TEST_F(record_builder_test, AuthorizationKeepsItsSchemeOnly) {
  const auto r = record(capture_from("api-create-call.http", direction::api));
  EXPECT_EQ(header(r.request.headers, "authorization"), "Basic [REDACTED]");
}

TEST_F(record_builder_test, BearerAndDigestSchemesAreKept) {
  capture c = simple_capture("http://h/x?AccountSid=" + std::string(acme));
  c.request_headers = {{"Authorization", "Bearer eyJhbGciOi.x.y"},
                       {"Proxy-Authorization", "Digest username=\"a\", response=\"f00\""}};
  const auto r = record(c);
  EXPECT_EQ(header(r.request.headers, "authorization"), "Bearer [REDACTED]");
  EXPECT_EQ(header(r.request.headers, "proxy-authorization"), "Digest [REDACTED]");
}

TEST_F(record_builder_test, UnknownAuthorizationSchemeIsRedactedWhole) {
  capture c = simple_capture("http://h/x?AccountSid=" + std::string(acme));
  c.request_headers = {{"Authorization", "sk_live_abcdef more"}, {"authorization", "rawtoken"}};
  EXPECT_EQ(header(record(c).request.headers, "authorization"), "[REDACTED], [REDACTED]");
}

TEST_F(record_builder_test, CookieAndSetCookieAreRedacted) {
  capture c = simple_capture("http://h/x?AccountSid=" + std::string(acme));
  c.request_headers = {{"Cookie", "session=abc; theme=dark"}};
  c.response_headers = {{"Set-Cookie", "session=abc; HttpOnly"}, {"Set-Cookie", "b=2"}};
  const auto r = record(c);
  EXPECT_EQ(header(r.request.headers, "cookie"), "[REDACTED]");
  EXPECT_EQ(header(r.response.headers, "set-cookie"), "[REDACTED], [REDACTED]");
}

TEST_F(record_builder_test, ConfiguredRedactHeadersAreRedactedInAnyCase) {
  cfg_->store.redact_headers = {"x-api-key"};
  capture c = simple_capture("http://h/x?AccountSid=" + std::string(acme));
  c.request_headers = {{"X-Api-Key", "Basic k3y"}, {"X-Other", "visible"}};
  c.response_headers = {{"X-API-KEY", "k"}};
  const auto r = record(c);
  EXPECT_EQ(header(r.request.headers, "x-api-key"), "[REDACTED]");  // no scheme kept
  EXPECT_EQ(header(r.request.headers, "x-other"), "visible");
  EXPECT_EQ(header(r.response.headers, "x-api-key"), "[REDACTED]");
}

// --- bodies --------------------------------------------------------------------------------

class record_body_test : public record_builder_test {
 protected:
  // The recorded response body of a 200 with these headers and body (size = body's size,
  // unless given).
  recorded_body response(field_list headers, std::string body,
                         std::optional<std::uint64_t> size = {}) {
    capture c = simple_capture("http://h/x?AccountSid=" + std::string(acme));
    c.response_headers = std::move(headers);
    c.response_body.size = size.value_or(body.size());
    c.response_body.head = std::move(body);
    return record(c).response.body;
  }
};

TEST_F(record_body_test, EmptyBodyIsEmptyText) {
  const auto b = response({{"Content-Type", "image/png"}}, "");
  EXPECT_EQ(b.body, "");
  EXPECT_FALSE(b.base64);
  EXPECT_FALSE(b.truncated);
}

TEST_F(record_body_test, TextBodyIsKeptAsText) {
  const auto b = response({{"Content-Type", "application/xml"}}, "<Response/>");
  EXPECT_EQ(b.body, "<Response/>");
  EXPECT_FALSE(b.base64);
  EXPECT_FALSE(b.truncated);
}

TEST_F(record_body_test, BodyExactlyAtTheLimitIsWhole) {
  cfg_->store.body_limit = 16;
  const auto b = response({{"Content-Type", "text/plain"}}, std::string(16, 'a'));
  EXPECT_EQ(b.body, std::string(16, 'a'));
  EXPECT_FALSE(b.truncated);
}

TEST_F(record_body_test, BodyOneByteOverTheLimitIsCutAndMarked) {
  cfg_->store.body_limit = 16;
  const auto b = response({{"Content-Type", "text/plain"}}, std::string(17, 'a'));
  EXPECT_EQ(b.body, std::string(16, 'a'));
  EXPECT_TRUE(b.truncated);
  EXPECT_EQ(b.size, 17u);
}

TEST_F(record_body_test, BodyCutByTheProxyIsMarkedWithItsFullSize) {
  const auto b = response({{"Content-Type", "text/plain"}}, "abc", 1'000'000);
  EXPECT_EQ(b.body, "abc");
  EXPECT_TRUE(b.truncated);
  EXPECT_EQ(b.size, 1'000'000u);
}

TEST_F(record_body_test, BinaryBodyIsBase64) {
  const auto b = response({{"Content-Type", "audio/wav"}}, std::string("RIFF\0\xff", 6));
  EXPECT_EQ(b.body, "UklGRgD/");
  EXPECT_TRUE(b.base64);
  EXPECT_FALSE(b.truncated);
}

TEST_F(record_body_test, BinaryBodyIsCutBeforeEncoding) {
  cfg_->store.body_limit = 4;
  const auto b = response({{"Content-Type", "application/octet-stream"}}, "RIFFxx");
  EXPECT_EQ(b.body, "UklGRg==");
  EXPECT_TRUE(b.base64);
  EXPECT_TRUE(b.truncated);
  EXPECT_EQ(b.size, 6u);
}

TEST_F(record_body_test, InvalidUtf8InTextBecomesReplacementCharacters) {
  const auto b = response({{"Content-Type", "text/plain; charset=utf-8"}}, "caf\xE9 \xC3\xA9");
  EXPECT_EQ(b.body, "caf" + replacement + " \xC3\xA9");
  EXPECT_FALSE(b.base64);
}

TEST_F(record_body_test, MultibyteCharacterCutByTheLimitIsDroppedWhole) {
  cfg_->store.body_limit = 5;
  const auto b = response({{"Content-Type", "text/plain"}},
                          "ab\xF0\x9F\x93\x9E"
                          "cd");  // ab📞cd
  EXPECT_EQ(b.body, "ab");
  EXPECT_TRUE(b.truncated);
  EXPECT_EQ(b.size, 8u);
}

TEST_F(record_body_test, UntypedValidUtf8IsText) {
  const auto b = response({}, "plain words \xC3\xA9");
  EXPECT_EQ(b.body, "plain words \xC3\xA9");
  EXPECT_FALSE(b.base64);
}

TEST_F(record_body_test, UntypedValidUtf8CutMidCharacterIsStillText) {
  cfg_->store.body_limit = 3;
  const auto b = response({}, "ab\xC3\xA9");
  EXPECT_EQ(b.body, "ab");
  EXPECT_FALSE(b.base64);
}

TEST_F(record_body_test, UntypedInvalidUtf8IsBase64) {
  const auto b = response({}, "ab\xFF");
  EXPECT_EQ(b.body, "YWL/");
  EXPECT_TRUE(b.base64);
}

TEST_F(record_body_test, TextTypesOfTheContractAreText) {
  for (const char* type :
       {"text/html", "application/json", "application/xml", "text/xml", "application/problem+json",
        "application/atom+xml", "application/x-www-form-urlencoded", "application/javascript",
        "TEXT/PLAIN", "text/plain; charset=\"UTF-8\"", "text/plain;charset=us-ascii"}) {
    EXPECT_FALSE(response({{"Content-Type", type}}, "a=b").base64) << type;
  }
}

TEST_F(record_body_test, OtherTypesAreBase64) {
  for (const char* type : {"image/png", "application/octet-stream", "application/pdf",
                           "application/jsonx", "multipart/form-data; boundary=x"}) {
    EXPECT_TRUE(response({{"Content-Type", type}}, "abc").base64) << type;
  }
}

TEST_F(record_body_test, OtherCharsetIsBase64) {
  const auto b = response({{"Content-Type", "text/plain; charset=iso-8859-1"}}, "caf\xE9");
  EXPECT_EQ(b.body, "Y2Fm6Q==");
  EXPECT_TRUE(b.base64);
}

TEST_F(record_body_test, ContentEncodingMakesTextBase64) {
  const auto b = response({{"Content-Type", "text/html"}, {"Content-Encoding", "gzip"}},
                          std::string("\x1f\x8b\x08", 3));
  EXPECT_EQ(b.body, "H4sI");
  EXPECT_TRUE(b.base64);
}

TEST_F(record_body_test, IdentityEncodingIsStillText) {
  const auto b = response({{"Content-Type", "text/html"}, {"Content-Encoding", "identity"}}, "<p>");
  EXPECT_EQ(b.body, "<p>");
  EXPECT_FALSE(b.base64);
}

TEST_F(record_body_test, JsonInACodingThatCannotBeInspectedIsNotKept) {
  const auto b = response({{"Content-Type", "application/json"}, {"Content-Encoding", "br"}},
                          "\x0b\x02\x80", 3);
  EXPECT_EQ(b.body, "");
  EXPECT_TRUE(b.truncated);
  EXPECT_EQ(b.size, 3u);
}

/// `text` gzip-compressed, as an upstream sending Content-Encoding: gzip would.
std::string gzip(std::string_view text) {
  z_stream zs{};
  EXPECT_EQ(deflateInit2(&zs, Z_BEST_COMPRESSION, Z_DEFLATED, 16 + MAX_WBITS, 8,
                         Z_DEFAULT_STRATEGY),
            Z_OK);
  std::string out(deflateBound(&zs, static_cast<uLong>(text.size())), '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
  zs.avail_in = static_cast<uInt>(text.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&zs, Z_FINISH), Z_STREAM_END);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

std::string base64_of(std::string_view bytes) {
  std::string out;
  base64::append_encoded(out, bytes);
  return out;
}

TEST_F(record_body_test, CompressedStructuredBodiesWithoutSecretsAreKeptAsTheirBase64Bytes) {
  // Contract section 4: a body with a Content-Encoding is kept base64-encoded, as it came.
  for (const auto& [type, text] : std::vector<std::pair<std::string, std::string>>{
           {"application/json", R"({"sid":"CA1","status":"queued"})"},
           {"application/x-www-form-urlencoded", "CallSid=CA1&From=%2B1555"},
           {"application/xml", "<Response><Sid>CA1</Sid></Response>"}}) {
    for (const char* coding : {"gzip", "x-gzip"}) {
      const std::string z = gzip(text);
      const auto b = response({{"Content-Type", type}, {"Content-Encoding", coding}}, z);
      EXPECT_EQ(b.body, base64_of(z)) << type << " " << coding;
      EXPECT_TRUE(b.base64) << type;
      EXPECT_FALSE(b.truncated) << type;
    }
  }
}

TEST_F(record_body_test, CompressedStructuredBodiesWithASecretAreNotKept) {
  // They cannot be redacted in place: kept, the secret would be one gunzip away.
  for (const auto& [type, text] : std::vector<std::pair<std::string, std::string>>{
           {"application/json", R"({"sid":"CA1","auth_token":"s3cr3t"})"},
           {"application/x-www-form-urlencoded", "CallSid=CA1&Password=s3cr3t"},
           {"application/xml", "<Account><AuthToken>s3cr3t</AuthToken></Account>"}}) {
    const auto b = response({{"Content-Type", type}, {"Content-Encoding", "gzip"}}, gzip(text));
    EXPECT_EQ(b.body, "") << type;
    EXPECT_TRUE(b.truncated) << type;
  }
}

TEST_F(record_body_test, ACompressedBodyCutAtTheLimitIsCheckedAsFarAsItGoes) {
  std::string json = R"({"items":[)";
  for (int i = 0; i < 2000; ++i) json += R"({"sid":"CA)" + std::to_string(i * 7919) + R"("},)";
  json += R"({"password":"late"}]})";
  const std::string z = gzip(json);
  cfg_->store.body_limit = z.size() / 2;  // the secret at the end is not in the kept bytes
  const auto b = response({{"Content-Type", "application/json"}, {"Content-Encoding", "gzip"}}, z);
  EXPECT_EQ(b.body, base64_of(std::string_view(z).substr(0, z.size() / 2)));
  EXPECT_TRUE(b.truncated);
  EXPECT_EQ(b.size, z.size());
}

TEST_F(record_body_test, CorruptOrConcatenatedCompressedBodiesAreNotKept) {
  const std::string z = gzip(R"({"sid":"CA1"})");
  std::string corrupt = z;
  corrupt[12] = static_cast<char>(corrupt[12] ^ 0x55);
  corrupt[13] = static_cast<char>(corrupt[13] ^ 0x55);
  // A second gzip member after the first would not be inspected.
  const std::string two = z + gzip(R"({"secret":"x"})");
  for (const std::string& body : {corrupt, two}) {
    const auto b =
        response({{"Content-Type", "application/json"}, {"Content-Encoding", "gzip"}}, body);
    EXPECT_EQ(b.body, "");
    EXPECT_TRUE(b.truncated);
  }
}

TEST_F(record_body_test, Utf16FormIsNotKeptSinceItCannotBeRedacted) {
  const auto b = response({{"Content-Type", "application/x-www-form-urlencoded; charset=utf-16le"}},
                          std::string("p\0=\0", 4));
  EXPECT_EQ(b.body, "");
  EXPECT_TRUE(b.truncated);
}

TEST_F(record_body_test, CompressedXmlIsKeptAsBase64) {
  const auto b = response({{"Content-Type", "application/xml"}, {"Content-Encoding", "gzip"}},
                          std::string("\x1f\x8b\x08", 3));
  EXPECT_EQ(b.body, "H4sI");
  EXPECT_TRUE(b.base64);
  EXPECT_FALSE(b.truncated);
}

TEST_F(record_body_test, EncodingListWithAnythingButIdentityIsEncoded) {
  EXPECT_TRUE(
      response({{"Content-Type", "text/plain"}, {"Content-Encoding", "identity, gzip"}}, "x")
          .base64);
  EXPECT_FALSE(
      response({{"Content-Type", "text/plain"}, {"Content-Encoding", " Identity "}}, "x").base64);
}

TEST_F(record_builder_test, CaptureBodiesOffKeepsOnlyTheSizes) {
  capture c = capture_from("voice-rcml-request.http", direction::webhook);
  c.capture_bodies = false;
  const auto r = record(c);
  EXPECT_EQ(r.account_sid, acme);  // a form body the proxy handed over still attributes
  EXPECT_EQ(r.request.body.body, "");
  EXPECT_TRUE(r.request.body.truncated);
  EXPECT_EQ(r.request.body.size, 344u);
  EXPECT_EQ(r.response.body.body, "");
  EXPECT_EQ(r.response.body.size, 43u);
}

TEST_F(record_builder_test, CaptureBodiesOffWithEmptyBodiesMarksNothing) {
  capture c = simple_capture("http://h/x?AccountSid=" + std::string(acme));
  c.capture_bodies = false;
  const auto r = record(c);
  EXPECT_FALSE(r.request.body.truncated);
  EXPECT_FALSE(r.response.body.truncated);
}

TEST_F(record_builder_test, UtfEightFormBodyOfTheSmsFixtureIsKeptAsSent) {
  const auto r = record(capture_from("sms-incoming.http", direction::webhook));
  EXPECT_EQ(r.request.body.body,
            read_fixture("sms-incoming.http")
                .substr(read_fixture("sms-incoming.http").find("\r\n\r\n") + 4));
  EXPECT_FALSE(r.request.body.base64);
}

// --- secrets in bodies -------------------------------------------------------------------

TEST_F(record_body_test, JsonSecretsAreRedactedAtAnyDepthAndTheJsonStaysValid) {
  const std::string in =
      R"({"sid":"AC1","auth_token":"t0k","nested":{"Password":"p","list":[{"API_KEY":123}]},)"
      R"("secret":{"a":[1,"}"]},"AuthToken":null,"keep":"password"})";
  const auto b = response({{"Content-Type", "application/json"}}, in);
  EXPECT_EQ(b.body,
            R"({"sid":"AC1","auth_token":"[REDACTED]","nested":{"Password":"[REDACTED]",)"
            R"("list":[{"API_KEY":"[REDACTED]"}]},"secret":"[REDACTED]","AuthToken":"[REDACTED]",)"
            R"("keep":"password"})");
  EXPECT_TRUE(parses_as_json(b.body));
}

TEST_F(record_body_test, JsonSecretCutByTheLimitLeavesNothingOfIt) {
  cfg_->store.body_limit = 24;
  const auto b =
      response({{"Content-Type", "application/json"}}, R"({"a":1,"password":"abcdefghijkl"})");
  EXPECT_EQ(b.body, R"({"a":1,"password":"[REDACTED]")");
  EXPECT_TRUE(b.truncated);
}

TEST_F(record_body_test, JsonWithEscapedKeyIsRedacted) {
  const auto b = response({{"Content-Type", "application/json"}}, R"({"pass\u0077ord" : "x"})");
  EXPECT_EQ(b.body, R"({"pass\u0077ord" : "[REDACTED]"})");
}

TEST_F(record_body_test, JsonSentAsTextPlainIsRedactedToo) {
  const auto b = response({{"Content-Type", "text/plain"}}, R"( {"secret":"s"})");
  EXPECT_EQ(b.body, R"( {"secret":"[REDACTED]"})");
}

TEST_F(record_body_test, FormSecretsAreRedacted) {
  const auto b = response({{"Content-Type", "application/x-www-form-urlencoded"}},
                          "From=1&Auth%54oken=abc&password=&user%5Bpassword%5D=z&To=2");
  EXPECT_EQ(b.body,
            "From=1&Auth%54oken=[REDACTED]&password=[REDACTED]&user%5Bpassword%5D=[REDACTED]&To=2");
}

TEST_F(record_body_test, XmlSecretsAreRedacted) {
  const auto b = response({{"Content-Type", "application/xml"}},
                          "<Account><Sid>AC1</Sid><AuthToken>abc</AuthToken>"
                          "<Password><![CDATA[x</y]]></Password></Account>");
  EXPECT_EQ(b.body,
            "<Account><Sid>AC1</Sid><AuthToken>[REDACTED]</AuthToken>"
            "<Password>[REDACTED]</Password></Account>");
}

TEST_F(record_body_test, BinaryJsonLookingBodyIsRedactedBeforeEncoding) {
  cfg_->store.redact_fields = {"PIN"};
  const auto b = response({{"Content-Type", "application/octet-stream"}}, R"({"pin":"1"})");
  EXPECT_EQ(b.body, "eyJwaW4iOiJbUkVEQUNURURdIn0=");  // {"pin":"[REDACTED]"}
  EXPECT_TRUE(b.base64);
}

TEST_F(record_builder_test, RequestFormBodySecretsAreRedacted) {
  capture c = capture_from("voice-rcml-request.http", direction::webhook);
  c.request_body.head += "&AuthToken=s3cr3t";
  c.request_body.size = c.request_body.head.size();
  const auto r = record(c);
  EXPECT_EQ(r.request.body.body.find("s3cr3t"), std::string::npos);
  EXPECT_NE(r.request.body.body.find("&AuthToken=[REDACTED]"), std::string::npos);
}

TEST_F(record_builder_test, NoSecretSurvivesAnywhereInTheJson) {
  cfg_->store.redact_headers = {"x-token"};
  cfg_->store.redact_fields = {"pin"};
  capture c = capture_from("api-create-call.http", direction::api);
  set_url(c, "http://p/2012-04-24/Accounts/" + std::string(acme) + "/Calls.json?AuthToken=SECRET1");
  c.request_headers.emplace_back("Cookie", "SECRET2");
  c.request_headers.emplace_back("X-Token", "SECRET3");
  c.request_body.head += "&Pin=SECRET4";
  c.request_body.size = c.request_body.head.size();
  c.response_headers = {{"Content-Type", "application/json"}, {"Set-Cookie", "SECRET5"}};
  c.response_body.head = R"({"sid":"CA1","auth_token":"SECRET6"})";
  c.response_body.size = c.response_body.head.size();
  const std::string json = to_json(record(c));
  EXPECT_EQ(json.find("SECRET"), std::string::npos) << json;
  EXPECT_EQ(json.find("QUNhZTZl"), std::string::npos);  // the Basic credentials
}

}  // namespace
}  // namespace sidecar::store

namespace sidecar::store {
namespace {

using namespace sidecar::store::testing;

// The whole record of Restcomm's RCML POST, byte for byte (only the random sid is pinned).
TEST(record_golden, RcmlPostWebhookRecord) {
  record_builder b(make_config());
  auto r = *b.build(capture_from("voice-rcml-request.http", conf::direction::webhook)).record;
  EXPECT_EQ(sid_time_ms(r.sid), 1798419723456);
  r.sid = "TR01a2b3c4d5e60123456789abcdef0123";
  const std::string expected =
      R"({"sid":"TR01a2b3c4d5e60123456789abcdef0123","api_version":"2012-04-24",)"
      R"("account_sid":"ACae6e420f425248d6a26948c17a9e2acf","account_friendly_name":"Acme",)"
      R"("org_sid":"ORfe81fe8a3d5f4d5391e901db0bf5755d","org_name":"acme.example.com",)"
      R"("date_created":"Mon, 28 Dec 2026 01:02:03 +0000",)"
      R"("date_created_ms":"Mon, 28 Dec 2026 01:02:03.456 +0000",)"
      R"("session_sid":"IDbb44ef8c2ebf4d4599d0378a2a8a2ea8-CAd9e08ede8b604e739ba7d0bd477fdf49",)"
      R"("uri":"/2012-04-24/Accounts/ACae6e420f425248d6a26948c17a9e2acf/Traces/TR01a2b3c4d5e60123456789abcdef0123",)"
      R"("status":"completed","direction":"webhook","latency_ms":12,)"
      R"("request":{"path":"/voice","url":"http://127.0.0.1:9000/voice","method":"POST",)"
      R"x("headers":{"host":"sidecar.local:8080","user-agent":"Apache-HttpClient/4.5.13 (Java/11.0.16)",)x"
      R"("accept":"application/xml, text/xml",)"
      R"("content-type":"application/x-www-form-urlencoded; charset=UTF-8","content-length":"344"},)"
      R"("body":"CallSid=IDbb44ef8c2ebf4d4599d0378a2a8a2ea8-CAd9e08ede8b604e739ba7d0bd477fdf49)"
      R"(&InstanceId=IDbb44ef8c2ebf4d4599d0378a2a8a2ea8&AccountSid=ACae6e420f425248d6a26948c17a9e2acf)"
      R"(&From=%2B15551234567&To=%2B15557654321&CallStatus=ringing&ApiVersion=2012-04-24)"
      R"(&Direction=inbound&CallerName=null&ForwardedFrom=null)"
      R"(&CallTimestamp=2026-11-28T01%3A02%3A03.456Z"},)"
      R"("response":{"status":{"code":"200","phrase":"OK",)"
      R"("headers":{"content-type":"application/xml","content-length":"43"},)"
      R"("body":"<Response><Say>hello world</Say></Response>"}}})";
  EXPECT_EQ(to_json(r), expected);
}

// --- records built into earlier ones (the writer recycles them) ----------------------------

TEST_F(record_builder_test, ARecordBuiltIntoAnEarlierOneKeepsNothingOfIt) {
  // Captures that differ in every field a record has: query and form attribution, api paths,
  // a failure answered by the sidecar, a replay, repeated and secret headers, text and binary
  // bodies, a body cut at the limit, no response at all.
  std::vector<capture> captures;
  captures.push_back(capture_from("voice-rcml-request.http", direction::webhook));
  captures.push_back(capture_from("api-create-call.http", direction::api));
  captures.push_back(capture_from("media-fetch.http", direction::webhook));
  captures.back().route_account = acme;
  capture failed = simple_capture("http://h/x?AccountSid=" + std::string(acme) + "&CallSid=CA1");
  failed.status_code = 502;
  failed.reason.clear();
  failed.sidecar_answered = true;
  failed.error = exchange_error::upstream_connect_refused;
  captures.push_back(failed);
  capture busy = capture_from("sms-incoming.http", direction::webhook);
  busy.request_headers.emplace_back("X-Repeat", "one");
  busy.request_headers.emplace_back("Authorization", "Basic dXNlcjpwYXNz");
  busy.request_headers.emplace_back("x-repeat", "two");
  busy.response_headers.emplace_back("Content-Encoding", "br");
  busy.response_body.head = std::string("\x00\x01\xff binary", 10);
  busy.response_body.size = 1 << 20;
  captures.push_back(busy);
  capture replay = capture_from("voice-status-callback.http", direction::webhook);
  replay.replay.emplace();
  replay.replay->of = "TR0123456789ab0123456789abcdef0123";
  replay.replay->account_sid = acme;
  replay.replay->session_sid = "CAreplayed";
  replay.replay->sid = "TR0123456789ac0123456789abcdef0123";
  captures.push_back(replay);
  capture nothing = simple_capture("http://h/y?AccountSid=" + std::string(acme));
  nothing.status_code = 0;
  nothing.reason.clear();
  nothing.error = exchange_error::client_closed;
  captures.push_back(nothing);
  cfg_->fleet.emplace();
  cfg_->fleet->node = "node-3";

  record_builder fresh_builder(cfg_), recycling_builder(cfg_);
  for (const capture& before : captures) {
    for (const capture& c : captures) {
      trace_record r;
      ASSERT_FALSE(recycling_builder.build_into(before, r).has_value());
      ASSERT_FALSE(recycling_builder.build_into(c, r).has_value());
      auto fresh = fresh_builder.build(c).record.value();
      fresh.sid = r.sid;  // the one field that differs by design: a new random sid
      EXPECT_EQ(to_json(r), to_json(fresh));
    }
  }
}

}  // namespace
}  // namespace sidecar::store
