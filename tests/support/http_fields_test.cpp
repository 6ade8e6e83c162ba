// The hop-by-hop rule by name and by Beast's field enum agree for every name Beast knows.
#include "support/http_fields.hpp"

#include <gtest/gtest.h>

#include <string>

namespace sidecar::http_fields {
namespace {

namespace http = boost::beast::http;

TEST(http_fields, HopByHopByEnumIsTheRuleByName) {
  int hop = 0;
  for (unsigned i = 1; i <= static_cast<unsigned>(http::field::xref); ++i) {
    const auto f = static_cast<http::field>(i);
    const auto name = http::to_string(f);
    const std::string_view s(name.data(), name.size());
    EXPECT_EQ(is_hop_by_hop(f, s), is_hop_by_hop(s)) << s;
    if (is_hop_by_hop(s)) ++hop;
  }
  EXPECT_GE(hop, 8);  // Connection, Keep-Alive, TE, Trailer, Upgrade and the Proxy-* ones
  EXPECT_TRUE(is_hop_by_hop(http::field::unknown, "Proxy-Whatever"));
  EXPECT_FALSE(is_hop_by_hop(http::field::unknown, "X-Proxy"));
  EXPECT_TRUE(is_hop_by_hop(http::field::connection, "CONNECTION"));
  EXPECT_FALSE(is_hop_by_hop(http::field::host, "Host"));
}

}  // namespace
}  // namespace sidecar::http_fields
