// Loading from the file system: config files that are missing or unreadable, TLS files checked
// with OpenSSL (openssl-made certificates), and the embedded default with its generated local
// account.
#include "conf/load.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "conf/values.hpp"
#include "tests/common/temp_dir.hpp"

namespace sidecar::conf {
namespace {

using testing_support::read_file;
using testing_support::temp_dir;

std::string load_error(const cli_options& o) {
  try {
    (void)load(o);
    return "accepted";
  } catch (const config_error& e) {
    return e.what();
  }
}

cli_options with_config(const std::filesystem::path& p) {
  cli_options o;
  o.config_file = p.string();
  return o;
}

unsigned mode_of(const std::filesystem::path& p) {
  struct stat st {};
  EXPECT_EQ(::stat(p.c_str(), &st), 0) << p;
  return st.st_mode & 0777;
}

// --- config files that cannot be read ---

TEST(load_file, MissingFileIsOneLine) {
  const temp_dir dir;
  const auto p = dir / "missing.toml";
  EXPECT_EQ(load_error(with_config(p)), p.string() + ": cannot read it: No such file or directory");
}

TEST(load_file, DirectoryInsteadOfAFileIsOneLine) {
  const temp_dir dir;
  EXPECT_EQ(load_error(with_config(dir.path())),
            dir.path().string() + ": cannot read it: Is a directory");
}

TEST(load_file, DanglingSymlinkIsOneLine) {
  const temp_dir dir;
  const auto link = dir / "config.toml";
  std::filesystem::create_symlink(dir / "gone.toml", link);
  EXPECT_EQ(load_error(with_config(link)),
            link.string() + ": cannot read it: No such file or directory");
}

/// load_error() as a user who is not root: root reads any file, so as root (CI) the load runs
/// in a child process that has become `nobody` first and hands its line back through a pipe.
std::string load_error_unprivileged(const cli_options& o) {
  if (::geteuid() != 0) return load_error(o);
  int out[2];
  if (::pipe(out) != 0) return "pipe failed";
  const pid_t child = ::fork();
  if (child == 0) {
    ::close(out[0]);
    constexpr uid_t nobody = 65534;
    std::string line = ::setgid(nobody) == 0 && ::setuid(nobody) == 0 ? load_error(o)
                                                                       : "cannot become nobody";
    const bool sent = ::write(out[1], line.data(), line.size()) == ssize_t(line.size());
    ::_exit(sent ? 0 : 1);
  }
  ::close(out[1]);
  std::string line;
  char buf[512];
  for (ssize_t n; (n = ::read(out[0], buf, sizeof buf)) > 0;) line.append(buf, std::size_t(n));
  ::close(out[0]);
  int status = 0;
  ::waitpid(child, &status, 0);
  return line;
}

TEST(load_file, FileWithoutReadPermissionIsOneLine) {
  const temp_dir dir;
  // Only the file's own mode may stand in the way: the directory is open to everyone.
  std::filesystem::permissions(dir.path(), std::filesystem::perms::owner_all |
                                               std::filesystem::perms::others_exec |
                                               std::filesystem::perms::group_exec);
  const auto p = dir.write("secret.toml", "");
  ::chmod(p.c_str(), 0);
  EXPECT_EQ(load_error_unprivileged(with_config(p)),
            p.string() + ": cannot read it: Permission denied");
}

TEST(load_file, HugeFileIsRefusedNotRead) {
  const temp_dir dir;
  const auto p = dir.write("huge.toml", std::string((1 << 20) + 1, '#'));
  EXPECT_EQ(load_error(with_config(p)),
            p.string() + ": is larger than 1MiB, too large for this file");
}

TEST(load_file, ErrorsNameTheFileAsGiven) {
  const temp_dir dir;
  const auto p = dir.write("bad.toml", "[proxy]\nconnect_timeout = \"5 parsecs\"\n");
  EXPECT_EQ(
      load_error(with_config(p)),
      p.string() +
          R"(: [proxy] connect_timeout: "5 parsecs" is not a duration (use e.g. "90s", "15m", "48h", "2d"))");
}

TEST(load_file, GoodFileLoadsWithTheFlagsOnTop) {
  const temp_dir dir;
  const auto p =
      dir.write("good.toml", "[proxy]\nlisten = \"127.0.0.1:7000\"\n[store]\npath = \"" +
                                 (dir / "data").string() +
                                 "\"\n[[account]]\nsid = \"ACae6e420f425248d6a26948c17a9e2acf\"\n"
                                 "auth_token = \"t\"\n");
  cli_options o = with_config(p);
  o.proxy_listen = "127.0.0.1:0";
  const auto c = load(o);
  EXPECT_EQ(c->source, p.string());
  EXPECT_EQ(c->proxy.listen.port, 0);
  EXPECT_EQ(c->store.path, dir / "data");
  EXPECT_TRUE(c->local_account_file.empty());
  EXPECT_TRUE(c->routes.empty());
  ASSERT_EQ(c->accounts.size(), 1u);
  EXPECT_FALSE(std::filesystem::exists(dir / "data")) << "a config file's data dir is the lock's";
}

TEST(load_file, FileWithoutRoutesOrAccountsRunsTheDefaultTrafficWithTheLocalAccount) {
  const temp_dir dir;
  const auto p = dir.write("docker.toml", "[proxy]\nlisten = \"0.0.0.0:0\"\n[store]\npath = \"" +
                                              (dir / "data").string() + "\"\n");
  cli_options o = with_config(p);
  o.upstream = "http://app:9000/";
  const auto c = load(o);
  EXPECT_EQ(c->local_account_file, dir / "data" / "local-account.toml");
  ASSERT_EQ(c->accounts.size(), 1u);
  EXPECT_TRUE(c->accounts[0].traces);
  ASSERT_EQ(c->routes.size(), 1u);
  EXPECT_EQ(c->routes[0].prefix, "/");
  EXPECT_EQ(c->routes[0].upstream.host, "app");
  EXPECT_EQ(c->routes[0].account, c->accounts[0].sid);
  EXPECT_EQ(mode_of(c->local_account_file), 0600u);
}

TEST(load_file, FileWithAccountsButNoRoutesGetsNoLocalAccount) {
  const temp_dir dir;
  const auto p =
      dir.write("f.toml", "[store]\npath = \"" + (dir / "data").string() +
                              "\"\n[[account]]\nsid = \"ACae6e420f425248d6a26948c17a9e2acf\"\n"
                              "auth_token = \"t\"\n");
  cli_options o = with_config(p);
  o.upstream = "http://app:9000/";
  const auto c = load(o);
  EXPECT_TRUE(c->local_account_file.empty());
  ASSERT_EQ(c->routes.size(), 1u);
  EXPECT_TRUE(c->routes[0].account.empty());
}

// --- TLS files, checked with OpenSSL ---

class tls_files_test : public testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new temp_dir;
    for (const char* name : {"a", "b"}) {
      const std::string cmd =
          "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 "
          "-nodes -days 2 -subj /CN=localhost -keyout " +
          (*dir_ / (std::string(name) + "-key.pem")).string() + " -out " +
          (*dir_ / (std::string(name) + "-cert.pem")).string() + " >/dev/null 2>&1";
      ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
    }
    const std::string encrypt = "openssl pkey -in " + (*dir_ / "a-key.pem").string() +
                                " -aes256 -passout pass:secret -out " +
                                (*dir_ / "a-key-encrypted.pem").string() + " >/dev/null 2>&1";
    ASSERT_EQ(std::system(encrypt.c_str()), 0) << encrypt;
    dir_->write("garbage.pem", "not a PEM file\n");
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }
  static std::string path(std::string_view name) { return (*dir_ / name).string(); }
  static std::string tls(std::string_view table, std::string_view cert, std::string_view key) {
    return "[" + std::string(table) + "]\ntls_cert = \"" + path(cert) + "\"\ntls_key = \"" +
           path(key) + "\"\n";
  }
  static std::string error_of(const std::string& text) {
    try {
      (void)parse(text, "tls.toml");
      return "accepted";
    } catch (const config_error& e) {
      return e.what();
    }
  }
  static temp_dir* dir_;
};
temp_dir* tls_files_test::dir_ = nullptr;

