// Parsing a config file's text: every key accepted with a good value and refused with a bad
// one, with the exact one-line error a user sees; unknown keys at every depth; syntax errors;
// flags over the file (the flags themselves: command_line_test.cpp).
#include <gtest/gtest.h>

#include "conf/load.hpp"

namespace sidecar::conf {
namespace {

using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;

constexpr std::string_view acme = "ACae6e420f425248d6a26948c17a9e2acf";
constexpr std::string_view sub = "AC00000000000000000000000000000001";
constexpr std::string_view org = "ORfe81fe8a3d5f4d5391e901db0bf5755d";

/// The error line of parsing `text` as "bad.toml", or "accepted".
std::string error_of(std::string_view text, const cli_options& flags = {}) {
  try {
    (void)parse(text, "bad.toml", flags);
    return "accepted";
  } catch (const config_error& e) {
    return e.what();
  }
}

const std::string accounts = std::string(R"(
[[account]]
sid = ")") + std::string(acme) +
                             R"("
auth_token = "secret-token"
)";

struct bad_case {
  std::string toml;
  std::string error;
};

class refused : public testing::TestWithParam<bad_case> {};

TEST_P(refused, WithTheExactLine) {
  const std::string line = error_of(GetParam().toml);
  EXPECT_EQ(line, GetParam().error) << GetParam().toml;
  EXPECT_EQ(line.find('\n'), std::string::npos);
}

const std::string A(acme);
const std::string B(sub);
const std::string listen_hint = R"((use e.g. "127.0.0.1:8080" or "[::1]:8080"))";
const std::string duration_hint = R"((use e.g. "90s", "15m", "48h", "2d"))";

INSTANTIATE_TEST_SUITE_P(
    top_level, refused,
    testing::Values(
        bad_case{"foo = 1", "bad.toml: foo: unknown key"},
        bad_case{"[prxy]\nlisten = \"127.0.0.1:1\"",
                 "bad.toml: prxy: unknown key (did you mean proxy?)"},
        bad_case{"[store]\n[extra]\nx = 1", "bad.toml: extra: unknown key"},
        bad_case{"proxy = 1", "bad.toml: [proxy]: must be a table, not an integer"},
        bad_case{"[route]\nprefix = \"/\"",
                 "bad.toml: [[route]]: must be an array of tables (write each one as [[route]]), "
                 "not a single table"},
        bad_case{"account = [1, 2]",
                 "bad.toml: [[account]]: must be an array of tables (write each one as "
                 "[[account]]), not an array"}));

INSTANTIATE_TEST_SUITE_P(
    proxy, refused,
    testing::Values(
        bad_case{"[proxy]\nlisten = 8080",
                 "bad.toml: [proxy] listen: must be a string, not an integer"},
        bad_case{"[proxy]\nlisten = \"localhost:80\"",
                 "bad.toml: [proxy] listen: \"localhost:80\" is not a listen address: use an IP "
                 "address, not a name " +
                     listen_hint},
        bad_case{"[proxy]\nlisten = \"127.0.0.1\"",
                 "bad.toml: [proxy] listen: \"127.0.0.1\" is not a listen address " + listen_hint},
        bad_case{"[proxy]\nconect_timeout = \"5s\"",
                 "bad.toml: [proxy] conect_timeout: unknown key (did you mean connect_timeout?)"},
        bad_case{"[proxy]\n[proxy.deeper]\nx = 1", "bad.toml: [proxy] deeper: unknown key"},
        bad_case{
            "[proxy]\nconnect_timeout = \"5 parsecs\"",
            "bad.toml: [proxy] connect_timeout: \"5 parsecs\" is not a duration " + duration_hint},
        bad_case{"[proxy]\nconnect_timeout = 5",
                 "bad.toml: [proxy] connect_timeout: 5 is not a duration: give it a unit, as a "
                 "string (e.g. \"90s\", \"15m\", \"48h\", \"2d\")"},
        bad_case{"[proxy]\nconnect_timeout = true",
                 "bad.toml: [proxy] connect_timeout: must be a duration string like \"90s\", not a "
                 "boolean"},
        bad_case{"[proxy]\nconnect_timeout = \"0s\"",
                 "bad.toml: [proxy] connect_timeout: \"0s\" is out of range (1ms to 1h)"},
        bad_case{"[proxy]\nupstream_timeout = \"2d\"",
                 "bad.toml: [proxy] upstream_timeout: \"2d\" is out of range (1ms to 1d)"},
        bad_case{"[proxy]\nidle_timeout = \"25h\"",
                 "bad.toml: [proxy] idle_timeout: \"25h\" is out of range (1ms to 1d)"},
        bad_case{"[proxy]\nheader_timeout = \"61m\"",
                 "bad.toml: [proxy] header_timeout: \"61m\" is out of range (1ms to 1h)"},
        bad_case{"[proxy]\ndrain_timeout = \"2h\"",
                 "bad.toml: [proxy] drain_timeout: \"2h\" is out of range (0s to 1h)"},
        bad_case{"[proxy]\nmax_connections = 0",
                 "bad.toml: [proxy] max_connections: 0 is out of range (1 to 1000000)"},
        bad_case{"[proxy]\nmax_connections = \"10\"",
                 "bad.toml: [proxy] max_connections: must be an integer, not a string"},
        bad_case{"[proxy]\nmax_header_bytes = \"32MiB\"",
                 "bad.toml: [proxy] max_header_bytes: \"32MiB\" is out of range (256 to 16MiB)"},
        bad_case{"[proxy]\nmax_header_bytes = \"64KB\"",
                 "bad.toml: [proxy] max_header_bytes: \"64KB\" is not a size (units are B, KiB, "
                 "MiB, GiB, TiB: e.g. \"64KiB\", \"1GiB\")"},
        bad_case{"[proxy]\nmax_header_bytes = -1",
                 "bad.toml: [proxy] max_header_bytes: -1 is not a size (use e.g. 512, \"64KiB\", "
                 "\"1GiB\")"},
        bad_case{"[proxy]\nmax_header_bytes = 1.5",
                 "bad.toml: [proxy] max_header_bytes: must be a size (an integer or a string like "
                 "\"64KiB\"), not a float"},
        bad_case{"[proxy]\nthreads = -1",
                 "bad.toml: [proxy] threads: -1 is out of range (0 to 1024)"},
        bad_case{"[proxy]\nallowed_clients = \"10.0.0.0/8\"",
                 "bad.toml: [proxy] allowed_clients: must be an array of strings, not a string"},
        bad_case{"[proxy]\nallowed_clients = [1]",
                 "bad.toml: [proxy] allowed_clients: must hold only strings, not an integer"},
        bad_case{"[proxy]\nallowed_clients = [\"10.0.0.0/8\", \"10.0.0.1/8\"]",
                 "bad.toml: [proxy] allowed_clients: \"10.0.0.1/8\" has host bits set after the "
                 "prefix length (the network is 10.0.0.0/8)"},
        bad_case{
            "[proxy]\nforward_hosts = [\"http://a.com\"]",
            "bad.toml: [proxy] forward_hosts: \"http://a.com\" is not a host (use e.g. "
            "\"app.example.com\", \"*.example.org\", \"app.example.com:8443\", \"203.0.113.7\")"},
        bad_case{"[proxy]\nforward_account = \"ACbad\"",
                 "bad.toml: [proxy] forward_account: \"ACbad\" is not an account SID (AC followed "
                 "by 32 lower-case hex digits)"},
        bad_case{"[proxy]\nforward_account = \"" + B + "\"" + accounts,
                 "bad.toml: [proxy] forward_account: \"" + B + "\" is not a configured account"},
        bad_case{"[proxy]\nupstream_ca = \"/nonexistent/ca.pem\"",
                 "bad.toml: [proxy] upstream_ca: \"/nonexistent/ca.pem\": cannot read it: No such "
                 "file or directory"},
        bad_case{"[proxy]\nupstream_ca = \"\"", "bad.toml: [proxy] upstream_ca: must not be empty"},
        bad_case{"[proxy]\ntls_cert = \"cert.pem\"",
                 "bad.toml: [proxy] tls_key: missing: tls_cert and tls_key go together"},
        bad_case{"[proxy]\ntls_key = \"key.pem\"",
                 "bad.toml: [proxy] tls_cert: missing: tls_cert and tls_key go together"},
        bad_case{"[proxy]\ntls_cert = \"/nonexistent/c.pem\"\ntls_key = \"/nonexistent/k.pem\"",
                 "bad.toml: [proxy] tls_cert: \"/nonexistent/c.pem\": cannot read it: No such file "
                 "or directory"}));

INSTANTIATE_TEST_SUITE_P(
    api, refused,
    testing::Values(
        bad_case{"[api]\nlisten = \"0.0.0.0:8081\"",
                 "bad.toml: [api] listen: \"0.0.0.0:8081\" is plain HTTP on a non-loopback "
                 "address, where Basic credentials would cross the network in clear: set [api] "
                 "tls_cert and tls_key, or allow_insecure = true"},
        bad_case{"[api]\nlisten = \"127.0.0.1:8080\"",
                 "bad.toml: [api] listen: \"127.0.0.1:8080\" is also the proxy's listen address"},
        bad_case{"[api]\nlisten = \"[::1]:99999\"",
                 "bad.toml: [api] listen: \"[::1]:99999\" has a bad port (0 to 65535; 0 picks a "
                 "free port)"},
        bad_case{"[api]\nallow_insecure = \"yes\"",
                 "bad.toml: [api] allow_insecure: must be true or false, not a string"},
        bad_case{"[api]\nalow_insecure = true",
                 "bad.toml: [api] alow_insecure: unknown key (did you mean allow_insecure?)"},
        bad_case{"[api]\nquery_timeout = \"0ms\"",
                 "bad.toml: [api] query_timeout: \"0ms\" is out of range (1ms to 1h)"},
        bad_case{"[api]\nthreads = 0", "bad.toml: [api] threads: 0 is out of range (1 to 256)"},
        bad_case{"[api]\ntls_key = \"k.pem\"",
                 "bad.toml: [api] tls_cert: missing: tls_cert and tls_key go together"}));

INSTANTIATE_TEST_SUITE_P(
    store, refused,
    testing::Values(
        bad_case{"[store]\npath = \"\"", "bad.toml: [store] path: must not be empty"},
        bad_case{"[store]\npath = 1", "bad.toml: [store] path: must be a string, not an integer"},
        bad_case{"[store]\nretention = \"0s\"",
                 "bad.toml: [store] retention: \"0s\" is out of range (1s to 3650d)"},
        bad_case{"[store]\nretention = \"2 days\"",
                 "bad.toml: [store] retention: \"2 days\" is not a duration " + duration_hint},
        bad_case{"[store]\nretention = \"99999999999999999999d\"",
                 "bad.toml: [store] retention: \"99999999999999999999d\" is too long (at most 100 "
                 "years)"},
        bad_case{"[store]\nbody_limit = \"65MiB\"",
                 "bad.toml: [store] body_limit: \"65MiB\" is out of range (0 to 64MiB)"},
        bad_case{"[store]\nmax_bytes = \"1KiB\"",
                 "bad.toml: [store] max_bytes: \"1KiB\" is out of range (at least 1MiB)"},
        bad_case{"[store]\nmax_bytes = \"9999999999TiB\"",
                 "bad.toml: [store] max_bytes: \"9999999999TiB\" is too large"},
        bad_case{"[store]\nqueue_bytes = \"512\"",
                 "bad.toml: [store] queue_bytes: \"512\" is out of range (1KiB to 64GiB)"},
        bad_case{"[store]\nmemory = \"8MiB\"",
                 "bad.toml: [store] memory: \"8MiB\" is out of range (16MiB to 64GiB)"},
        bad_case{"[store]\nredact_headers = [\"x api key\"]",
                 "bad.toml: [store] redact_headers: \"x api key\" is not a header name"},
        bad_case{"[store]\nredact_fields = [\"\"]",
                 "bad.toml: [store] redact_fields: \"\" is not a field name"},
        bad_case{"[store]\nttl = \"1d\"", "bad.toml: [store] ttl: unknown key"}));

INSTANTIATE_TEST_SUITE_P(
    cache_and_log, refused,
    testing::Values(
        bad_case{"[cache]\nenabled = 1",
                 "bad.toml: [cache] enabled: must be true or false, not an integer"},
        bad_case{"[cache]\ndir = \"\"", "bad.toml: [cache] dir: must not be empty"},
        bad_case{"[cache]\nmax_bytes = 10",
                 "bad.toml: [cache] max_bytes: 10 is out of range (at least 1KiB)"},
        bad_case{"[cache]\nmax_object_bytes = \"2GiB\"",
                 "bad.toml: [cache] max_object_bytes: 2GiB is more than max_bytes (1GiB)"},
        bad_case{"[cache]\nmax_object_bytes = 0",
                 "bad.toml: [cache] max_object_bytes: 0 is out of range (at least 1)"},
        bad_case{"[cache]\nttl = \"0s\"",
                 "bad.toml: [cache] ttl: \"0s\" is out of range (1s to 3650d)"},
        bad_case{
            "[cache]\nextensions = [\"wav\"]",
            "bad.toml: [cache] extensions: \"wav\" is not a file extension (a dot and up to 15 "
            "letters or digits, e.g. \".wav\")"},
        bad_case{"[cache]\nextension = [\".wav\"]",
                 "bad.toml: [cache] extension: unknown key (did you mean extensions?)"},
        bad_case{"[log]\nlevel = \"loud\"",
                 "bad.toml: [log] level: \"loud\" is not a level (\"debug\", \"info\", \"warn\" or "
                 "\"error\")"},
        bad_case{"[log]\nlevel = \"INFO\"",
                 "bad.toml: [log] level: \"INFO\" is not a level (\"debug\", \"info\", \"warn\" or "
                 "\"error\")"},
        bad_case{"[log]\nlvl = \"info\"", "bad.toml: [log] lvl: unknown key"}));

std::string account_with(std::string_view lines) { return "[[account]]\n" + std::string(lines); }

INSTANTIATE_TEST_SUITE_P(
    accounts, refused,
    testing::Values(
        bad_case{account_with("auth_token = \"t\""),
                 "bad.toml: [[account]] #1 sid: missing: every account needs its SID"},
        bad_case{account_with("sid = \"ACAE6E420F425248D6A26948C17A9E2ACF\"\nauth_token = \"t\""),
                 "bad.toml: [[account]] #1 sid: \"ACAE6E420F425248D6A26948C17A9E2ACF\" is not an "
                 "account SID (AC followed by 32 lower-case hex digits)"},
        bad_case{
            account_with("sid = \"" + A + "\""),
            "bad.toml: [[account]] #1 auth_token: missing: set auth_token or auth_token_sha256"},
        bad_case{account_with("sid = \"" + A + "\"\nauth_token = \"t\"\nauth_token_sha256 = \"" +
                              std::string(64, 'a') + "\""),
                 "bad.toml: [[account]] #1 auth_token_sha256: set either auth_token or "
                 "auth_token_sha256, not both"},
        bad_case{account_with("sid = \"" + A + "\"\nauth_token_sha256 = \"abc\""),
                 "bad.toml: [[account]] #1 auth_token_sha256: \"abc\" is not a SHA-256 digest (64 "
                 "hex digits)"},
        bad_case{account_with("sid = \"" + A + "\"\nauth_token_sha256 = \"" + std::string(63, 'a') +
                              "g\""),
                 "bad.toml: [[account]] #1 auth_token_sha256: \"" + std::string(63, 'a') +
                     "g\" is not a SHA-256 digest (64 hex digits)"},
        bad_case{account_with("sid = \"" + A + "\"\nauth_token = \"\""),
                 "bad.toml: [[account]] #1 auth_token: must not be empty"},
        bad_case{account_with("sid = \"" + A + "\"\nauth_token = \"t\"\norg_sid = \"OR123\""),
                 "bad.toml: [[account]] #1 org_sid: \"OR123\" is not an organization SID (OR "
                 "followed by 32 lower-case hex digits)"},
        bad_case{account_with("sid = \"" + A + "\"\nauth_token = \"t\"\ntraces = \"yes\""),
                 "bad.toml: [[account]] #1 traces: must be true or false, not a string"},
        bad_case{account_with("sid = \"" + A + "\"\nauth_token = \"t\"\nfriendly_name = 5"),
                 "bad.toml: [[account]] #1 friendly_name: must be a string, not an integer"},
        bad_case{
            account_with("sid = \"" + A + "\"\nauth_token = \"t\"\nfrendly_name = \"x\""),
            "bad.toml: [[account]] #1 frendly_name: unknown key (did you mean friendly_name?)"},
        bad_case{account_with("sid = \"" + A + "\"\nauth_token = \"t\"\nrole = \"admin\""),
                 "bad.toml: [[account]] #1 role: \"admin\" is not a role (the only one is "
                 "\"administrator\")"},
        bad_case{account_with("sid = \"" + A + "\"\nauth_token = \"t\"\nparent = \"" + B + "\""),
                 "bad.toml: [[account]] #1 parent: \"" + B + "\" is not a configured account"},
        bad_case{account_with("sid = \"" + A + "\"\nauth_token = \"t\"\nparent = \"" + A + "\""),
                 "bad.toml: [[account]] #1 parent: makes a cycle: " + A + " -> " + A},
        bad_case{
            account_with("sid = \"" + A + "\"\nauth_token = \"t\"\nparent = \"" + B + "\"\n") +
                account_with("sid = \"" + B + "\"\nauth_token = \"u\"\nparent = \"" + A + "\""),
            "bad.toml: [[account]] #1 parent: makes a cycle: " + A + " -> " + B + " -> " + A},
        bad_case{
            account_with("sid = \"" + A + "\"\nauth_token = \"t\"\n") +
                account_with("sid = \"" + A + "\"\nauth_token = \"u\""),
            "bad.toml: [[account]] #2 sid: \"" + A + "\" is already the SID of [[account]] #1"}));

std::string route_with(std::string_view lines) { return "[[route]]\n" + std::string(lines); }
const std::string up = "upstream = \"http://127.0.0.1:9000/\"\n";

INSTANTIATE_TEST_SUITE_P(
    routes, refused,
    testing::Values(
        bad_case{route_with(up),
                 "bad.toml: [[route]] #1 prefix: missing: every route needs a path prefix"},
        bad_case{route_with("prefix = \"apps\"\n" + up),
                 "bad.toml: [[route]] #1 prefix: \"apps\" must start with \"/\""},
        bad_case{route_with("prefix = \"/a b\"\n" + up),
                 "bad.toml: [[route]] #1 prefix: \"/a b\" is not a path (no spaces, '?' or '#')"},
        bad_case{route_with("prefix = \"/\""),
                 "bad.toml: [[route]] #1 upstream: missing: every route needs one, e.g. "
                 "\"http://127.0.0.1:9000/\""},
        bad_case{route_with("prefix = \"/\"\nupstream = \"ftp://h/\""),
                 "bad.toml: [[route]] #1 upstream: \"ftp://h/\" is not an http or https URL"},
        bad_case{route_with("prefix = \"/\"\nupstream = \"http://user:pw@h/\""),
                 "bad.toml: [[route]] #1 upstream: \"http://user:pw@h/\" carries credentials: they "
                 "would be sent to every request's upstream and cannot be redacted; remove the "
                 "user:password@ part"},
        bad_case{route_with("prefix = \"/\"\n" + up + "direction = \"API\""),
                 "bad.toml: [[route]] #1 direction: \"API\" is not a direction (\"webhook\" or "
                 "\"api\")"},
        bad_case{route_with("prefix = \"/\"\n" + up + "account = \"" + B + "\"") + "\n" + accounts,
                 "bad.toml: [[route]] #1 account: \"" + B + "\" is not a configured account"},
        bad_case{route_with("prefix = \"/\"\n" + up + "host = \"app.acme.com:80\""),
                 "bad.toml: [[route]] #1 host: \"app.acme.com:80\" is not a host name or address "
                 "(a route's host has no port)"},
        bad_case{route_with("prefix = \"/\"\n" + up + "preserve_host = \"no\""),
                 "bad.toml: [[route]] #1 preserve_host: must be true or false, not a string"},
        bad_case{route_with("prefix = \"/\"\n" + up + "capture_body = false"),
                 "bad.toml: [[route]] #1 capture_body: unknown key (did you mean capture_bodies?)"},
        bad_case{
            route_with("prefix = \"/x/\"\n" + up) + route_with("prefix = \"/y/\"\nupsteam = \"x\""),
            "bad.toml: [[route]] #2 upsteam: unknown key (did you mean upstream?)"},
        bad_case{route_with("prefix = \"/x/\"\n" + up) + route_with("prefix = \"/x/\"\n" + up),
                 "bad.toml: [[route]] #2 prefix: \"/x/\" is already the route of [[route]] #1"},
        bad_case{route_with("prefix = \"/x/\"\nhost = \"a.com\"\n" + up) +
                     route_with("prefix = \"/x/\"\nhost = \"A.com\"\n" + up),
                 "bad.toml: [[route]] #2 prefix: \"/x/\" with host \"a.com\" is already the route "
                 "of [[route]] #1"}));

TEST(parse, SyntaxErrorNamesFileLineAndColumnOnOneLine) {
  const std::string line = error_of("[proxy]\nlisten = \"127.0.0.1:1\"\nthreads = = 2\n");
  EXPECT_EQ(line.rfind("bad.toml:3:", 0), 0u) << line;
  EXPECT_EQ(line.find('\n'), std::string::npos);
}

TEST(parse, OfSeveralUnknownKeysTheFirstInTheFileIsNamed) {
  EXPECT_EQ(error_of("[proxy]\nzzz = 1\naaa = 2\n"), "bad.toml: [proxy] zzz: unknown key");
  EXPECT_EQ(error_of("zzz = 1\n[aaa]\n"), "bad.toml: zzz: unknown key");
}

TEST(parse, DuplicateKeyIsASyntaxError) {
  const std::string line = error_of("[proxy]\nthreads = 1\nthreads = 2\n");
  EXPECT_EQ(line.rfind("bad.toml:3:", 0), 0u) << line;
}

TEST(parse, ControlBytesInValuesStayEscapedOnOneLine) {
  const std::string line = error_of("[log]\nlevel = \"a\\nb\"\n");
  EXPECT_EQ(line,
            R"(bad.toml: [log] level: "a\nb" is not a level ("debug", "info", "warn" or "error"))");
}

TEST(parse, EmptyFileIsTheDefaultsWithNoRoutes) {
  const auto c = parse("", "empty.toml");
  EXPECT_EQ(c->source, "empty.toml");
  EXPECT_EQ(c->proxy.listen.to_string(), "127.0.0.1:8080");
  EXPECT_EQ(c->api.listen.to_string(), "127.0.0.1:8081");
  EXPECT_EQ(c->store.path, "./trace-data");
  EXPECT_EQ(c->store.retention, hours(48));
  EXPECT_EQ(c->store.body_limit, 100u * 1024);
  EXPECT_FALSE(c->store.max_bytes);
  EXPECT_EQ(c->proxy.connect_timeout, seconds(5));
  EXPECT_EQ(c->proxy.upstream_timeout, seconds(30));
  EXPECT_EQ(c->proxy.idle_timeout, seconds(60));
  EXPECT_EQ(c->proxy.header_timeout, seconds(10));
  EXPECT_EQ(c->proxy.max_connections, 10000u);
  EXPECT_EQ(c->proxy.max_header_bytes, 64u * 1024);
  EXPECT_EQ(c->cache.dir, std::filesystem::path("./trace-data") / "media");
  EXPECT_TRUE(c->cache.enabled);
  EXPECT_TRUE(c->routes.empty());
  EXPECT_TRUE(c->accounts.empty());
  EXPECT_TRUE(c->local_account_file.empty());
  EXPECT_EQ(c->log_level, log::level::info);
}

TEST(parse, EveryKeyWithAGoodValue) {
  const std::string text = R"(
[log]
level = "debug"

[proxy]
listen = "[::1]:0"
allowed_clients = ["10.0.0.0/8", "127.0.0.1/32", "::1"]
forward_hosts = ["App.Example.com", "*.example.org", "app.example.com:8443", "203.0.113.7"]
forward_account = "ACae6e420f425248d6a26948c17a9e2acf"
connect_timeout = "500ms"
upstream_timeout = "90s"
idle_timeout = "15m"
header_timeout = "20s"
max_connections = 500
max_header_bytes = "32KiB"
threads = 4
drain_timeout = "0s"

[api]
listen = "0.0.0.0:0"
allow_insecure = true
query_timeout = "2s"
threads = 3

[store]
path = "/var/lib/trace"
retention = "2d"
body_limit = 512
max_bytes = "50GiB"
queue_bytes = "64MiB"
memory = "32MiB"
redact_headers = ["X-Api-Key"]
redact_fields = ["PIN"]

[cache]
enabled = false
dir = "/var/cache/trace"
max_bytes = "2GiB"
max_object_bytes = "64MiB"
ttl = "48h"
extensions = [".WAV", ".mp3"]

[[account]]
sid = "ACae6e420f425248d6a26948c17a9e2acf"
auth_token = "secret-token"
friendly_name = "Acme"
org_sid = "ORfe81fe8a3d5f4d5391e901db0bf5755d"
org_name = "acme.example.com"
traces = true
role = "administrator"

[[account]]
sid = "AC00000000000000000000000000000001"
auth_token_sha256 = "9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A08"
parent = "ACae6e420f425248d6a26948c17a9e2acf"

[[route]]
prefix = "/apps/acme/"
host = "App.Acme.com"
upstream = "https://app.acme.com:8443/base"
direction = "api"
account = "AC00000000000000000000000000000001"
preserve_host = true
capture_bodies = false

[[route]]
prefix = "/"
upstream = "http://127.0.0.1:9000/"
)";
  const auto c = parse(text, "good.toml");
  EXPECT_EQ(c->log_level, log::level::debug);
  EXPECT_EQ(c->proxy.listen.to_string(), "[::1]:0");
  ASSERT_EQ(c->proxy.allowed_clients.size(), 3u);
  EXPECT_EQ(c->proxy.allowed_clients[2].prefix_length, 128u);
  ASSERT_EQ(c->proxy.forward_hosts.size(), 4u);
  EXPECT_EQ(c->proxy.forward_hosts[0].host, "app.example.com");
  EXPECT_TRUE(c->proxy.forward_hosts[1].wildcard);
  EXPECT_EQ(c->proxy.forward_hosts[2].port, 8443);
  EXPECT_TRUE(c->proxy.forward_hosts[3].is_address);
  EXPECT_EQ(c->proxy.forward_account, acme);
  EXPECT_EQ(c->proxy.connect_timeout, milliseconds(500));
  EXPECT_EQ(c->proxy.upstream_timeout, seconds(90));
  EXPECT_EQ(c->proxy.idle_timeout, minutes(15));
  EXPECT_EQ(c->proxy.header_timeout, seconds(20));
  EXPECT_EQ(c->proxy.max_connections, 500u);
  EXPECT_EQ(c->proxy.max_header_bytes, 32u * 1024);
  EXPECT_EQ(c->proxy.threads, 4u);
  EXPECT_EQ(c->proxy.drain_timeout, milliseconds(0));
  EXPECT_FALSE(c->proxy.tls);
  EXPECT_FALSE(c->proxy.upstream_ca);

