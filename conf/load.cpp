// Loading the configuration: the command line, the TOML file (or the embedded default) with
// every key of every table validated, and the flags on top. Every problem becomes one
// config_error line (see load.hpp). The data directory's files are data_dir.cpp's.
#include "conf/load.hpp"

#include <openssl/pem.h>
#include <openssl/x509.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <ctime>
#include <functional>
#include <initializer_list>

#include "conf/detail.hpp"
#include "conf/listen.hpp"
#include "conf/values.hpp"
#include "support/hex.hpp"
#include "support/log.hpp"

namespace sidecar::conf {
namespace {

using detail::fail;
using detail::has_control;
using detail::read_small_file;
using detail::type_name;

constexpr std::string_view embedded_source = "<embedded default>";
constexpr std::string_view command_line_source = "command line";
constexpr std::size_t max_config_file_bytes = 1 << 20;
constexpr std::size_t max_pem_file_bytes = 1 << 20;
constexpr std::string_view local_account_name = "local-account.toml";
constexpr std::uint64_t max_size = 1ull << 62;  // what parse_size accepts at most

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = up;
    }
  }
  return row[b.size()];
}

/// Reads the keys of one table, each checked for its type and range; any problem throws the
/// one-line error naming `source`, the table's label ("[proxy]", "[[route]] #2") and the key.
class table_reader {
 public:
  table_reader(std::string_view source, std::string label, const toml::table& t)
      : source_(source), label_(std::move(label)), table_(t) {}

  /// Refuses any key not in `known` (the first in file order), suggesting a near one.
  void only(std::initializer_list<std::string_view> known) const {
    const toml::key* first = nullptr;
    for (const auto& [k, v] : table_) {
      if (std::find(known.begin(), known.end(), k.str()) != known.end()) continue;
      if (first == nullptr || k.source().begin < first->source().begin) first = &k;
    }
    if (first == nullptr) return;
    // Suggest the nearest known key when it is near enough to be a typo: up to one edit per
    // four characters, at most three.
    std::string_view best;
    std::size_t best_distance = 0;
    for (std::string_view candidate : known) {
      const std::size_t d = edit_distance(first->str(), candidate);
      const std::size_t allowed =
          std::min<std::size_t>(3, std::min(first->str().size(), candidate.size()) / 4);
      if (d <= allowed && (best.empty() || d < best_distance)) {
        best = candidate;
        best_distance = d;
      }
    }
    std::string problem = "unknown key";
    if (!best.empty()) problem += " (did you mean " + std::string(best) + "?)";
    fail_key(first->str(), problem);
  }

  [[noreturn]] void fail_key(std::string_view key, std::string_view problem) const {
    fail(source_, label_.empty() ? std::string(key) : label_ + " " + std::string(key), problem);
  }

  [[nodiscard]] const toml::node* find(std::string_view key) const { return table_.get(key); }

  [[noreturn]] void wrong_type(std::string_view key, std::string_view wanted,
                               const toml::node& n) const {
    fail_key(key, "must be " + std::string(wanted) + ", not " + std::string(type_name(n.type())));
  }

  std::optional<std::string> string(std::string_view key) const {
    const toml::node* n = find(key);
    if (n == nullptr) return std::nullopt;
    if (!n->is_string()) wrong_type(key, "a string", *n);
    return n->as_string()->get();
  }

  /// A string that must not be empty nor hold control characters (paths, names, tokens).
  std::optional<std::string> text(std::string_view key) const {
    auto s = string(key);
    if (s && s->empty()) fail_key(key, "must not be empty");
    if (s && has_control(*s)) fail_key(key, quote(*s) + " holds control characters");
    return s;
  }

  std::optional<bool> boolean(std::string_view key) const {
    const toml::node* n = find(key);
    if (n == nullptr) return std::nullopt;
    if (!n->is_boolean()) wrong_type(key, "true or false", *n);
    return n->as_boolean()->get();
  }