TEST_F(tls_files_test, MatchingCertificateAndKeyAreAccepted) {
  const auto c = parse(
      tls("proxy", "a-cert.pem", "a-key.pem") + tls("api", "b-cert.pem", "b-key.pem"), "tls.toml");
  ASSERT_TRUE(c->proxy.tls);
  EXPECT_EQ(c->proxy.tls->cert, path("a-cert.pem"));
  EXPECT_EQ(c->proxy.tls->key, path("a-key.pem"));
  ASSERT_TRUE(c->api.tls);
  EXPECT_EQ(c->api.tls->cert, path("b-cert.pem"));
}

TEST_F(tls_files_test, TlsApiOnAnyAddressNeedsNoAllowInsecure) {
  EXPECT_EQ(error_of(tls("api", "a-cert.pem", "a-key.pem") + "listen = \"0.0.0.0:0\"\n"),
            "accepted");
}

TEST_F(tls_files_test, KeyOfAnotherCertificateIsRefused) {
  EXPECT_EQ(error_of(tls("proxy", "a-cert.pem", "b-key.pem")),
            "tls.toml: [proxy] tls_key: \"" + path("b-key.pem") +
                "\" does not match the certificate in \"" + path("a-cert.pem") + "\"");
}

TEST_F(tls_files_test, FileWithoutACertificateIsRefused) {
  EXPECT_EQ(error_of(tls("api", "garbage.pem", "a-key.pem")),
            "tls.toml: [api] tls_cert: \"" + path("garbage.pem") + "\" holds no PEM certificate");
  EXPECT_EQ(error_of(tls("api", "a-key.pem", "a-key.pem")),
            "tls.toml: [api] tls_cert: \"" + path("a-key.pem") + "\" holds no PEM certificate");
}

