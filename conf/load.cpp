// Loading the configuration: each table of the TOML file (or the embedded default) read into
// the config, the checks that span tables, and the flags on top. Every problem becomes one
// config_error line (see load.hpp). Reading a table's keys is table_reader.cpp's, the TLS
// files' checks tls_files.cpp's, the flags command_line.cpp's, the data directory's files
// data_dir.cpp's.
#include "conf/load.hpp"

#include <unistd.h>

#include <algorithm>
#include <array>
#include <functional>

#include "conf/detail.hpp"
#include "conf/listen.hpp"
#include "conf/table_reader.hpp"
#include "conf/tls_files.hpp"
#include "conf/values.hpp"
#include "support/hex.hpp"
#include "support/log.hpp"

namespace sidecar::conf {
namespace {

using detail::check_ca_file;
using detail::fail;
using detail::has_control;
using detail::max_size;
using detail::read_small_file;
using detail::read_tls;
using detail::sub_table;
using detail::table_array;
using detail::table_reader;

constexpr std::string_view embedded_source = "<embedded default>";
constexpr std::size_t max_config_file_bytes = 1 << 20;
constexpr std::string_view local_account_name = "local-account.toml";

endpoint read_listen(const table_reader& r, const endpoint& fallback) {
  const auto s = r.string("listen");
  if (!s) return fallback;
  const auto e = parse_endpoint(*s);
  if (!e) r.fail_key("listen", e.problem);
  return *e.value;
}

std::string read_account_sid(const table_reader& r, std::string_view key) {
  const auto s = r.string(key);
  if (!s) return {};
  if (!is_sid(*s, "AC")) {
    r.fail_key(key, quote(*s) + " is not an account SID (AC followed by 32 lower-case hex digits)");
  }
  return *s;
}

std::vector<std::string> lower_list(const table_reader& r, std::string_view key,
                                    const std::function<bool(std::string_view)>& valid,
                                    std::string_view what) {
  std::vector<std::string> out;
  r.strings(key, [&](const std::string& s) {
    if (!valid(s)) r.fail_key(key, quote(s) + " is not " + std::string(what));
    std::string low = s;
    for (char& c : low) c = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    out.push_back(std::move(low));
  });
  return out;
}

bool is_header_name(std::string_view s) {
  // RFC 9110 token characters.
  static constexpr std::string_view extra = "!#$%&'*+-.^_`|~";
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           extra.find(c) != std::string_view::npos;
  });
}

// [proxy] upgrades: protocol tokens, lower-cased. h2c would join the client to an HTTP/2
// connection past routing and recording (docs/proxy.md), so it is refused here too.
void read_upgrades(const table_reader& r, proxy_config& p) {
  std::vector<std::string> list;
  const bool present = r.strings("upgrades", [&](const std::string& s) {
    if (!is_header_name(s)) r.fail_key("upgrades", quote(s) + " is not a protocol token");
    std::string low = s;
    for (char& c : low) c = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    if (low == "h2c") r.fail_key("upgrades", "\"h2c\" is never forwarded (docs/proxy.md)");
    list.push_back(std::move(low));
  });
  if (present) p.upgrades = std::move(list);
}