  std::optional<std::int64_t> integer(std::string_view key, std::int64_t min,
                                      std::int64_t max) const {
    const toml::node* n = find(key);
    if (n == nullptr) return std::nullopt;
    if (!n->is_integer()) wrong_type(key, "an integer", *n);
    const std::int64_t v = n->as_integer()->get();
    if (v < min || v > max) {
      fail_key(key, std::to_string(v) + " is out of range (" + std::to_string(min) + " to " +
                        std::to_string(max) + ")");
    }
    return v;
  }

  std::optional<duration> dur(std::string_view key, duration min, duration max) const {
    const toml::node* n = find(key);
    if (n == nullptr) return std::nullopt;
    if (n->is_integer()) {
      fail_key(
          key,
          std::to_string(n->as_integer()->get()) +
              R"( is not a duration: give it a unit, as a string (e.g. "90s", "15m", "48h", "2d"))");
    }
    if (!n->is_string()) wrong_type(key, R"(a duration string like "90s")", *n);
    const std::string& s = n->as_string()->get();
    const auto d = parse_duration(s);
    if (!d) fail_key(key, d.problem);
    if (*d.value < min || *d.value > max) {
      fail_key(key, quote(s) + " is out of range (" + format_duration(min) + " to " +
                        format_duration(max) + ")");
    }
    return *d.value;
  }

  std::optional<std::uint64_t> size(std::string_view key, std::uint64_t min,
                                    std::uint64_t max) const {
    const toml::node* n = find(key);
    if (n == nullptr) return std::nullopt;
    std::uint64_t v = 0;
    std::string shown;
    if (n->is_integer()) {
      const std::int64_t i = n->as_integer()->get();
      shown = std::to_string(i);
      if (i < 0) fail_key(key, shown + R"( is not a size (use e.g. 512, "64KiB", "1GiB"))");
      v = static_cast<std::uint64_t>(i);
    } else if (n->is_string()) {
      const std::string& s = n->as_string()->get();
      const auto p = parse_size(s);
      if (!p) fail_key(key, p.problem);
      v = *p.value;
      shown = quote(s);
    } else {
      wrong_type(key, R"(a size (an integer or a string like "64KiB"))", *n);
    }
    if (v < min || v > max) {
      fail_key(key, shown + " is out of range (" +
                        (max == max_size ? "at least " + format_size(min)
                                         : format_size(min) + " to " + format_size(max)) +
                        ")");
    }
    return v;
  }

  /// An array of strings, each passed to `each` (which throws on a bad one).
  template <class F>
  bool strings(std::string_view key, F&& each) const {
    const toml::node* n = find(key);
    if (n == nullptr) return false;
    if (!n->is_array()) wrong_type(key, "an array of strings", *n);
    for (const toml::node& item : *n->as_array()) {
      if (!item.is_string()) {
        fail_key(key, "must hold only strings, not " + std::string(type_name(item.type())));
      }
      each(item.as_string()->get());
    }
    return true;
  }

  [[nodiscard]] const std::string& label() const { return label_; }

 private:
  std::string_view source_;
  std::string label_;
  const toml::table& table_;
};

/// The table under `key` of the top level, or nullptr; anything else there is a type error.
const toml::table* sub_table(const toml::table& top, std::string_view source,
                             std::string_view key) {
  const toml::node* n = top.get(key);
  if (n == nullptr) return nullptr;
  if (!n->is_table()) {
    fail(source, "[" + std::string(key) + "]",
         "must be a table, not " + std::string(type_name(n->type())));
  }
  return n->as_table();
}

