// Basic auth header parsing and the authenticator's token checks.
#include "api/auth.hpp"

#include <gtest/gtest.h>

#include "tests/api/test_support.hpp"

namespace sidecar::api {
namespace {

using testing::accounts;
using testing::basic;
using testing::token_of;

TEST(auth, ParsesBasicCredentials) {
  const auto c = parse_basic_auth(basic("ACx", "secret:with:colons"));
  ASSERT_TRUE(c);
  EXPECT_EQ(c->user, "ACx");
  EXPECT_EQ(c->password, "secret:with:colons");
  const auto lower = parse_basic_auth("basic " + basic("u", "p").substr(6));
  ASSERT_TRUE(lower);
  EXPECT_EQ(lower->user, "u");
  const auto empty_password = parse_basic_auth(basic("u", ""));
  ASSERT_TRUE(empty_password);
  EXPECT_EQ(empty_password->password, "");
}

TEST(auth, PaddingVariantsDecode) {
  EXPECT_EQ(parse_basic_auth(basic("a", "b"))->password, "b");      // 3 bytes, no padding
  EXPECT_EQ(parse_basic_auth(basic("a", "bc"))->password, "bc");    // '='
  EXPECT_EQ(parse_basic_auth(basic("a", "bcd"))->password, "bcd");  // '=='
}

TEST(auth, RejectsMalformedHeaders) {
  for (const std::string h :
       {"", "Basic", "Basic ", "Bearer abc", "Basic !!!!", "Basic YWJj",  // "abc": no colon
        "Basic OmFiYw==",                                                 // ":abc": no user
        "Basic YTpi=", "Basic YTpiYw", "Basic YT=iYw==", "BasicYTpi", "Digest username=x"}) {
    EXPECT_FALSE(parse_basic_auth(h)) << h;
  }
}

TEST(auth, ChecksTokensAndSha256Digests) {
  const auto cfg = testing::make_config();
  const authenticator a(*cfg);
  const conf::account* p = a.check({accounts::parent, token_of(accounts::parent)});
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->sid, accounts::parent);
  EXPECT_EQ(a.check({accounts::parent, "wrong"}), nullptr);
  EXPECT_EQ(a.check({accounts::parent, token_of(accounts::child)}), nullptr);
  EXPECT_EQ(a.check({"ACunknown", token_of(accounts::parent)}), nullptr);
  EXPECT_EQ(a.check({"ACunknown", ""}), nullptr);
  const conf::account* h = a.check({accounts::hashed, token_of(accounts::hashed)});
  ASSERT_NE(h, nullptr);
  EXPECT_EQ(h->sid, accounts::hashed);
  EXPECT_EQ(a.check({accounts::hashed, "nope"}), nullptr);
}

TEST(auth, Sha256KnownAnswer) {
  const sha256_digest d = sha256("abc");
  EXPECT_EQ(d[0], 0xba);
  EXPECT_EQ(d[1], 0x78);
  EXPECT_EQ(d[31], 0xad);
}

}  // namespace
}  // namespace sidecar::api
