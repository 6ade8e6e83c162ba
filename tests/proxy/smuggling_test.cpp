// Request smuggling and framing: a table of classic ambiguous or malformed requests, each
// answered 400 (or forwarded in one unambiguous form), with the upstream never seeing an
// extra request.
#include <gtest/gtest.h>

#include "tests/proxy_support/harness.hpp"
#include "tests/proxy_support/test_upstream.hpp"

namespace sidecar::testing {
namespace {

struct smuggling_case {
  const char* name;
  std::string raw;
  int status;                 // the first (or only) answer
  std::size_t max_forwarded;  // requests the upstream may see
};

std::ostream& operator<<(std::ostream& os, const smuggling_case& c) { return os << c.name; }

const std::string smuggled = "GET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n";

std::vector<smuggling_case> cases() {
  using namespace std::string_literals;  // "...\0..."s keeps the NUL and knows its length
  return {
      {"CL_TE", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + smuggled, 400, 0},
      {"TE_CL", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n8\r\nSMUGGLED\r\n0\r\n\r\n", 400, 0},
      {"TE_space_before_colon", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n" + smuggled, 400, 0},
      {"TE_chunked_then_identity", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n" + smuggled, 400, 0},
      {"TE_xchunked", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: xchunked\r\n\r\n0\r\n\r\n" + smuggled, 400, 0},
      {"TE_duplicate", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n\r\n0\r\n\r\n", 400, 0},
      {"TE_obs_fold", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:\r\n chunked\r\n\r\n0\r\n\r\n", 400, 0},
      {"TE_identity_only", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: identity\r\n\r\n" + smuggled, 400, 0},
      {"TE_on_http10", "POST / HTTP/1.0\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400, 0},
      {"CL_duplicate_differing", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 5\r\n\r\nabcde", 400, 0},
      {"CL_list_differing", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3, 5\r\n\r\nabcde", 400, 0},
      {"CL_signed", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +3\r\n\r\nabc", 400, 0},
      {"CL_negative", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n" + smuggled, 400, 0},
      {"CL_hex", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0x3\r\n\r\nabc", 400, 0},
      {"chunk_size_overflow", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffffff1\r\nx\r\n0\r\n\r\n", 400, 0},
      {"chunk_size_not_hex", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5g\r\nhello\r\n0\r\n\r\n", 400, 0},
      {"chunk_size_negative", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n-5\r\nhello\r\n0\r\n\r\n", 400, 0},
      {"bare_LF_everywhere", "GET / HTTP/1.1\nHost: a\n\n", 400, 0},
      {"bare_LF_in_one_line", "GET / HTTP/1.1\r\nHost: a\nX-A: 1\r\n\r\n", 400, 0},
      {"bare_CR", "GET / HTTP/1.1\r\nHost: a\rX-A: 1\r\n\r\n", 400, 0},
      {"NUL_in_value", "GET / HTTP/1.1\r\nHost: a\r\nX-A: a\0b\r\n\r\n"s, 400, 0},
      {"control_byte_in_value", "GET / HTTP/1.1\r\nHost: a\r\nX-A: a\x01z\r\n\r\n", 400, 0},
      {"obs_fold", "GET / HTTP/1.1\r\nHost: a\r\nX-A: 1\r\n  continued\r\n\r\n", 400, 0},
      {"space_in_target", "GET /a b HTTP/1.1\r\nHost: a\r\n\r\n", 400, 0},
      {"unknown_version", "GET / HTTP/1.2\r\nHost: a\r\n\r\n", 400, 0},
      {"missing_host", "GET / HTTP/1.1\r\n\r\n", 400, 0},
      {"two_hosts", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400, 0},
      {"absolute_form_other_host_not_allowed", "GET http://internal.example/admin HTTP/1.1\r\nHost: a\r\n\r\n", 403, 0},
      {"pipelined_garbage_after_request", "GET / HTTP/1.1\r\nHost: a\r\n\r\nGARBAGE\x01\r\n\r\n", 200, 1},
      // Forwarded, but only in an unambiguous form: one request whose body holds the bytes.
      {"CL_body_looks_like_request", "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: " + std::to_string(smuggled.size()) + "\r\n\r\n" + smuggled, 200, 1},
      {"CL_duplicate_identical", "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc", 200, 1},
      {"TE_chunked_any_case", "POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: ChUnKeD\r\n\r\n3\r\nabc\r\n0\r\n\r\n", 200, 1},
  };
}

class smuggling : public ::testing::TestWithParam<smuggling_case> {};

TEST_P(smuggling, AnsweredWithoutAnExtraUpstreamRequest) {
  const auto& c = GetParam();
  test_upstream up;
  auto cfg = base_config();
  cfg->routes.push_back(route_to("/", upstream_at(up.port())));
  cfg->proxy.idle_timeout = std::chrono::milliseconds(300);  // keep-alive cases end soon
  running_proxy proxy(cfg);

  net::io_context ioc;
  auto s = connect_to(ioc, proxy.port());
  send_all(s, c.raw);
  beast::flat_buffer buf;
  auto first = read_response(s, buf);
  ASSERT_FALSE(first.ec) << first.ec.message();
  EXPECT_EQ(first.res.result_int(), c.status);
  if (c.status == 400) {
    EXPECT_FALSE(first.res.keep_alive());
  }
  // Whatever follows, the connection ends with at most an error: never a second 2xx.
  const std::string rest = read_until_close(s);
  EXPECT_EQ(rest.find("HTTP/1.1 2"), std::string::npos) << rest;
  if (c.max_forwarded > 0 && c.status == 200 && !rest.empty()) {
    EXPECT_TRUE(rest.starts_with("HTTP/1.1 400")) << rest;
  }
  EXPECT_LE(up.request_count(), c.max_forwarded);
  for (const auto& r : up.requests()) EXPECT_NE(r.target, "/smuggled");
  // The JSON error body of docs/api.md.
  if (c.status == 400) {
    EXPECT_EQ(first.res.body(), R"({"message":"bad request","status":400})");
  }
}

INSTANTIATE_TEST_SUITE_P(table, smuggling, ::testing::ValuesIn(cases()),
                         [](const auto& p) { return std::string(p.param.name); });

TEST(smuggling_table, HasAtLeastTwentyCases) { EXPECT_GE(cases().size(), 20u); }

}  // namespace
}  // namespace sidecar::testing