/// Checks that a certificate (chain) and key parse and match, with OpenSSL; the problem
/// names the key of the table that is at fault.
void check_tls_files(const table_reader& r, tls_files& files) {
  std::string why;
  const auto cert_pem = read_small_file(files.cert, max_pem_file_bytes, why);
  if (!cert_pem) r.fail_key("tls_cert", quote(files.cert.string()) + ": " + why);
  const auto key_pem = read_small_file(files.key, max_pem_file_bytes, why);
  if (!key_pem) r.fail_key("tls_key", quote(files.key.string()) + ": " + why);

  // Never prompt for a pass phrase on the terminal: an encrypted key is refused.
  pem_password_cb* no_password = [](char*, int, int, void*) { return 0; };
  BIO* cert_bio = BIO_new_mem_buf(cert_pem->data(), static_cast<int>(cert_pem->size()));
  X509* cert = PEM_read_bio_X509(cert_bio, nullptr, no_password, nullptr);
  BIO_free(cert_bio);
  if (cert == nullptr) {
    r.fail_key("tls_cert", quote(files.cert.string()) + " holds no PEM certificate");
  }
  BIO* key_bio = BIO_new_mem_buf(key_pem->data(), static_cast<int>(key_pem->size()));
  EVP_PKEY* key = PEM_read_bio_PrivateKey(key_bio, nullptr, no_password, nullptr);
  BIO_free(key_bio);
  if (key == nullptr) {
    X509_free(cert);
    r.fail_key("tls_key", quote(files.key.string()) +
                              " holds no PEM private key (or one with a pass phrase, which is "
                              "not supported)");
  }
  const bool match = X509_check_private_key(cert, key) == 1;
  std::tm expiry{};
  const bool dated = ASN1_TIME_to_tm(X509_get0_notAfter(cert), &expiry) == 1;
  EVP_PKEY_free(key);
  X509_free(cert);
  if (!match) {
    r.fail_key("tls_key", quote(files.key.string()) + " does not match the certificate in " +
                              quote(files.cert.string()));
  }
  if (dated) files.not_after = std::chrono::system_clock::from_time_t(timegm(&expiry));
  files.cert_pem = std::move(*cert_pem);
  files.key_pem = std::move(*key_pem);
}

std::optional<tls_files> read_tls(const table_reader& r) {
  const auto cert = r.text("tls_cert");
  const auto key = r.text("tls_key");
  if (!cert && !key) return std::nullopt;
  if (!key) r.fail_key("tls_key", "missing: tls_cert and tls_key go together");
  if (!cert) r.fail_key("tls_cert", "missing: tls_cert and tls_key go together");
  tls_files files{*cert, *key};
  check_tls_files(r, files);
  return files;
}

void check_ca_file(const table_reader& r, const std::filesystem::path& path,
                   std::string_view key = "upstream_ca") {
  std::string why;
  const auto pem = read_small_file(path, max_pem_file_bytes, why);
  if (!pem) r.fail_key(key, quote(path.string()) + ": " + why);
  BIO* bio = BIO_new_mem_buf(pem->data(), static_cast<int>(pem->size()));
  X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  if (cert == nullptr) {
    r.fail_key(key, quote(path.string()) + " holds no PEM certificate");
  }
  X509_free(cert);
}

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

/// The tables of an array of tables ([[route]], [[account]]), each with its label.
std::vector<std::pair<std::string, const toml::table*>> table_array(const toml::table& top,
                                                                    std::string_view source,
                                                                    std::string_view key) {
  std::vector<std::pair<std::string, const toml::table*>> out;
  const toml::node* n = top.get(key);
  if (n == nullptr) return out;
  const std::string label = "[[" + std::string(key) + "]]";
  if (n->is_array() && n->as_array()->empty()) return out;  // `route = []`: none
  if (!n->is_array_of_tables()) {
    fail(source, label,
         "must be an array of tables (write each one as " + label + "), not " +
             std::string(n->is_table() ? "a single table" : type_name(n->type())));
  }
  std::size_t i = 0;
  for (const toml::node& item : *n->as_array()) {
    out.emplace_back(label + " #" + std::to_string(++i), item.as_table());
  }
  return out;
}