TEST_F(tls_files_test, FileWithoutAKeyOrWithAPassPhraseIsRefused) {
  const std::string no_key =
      " holds no PEM private key (or one with a pass phrase, which is not supported)";
  EXPECT_EQ(error_of(tls("proxy", "a-cert.pem", "garbage.pem")),
            "tls.toml: [proxy] tls_key: \"" + path("garbage.pem") + "\"" + no_key);
  EXPECT_EQ(error_of(tls("proxy", "a-cert.pem", "a-key-encrypted.pem")),
            "tls.toml: [proxy] tls_key: \"" + path("a-key-encrypted.pem") + "\"" + no_key);
}

TEST_F(tls_files_test, UnreadableFileIsRefused) {
  EXPECT_EQ(error_of(tls("proxy", "a-cert.pem", ".")),
            "tls.toml: [proxy] tls_key: \"" + path(".") + "\": cannot read it: Is a directory");
}

TEST_F(tls_files_test, UpstreamCaMustHoldACertificate) {
  const auto c = parse("[proxy]\nupstream_ca = \"" + path("a-cert.pem") + "\"\n", "tls.toml");
  EXPECT_EQ(c->proxy.upstream_ca, path("a-cert.pem"));
  EXPECT_EQ(
      error_of("[proxy]\nupstream_ca = \"" + path("garbage.pem") + "\"\n"),
      "tls.toml: [proxy] upstream_ca: \"" + path("garbage.pem") + "\" holds no PEM certificate");
}

// --- the embedded default ---

cli_options default_in(const std::filesystem::path& data) {
  cli_options o;
  o.data_dir = data.string();
  return o;
}

TEST(embedded_default, ListenersRouteAndGeneratedLocalAccount) {
  const temp_dir dir;
  const auto data = dir / "trace-data";
  const auto c = load(default_in(data));
  EXPECT_EQ(c->source, "<embedded default>");
  EXPECT_EQ(c->proxy.listen.to_string(), "127.0.0.1:8080");
  EXPECT_EQ(c->api.listen.to_string(), "127.0.0.1:8081");
  EXPECT_EQ(c->store.path, data);
  EXPECT_EQ(c->cache.dir, data / "media");

  ASSERT_EQ(c->accounts.size(), 1u);
  const account& a = c->accounts[0];
  EXPECT_TRUE(is_sid(a.sid, "AC")) << a.sid;
  ASSERT_TRUE(a.auth_token);
  EXPECT_EQ(a.auth_token->size(), 32u);  // 128 random bits in hex
  EXPECT_EQ(a.auth_token->find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_TRUE(a.traces);
  EXPECT_FALSE(a.administrator);

  ASSERT_EQ(c->routes.size(), 1u);
  const route& r = c->routes[0];
  EXPECT_EQ(r.prefix, "/");
  EXPECT_EQ(r.upstream.host, "127.0.0.1");
  EXPECT_EQ(r.upstream.port, 9000);
  EXPECT_EQ(r.upstream.base_path, "/");
  EXPECT_EQ(r.dir, direction::webhook);
  EXPECT_EQ(r.account, a.sid);

  EXPECT_EQ(c->local_account_file, data / "local-account.toml");
  EXPECT_EQ(mode_of(data), 0700u);
  EXPECT_EQ(mode_of(c->local_account_file), 0600u);
  const std::string file = read_file(c->local_account_file);
  EXPECT_NE(file.find("sid = \"" + a.sid + "\"\n"), std::string::npos) << file;
  EXPECT_NE(file.find("auth_token = \"" + *a.auth_token + "\"\n"), std::string::npos) << file;
  // Nothing but the file is left behind (no temporary file).
  std::size_t entries = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(data)) ++entries;
  EXPECT_EQ(entries, 1u);
}