  EXPECT_EQ(c->api.listen.to_string(), "0.0.0.0:0");
  EXPECT_TRUE(c->api.allow_insecure);
  EXPECT_EQ(c->api.query_timeout, seconds(2));
  EXPECT_EQ(c->api.threads, 3u);

  EXPECT_EQ(c->store.path, "/var/lib/trace");
  EXPECT_EQ(c->store.retention, hours(48));
  EXPECT_EQ(c->store.body_limit, 512u);
  EXPECT_EQ(c->store.max_bytes, 50ull << 30);
  EXPECT_EQ(c->store.queue_bytes, 64u << 20);
  EXPECT_EQ(c->store.memory, 32u << 20);
  EXPECT_EQ(c->store.redact_headers, std::vector<std::string>{"x-api-key"});
  EXPECT_EQ(c->store.redact_fields, std::vector<std::string>{"pin"});

  EXPECT_FALSE(c->cache.enabled);
  EXPECT_EQ(c->cache.dir, "/var/cache/trace");
  EXPECT_EQ(c->cache.max_bytes, 2ull << 30);
  EXPECT_EQ(c->cache.max_object_bytes, 64ull << 20);
  EXPECT_EQ(c->cache.ttl, hours(48));
  EXPECT_EQ(c->cache.extensions, (std::vector<std::string>{".wav", ".mp3"}));

