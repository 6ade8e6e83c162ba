// The capture as an observer of an exchange (proxy/capture_observer.hpp): what a record is
// built from, filled from the exchange's calls alone, and handed to the sink at its end.
#include "proxy/capture_observer.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "proxy/destination.hpp"
#include "proxy/exchange_parts.hpp"
#include "proxy/snapshot.hpp"
#include "store/record_builder.hpp"
#include "tests/proxy_support/harness.hpp"

namespace sidecar::testing {
namespace {

using proxy::capture_observer;
using proxy::exchange_end;
using proxy::exchange_start;
using store::exchange_error;

// A snapshot with one webhook route (and one api route), and a request for it.
struct fixture {
  explicit fixture(std::size_t body_limit = 8) {
    auto cfg = base_config();
    cfg->store.body_limit = body_limit;
    cfg->routes.push_back(route_to("/hooks/", upstream_at(8000, "/app/")));
    auto api = route_to("/api/", upstream_at(8001));
    api.dir = conf::direction::api;
    api.capture_bodies = false;
    cfg->routes.push_back(api);
    snap = proxy::make_snapshot(cfg);
    request.method(http::verb::post);
    request.target("/app/voice?CallSid=CA1");
    request.set(http::field::host, "127.0.0.1:8000");
    request.set(http::field::content_type, "application/x-www-form-urlencoded");
  }
  proxy::destination destination_of(std::size_t route) const {
    return proxy::route_destination(*snap, snap->cfg->routes[route], "/app/voice?CallSid=CA1");
  }
  exchange_start start(const proxy::destination& dest, bool body_follows) const {
    return {*snap, dest, request, body_follows, std::chrono::steady_clock::now()};
  }

