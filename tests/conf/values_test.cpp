// The value syntaxes of the configuration: durations, sizes, addresses, URLs, CIDRs, hosts.
#include "conf/values.hpp"

#include <gtest/gtest.h>

namespace sidecar::conf {
namespace {

using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;

TEST(duration_syntax, AcceptsEveryUnit) {
  EXPECT_EQ(parse_duration("500ms").value, milliseconds(500));
  EXPECT_EQ(parse_duration("90s").value, seconds(90));
  EXPECT_EQ(parse_duration("15m").value, minutes(15));
  EXPECT_EQ(parse_duration("48h").value, hours(48));
  EXPECT_EQ(parse_duration("2d").value, hours(48));
  EXPECT_EQ(parse_duration("0s").value, milliseconds(0));
}

TEST(duration_syntax, RefusesWhatIsNotOneNumberAndOneUnit) {
  for (const char* bad : {"", "5", "s", "5 s", " 5s", "5s ", "-5s", "+5s", "1.5h", "5S", "5sec",
                          "1h30m", "5 parsecs", "0x10s", "5w", "5y"}) {
    const auto d = parse_duration(bad);
    EXPECT_FALSE(d) << bad;
    EXPECT_NE(d.problem.find("is not a duration (use e.g. \"90s\""), std::string::npos) << bad;
  }
}

TEST(duration_syntax, RefusesOverflowInsteadOfWrapping) {
  EXPECT_EQ(parse_duration("36500d").value, hours(24 * 36500));
  EXPECT_EQ(parse_duration("36501d").problem, R"("36501d" is too long (at most 100 years))");
  EXPECT_EQ(parse_duration("99999999999999999999999ms").problem,
            R"("99999999999999999999999ms" is too long (at most 100 years))");
  EXPECT_FALSE(parse_duration("18446744073709551615d"));
}

TEST(size_syntax, AcceptsBytesAndBinaryUnits) {
  EXPECT_EQ(parse_size("512").value, 512u);
  EXPECT_EQ(parse_size("512B").value, 512u);
  EXPECT_EQ(parse_size("64KiB").value, 64u * 1024);
  EXPECT_EQ(parse_size("64MiB").value, 64u << 20);
  EXPECT_EQ(parse_size("1GiB").value, 1ull << 30);
  EXPECT_EQ(parse_size("2TiB").value, 2ull << 40);
  EXPECT_EQ(parse_size("0").value, 0u);
}

TEST(size_syntax, RefusesDecimalUnitsAsAmbiguous) {
  EXPECT_EQ(parse_size("64KB").problem,
            R"("64KB" is not a size (units are B, KiB, MiB, GiB, TiB: e.g. "64KiB", "1GiB"))");
  EXPECT_EQ(parse_size("1gib").problem,
            R"("1gib" is not a size (units are B, KiB, MiB, GiB, TiB: e.g. "64KiB", "1GiB"))");
  EXPECT_EQ(parse_size("lots").problem, R"("lots" is not a size (use e.g. 512, "64KiB", "1GiB"))");
  EXPECT_FALSE(parse_size(""));
  EXPECT_FALSE(parse_size("1.5GiB"));
  EXPECT_FALSE(parse_size("-1"));
  EXPECT_FALSE(parse_size("1 KiB"));
}

TEST(size_syntax, RefusesOverflow) {
  EXPECT_EQ(parse_size("4194304TiB").value, 1ull << 62);
  EXPECT_EQ(parse_size("4194305TiB").problem, R"("4194305TiB" is too large)");
  EXPECT_EQ(parse_size("99999999999999999999999").problem,
            R"("99999999999999999999999" is too large)");
}

TEST(format, DurationsAndSizesInTheirLargestExactUnit) {
  EXPECT_EQ(format_duration(hours(48)), "2d");
  EXPECT_EQ(format_duration(minutes(90)), "90m");
  EXPECT_EQ(format_duration(milliseconds(1500)), "1500ms");
  EXPECT_EQ(format_duration(milliseconds(0)), "0s");
  EXPECT_EQ(format_size(64 * 1024), "64KiB");
  EXPECT_EQ(format_size(1ull << 30), "1GiB");
  EXPECT_EQ(format_size(1000), "1000");
  EXPECT_EQ(format_size(0), "0");
}

TEST(listen_syntax, AcceptsIpv4AndBracketedIpv6WithAPort) {
  const auto a = parse_endpoint("127.0.0.1:8080");
  ASSERT_TRUE(a);
  EXPECT_EQ(a.value->to_string(), "127.0.0.1:8080");
  const auto b = parse_endpoint("[::1]:8080");
  ASSERT_TRUE(b);
  EXPECT_TRUE(b.value->address.is_v6());
  EXPECT_EQ(b.value->to_string(), "[::1]:8080");
  const auto c = parse_endpoint("0.0.0.0:0");
  ASSERT_TRUE(c);
  EXPECT_EQ(c.value->port, 0);
}

TEST(listen_syntax, RefusesNamesMissingPortsAndBadPorts) {
  const std::string hint =
      R"( is not a listen address (use e.g. "127.0.0.1:8080" or "[::1]:8080"))";
  EXPECT_EQ(parse_endpoint("127.0.0.1").problem, "\"127.0.0.1\"" + hint);
  EXPECT_EQ(parse_endpoint("::1:8080").problem, "\"::1:8080\"" + hint);
  EXPECT_EQ(parse_endpoint("[127.0.0.1]:80").problem, "\"[127.0.0.1]:80\"" + hint);
  EXPECT_EQ(parse_endpoint(":8080").problem, "\":8080\"" + hint);
  EXPECT_EQ(
      parse_endpoint("localhost:8080").problem,
      R"("localhost:8080" is not a listen address: use an IP address, not a name (use e.g. "127.0.0.1:8080" or "[::1]:8080"))");
  EXPECT_EQ(parse_endpoint("127.0.0.1:65536").problem,
            R"("127.0.0.1:65536" has a bad port (0 to 65535; 0 picks a free port))");
  EXPECT_FALSE(parse_endpoint("127.0.0.1:"));
  EXPECT_FALSE(parse_endpoint("127.0.0.1:-1"));
  EXPECT_FALSE(parse_endpoint("127.0.0.1:080808"));
}

TEST(upstream_syntax, SplitsSchemeHostPortAndBasePath) {
  const auto a = parse_upstream_url("http://127.0.0.1:9000/");
  ASSERT_TRUE(a) << a.problem;
  EXPECT_FALSE(a.value->https);
  EXPECT_EQ(a.value->host, "127.0.0.1");
  EXPECT_EQ(a.value->port, 9000);
  EXPECT_EQ(a.value->base_path, "/");
  const auto b = parse_upstream_url("HTTPS://App.Example.com/base");
  ASSERT_TRUE(b) << b.problem;
  EXPECT_TRUE(b.value->https);
  EXPECT_EQ(b.value->host, "app.example.com");
  EXPECT_EQ(b.value->port, 443);
  EXPECT_EQ(b.value->base_path, "/base/");
  EXPECT_EQ(b.value->text, "HTTPS://App.Example.com/base");
  const auto c = parse_upstream_url("http://[::1]:8000");
  ASSERT_TRUE(c) << c.problem;
  EXPECT_EQ(c.value->host, "::1");
  EXPECT_EQ(c.value->base_path, "/");
}

TEST(upstream_syntax, RefusesOtherSchemesCredentialsQueriesAndBadPorts) {
  EXPECT_EQ(parse_upstream_url("ftp://h/").problem, R"("ftp://h/" is not an http or https URL)");
  EXPECT_EQ(
      parse_upstream_url("127.0.0.1:9000").problem,
      R"("127.0.0.1:9000" is not a URL (use e.g. "http://127.0.0.1:9000/" or "https://app.example.com/base/"))");
  EXPECT_EQ(
      parse_upstream_url("not a url").problem,
      R"("not a url" is not a URL (use e.g. "http://127.0.0.1:9000/" or "https://app.example.com/base/"))");
  EXPECT_EQ(
      parse_upstream_url("http:///x").problem,
      R"("http:///x" has no host (use e.g. "http://127.0.0.1:9000/" or "https://app.example.com/base/"))");
  EXPECT_NE(parse_upstream_url("http://u:p@h/").problem.find("carries credentials"),
            std::string::npos);
  EXPECT_EQ(parse_upstream_url("http://h/?a=1").problem,
            R"("http://h/?a=1" has a query string: an upstream is a base URL)");
  EXPECT_EQ(parse_upstream_url("http://h/#x").problem,
            R"("http://h/#x" has a fragment: an upstream is a base URL)");
  EXPECT_EQ(parse_upstream_url("http://h:0/").problem,
            R"("http://h:0/" has a bad port (1 to 65535))");
  EXPECT_EQ(parse_upstream_url("http://h:70000/").problem,
            R"("http://h:70000/" has a bad port (1 to 65535))");
}

TEST(cidr_syntax, AcceptsNetworksAndBareAddresses) {
  const auto a = parse_cidr("10.0.0.0/8");
  ASSERT_TRUE(a);
  EXPECT_EQ(a.value->prefix_length, 8u);
  EXPECT_TRUE(a.value->contains(boost::asio::ip::make_address("10.200.1.2")));
  EXPECT_FALSE(a.value->contains(boost::asio::ip::make_address("11.0.0.1")));
  const auto b = parse_cidr("127.0.0.1");
  ASSERT_TRUE(b);
  EXPECT_EQ(b.value->prefix_length, 32u);
  const auto c = parse_cidr("fd00::/8");
  ASSERT_TRUE(c);
  EXPECT_TRUE(c.value->contains(boost::asio::ip::make_address("fd12::1")));
  EXPECT_FALSE(c.value->contains(boost::asio::ip::make_address("10.0.0.1")));
  EXPECT_TRUE(parse_cidr("0.0.0.0/0").value->contains(boost::asio::ip::make_address("8.8.8.8")));
}

TEST(cidr_syntax, Ipv4NetworksMatchIpv4MappedClients) {
  const auto a = parse_cidr("10.0.0.0/8");
  ASSERT_TRUE(a);
  EXPECT_TRUE(a.value->contains(boost::asio::ip::make_address("::ffff:10.1.2.3")));
  EXPECT_FALSE(a.value->contains(boost::asio::ip::make_address("::ffff:11.1.2.3")));
}

TEST(cidr_syntax, RefusesHostBitsAndBadLengths) {
  EXPECT_EQ(
      parse_cidr("10.0.0.1/8").problem,
      R"("10.0.0.1/8" has host bits set after the prefix length (the network is 10.0.0.0/8))");
  EXPECT_EQ(parse_cidr("10.0.0.0/33").problem,
            R"("10.0.0.0/33" has a bad prefix length (0 to 32))");
  EXPECT_EQ(parse_cidr("::/129").problem, R"("::/129" has a bad prefix length (0 to 128))");
  EXPECT_EQ(parse_cidr("10.0.0.0/").problem, R"("10.0.0.0/" has a bad prefix length (0 to 32))");
  EXPECT_EQ(
      parse_cidr("example.com/8").problem,
      R"("example.com/8" is not an address or CIDR (use e.g. "10.0.0.0/8", "127.0.0.1", "::1/128"))");
}

TEST(forward_host_syntax, NamesWildcardsPortsAndAddresses) {
  const auto a = parse_forward_host("App.Example.com");
  ASSERT_TRUE(a);
  EXPECT_EQ(a.value->host, "app.example.com");
  EXPECT_TRUE(a.value->matches("app.example.com", 80));
  EXPECT_TRUE(a.value->matches("APP.example.com", 443));
  EXPECT_FALSE(a.value->matches("app.example.com", 8080));
  EXPECT_FALSE(a.value->matches("x.app.example.com", 80));

  const auto w = parse_forward_host("*.example.org");
  ASSERT_TRUE(w);
  EXPECT_TRUE(w.value->wildcard);
  EXPECT_TRUE(w.value->matches("a.b.example.org", 443));
  EXPECT_TRUE(w.value->matches("A.Example.Org", 443));
  EXPECT_FALSE(w.value->matches("example.org", 443));
  EXPECT_FALSE(w.value->matches("badexample.org", 443));

  const auto p = parse_forward_host("app.example.com:8443");
  ASSERT_TRUE(p);
  EXPECT_EQ(p.value->port, 8443);
  EXPECT_TRUE(p.value->matches("app.example.com", 8443));
  EXPECT_FALSE(p.value->matches("app.example.com", 443));

  const auto ip4 = parse_forward_host("10.1.2.3:8080");
  ASSERT_TRUE(ip4);
  EXPECT_TRUE(ip4.value->is_address);
  EXPECT_TRUE(ip4.value->matches("10.1.2.3", 8080));
  const auto ip6 = parse_forward_host("[2001:db8::1]:443");
  ASSERT_TRUE(ip6);
  EXPECT_TRUE(ip6.value->is_address);
  EXPECT_EQ(ip6.value->host, "2001:db8::1");
  EXPECT_TRUE(ip6.value->matches("[2001:db8:0::1]", 443));
  EXPECT_TRUE(parse_forward_host("2001:db8::1"));
}

TEST(forward_host_syntax, RefusesMalformedHosts) {
  for (const char* bad :
       {"", "*", "*.", "a..b", "-a.com", "a-.com", "a.com:", "a.com:0", "a.com:99999",
        "http://a.com", "a.com/x", "*.10.0.0.1x y", "[a.com]", "a b.com", "*.*.a.com"}) {
    EXPECT_FALSE(parse_forward_host(bad)) << bad;
  }
}

TEST(sid_syntax, TwoLettersAndThirtyTwoLowerCaseHexDigits) {
  EXPECT_TRUE(is_sid("ACae6e420f425248d6a26948c17a9e2acf", "AC"));
  EXPECT_TRUE(is_sid("ORfe81fe8a3d5f4d5391e901db0bf5755d", "OR"));
  EXPECT_FALSE(is_sid("ACAE6E420F425248D6A26948C17A9E2ACF", "AC"));
  EXPECT_FALSE(is_sid("acae6e420f425248d6a26948c17a9e2acf", "AC"));
  EXPECT_FALSE(is_sid("ORfe81fe8a3d5f4d5391e901db0bf5755d", "AC"));
  EXPECT_FALSE(is_sid("ACae6e420f425248d6a26948c17a9e2ac", "AC"));
  EXPECT_FALSE(is_sid("ACae6e420f425248d6a26948c17a9e2acff", "AC"));
  EXPECT_FALSE(is_sid("ACge6e420f425248d6a26948c17a9e2acf", "AC"));
}

TEST(quoting, EscapesControlBytesAndCutsLongValues) {
  EXPECT_EQ(quote("a\"b\\c\nd\x01"), R"("a\"b\\c\nd\u0001")");
  EXPECT_EQ(quote(std::string(100, 'x')), "\"" + std::string(80, 'x') + "...\"");
}

}  // namespace
}  // namespace sidecar::conf