void read_accounts(const toml::table& top, std::string_view source, config& c) {
  const auto tables = table_array(top, source, "account");
  std::vector<std::string> labels;
  for (const auto& [label, t] : tables) {
    const table_reader r(source, label, *t);
    r.only({"sid", "auth_token", "auth_token_sha256", "friendly_name", "org_sid", "org_name",
            "traces", "parent", "role"});
    account a;
    if (r.find("sid") == nullptr) r.fail_key("sid", "missing: every account needs its SID");
    a.sid = read_account_sid(r, "sid");
    for (std::size_t j = 0; j < c.accounts.size(); ++j) {
      if (c.accounts[j].sid == a.sid) {
        r.fail_key("sid", quote(a.sid) + " is already the SID of " + labels[j]);
      }
    }
    const auto token = r.text("auth_token");
    const auto hashed = r.string("auth_token_sha256");
    if (token && hashed) {
      r.fail_key("auth_token_sha256", "set either auth_token or auth_token_sha256, not both");
    }
    if (!token && !hashed) {
      r.fail_key("auth_token", "missing: set auth_token or auth_token_sha256");
    }
    a.auth_token = token;
    if (hashed) {
      std::array<std::uint8_t, 32> digest{};
      bool ok = hashed->size() == 64;
      for (std::size_t j = 0; ok && j < 64; ++j) {
        const int v = hex::value((*hashed)[j]);
        ok = v >= 0;
        if (ok) digest[j / 2] = static_cast<std::uint8_t>(digest[j / 2] << 4 | v);
      }
      if (!ok) {
        r.fail_key("auth_token_sha256",
                   quote(*hashed) + " is not a SHA-256 digest (64 hex digits)");
      }
      a.auth_token_sha256 = digest;
    }
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
    c.accounts.push_back(std::move(a));
    labels.push_back(label);
  }
  // Parents must exist and must not loop, so that "a sub-account of" is a tree. Every parent
  // is checked before any chain is walked: a walk must never meet a missing one.
  for (std::size_t i = 0; i < c.accounts.size(); ++i) {
    const account& a = c.accounts[i];
    if (!a.parent.empty() && c.find_account(a.parent) == nullptr) {
      fail(source, labels[i] + " parent", quote(a.parent) + " is not a configured account");
    }
  }
  for (std::size_t i = 0; i < c.accounts.size(); ++i) {
    const account& a = c.accounts[i];
    if (a.parent.empty()) continue;
    std::string chain = a.sid;
    const account* at = &a;
    for (std::size_t steps = 0; !at->parent.empty(); ++steps) {
      chain += " -> " + at->parent;
      if (at->parent == a.sid || steps > c.accounts.size()) {
        fail(source, labels[i] + " parent", "makes a cycle: " + chain);
      }
      at = c.find_account(at->parent);
    }
  }
}