  std::shared_ptr<const proxy::snapshot> snap;
  request_head request;
  collecting_sink sink;
  capture_observer observer{sink, "203.0.113.9:51234"};
};

TEST(capture_observer, RecordsTheRequestAsSentAndTheResponseAsReceived) {
  fixture f;
  const auto dest = f.destination_of(0);
  f.observer.request_head(f.start(dest, true));
  f.observer.request_body("AccountSid=AC");
  f.observer.request_body("1&CallSid=CA9");
  response_head res;
  res.result(http::status::ok);
  res.set(http::field::content_type, "text/xml");
  f.observer.response_head(res);
  f.observer.response_body("<Response/>");
  f.observer.response_complete();
  f.observer.end(exchange_end{exchange_error::none, true, false});

  const auto got = f.sink.wait_for(1);
  ASSERT_EQ(got.size(), 1U);
  const store::capture& c = got[0];
  EXPECT_EQ(c.client_address, "203.0.113.9:51234");
  EXPECT_EQ(c.direction, conf::direction::webhook);
  EXPECT_EQ(c.route_prefix, "/hooks/");
  EXPECT_EQ(c.route_account, "ACae6e420f425248d6a26948c17a9e2acf");
  EXPECT_EQ(c.method, "POST");
  EXPECT_EQ(c.upstream_url, "http://127.0.0.1:8000/app/voice?CallSid=CA1");
  EXPECT_EQ(c.upstream_target(), "/app/voice?CallSid=CA1");  // where the proxy says it starts
  ASSERT_FALSE(c.request_headers.empty());
  EXPECT_EQ((*c.request_headers.begin()).first, "Host");
  // body_limit is 8: the head is cut there, the size counts every byte.
  EXPECT_EQ(c.request_body.head, "AccountS");
  EXPECT_EQ(c.request_body.size, 26U);
  // The form was scanned whole, the last pair included: the body was complete.
  ASSERT_TRUE(c.request_form.has_value());
  EXPECT_EQ(c.request_form->account_sid, "AC1");
  EXPECT_EQ(c.request_form->call_sid, "CA9");
  EXPECT_EQ(c.status_code, 200);
  EXPECT_EQ(c.response_body.head, "<Respons");
  EXPECT_EQ(c.response_body.size, 11U);
  EXPECT_FALSE(c.sidecar_answered);
  EXPECT_EQ(c.error, exchange_error::none);
  EXPECT_GT(c.latency.count(), 0);
  EXPECT_EQ(c.config, f.snap->cfg);
}

TEST(capture_observer, ACutBodysLastPairIsNotTrusted) {
  fixture f;
  const auto dest = f.destination_of(0);
  f.observer.request_head(f.start(dest, true));
  f.observer.request_body("AccountSid=AC1&CallSid=CA9");
  f.observer.end(exchange_end{exchange_error::client_closed, false, false});
  const auto got = f.sink.wait_for(1);
  ASSERT_TRUE(got.at(0).request_form.has_value());
  EXPECT_EQ(got[0].request_form->account_sid, "AC1");
  EXPECT_FALSE(got[0].request_form->call_sid.has_value());
  EXPECT_EQ(got[0].error, exchange_error::client_closed);
  EXPECT_EQ(got[0].status_code, 0);
}

// A form body that the capture keeps whole is left to the record builder to scan, off the
// proxy thread (docs/records.md): the record is attributed by it all the same.
TEST(capture_observer, AFormKeptWholeIsScannedByTheRecordBuilder) {
  fixture f(64);
  const auto dest = f.destination_of(0);
  f.observer.request_head(f.start(dest, true));
  f.observer.request_body("AccountSid=AC");
  f.observer.request_body("0000000000000000000000000000000f&CallSid=CA9");
  f.observer.end(exchange_end{exchange_error::none, true, false});
  const auto got = f.sink.wait_for(1);
  const store::capture& c = got.at(0);
  EXPECT_FALSE(c.request_form.has_value());
  EXPECT_TRUE(c.request_form_in_head);
  EXPECT_EQ(c.request_body.head, "AccountSid=AC0000000000000000000000000000000f&CallSid=CA9");
  // That account is not configured: the builder read it from the kept form (the route's
  // account would have been recorded otherwise).
  store::record_builder builder(f.snap->cfg);
  const auto built = builder.build(c);
  EXPECT_FALSE(built.record.has_value());
  EXPECT_EQ(built.skipped, store::skip_reason::unknown_account);
}

// A body that outgrows body_limit midway is scanned from its first byte on: the kept bytes
// first, then every piece (a name split across the two is read whole).
TEST(capture_observer, AFormThatOutgrowsTheLimitIsScannedFromItsFirstByte) {
  fixture f(20);
  const auto dest = f.destination_of(0);
  f.observer.request_head(f.start(dest, true));
  f.observer.request_body("AccountSid=AC1&Ca");
  f.observer.request_body("llSid=CA9&To=%2B1555");
  f.observer.end(exchange_end{exchange_error::none, true, false});
  const auto got = f.sink.wait_for(1);
  const store::capture& c = got.at(0);
  EXPECT_FALSE(c.request_form_in_head);
  ASSERT_TRUE(c.request_form.has_value());
  EXPECT_EQ(c.request_form->account_sid, "AC1");
  EXPECT_EQ(c.request_form->call_sid, "CA9");
  EXPECT_EQ(c.request_body.head, "AccountSid=AC1&CallS");
}

// Cut short while it still fitted: scanned when the exchange ends, its last pair not trusted.
TEST(capture_observer, AFormCutShortWhileKeptWholeKeepsOnlyItsCompletePairs) {
  fixture f(64);
  const auto dest = f.destination_of(0);
  f.observer.request_head(f.start(dest, true));
  f.observer.request_body("AccountSid=AC1&CallSid=CA9");
  f.observer.end(exchange_end{exchange_error::client_closed, false, false});
  const auto got = f.sink.wait_for(1);
  const store::capture& c = got.at(0);
  EXPECT_FALSE(c.request_form_in_head);
  ASSERT_TRUE(c.request_form.has_value());
  EXPECT_EQ(c.request_form->account_sid, "AC1");
  EXPECT_FALSE(c.request_form->call_sid.has_value());
}

TEST(capture_observer, AnApiRouteWithoutBodiesStillReadsTheResponseHeadForItsSid) {
  fixture f;
  const auto dest = f.destination_of(1);
  f.observer.request_head(f.start(dest, true));
  f.observer.request_body("To=%2B1555");
  f.observer.response_body(R"({"sid":"CA12345"})");
  f.observer.end(exchange_end{});
  const auto got = f.sink.wait_for(1);
  const store::capture& c = got.at(0);
  EXPECT_EQ(c.direction, conf::direction::api);
  EXPECT_FALSE(c.request_form.has_value());  // only a webhook's form attributes its record
  EXPECT_TRUE(c.request_body.head.empty());  // capture_bodies = false
  EXPECT_EQ(c.request_body.size, 10U);
  EXPECT_EQ(c.response_body.head, R"({"sid":")");  // read for the session, then dropped
}

TEST(capture_observer, TheSidecarsOwnAnswerStandsForTheResponse) {
  fixture f;
  const auto dest = f.destination_of(0);
  f.observer.request_head(f.start(dest, false));
  const auto answer = proxy::local_response(504, false, 11, "upstream response timeout");
  f.observer.local_answer(answer);
  f.observer.end(exchange_end{exchange_error::upstream_response_timeout, true, false});
  const auto got = f.sink.wait_for(1);
  const store::capture& c = got.at(0);
  EXPECT_TRUE(c.sidecar_answered);
  EXPECT_EQ(c.status_code, 504);
  EXPECT_EQ(c.response_body.size, answer.body().size());
  EXPECT_EQ(c.response_body.head, answer.body().substr(0, 8));
  EXPECT_EQ(c.error, exchange_error::upstream_response_timeout);
}

TEST(capture_observer, EachExchangeStartsAFreshCapture) {
  fixture f;
  const auto dest = f.destination_of(0);
  for (int i = 0; i < 2; ++i) {
    f.observer.request_head(f.start(dest, false));
    if (i == 0) f.observer.local_answer(proxy::local_response(502, false, 11));
    f.observer.end(exchange_end{});
  }
  const auto got = f.sink.wait_for(2);
  ASSERT_EQ(got.size(), 2U);
  EXPECT_TRUE(got[0].sidecar_answered);
  EXPECT_FALSE(got[1].sidecar_answered);
  EXPECT_EQ(got[1].status_code, 0);
  EXPECT_EQ(got[1].client_address, "203.0.113.9:51234");
}

}  // namespace
}  // namespace sidecar::testing
