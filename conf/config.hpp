// The loaded configuration of trace-sidecar (docs/configuration.md): immutable once loaded and
// shared as std::shared_ptr<const config> by every module.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/ip/address.hpp>

#include "conf/fleet_config.hpp"
#include "support/log.hpp"

namespace sidecar::conf {

using duration = std::chrono::milliseconds;

/// Who sends the traffic of a route: the platform to an app, or an app to the platform.
enum class direction : std::uint8_t { webhook, api };
[[nodiscard]] std::string_view to_string(direction d);

/// A listen address: an IPv4 or IPv6 literal and a port (0: any free port).
struct endpoint {
  boost::asio::ip::address address;
  std::uint16_t port = 0;
  /// "127.0.0.1:8080" or "[::1]:8080".
  [[nodiscard]] std::string to_string() const;
};

/// TLS on a listener: both files must exist and hold a matching certificate and key.
/// The loader keeps the bytes it checked, so that the listener uses exactly the pair that was
/// found to match (a rotation tool writing the two files one after the other cannot slip a
/// mismatched pair in between the check and the use).
struct tls_files {
  std::filesystem::path cert;
  std::filesystem::path key;
  std::string cert_pem{};  // the certificate (chain) as read and checked
  std::string key_pem{};   // the private key as read and checked; never logged
  std::chrono::system_clock::time_point not_after{};  // the certificate's expiry
};

/// One entry of allowed_clients: "10.0.0.0/8", "127.0.0.1/32", "::1/128" or a bare address.
struct cidr {
  boost::asio::ip::address network;
  unsigned prefix_length = 0;
  [[nodiscard]] bool contains(const boost::asio::ip::address& a) const;
};

/// One entry of forward_hosts: "app.example.com", "*.example.org", "app.example.com:8443",
/// or an address literal ("203.0.113.7", "10.1.2.3:8080"), which lifts the private-address
/// refusal for that address only.
struct forward_host {
  std::string host;                  // lower case; without "*." when wildcard
  bool wildcard = false;             // "*.example.org": any name ending in ".example.org"
  std::optional<std::uint16_t> port;  // none: 80 and 443
  bool is_address = false;           // host is an IP literal
  /// Whether a request for host:port may be forwarded under this entry (name match only;
  /// the address checks are the proxy's).
  [[nodiscard]] bool matches(std::string_view host, std::uint16_t port) const;
};

/// An upstream base URL of a route: http or https, host, port, base path ending in '/'.
struct upstream_url {
  std::string text;       // as written in the config
  bool https = false;
  std::string host;       // name or address literal, without brackets
  std::uint16_t port = 0; // explicit or the scheme's default
  std::string base_path;  // always starts and ends with '/'
};

struct proxy_config {
  endpoint listen;
  std::string listen_origin = "[proxy] listen";  // where `listen` was set, for errors
  std::optional<tls_files> tls;
  std::vector<cidr> allowed_clients;  // empty: anyone who can connect
  std::vector<forward_host> forward_hosts;
  std::string forward_account;  // empty: none
  std::optional<std::filesystem::path> upstream_ca;
  duration connect_timeout = std::chrono::seconds(5);
  duration upstream_timeout = std::chrono::seconds(30);
  duration idle_timeout = std::chrono::seconds(60);
  duration header_timeout = std::chrono::seconds(10);
  std::size_t max_connections = 10000;
  std::size_t max_header_bytes = 64 * 1024;
  unsigned threads = 0;  // 0: one per core
  duration drain_timeout = std::chrono::seconds(10);  // SIGTERM: in-flight exchanges get this long
  // Upgrade protocols forwarded (lower case, without a version); any other Upgrade token is
  // removed and the request goes on as plain HTTP/1.1. Never "h2c" (docs/proxy.md).
  std::vector<std::string> upgrades{"websocket"};
};

struct api_config {
  endpoint listen;
  std::string listen_origin = "[api] listen";  // where `listen` was set, for errors
  std::optional<tls_files> tls;
  bool allow_insecure = false;
  duration query_timeout = std::chrono::seconds(10);
  unsigned threads = 2;  // the API's own threads, apart from the proxy's
  unsigned max_streams = 64;  // live streams at once (docs/api.md); 0: none
};

struct store_config {
  std::filesystem::path path = "./trace-data";
  duration retention = std::chrono::hours(48);
  std::size_t body_limit = 100 * 1024;
  std::optional<std::uint64_t> max_bytes;
  std::size_t queue_bytes = 64 * 1024 * 1024;
  // RocksDB's memtables and block cache together (docs/store.md, "Memory").
  std::size_t memory = 64 * 1024 * 1024;
  std::vector<std::string> redact_headers;  // lower case, besides the four defaults
  std::vector<std::string> redact_fields;   // lower case, besides the defaults of section 4
};

struct route {
  std::string prefix;               // starts with '/'
  std::optional<std::string> host;  // lower case, no port
  upstream_url upstream;
  direction dir = direction::webhook;
  std::string account;  // empty: none
  bool preserve_host = false;
  bool capture_bodies = true;
};

struct account {
  std::string sid;                                       // AC + 32 hex
  std::optional<std::string> auth_token;                 // one of the two is set
  std::optional<std::array<std::uint8_t, 32>> auth_token_sha256;
  std::string friendly_name;
  std::string org_sid;  // OR + 32 hex, or empty
  std::string org_name;
  bool traces = false;
  std::string parent;  // empty: top-level
  bool administrator = false;
};

struct cache_config {
  bool enabled = true;
  std::filesystem::path dir;  // default: <store.path>/media
  std::uint64_t max_bytes = 1ull << 30;
  std::uint64_t max_object_bytes = 64ull << 20;
  duration ttl = std::chrono::hours(24);
  std::vector<std::string> extensions{".wav", ".mp3", ".ogg", ".gsm", ".ulaw", ".alaw", ".mp4"};
};

struct config {
  std::string source;  // the file it came from, or "<embedded default>"
  log::level log_level = log::level::info;
  bool log_access = false;  // [log] access: one info line per exchange and per API request
  proxy_config proxy;
  api_config api;
  store_config store;
  std::vector<route> routes;
  std::vector<account> accounts;
  cache_config cache;
  /// [fleet]: set when `clickhouse` is (docs/fleet.md).
  std::optional<fleet_config> fleet;
  /// The embedded default's generated account file (empty with a config file).
  std::filesystem::path local_account_file;

  /// The account with this SID, or nullptr.
  [[nodiscard]] const account* find_account(std::string_view sid) const;
  /// Whether `reader` may read the traces of `target`: itself, a sub-account (transitively),
  /// or anything for an administrator.
  [[nodiscard]] bool may_read(const account& reader, std::string_view target) const;
  /// `root` and every account below it (transitively), root first.
  [[nodiscard]] std::vector<std::string> subtree(std::string_view root) const;
};

}  // namespace sidecar::conf