TEST(embedded_default, LaterStartsReuseTheAccount) {
  const temp_dir dir;
  const auto first = load(default_in(dir / "d"));
  const auto second = load(default_in(dir / "d"));
  EXPECT_EQ(first->accounts[0].sid, second->accounts[0].sid);
  EXPECT_EQ(first->accounts[0].auth_token, second->accounts[0].auth_token);
}

TEST(embedded_default, EachDataDirectoryGetsItsOwnAccount) {
  const temp_dir dir;
  const auto a = load(default_in(dir / "a"));
  const auto b = load(default_in(dir / "b"));
  EXPECT_NE(a->accounts[0].sid, b->accounts[0].sid);
  EXPECT_NE(a->accounts[0].auth_token, b->accounts[0].auth_token);
}

TEST(embedded_default, FlagsApply) {
  const temp_dir dir;
  cli_options o = default_in(dir / "d");
  o.upstream = "https://app.example.com/hooks";
  o.proxy_listen = "127.0.0.1:0";
  o.api_listen = "[::1]:0";
  o.log_level = "error";
  const auto c = load(o);
  EXPECT_EQ(c->routes[0].upstream.host, "app.example.com");
  EXPECT_EQ(c->routes[0].upstream.base_path, "/hooks/");
  EXPECT_EQ(c->routes[0].account, c->accounts[0].sid);
  EXPECT_EQ(c->proxy.listen.to_string(), "127.0.0.1:0");
  EXPECT_EQ(c->api.listen.to_string(), "[::1]:0");
  EXPECT_EQ(c->log_level, log::level::error);
}

TEST(embedded_default, ExistingDataDirectoryIsKept) {
  const temp_dir dir;
  std::filesystem::create_directory(dir / "d");
  ::chmod((dir / "d").c_str(), 0750);
  (void)load(default_in(dir / "d"));
  EXPECT_EQ(mode_of(dir / "d"), 0750u);
}

TEST(embedded_default, DataDirectoryThatCannotBeCreatedIsAnError) {
  const temp_dir dir;
  const auto file = dir.write("file", "x");
  EXPECT_EQ(load_error(default_in(file / "d")),
            "data directory \"" + (file / "d").string() + "\": cannot create it: Not a directory");
}

TEST(embedded_default, DamagedAccountFileIsAnErrorNamingTheKey) {
  const temp_dir dir;
  std::filesystem::create_directory(dir / "d");
  const auto f = dir.write("d/local-account.toml", "sid = \"ACnope\"\nauth_token = \"x\"\n");
  EXPECT_EQ(load_error(default_in(dir / "d")),
            f.string() +
                ": sid: \"ACnope\" is not an account SID (AC followed by 32 lower-case "
                "hex digits)");
  dir.write("d/local-account.toml",
            "sid = \"ACae6e420f425248d6a26948c17a9e2acf\"\nauth_token = \"short\"\n");
  EXPECT_EQ(
      load_error(default_in(dir / "d")),
      f.string() + ": auth_token: must be at least 32 characters without spaces (128 random bits)");
  dir.write("d/local-account.toml",
            "sid = \"ACae6e420f425248d6a26948c17a9e2acf\"\nauth_token = \"" + std::string(32, 'x') +
                "\"\nrole = \"administrator\"\n");
  EXPECT_EQ(load_error(default_in(dir / "d")), f.string() + ": role: unknown key");
}

TEST(embedded_default, HandWrittenAccountFileIsUsed) {
  const temp_dir dir;
  std::filesystem::create_directory(dir / "d");
  dir.write("d/local-account.toml",
            "sid = \"ACae6e420f425248d6a26948c17a9e2acf\"\nauth_token = \"" + std::string(40, 'k') +
                "\"\n");
  const auto c = load(default_in(dir / "d"));
  EXPECT_EQ(c->accounts[0].sid, "ACae6e420f425248d6a26948c17a9e2acf");
  EXPECT_EQ(c->accounts[0].auth_token, std::string(40, 'k'));
}

}  // namespace
}  // namespace sidecar::conf