void read_proxy(const toml::table* t, std::string_view source, proxy_config& p) {
  if (t == nullptr) return;
  const table_reader r(source, "[proxy]", *t);
  r.only({"listen", "tls_cert", "tls_key", "allowed_clients", "forward_hosts", "forward_account",
          "upstream_ca", "connect_timeout", "upstream_timeout", "idle_timeout", "header_timeout",
          "max_connections", "max_header_bytes", "threads", "drain_timeout", "upgrades"});
  using std::chrono::hours;
  using std::chrono::milliseconds;
  p.listen = read_listen(r, p.listen);
  p.tls = read_tls(r);
  r.strings("allowed_clients", [&](const std::string& s) {
    const auto c = parse_cidr(s);
    if (!c) r.fail_key("allowed_clients", c.problem);
    p.allowed_clients.push_back(*c.value);
  });
  r.strings("forward_hosts", [&](const std::string& s) {
    const auto h = parse_forward_host(s);
    if (!h) r.fail_key("forward_hosts", h.problem);
    p.forward_hosts.push_back(*h.value);
  });
  p.forward_account = read_account_sid(r, "forward_account");
  if (const auto ca = r.text("upstream_ca")) {
    check_ca_file(r, *ca);
    p.upstream_ca = *ca;
  }
  p.connect_timeout =
      r.dur("connect_timeout", milliseconds(1), hours(1)).value_or(p.connect_timeout);
  p.upstream_timeout =
      r.dur("upstream_timeout", milliseconds(1), hours(24)).value_or(p.upstream_timeout);
  p.idle_timeout = r.dur("idle_timeout", milliseconds(1), hours(24)).value_or(p.idle_timeout);
  p.header_timeout = r.dur("header_timeout", milliseconds(1), hours(1)).value_or(p.header_timeout);
  p.drain_timeout = r.dur("drain_timeout", milliseconds(0), hours(1)).value_or(p.drain_timeout);
  p.max_connections =
      static_cast<std::size_t>(r.integer("max_connections", 1, 1'000'000)
                                   .value_or(static_cast<std::int64_t>(p.max_connections)));
  p.max_header_bytes = r.size("max_header_bytes", 256, 16 << 20).value_or(p.max_header_bytes);
  p.threads = static_cast<unsigned>(r.integer("threads", 0, 1024).value_or(p.threads));
  read_upgrades(r, p);
}

