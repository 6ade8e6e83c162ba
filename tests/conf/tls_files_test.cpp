// The TLS files a table names, read and checked while loading (conf/tls_files.hpp,
// docs/configuration.md "TLS"): a good pair is kept with its bytes and expiry; a missing,
// unreadable, mismatched or non-PEM file stops the load with one line naming the key.
#include "conf/tls_files.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "conf/config_error.hpp"
#include "conf/table_reader.hpp"
#include "tests/proxy_support/pki.hpp"

namespace sidecar::conf::detail {
namespace {

toml::table table_of(const std::filesystem::path& cert, const std::filesystem::path& key) {
  toml::table t;
  if (!cert.empty()) t.insert("tls_cert", cert.string());
  if (!key.empty()) t.insert("tls_key", key.string());
  return t;
}

/// The error line of reading `t`'s pair, or "" when it was accepted.
std::string refusal(const toml::table& t) {
  try {
    (void)read_tls(table_reader("sidecar.toml", "[api]", t));
    return "";
  } catch (const config_error& e) {
    return e.what();
  }
}

class tls_files_test : public ::testing::Test {
 protected:
  std::filesystem::path write(const std::string& name, const std::string& text) {
    const auto p = pki_.dir / name;
    std::ofstream(p) << text;
    return p;
  }
  testing::test_pki pki_;
};

TEST_F(tls_files_test, AGoodPairIsKeptWithItsBytesAndExpiry) {
  const auto files =
      read_tls(table_reader("sidecar.toml", "[api]", table_of(pki_.server_cert, pki_.server_key)));
  ASSERT_TRUE(files);
  EXPECT_EQ(files->cert, pki_.server_cert);
  EXPECT_NE(files->cert_pem.find("BEGIN CERTIFICATE"), std::string::npos);
  EXPECT_NE(files->key_pem.find("PRIVATE KEY"), std::string::npos);
  const auto now = std::chrono::system_clock::now();
  EXPECT_GT(files->not_after, now + std::chrono::hours(24)) << "made for two days";
  EXPECT_LT(files->not_after, now + std::chrono::hours(72));
}

TEST_F(tls_files_test, NeitherKeyIsNoTlsAndOneWithoutTheOtherIsRefused) {
  EXPECT_FALSE(read_tls(table_reader("sidecar.toml", "[api]", toml::table{})));
  EXPECT_NE(refusal(table_of(pki_.server_cert, {})).find("tls_key"), std::string::npos);
  EXPECT_NE(refusal(table_of({}, pki_.server_key)).find("tls_cert"), std::string::npos);
}

TEST_F(tls_files_test, EachBadFileIsOneLineNamingItsKey) {
  const auto missing = pki_.dir / "missing.pem";
  const auto garbage = write("garbage.pem", "not a certificate\n");
  struct bad {
    std::filesystem::path cert, key;
    std::string says;
  };
  const bad cases[] = {
      {missing, pki_.server_key, "tls_cert"},           {pki_.server_cert, missing, "tls_key"},
      {garbage, pki_.server_key, "tls_cert"},           {pki_.server_cert, garbage, "tls_key"},
      {pki_.server_key, pki_.server_key, "tls_cert"},    // a key where the certificate goes
      {pki_.server_cert, pki_.dir / "ca.key", "match"},  // another certificate's key
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.cert.filename().string() + " + " + c.key.filename().string());
    const std::string line = refusal(table_of(c.cert, c.key));
    EXPECT_NE(line.find(c.says), std::string::npos) << line;
    EXPECT_EQ(line.rfind("sidecar.toml:", 0), 0u) << line;
    EXPECT_EQ(line.find('\n'), std::string::npos) << line;
    EXPECT_EQ(line.find("PRIVATE KEY"), std::string::npos) << "never a key's bytes: " << line;
  }
}

TEST_F(tls_files_test, ACaFileMustHoldACertificate) {
  const toml::table none;
  const table_reader r("sidecar.toml", "[[route]]", none);
  EXPECT_NO_THROW(check_ca_file(r, pki_.ca));
  EXPECT_THROW(check_ca_file(r, pki_.server_key), config_error);
  EXPECT_THROW(check_ca_file(r, pki_.dir / "missing.pem"), config_error);
  try {
    check_ca_file(r, write("empty.pem", ""), "tls_ca");
    FAIL();
  } catch (const config_error& e) {
    EXPECT_NE(std::string(e.what()).find("tls_ca"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace sidecar::conf::detail
