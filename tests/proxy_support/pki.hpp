// Certificates made at test time with the `openssl` command: a CA, a server certificate for
// 127.0.0.1 and localhost signed by it, and a second, unrelated CA.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <string>

#include <gtest/gtest.h>

namespace sidecar::testing {

struct test_pki {
  std::filesystem::path dir;
  std::filesystem::path ca, server_cert, server_key, other_ca;

  test_pki() {
    dir = std::filesystem::temp_directory_path() /
          ("sidecar-pki-" + std::to_string(::getpid()) + "-" + std::to_string(counter()++));
    std::filesystem::create_directories(dir);
    ca = dir / "ca.pem";
    server_cert = dir / "server.pem";
    server_key = dir / "server.key";
    other_ca = dir / "other-ca.pem";
    const std::string d = dir.string();
    const std::string ec = " -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
    const std::string script =
        "cd '" + d + "' && "
        "openssl req -x509" + ec + " -keyout ca.key -out ca.pem -days 2 -subj /CN=sidecar-test-ca && "
        "openssl req -x509" + ec + " -keyout other.key -out other-ca.pem -days 2 -subj /CN=other-ca && "
        "openssl req" + ec + " -keyout server.key -out server.csr -subj /CN=localhost && "
        "printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\\nbasicConstraints=CA:FALSE\\n' > ext.cnf && "
        "openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem "
        "-days 2 -extfile ext.cnf";
    const int rc = std::system(("(" + script + ") >/dev/null 2>&1").c_str());
    EXPECT_EQ(rc, 0) << "openssl failed in " << d;
  }
  ~test_pki() {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
  static int& counter() {
    static int n = 0;
    return n;
  }
};

}  // namespace sidecar::testing