  ASSERT_EQ(c->accounts.size(), 2u);
  const account& a = c->accounts[0];
  EXPECT_EQ(a.sid, acme);
  EXPECT_EQ(a.auth_token, "secret-token");
  EXPECT_FALSE(a.auth_token_sha256);
  EXPECT_EQ(a.friendly_name, "Acme");
  EXPECT_EQ(a.org_sid, org);
  EXPECT_EQ(a.org_name, "acme.example.com");
  EXPECT_TRUE(a.traces);
  EXPECT_TRUE(a.administrator);
  EXPECT_TRUE(a.parent.empty());
  const account& s = c->accounts[1];
  EXPECT_FALSE(s.auth_token);
  ASSERT_TRUE(s.auth_token_sha256);
  EXPECT_EQ((*s.auth_token_sha256)[0], 0x9f);
  EXPECT_EQ((*s.auth_token_sha256)[31], 0x08);
  EXPECT_FALSE(s.traces);  // not inherited
  EXPECT_FALSE(s.administrator);
  EXPECT_EQ(s.parent, acme);

  ASSERT_EQ(c->routes.size(), 2u);
  const route& r = c->routes[0];
  EXPECT_EQ(r.prefix, "/apps/acme/");
  EXPECT_EQ(r.host, "app.acme.com");
  EXPECT_TRUE(r.upstream.https);
  EXPECT_EQ(r.upstream.host, "app.acme.com");
  EXPECT_EQ(r.upstream.port, 8443);
  EXPECT_EQ(r.upstream.base_path, "/base/");
  EXPECT_EQ(r.dir, direction::api);
  EXPECT_EQ(r.account, sub);
  EXPECT_TRUE(r.preserve_host);
  EXPECT_FALSE(r.capture_bodies);
  const route& d = c->routes[1];
  EXPECT_FALSE(d.host);
  EXPECT_EQ(d.dir, direction::webhook);
  EXPECT_TRUE(d.account.empty());
  EXPECT_FALSE(d.preserve_host);
  EXPECT_TRUE(d.capture_bodies);
}