void read_api(const toml::table* t, std::string_view source, api_config& a) {
  if (t == nullptr) return;
  const table_reader r(source, "[api]", *t);
  r.only({"listen", "tls_cert", "tls_key", "allow_insecure", "query_timeout", "threads",
          "max_streams"});
  a.listen = read_listen(r, a.listen);
  a.tls = read_tls(r);
  a.allow_insecure = r.boolean("allow_insecure").value_or(a.allow_insecure);
  a.query_timeout = r.dur("query_timeout", std::chrono::milliseconds(1), std::chrono::hours(1))
                        .value_or(a.query_timeout);
  a.threads = static_cast<unsigned>(r.integer("threads", 1, 256).value_or(a.threads));
  a.max_streams =
      static_cast<unsigned>(r.integer("max_streams", 0, 100'000).value_or(a.max_streams));
}

void read_store(const toml::table* t, std::string_view source, store_config& s) {
  if (t == nullptr) return;
  const table_reader r(source, "[store]", *t);
  r.only({"path", "retention", "body_limit", "max_bytes", "queue_bytes", "memory",
          "redact_headers", "redact_fields"});
  if (const auto p = r.text("path")) s.path = *p;
  s.retention = r.dur("retention", std::chrono::seconds(1), std::chrono::hours(24 * 3650))
                    .value_or(s.retention);
  s.body_limit = r.size("body_limit", 0, 64 << 20).value_or(s.body_limit);
  if (const auto m = r.size("max_bytes", 1 << 20, max_size)) s.max_bytes = *m;
  s.queue_bytes = r.size("queue_bytes", 1 << 10, 64ull << 30).value_or(s.queue_bytes);
  s.memory = r.size("memory", 16 << 20, 64ull << 30).value_or(s.memory);
  s.redact_headers = lower_list(r, "redact_headers", is_header_name, "a header name");
  s.redact_fields = lower_list(
      r, "redact_fields", [](std::string_view f) { return !f.empty() && !has_control(f); },
      "a field name");
}

void read_cache(const toml::table* t, std::string_view source, cache_config& c) {
  if (t == nullptr) return;
  const table_reader r(source, "[cache]", *t);
  r.only({"enabled", "dir", "max_bytes", "max_object_bytes", "ttl", "extensions"});
  c.enabled = r.boolean("enabled").value_or(c.enabled);
  if (const auto d = r.text("dir")) c.dir = *d;
  c.max_bytes = r.size("max_bytes", 1 << 10, max_size).value_or(c.max_bytes);
  // Unset, max_object_bytes follows a small max_bytes down: 64 MiB or max_bytes, whichever
  // is smaller. Set, it must fit in max_bytes.
  c.max_object_bytes = r.size("max_object_bytes", 1, max_size)
                           .value_or(std::min<std::uint64_t>(64ull << 20, c.max_bytes));
  if (c.max_object_bytes > c.max_bytes) {
    r.fail_key("max_object_bytes", format_size(c.max_object_bytes) + " is more than max_bytes (" +
                                       format_size(c.max_bytes) + ")");
  }
  c.ttl = r.dur("ttl", std::chrono::seconds(1), std::chrono::hours(24 * 3650)).value_or(c.ttl);
  if (r.find("extensions") != nullptr) {
    c.extensions = lower_list(
        r, "extensions",
        [](std::string_view e) {
          return e.size() >= 2 && e.size() <= 16 && e.front() == '.' &&
                 std::all_of(e.begin() + 1, e.end(), [](char ch) {
                   return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') ||
                          (ch >= 'A' && ch <= 'Z');
                 });
        },
        R"(a file extension (a dot and up to 15 letters or digits, e.g. ".wav"))");
  }
}

void read_log(const toml::table* t, std::string_view source, log::level& level, bool& access) {
  if (t == nullptr) return;
  const table_reader r(source, "[log]", *t);
  r.only({"level", "access"});
  access = r.boolean("access").value_or(access);
  if (const auto s = r.string("level")) {
    const auto l = log::parse_level(*s);
    if (!l)
      r.fail_key("level", quote(*s) + R"( is not a level ("debug", "info", "warn" or "error"))");
    level = *l;
  }
}

/// `auth_token_sha256`: 64 hex digits of either case.
std::array<std::uint8_t, 32> read_token_digest(const table_reader& r, const std::string& hashed) {
  std::array<std::uint8_t, 32> digest{};
  if (!hex::decode(hashed, digest)) {
    r.fail_key("auth_token_sha256", quote(hashed) + " is not a SHA-256 digest (64 hex digits)");
  }
  return digest;
}

/// One [[account]] table (its SID present and well formed; not yet checked against the others).
account read_account(const table_reader& r) {
  r.only({"sid", "auth_token", "auth_token_sha256", "friendly_name", "org_sid", "org_name",
          "traces", "parent", "role"});
  account a;
  if (r.find("sid") == nullptr) r.fail_key("sid", "missing: every account needs its SID");
  a.sid = read_account_sid(r, "sid");
  const auto token = r.text("auth_token");
  const auto hashed = r.string("auth_token_sha256");
  if (token && hashed) {
    r.fail_key("auth_token_sha256", "set either auth_token or auth_token_sha256, not both");
  }
  if (!token && !hashed) r.fail_key("auth_token", "missing: set auth_token or auth_token_sha256");
  a.auth_token = token;
  if (hashed) a.auth_token_sha256 = read_token_digest(r, *hashed);
  a.friendly_name = r.string("friendly_name").value_or("");
  if (const auto org = r.string("org_sid")) {
    if (!is_sid(*org, "OR")) {
      r.fail_key("org_sid", quote(*org) +
                                " is not an organization SID (OR followed by 32 lower-case "
                                "hex digits)");
    }
    a.org_sid = *org;
  }
  a.org_name = r.string("org_name").value_or("");
  a.traces = r.boolean("traces").value_or(false);
  a.parent = read_account_sid(r, "parent");
  if (const auto role = r.string("role")) {
    if (*role != "administrator") {
      r.fail_key("role", quote(*role) + R"( is not a role (the only one is "administrator"))");
    }
    a.administrator = true;
  }
  return a;
}

/// Parents must exist and must not loop, so that "a sub-account of" is a tree. Every parent
/// is checked before any chain is walked: a walk must never meet a missing one. `labels[i]`
/// names the table of `c.accounts[i]`.
void check_account_tree(const config& c, std::string_view source,
                        const std::vector<std::string>& labels) {
  for (std::size_t i = 0; i < c.accounts.size(); ++i) {
    const account& a = c.accounts[i];
    if (!a.parent.empty() && c.find_account(a.parent) == nullptr) {
      fail(source, labels[i] + " parent", quote(a.parent) + " is not a configured account");
    }
  }
  for (std::size_t i = 0; i < c.accounts.size(); ++i) {
    const account& a = c.accounts[i];
    std::string chain = a.sid;
    std::size_t steps = 0;
    for (const account* at = &a; !at->parent.empty(); at = c.find_account(at->parent), ++steps) {
      chain += " -> " + at->parent;
      // Back at the start, or longer than the accounts allow: a loop (perhaps further up).
      if (at->parent == a.sid || steps > c.accounts.size()) {
        fail(source, labels[i] + " parent", "makes a cycle: " + chain);
      }
    }
  }
}

void read_accounts(const toml::table& top, std::string_view source, config& c) {
  std::vector<std::string> labels;
  for (const auto& [label, t] : table_array(top, source, "account")) {
    const table_reader r(source, label, *t);
    account a = read_account(r);
    const auto same = std::find_if(c.accounts.begin(), c.accounts.end(),
                                   [&a](const account& b) { return b.sid == a.sid; });
    if (same != c.accounts.end()) {
      r.fail_key("sid", quote(a.sid) + " is already the SID of " +
                            labels[static_cast<std::size_t>(same - c.accounts.begin())]);
    }
    c.accounts.push_back(std::move(a));
    labels.push_back(label);
  }
  check_account_tree(c, source, labels);
}

/// A route's path prefix: present, starting with "/", and a path (no spaces, '?' or '#').
std::string read_route_prefix(const table_reader& r) {
  const auto prefix = r.string("prefix");
  if (!prefix) r.fail_key("prefix", "missing: every route needs a path prefix");
  if (prefix->empty() || prefix->front() != '/') {
    r.fail_key("prefix", quote(*prefix) + R"( must start with "/")");
  }
  if (has_control(*prefix) || prefix->find_first_of(" ?#") != std::string::npos) {
    r.fail_key("prefix", quote(*prefix) + " is not a path (no spaces, '?' or '#')");
  }
  return *prefix;
}

upstream_url read_route_upstream(const table_reader& r) {
  const auto up = r.string("upstream");
  if (!up) {
    r.fail_key("upstream", R"(missing: every route needs one, e.g. "http://127.0.0.1:9000/")");
  }
  const auto u = parse_upstream_url(*up);
  if (!u) r.fail_key("upstream", u.problem);
  return *u.value;
}

direction read_route_direction(const table_reader& r) {
  const auto d = r.string("direction");
  if (!d || *d == "webhook") return direction::webhook;
  if (*d == "api") return direction::api;
  r.fail_key("direction", quote(*d) + R"( is not a direction ("webhook" or "api"))");
}

route read_route(const table_reader& r, const config& c) {
  r.only({"prefix", "host", "upstream", "direction", "account", "preserve_host", "capture_bodies"});
  route rt;
  rt.prefix = read_route_prefix(r);
  if (const auto host = r.string("host")) {
    const auto h = parse_host(*host);
    if (!h) r.fail_key("host", h.problem + " (a route's host has no port)");
    rt.host = *h.value;
  }
  rt.upstream = read_route_upstream(r);
  rt.dir = read_route_direction(r);
  rt.account = read_account_sid(r, "account");
  if (!rt.account.empty() && c.find_account(rt.account) == nullptr) {
    r.fail_key("account", quote(rt.account) + " is not a configured account");
  }
  rt.preserve_host = r.boolean("preserve_host").value_or(false);
  rt.capture_bodies = r.boolean("capture_bodies").value_or(true);
  return rt;
}

void read_routes(const toml::table& top, std::string_view source, config& c) {
  const auto tables = table_array(top, source, "route");
  std::vector<std::string> labels;
  for (const auto& [label, t] : tables) {
    const table_reader r(source, label, *t);
    route rt = read_route(r, c);
    for (std::size_t j = 0; j < c.routes.size(); ++j) {
      if (c.routes[j].prefix == rt.prefix && c.routes[j].host == rt.host) {
        r.fail_key("prefix", quote(rt.prefix) +
                                 (rt.host ? " with host " + quote(*rt.host) : std::string()) +
                                 " is already the route of " + labels[j]);
      }
    }
    c.routes.push_back(std::move(rt));
    labels.push_back(label);
  }
}

// -- [fleet] (docs/fleet.md) ------------------------------------------------------------------

/// A ClickHouse URL: http or https, a host, an optional port, no path beyond "/".
clickhouse_url read_clickhouse_url(const table_reader& r, std::string_view key,
                                   std::string_view text) {
  const auto u = parse_upstream_url(text);
  if (!u) r.fail_key(key, u.problem);
  if (u.value->base_path != "/") {
    r.fail_key(key, quote(text) +
                        " has a path: give ClickHouse's HTTP interface as "
                        "http://host:8123/ (the database is the database key)");
  }
  return clickhouse_url{u.value->text, u.value->https, u.value->host, u.value->port};
}

/// Database and table names go into SQL as identifiers: letters, digits and '_' only.
std::string read_identifier(const table_reader& r, std::string_view key, std::string fallback) {
  const auto s = r.string(key);
  if (!s) return fallback;
  const bool ok = !s->empty() && s->size() <= 64 && !(s->front() >= '0' && s->front() <= '9') &&
                  std::all_of(s->begin(), s->end(), [](char ch) {
                    return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') ||
                           (ch >= 'A' && ch <= 'Z') || ch == '_';
                  });
  if (!ok) {
    r.fail_key(key, quote(*s) +
                        " is not a ClickHouse name (letters, digits and _, at most 64, "
                        "not starting with a digit)");
  }
  return *s;
}

std::string host_name() {
  std::array<char, 256> buf{};
  if (::gethostname(buf.data(), buf.size() - 1) != 0 || buf[0] == '\0') return "sidecar";
  return buf.data();
}

void read_fleet(const toml::table* t, std::string_view source, config& c) {
  if (t == nullptr) return;
  const table_reader r(source, "[fleet]", *t);
  r.only({"clickhouse", "database", "table", "user", "password", "node", "local_table", "shards",
          "retention", "ship", "query", "ca", "batch_records", "batch_interval", "timeout"});
  const auto url = r.string("clickhouse");
  if (!url) {
    if (!t->empty()) r.fail_key("clickhouse", "missing: the other [fleet] keys need it");
    return;
  }
  fleet_config f;
  f.clickhouse = read_clickhouse_url(r, "clickhouse", *url);
  f.database = read_identifier(r, "database", f.database);
  f.table = read_identifier(r, "table", f.table);
  f.local_table = read_identifier(r, "local_table", "");
  if (const auto u = r.text("user")) f.user = *u;
  if (const auto p = r.string("password")) {
    if (has_control(*p)) r.fail_key("password", "holds control characters");
    f.password = *p;  // never quoted back in a message
  }
  if (const auto n = r.text("node")) {
    if (n->size() > 64) r.fail_key("node", quote(*n) + " is longer than 64 bytes");
    f.node = *n;
  } else {
    f.node = host_name();
  }
  r.strings("shards",
            [&](const std::string& s) { f.shards.push_back(read_clickhouse_url(r, "shards", s)); });
  if (f.local_table.empty() != f.shards.empty()) {
    r.fail_key(f.local_table.empty() ? "local_table" : "shards",
               "missing: local_table and shards go together (a Distributed table's per-shard "
               "table and where it lives)");
  }
  if (const auto d = r.dur("retention", std::chrono::hours(1), std::chrono::hours(24 * 3650))) {
    f.retention = *d;
  }
  f.ship = r.boolean("ship").value_or(f.ship);
  f.query = r.boolean("query").value_or(f.query);
  if (const auto ca = r.text("ca")) {
    check_ca_file(r, *ca, "ca");
    f.ca = *ca;
  }
  f.batch_records =
      static_cast<std::size_t>(r.integer("batch_records", 1, 1'000'000)
                                   .value_or(static_cast<std::int64_t>(f.batch_records)));
  f.batch_interval =
      r.dur("batch_interval", std::chrono::milliseconds(10), std::chrono::minutes(10))
          .value_or(f.batch_interval);
  f.timeout = r.dur("timeout", std::chrono::milliseconds(100), std::chrono::minutes(10))
                  .value_or(f.timeout);
  c.fleet = std::move(f);
}

/// The whole file: every table, then the checks that span tables.
void read_document(const toml::table& top, std::string_view source, config& c) {
  {
    const table_reader r(source, "", top);
    r.only({"proxy", "api", "store", "route", "account", "cache", "fleet", "log"});
  }
  read_log(sub_table(top, source, "log"), source, c.log_level, c.log_access);
  read_proxy(sub_table(top, source, "proxy"), source, c.proxy);
  read_api(sub_table(top, source, "api"), source, c.api);
  read_store(sub_table(top, source, "store"), source, c.store);
  read_cache(sub_table(top, source, "cache"), source, c.cache);
  read_fleet(sub_table(top, source, "fleet"), source, c);
  if (c.fleet && c.fleet->retention.count() == 0) c.fleet->retention = c.store.retention;
  read_accounts(top, source, c);
  read_routes(top, source, c);
  if (!c.proxy.forward_account.empty() && c.find_account(c.proxy.forward_account) == nullptr) {
    fail(source, "[proxy] forward_account",
         quote(c.proxy.forward_account) + " is not a configured account");
  }
}

/// Route "/" to http://127.0.0.1:9000/, webhook: the embedded default's (and --upstream's).
route default_route() {
  route r;
  r.prefix = "/";
  r.upstream = *parse_upstream_url("http://127.0.0.1:9000/").value;
  return r;
}

/// Applies the flags over what the file (or the default) said.
void apply_flags(const cli_options& o, config& c, bool file_has_routes) {
  auto flag_fail = [](std::string_view flag, std::string_view problem) {
    fail(command_line_source, flag, problem);
  };
  if (o.proxy_listen) {
    const auto e = parse_endpoint(*o.proxy_listen);
    if (!e) flag_fail("--proxy-listen", e.problem);
    c.proxy.listen = *e.value;
  }
  if (o.api_listen) {
    const auto e = parse_endpoint(*o.api_listen);
    if (!e) flag_fail("--api-listen", e.problem);
    c.api.listen = *e.value;
  }
  if (o.data_dir) {
    if (o.data_dir->empty() || has_control(*o.data_dir)) {
      flag_fail("--data-dir", quote(*o.data_dir) + " is not a directory name");
    }
    c.store.path = *o.data_dir;
  }
  if (o.log_level) {
    const auto l = log::parse_level(*o.log_level);
    if (!l) {
      flag_fail("--log-level",
                quote(*o.log_level) + R"( is not a level ("debug", "info", "warn" or "error"))");
    }
    c.log_level = *l;
  }
  if (o.upstream) {
    const auto u = parse_upstream_url(*o.upstream);
    if (!u) flag_fail("--upstream", u.problem);
    if (file_has_routes) {
      fail(c.source, "--upstream",
           "the file has [[route]] tables; --upstream only sets the upstream of the default "
           "route, so set each route's upstream in the file instead");
    }
    if (c.routes.empty()) c.routes.push_back(default_route());
    c.routes.front().upstream = *u.value;
  }
}

/// The checks that depend on the file and the flags together.
void check_combined(const cli_options& o, config& c) {
  if (!c.api.tls && !c.api.allow_insecure && !is_loopback(c.api.listen.address)) {
    const std::string problem =
        quote(c.api.listen.to_string()) +
        " is plain HTTP on a non-loopback address, where Basic credentials would cross the "
        "network in clear: set [api] tls_cert and tls_key, or allow_insecure = true";
    if (o.api_listen) fail(command_line_source, "--api-listen", problem);
    fail(c.source, "[api] listen", problem);
  }
  if (c.api.listen.port != 0 && c.api.listen.port == c.proxy.listen.port &&
      c.api.listen.address == c.proxy.listen.address) {
    fail(o.api_listen ? command_line_source : std::string_view(c.source),
         o.api_listen ? "--api-listen" : "[api] listen",
         quote(c.api.listen.to_string()) + " is also the proxy's listen address");
  }
  if (c.cache.dir.empty()) c.cache.dir = c.store.path / "media";
  c.proxy.listen_origin = o.proxy_listen ? std::string(command_line_source) + ": --proxy-listen"
                                         : c.source + ": [proxy] listen";
  c.api.listen_origin = o.api_listen ? std::string(command_line_source) + ": --api-listen"
                                     : c.source + ": [api] listen";
}

/// The file's text (or "" for the embedded default) parsed, with the flags on top; no file
/// system side effects. `traffic_default` tells whether the file defines neither routes nor
/// accounts, so that the embedded default's route and local account apply.
std::shared_ptr<config> parse_with_flags(std::string_view toml_text, std::string_view source_name,
                                         const cli_options& flags, bool& traffic_default) {
  auto c = std::make_shared<config>();
  c->source = std::string(source_name);
  c->proxy.listen = endpoint{boost::asio::ip::address_v4::loopback(), 8080};
  c->api.listen = endpoint{boost::asio::ip::address_v4::loopback(), 8081};
  const toml::table top = detail::parse_toml(toml_text, source_name);
  read_document(top, c->source, *c);
  traffic_default = c->routes.empty() && c->accounts.empty();
  apply_flags(flags, *c, !c->routes.empty());
  check_combined(flags, *c);
  return c;
}

/// The embedded default's traffic: route "/" (to --upstream or http://127.0.0.1:9000/),
/// recorded for the local account kept in the data directory (generated on first start).
void add_local_account(config& c, data_dir_access access) {
  if (c.routes.empty()) c.routes.push_back(default_route());
  c.local_account_file = c.store.path / local_account_name;
  if (access == data_dir_access::create) {
    detail::ensure_data_dir(c.store.path);
    c.accounts.push_back(detail::local_account(c.local_account_file));
  } else {
    detail::check_data_dir(c.store.path);
    c.accounts.push_back(detail::read_local_account(c.local_account_file));
  }
  c.routes.front().account = c.accounts.front().sid;
}

}  // namespace

std::shared_ptr<const config> parse(std::string_view toml_text, std::string_view source_name,
                                    const cli_options& overrides) {
  bool traffic_default = false;
  return parse_with_flags(toml_text, source_name, overrides, traffic_default);
}

std::shared_ptr<const config> load(const cli_options& options, data_dir_access access) {
  std::optional<std::string> text = "";
  if (options.config_file) {
    std::string why;
    text = read_small_file(*options.config_file, max_config_file_bytes, why);
    if (!text) fail(*options.config_file, "", why);
  }
  bool traffic_default = false;
  auto c = parse_with_flags(*text, options.config_file.value_or(std::string(embedded_source)),
                            options, traffic_default);
  if (traffic_default) add_local_account(*c, access);
  if (access == data_dir_access::read_only && !traffic_default)
    detail::check_data_dir(c->store.path);
  return c;
}

}  // namespace sidecar::conf
