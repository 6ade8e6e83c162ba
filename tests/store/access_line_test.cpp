// The access line of one exchange (store/access_line.hpp, docs/operations.md "Access log"):
// one logfmt line with the exchange's fate, never a query string or a credential.
#include "store/access_line.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "store/capture.hpp"
#include "support/log.hpp"
#include "tests/store/record_fixtures.hpp"

namespace sidecar::store {
namespace {

std::string line_of(const capture& c, std::string_view sid, std::string_view account,
                    std::string_view why_none) {
  ::testing::internal::CaptureStderr();
  log_access(c, sid, account, why_none);
  return ::testing::internal::GetCapturedStderr();
}

TEST(access_line, ARecordedExchangeNamesItsTraceAccountRouteAndOutcome) {
  capture c = testing::simple_capture("http://app.example/apps/acme/voice?Token=s3cret&To=%2B1");
  c.method = "POST";
  c.route_prefix = "/apps/acme/";
  c.latency = std::chrono::milliseconds(12);
  const std::string line = line_of(c, "TR0123", "ACae6e", "");
  EXPECT_EQ(std::count(line.begin(), line.end(), '\n'), 1) << line;
  EXPECT_NE(line.find("level=info msg=exchange trace=TR0123 why_none=- account=ACae6e"),
            std::string::npos)
      << line;
  EXPECT_NE(line.find("route=/apps/acme/ direction=webhook method=POST path=/apps/acme/voice "
                      "status=200 latency_ms=12 error=-"),
            std::string::npos)
      << line;
  EXPECT_EQ(line.find("s3cret"), std::string::npos) << "no query string: " << line;
  EXPECT_EQ(line.find("Token"), std::string::npos) << line;
}

TEST(access_line, AnExchangeWithoutARecordSaysWhyAndAFailureItsError) {
  capture c = testing::simple_capture("http://127.0.0.1:9/status", conf::direction::api);
  c.forward_proxy = true;
  c.status_code = 0;
  c.error = exchange_error::upstream_connect_refused;
  const std::string line = line_of(c, "", "", "unknown_account");
  EXPECT_NE(line.find("trace=- why_none=unknown_account account=- route=forward direction=api"),
            std::string::npos)
      << line;
  EXPECT_NE(line.find("status=0"), std::string::npos) << line;
  EXPECT_NE(line.find("error=\"upstream connect refused\""), std::string::npos) << line;
}

TEST(access_line, HostileValuesStayOnOneLine) {
  capture c = testing::simple_capture("http://app.example/a%0Ab/\x1b[31m?q=1");
  c.method = "GET\r\nX: y";
  c.route_prefix = "/";
  const std::string line = line_of(c, "TR1", "AC1", "");
  EXPECT_EQ(std::count(line.begin(), line.end(), '\n'), 1) << line;
  EXPECT_EQ(line.find('\r'), std::string::npos);
  EXPECT_EQ(line.find('\x1b'), std::string::npos);
}

}  // namespace
}  // namespace sidecar::store