void read_routes(const toml::table& top, std::string_view source, config& c) {
  const auto tables = table_array(top, source, "route");
  std::vector<std::string> labels;
  for (const auto& [label, t] : tables) {
    const table_reader r(source, label, *t);
    r.only(
        {"prefix", "host", "upstream", "direction", "account", "preserve_host", "capture_bodies"});
    route rt;
    const auto prefix = r.string("prefix");
    if (!prefix) r.fail_key("prefix", "missing: every route needs a path prefix");
    if (prefix->empty() || prefix->front() != '/') {
      r.fail_key("prefix", quote(*prefix) + R"( must start with "/")");
    }
    if (has_control(*prefix) || prefix->find_first_of(" ?#") != std::string::npos) {
      r.fail_key("prefix", quote(*prefix) + " is not a path (no spaces, '?' or '#')");
    }
    rt.prefix = *prefix;
    if (const auto host = r.string("host")) {
      const auto h = parse_host(*host);
      if (!h) r.fail_key("host", h.problem + " (a route's host has no port)");
      rt.host = *h.value;
    }
    const auto up = r.string("upstream");
    if (!up)
      r.fail_key("upstream", R"(missing: every route needs one, e.g. "http://127.0.0.1:9000/")");
    const auto u = parse_upstream_url(*up);
    if (!u) r.fail_key("upstream", u.problem);
    rt.upstream = *u.value;
    if (const auto d = r.string("direction")) {
      if (*d == "webhook") {
        rt.dir = direction::webhook;
      } else if (*d == "api") {
        rt.dir = direction::api;
      } else {
        r.fail_key("direction", quote(*d) + R"( is not a direction ("webhook" or "api"))");
      }
    }
    rt.account = read_account_sid(r, "account");
    if (!rt.account.empty() && c.find_account(rt.account) == nullptr) {
      r.fail_key("account", quote(rt.account) + " is not a configured account");
    }
    rt.preserve_host = r.boolean("preserve_host").value_or(false);
    rt.capture_bodies = r.boolean("capture_bodies").value_or(true);
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

cli_options parse_command_line(int argc, const char* const* argv) {
  cli_options o;
  struct flag {
    std::string_view name;
    std::optional<std::string> cli_options::*field;
  };
  static const std::array<flag, 6> flags{{{"--config", &cli_options::config_file},
                                          {"--proxy-listen", &cli_options::proxy_listen},
                                          {"--api-listen", &cli_options::api_listen},
                                          {"--data-dir", &cli_options::data_dir},
                                          {"--upstream", &cli_options::upstream},
                                          {"--log-level", &cli_options::log_level}}};
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      o.help = true;
      continue;
    }
    if (arg == "--check-config") {
      o.check_config = true;
      continue;
    }
    if (arg == "--version" || arg == "-V") {
      o.version = true;
      continue;
    }
    const auto eq = arg.find('=');
    const std::string_view name = arg.substr(0, eq);
    const auto* const f =
        std::find_if(flags.begin(), flags.end(), [&](const flag& x) { return x.name == name; });
    if (f == flags.end() || !arg.starts_with("--")) {
      fail(command_line_source, "",
           (arg.starts_with("-") ? "unknown option " : "unexpected argument ") + quote(arg) +
               " (see --help)");
    }
    if (eq != std::string_view::npos) {
      o.*(f->field) = std::string(arg.substr(eq + 1));
    } else if (i + 1 < argc) {
      o.*(f->field) = std::string(argv[++i]);
    } else {
      fail(command_line_source, name, "needs a value (see --help)");
    }
  }
  return o;
}

std::string usage() {
  return R"(Usage: trace-sidecar [options]

A recording HTTP proxy between a CPaaS platform and its apps, with the Restcomm Traces API.

Options (each also as --option=value; they override the config file):
  --config FILE         run with this TOML file (see examples/trace-sidecar.toml);
                        without it, the embedded default runs
  --proxy-listen ADDR   proxy listener, e.g. 127.0.0.1:8080 or [::1]:8080 (port 0: any free)
  --api-listen ADDR     Traces API listener, e.g. 127.0.0.1:8081
  --data-dir DIR        trace store directory ([store] path; default ./trace-data)
  --upstream URL        upstream of the embedded default's route "/"
                        (default http://127.0.0.1:9000/); not with a file that has routes
  --log-level LEVEL     debug, info, warn or error
  --check-config        check the configuration (the file, or the embedded default, with
                        these flags) as startup would, without binding the listeners or
                        touching the data directory; prints "config ok" and exits 0, or
                        prints the one error line and exits 2
  -h, --help            this text
  -V, --version         the version

Embedded default: proxy on 127.0.0.1:8080, API on 127.0.0.1:8081, data in ./trace-data,
route "/" -> http://127.0.0.1:9000/ (webhook), recorded for a local account whose SID and
token are generated on first start and kept in <data dir>/local-account.toml.

Signals: SIGHUP reloads the configuration file (docs/operations.md lists what reloads);
SIGTERM and SIGINT drain in-flight exchanges and stop.

Exit codes: 0 stopped cleanly (SIGINT/SIGTERM), 1 failure while running,
2 configuration error (one line on stderr naming the file, the key and the problem).
)";
}

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