TEST(parse, SizesAsPlainIntegersAndApiTlsOffLoopbackNeedsNoFlag) {
  const auto c = parse("[store]\nbody_limit = 0\n[api]\nlisten = \"[::1]:9\"\n", "x.toml");
  EXPECT_EQ(c->store.body_limit, 0u);
  EXPECT_EQ(c->api.listen.port, 9);
}

TEST(parse, EmptyArraysOfTablesAndInlineTablesAreFine) {
  EXPECT_TRUE(parse("route = []\naccount = []\n", "x.toml")->routes.empty());
  const auto c = parse(R"(route = [{prefix = "/", upstream = "http://h/"}])", "x.toml");
  ASSERT_EQ(c->routes.size(), 1u);
  EXPECT_EQ(c->routes[0].upstream.host, "h");
}

TEST(parse, SameRoutePrefixOnDifferentHostsIsFine) {
  const auto c = parse(route_with("prefix = \"/x/\"\nhost = \"a.com\"\n" + up) +
                           route_with("prefix = \"/x/\"\n" + up),
                       "x.toml");
  EXPECT_EQ(c->routes.size(), 2u);
}

// --- flags over the file ---

TEST(flags, OverrideTheFile) {
  cli_options o;
  o.proxy_listen = "127.0.0.1:0";
  o.api_listen = "[::1]:0";
  o.data_dir = "/tmp/elsewhere";
  o.log_level = "warn";
  const auto c = parse(R"(
[log]
level = "debug"
[proxy]
listen = "127.0.0.1:7000"
[api]
listen = "127.0.0.1:7001"
[store]
path = "/tmp/from-file"
)",
                       "f.toml", o);
  EXPECT_EQ(c->proxy.listen.to_string(), "127.0.0.1:0");
  EXPECT_EQ(c->api.listen.to_string(), "[::1]:0");
  EXPECT_EQ(c->store.path, "/tmp/elsewhere");
  EXPECT_EQ(c->cache.dir, std::filesystem::path("/tmp/elsewhere/media"));
  EXPECT_EQ(c->log_level, log::level::warn);
}

