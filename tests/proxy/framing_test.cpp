// The strict request-head scan and the framing normalisation, byte by byte.
#include "proxy/framing.hpp"

#include <gtest/gtest.h>

namespace sidecar::proxy {
namespace {

head_scan_result scan(std::string_view s, std::size_t limit = 1024) {
  return scan_request_head(s, limit).result;
}

TEST(framing, CompleteHeadReportsItsSize) {
  const std::string head = "GET /x HTTP/1.1\r\nHost: a\r\n\r\n";
  const auto r = scan_request_head(head + "body", 1024);
  EXPECT_EQ(r.result, head_scan_result::complete);
  EXPECT_EQ(r.head_size, head.size());
}

TEST(framing, PartialHeadIsIncomplete) {
  EXPECT_EQ(scan("GET /x HTTP/1.1\r\nHost: a\r\n"), head_scan_result::incomplete);
  EXPECT_EQ(scan("GET /x HTTP/1.1\r"), head_scan_result::incomplete);
  EXPECT_EQ(scan(""), head_scan_result::incomplete);
}

TEST(framing, LeadingEmptyLinesAreSkipped) {
  const auto r = scan_request_head("\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", 1024);
  EXPECT_EQ(r.result, head_scan_result::complete);
  EXPECT_EQ(r.skip, 2u);
}

TEST(framing, BareLineEndingsAndControlBytesAreBad) {
  EXPECT_EQ(scan("GET / HTTP/1.1\nHost: a\n\n"), head_scan_result::bad);
  EXPECT_EQ(scan("GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n"), head_scan_result::bad);
  EXPECT_EQ(scan(std::string("GET / HTTP/1.1\r\nX: \0\r\n\r\n", 24)), head_scan_result::bad);
  EXPECT_EQ(scan("GET / HTTP/1.1\r\nX: \x7f\r\n\r\n"), head_scan_result::bad);
  EXPECT_EQ(scan("GET / HTTP/1.1\r\nX: a\tb\r\n\r\n"), head_scan_result::complete);
}

TEST(framing, AControlByteIsFoundAtEveryOffsetOfAWord) {
  // The scan looks at sixteen bytes at a time, and at the data's last sixteen again for its
  // tail: a forbidden byte at any position of a block, and next to bytes at or above 0x80
  // (negative as signed bytes), is still found; a tab and high bytes are not forbidden.
  for (std::size_t at = 0; at < 40; ++at) {
    for (const char bad : {'\0', '\x01', '\x1f', '\x7f', '\n'}) {
      std::string value(40, 'v');
      value[at] = bad;
      if (at > 0) value[at - 1] = '\xff';
      EXPECT_EQ(scan("GET / HTTP/1.1\r\nX: " + value + "\r\n\r\n"), head_scan_result::bad)
          << "byte " << static_cast<int>(bad) << " at " << at;
    }
    std::string value(40, '\x80');
    value[at] = '\t';
    EXPECT_EQ(scan("GET / HTTP/1.1\r\nX: v" + value + "\r\n\r\n"), head_scan_result::complete)
        << "tab at " << at;
  }
}

TEST(framing, ShortDataAndTargetsAreCheckedToo) {
  EXPECT_EQ(scan(std::string("GET /\x01", 6)), head_scan_result::bad);  // under sixteen bytes
  EXPECT_EQ(scan("GET /"), head_scan_result::incomplete);
  EXPECT_EQ(scan("GET /a\tb HTTP/1.1\r\nHost: a\r\n\r\n"), head_scan_result::bad);
  EXPECT_EQ(scan("GET /a\x7f HTTP/1.1\r\nHost: a\r\n\r\n"), head_scan_result::bad);
  EXPECT_EQ(scan("GET /\xc3\xa9 HTTP/1.1\r\nHost: a\r\n\r\n"), head_scan_result::complete);
  EXPECT_EQ(scan("G\xc3T / HTTP/1.1\r\nHost: a\r\n\r\n"), head_scan_result::bad);
}

TEST(framing, ObsFoldAndBadNamesAreBad) {
  EXPECT_EQ(scan("GET / HTTP/1.1\r\nX: a\r\n b\r\n\r\n"), head_scan_result::bad);
  EXPECT_EQ(scan("GET / HTTP/1.1\r\nX : a\r\n\r\n"), head_scan_result::bad);
  EXPECT_EQ(scan("GET / HTTP/1.1\r\n: a\r\n\r\n"), head_scan_result::bad);
  EXPECT_EQ(scan("GET / HTTP/1.1\r\nno colon\r\n\r\n"), head_scan_result::bad);
}

TEST(framing, RequestLineMustHaveThreeParts) {
  EXPECT_EQ(scan("GET  / HTTP/1.1\r\n\r\n"), head_scan_result::bad);
  EXPECT_EQ(scan("GET /\r\n\r\n"), head_scan_result::bad);
  EXPECT_EQ(scan("GET / HTTP/2.0\r\n\r\n"), head_scan_result::bad);
  EXPECT_EQ(scan("G(T / HTTP/1.1\r\n\r\n"), head_scan_result::bad);
  EXPECT_EQ(scan("GET / HTTP/1.0\r\n\r\n"), head_scan_result::complete);
}

TEST(framing, LongTargetIs414AndLongHeadIs431) {
  const std::string long_target = "GET /" + std::string(200, 'a');
  EXPECT_EQ(scan(long_target, 100), head_scan_result::target_long);
  EXPECT_EQ(scan(long_target + " HTTP/1.1\r\n\r\n", 100), head_scan_result::target_long);
  const std::string big_head = "GET / HTTP/1.1\r\nX: " + std::string(200, 'a');
  EXPECT_EQ(scan(big_head, 100), head_scan_result::head_large);
  EXPECT_EQ(scan(big_head + "\r\n\r\n", 100), head_scan_result::head_large);
}

head_fields fields_of(std::initializer_list<std::pair<const char*, const char*>> list) {
  head_fields f;
  for (const auto& [n, v] : list) f.insert(n, v);
  return f;
}

TEST(framing, TransferEncodingMustBeExactlyChunked) {
  auto ok = fields_of({{"Host", "a"}, {"Transfer-Encoding", " Chunked "}});
  EXPECT_TRUE(normalise_request_framing(ok, 11));
  auto gzip = fields_of({{"Host", "a"}, {"Transfer-Encoding", "gzip, chunked"}});
  EXPECT_FALSE(normalise_request_framing(gzip, 11));
  auto old = fields_of({{"Host", "a"}, {"Transfer-Encoding", "chunked"}});
  EXPECT_FALSE(normalise_request_framing(old, 10));
  auto both = fields_of({{"Host", "a"}, {"Transfer-Encoding", "chunked"}, {"Content-Length", "1"}});
  EXPECT_FALSE(normalise_request_framing(both, 11));
}

TEST(framing, IdenticalContentLengthsBecomeOne) {
  auto f = fields_of({{"Host", "a"}, {"Content-Length", "3, 3"}, {"Content-Length", "3"}});
  ASSERT_TRUE(normalise_request_framing(f, 11));
  EXPECT_EQ(std::distance(f.find(http::field::content_length), f.end()), 1);
  EXPECT_EQ(f[http::field::content_length], "3");
}

TEST(framing, Http11NeedsExactlyOneHost) {
  auto none = fields_of({});
  EXPECT_FALSE(normalise_request_framing(none, 11));
  EXPECT_TRUE(normalise_request_framing(none, 10));
  auto two = fields_of({{"Host", "a"}, {"Host", "b"}});
  EXPECT_FALSE(normalise_request_framing(two, 11));
}

}  // namespace
}  // namespace sidecar::proxy
