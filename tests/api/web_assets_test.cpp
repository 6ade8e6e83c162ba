// The web inspector's files as compiled in, and the API listener's answers for them (over real
// HTTP on 127.0.0.1:0): content types, ETag and 304, the security headers on every answer.
#include "api/web_assets.hpp"

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <fstream>
#include <sstream>
#include <string>

#include "api/server.hpp"
#include "tests/api/test_support.hpp"

namespace sidecar::api {
namespace {

using testing::http_answer;
using testing::http_client;

std::string sha256_hex(std::string_view bytes) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  EVP_Digest(bytes.data(), bytes.size(), digest, &size, EVP_sha256(), nullptr);
  std::string hex;
  for (unsigned i = 0; i < size; ++i) {
    constexpr std::string_view digits = "0123456789abcdef";
    hex += digits[digest[i] >> 4];
    hex += digits[digest[i] & 15];
  }
  return hex;
}

std::string read_source(const std::string& name) {
  std::ifstream in(std::string(SIDECAR_SOURCE_DIR) + "/web/" + name, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

const embedded_file& file(std::string_view name) {
  for (const embedded_file& f : embedded_web_files()) {
    if (f.name == name) return f;
  }
  ADD_FAILURE() << "not embedded: " << name;
  static const embedded_file none{};
  return none;
}

std::string header(const answer& a, std::string_view name) {
  for (const auto& [n, v] : a.headers) {
    if (n == name) return v;
  }
  return {};
}

TEST(web_assets, EveryFileIsEmbeddedByteForByteWithItsDigest) {
  for (const std::string name : {"index.html", "app.css", "js/main.js", "js/dom.js"}) {
    const embedded_file& f = file(name);
    const std::string source = read_source(name);
    ASSERT_FALSE(source.empty()) << name;
    EXPECT_EQ(f.bytes, source) << name;
    EXPECT_EQ(f.sha256, sha256_hex(source)) << name;
  }
}

TEST(web_assets, ContentTypesByExtension) {
  EXPECT_EQ(web_content_type("index.html"), "text/html; charset=utf-8");
  EXPECT_EQ(web_content_type("js/main.js"), "text/javascript; charset=utf-8");
  EXPECT_EQ(web_content_type("app.css"), "text/css; charset=utf-8");
  EXPECT_EQ(web_content_type("icon.svg"), "image/svg+xml");
  EXPECT_EQ(web_content_type("notes"), "application/octet-stream");
}

TEST(web_assets, IfNoneMatchComparesEveryTagWeakly) {
  EXPECT_TRUE(etag_matches("\"abc\"", "\"abc\""));
  EXPECT_TRUE(etag_matches("W/\"abc\"", "\"abc\""));
  EXPECT_TRUE(etag_matches("\"x\", \"abc\"", "\"abc\""));
  EXPECT_TRUE(etag_matches("*", "\"abc\""));
  EXPECT_FALSE(etag_matches("\"abd\"", "\"abc\""));
  EXPECT_FALSE(etag_matches("abc", "\"abc\""));
  EXPECT_FALSE(etag_matches("", "\"abc\""));
}

TEST(web_assets, OnlyTheRootAndAssetsAreWebPaths) {
  EXPECT_TRUE(is_web_path("/"));
  EXPECT_TRUE(is_web_path("/assets/js/main.js"));
  EXPECT_FALSE(is_web_path("/assets"));
  EXPECT_FALSE(is_web_path("/index.html"));
  EXPECT_FALSE(is_web_path("/2012-04-24/Accounts/AC1/Traces"));
}

TEST(web_assets, TheIndexIsOnlyServedAsTheRoot) {
  EXPECT_EQ(web_answer("GET", "/", "").status, 200u);
  EXPECT_EQ(web_answer("GET", "/assets/index.html", "").status, 404u);
  EXPECT_EQ(web_answer("GET", "/assets/../index.html", "").status, 404u);
  EXPECT_EQ(web_answer("GET", "/assets/", "").status, 404u);
}

TEST(web_assets, EveryAnswerCarriesTheSecurityHeaders) {
  for (const answer& a :
       {web_answer("GET", "/", ""), web_answer("GET", "/assets/nope.js", ""),
        web_answer("POST", "/", ""), web_answer("GET", "/", "\"" + std::string(64, '0') + "\"")}) {
    EXPECT_EQ(header(a, "Content-Security-Policy"), web_content_security_policy);
    EXPECT_EQ(header(a, "X-Content-Type-Options"), "nosniff");
  }
}

// --- over HTTP ---------------------------------------------------------------------------

class web_server : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = std::make_unique<server>(testing::make_config(), reader_, registry_,
                                       [] { return store::store_health{}; });
    port_ = server_->start().port();
  }
  void TearDown() override { server_->stop(); }

  http_answer get(const std::string& target, const std::map<std::string, std::string>& h = {}) {
    return http_client(port_).request("GET", target, h);
  }

  testing::memory_reader reader_;
  metrics::registry registry_;
  std::unique_ptr<server> server_;
  std::uint16_t port_ = 0;
};

TEST_F(web_server, RootServesThePageWithItsPolicyWithoutCredentials) {
  const http_answer a = get("/");
  EXPECT_EQ(a.status, 200u);
  EXPECT_EQ(a.header("content-type"), "text/html; charset=utf-8");
  EXPECT_EQ(a.body, read_source("index.html"));
  const std::string csp = a.header("content-security-policy");
  EXPECT_NE(csp.find("default-src 'none'"), std::string::npos) << csp;
  EXPECT_NE(csp.find("script-src 'self'"), std::string::npos) << csp;
  EXPECT_NE(csp.find("frame-ancestors 'none'"), std::string::npos) << csp;
  EXPECT_EQ(csp.find("unsafe-inline"), std::string::npos) << csp;
  EXPECT_EQ(a.header("x-content-type-options"), "nosniff");
  EXPECT_EQ(a.header("cache-control"), "no-cache");
  EXPECT_EQ(a.header("etag"), "\"" + sha256_hex(a.body).substr(0, 32) + "\"");
  EXPECT_TRUE(a.header("www-authenticate").empty());
}

TEST_F(web_server, AssetsHaveTheirTypesAndRevalidateTo304) {
  const http_answer js = get("/assets/js/main.js");
  EXPECT_EQ(js.status, 200u);
  EXPECT_EQ(js.header("content-type"), "text/javascript; charset=utf-8");
  EXPECT_EQ(js.body, read_source("js/main.js"));
  const http_answer again = get("/assets/js/main.js", {{"If-None-Match", js.header("etag")}});
  EXPECT_EQ(again.status, 304u);
  EXPECT_TRUE(again.body.empty());
  EXPECT_EQ(again.header("etag"), js.header("etag"));
  EXPECT_EQ(get("/assets/app.css").header("content-type"), "text/css; charset=utf-8");
  // Another file's tag does not match.
  EXPECT_EQ(get("/assets/app.css", {{"If-None-Match", js.header("etag")}}).status, 200u);
}

TEST_F(web_server, HeadGivesTheHeadersAndOtherMethodsAre405) {
  const http_answer head = http_client(port_).request("HEAD", "/");
  EXPECT_EQ(head.status, 200u);
  EXPECT_TRUE(head.body.empty());
  EXPECT_EQ(head.header("content-length"), std::to_string(read_source("index.html").size()));
  const http_answer post = http_client(port_).request("POST", "/");
  EXPECT_EQ(post.status, 405u);
  EXPECT_EQ(post.header("allow"), "GET, HEAD");
}

TEST_F(web_server, UnknownAssetIs404WithNosniff) {
  const http_answer a = get("/assets/missing.js");
  EXPECT_EQ(a.status, 404u);
  EXPECT_EQ(a.header("content-type"), "application/json");
  EXPECT_EQ(a.header("x-content-type-options"), "nosniff");
}

}  // namespace
}  // namespace sidecar::api