TEST(flags, UpstreamWithAFileThatHasRoutesIsAnError) {
  cli_options o;
  o.upstream = "http://127.0.0.1:9100/";
  EXPECT_EQ(error_of(route_with("prefix = \"/\"\n" + up), o),
            "bad.toml: --upstream: the file has [[route]] tables; --upstream only sets the "
            "upstream of the default route, so set each route's upstream in the file instead");
}

TEST(flags, UpstreamWithAFileWithoutRoutesMakesTheDefaultRoute) {
  cli_options o;
  o.upstream = "https://app.example.com/hooks/";
  const auto c = parse("", "f.toml", o);
  ASSERT_EQ(c->routes.size(), 1u);
  EXPECT_EQ(c->routes[0].prefix, "/");
  EXPECT_EQ(c->routes[0].upstream.host, "app.example.com");
  EXPECT_EQ(c->routes[0].upstream.base_path, "/hooks/");
  EXPECT_EQ(c->routes[0].dir, direction::webhook);
}

TEST(flags, BadValuesNameTheFlag) {
  cli_options o;
  o.proxy_listen = "nowhere";
  EXPECT_EQ(error_of("", o),
            "command line: --proxy-listen: \"nowhere\" is not a listen address " + listen_hint);
  o = {};
  o.log_level = "loud";
  EXPECT_EQ(error_of("", o),
            "command line: --log-level: \"loud\" is not a level (\"debug\", \"info\", \"warn\" or "
            "\"error\")");
  o = {};
  o.upstream = "ftp://x/";
  EXPECT_EQ(error_of("", o), "command line: --upstream: \"ftp://x/\" is not an http or https URL");
  o = {};
  o.api_listen = "0.0.0.0:1";
  EXPECT_EQ(error_of("", o),
            "command line: --api-listen: \"0.0.0.0:1\" is plain HTTP on a non-loopback address, "
            "where Basic credentials would cross the network in clear: set [api] tls_cert and "
            "tls_key, or allow_insecure = true");
  o = {};
  o.data_dir = "";
  EXPECT_EQ(error_of("", o), "command line: --data-dir: \"\" is not a directory name");
}

TEST(flags, ApiListenFlagOnAnyAddressIsFineWhenTheFileAllowsInsecure) {
  cli_options o;
  o.api_listen = "0.0.0.0:0";
  EXPECT_EQ(error_of("[api]\nallow_insecure = true\n", o), "accepted");
}

}  // namespace
}  // namespace sidecar::conf
