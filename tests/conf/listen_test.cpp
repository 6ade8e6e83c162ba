// Opening a listener the one way both listeners do (conf/listen.hpp, docs/configuration.md):
// the one error line that says where the address was set and why it failed, and which
// addresses count as loopback for the plain-HTTP rule of [api].
#include "conf/listen.hpp"

#include <gtest/gtest.h>

#include <string>

#include "conf/config_error.hpp"

namespace sidecar::conf {
namespace {

net::ip::address addr(const char* text) { return net::ip::make_address(text); }

TEST(listen, LoopbackIsEvery127AddressAndOneAndEitherAsIpv4Mapped) {
  for (const char* yes : {"127.0.0.1", "127.255.255.254", "127.1.2.3", "::1", "::ffff:127.0.0.1",
                          "::ffff:127.9.9.9"}) {
    EXPECT_TRUE(is_loopback(addr(yes))) << yes;
  }
  for (const char* no : {"0.0.0.0", "::", "10.0.0.1", "192.168.1.1", "128.0.0.1", "126.255.255.255",
                         "::ffff:10.0.0.1", "::2", "fe80::1", "2001:db8::1"}) {
    EXPECT_FALSE(is_loopback(addr(no))) << no;
  }
}

TEST(listen, AListenerOpensOnAFreePortAndAnswersConnections) {
  net::io_context io;
  tcp::acceptor a(io);
  listen_on(a, endpoint{addr("127.0.0.1"), 0}, "test");
  ASSERT_TRUE(a.is_open());
  const auto bound = a.local_endpoint();
  EXPECT_NE(bound.port(), 0);
  tcp::socket client(io);
  boost::system::error_code ec;
  client.connect(bound, ec);
  EXPECT_FALSE(ec) << ec.message();
}

TEST(listen, ATakenAddressIsOneLineNamingWhereItWasSetAndWhy) {
  net::io_context io;
  tcp::acceptor first(io);
  listen_on(first, endpoint{addr("127.0.0.1"), 0}, "test");
  const std::uint16_t port = first.local_endpoint().port();
  tcp::acceptor second(io);
  try {
    listen_on(second, endpoint{addr("127.0.0.1"), port}, "command line: --api-listen");
    FAIL() << "a second listener on a listening port";
  } catch (const config_error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("command line: --api-listen"), std::string::npos) << what;
    EXPECT_NE(what.find("cannot listen on 127.0.0.1:" + std::to_string(port)), std::string::npos)
        << what;
    EXPECT_NE(what.find("in use"), std::string::npos) << what;
    EXPECT_EQ(what.find('\n'), std::string::npos);
  }
  EXPECT_FALSE(second.is_open()) << "left closed";
}

TEST(listen, AnAddressThisHostDoesNotHaveIsRefusedClearly) {
  net::io_context io;
  tcp::acceptor a(io);
  EXPECT_THROW(listen_on(a, endpoint{addr("192.0.2.1"), 0}, "sidecar.toml: [proxy] listen"),
               config_error);  // TEST-NET-1: never assigned to this host
  EXPECT_FALSE(a.is_open());
}

}  // namespace
}  // namespace sidecar::conf
