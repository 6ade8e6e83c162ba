// What the media cache may store and for how long (docs/cache.md): request and response
// eligibility, Cache-Control / Expires / Age parsing, and the cache key.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "conf/config.hpp"
#include "support/head_fields.hpp"
#include "support/net.hpp"

namespace sidecar::cache {

using clock = std::chrono::system_clock;

/// The cache key of an upstream URL: lower-case hex SHA-256 (OpenSSL EVP) of the full URL,
/// exactly as sent upstream (scheme, host, port, path and query).
[[nodiscard]] std::string key_of(std::string_view upstream_url);

/// Whether a request may be answered from the cache (and its response stored): a GET on a
/// `webhook` route, not sent as a forward-proxy request, carrying no credentials
/// (`Authorization`, `Proxy-Authorization`, `Cookie`), no `Range`, and not asking to bypass
/// caches (`Cache-Control: no-cache` / `no-store`, `Pragma: no-cache`).
[[nodiscard]] bool cacheable_request(http::verb method, conf::direction direction,
                                     bool forward_proxy, const head_fields& headers);

/// Why a response is not stored (or `storable`).
enum class verdict : std::uint8_t {
  storable,
  not_200,
  not_media,       // neither audio/* nor video/* nor a configured extension
  no_store,        // Cache-Control: no-store
  private_,        // Cache-Control: private
  no_cache,        // Cache-Control: no-cache (would need revalidation on every use)
  too_big,         // Content-Length above max_object_bytes (or max_bytes)
  vary,            // Vary present: not keyed on request headers, so not stored
  set_cookie,      // a response setting a cookie is personal
  stale,           // its lifetime is already over (max-age=0, Expires in the past, bad date)
};
[[nodiscard]] std::string_view to_string(verdict v);

/// The freshness of a storable response.
struct freshness {
  std::chrono::seconds lifetime{0};     // s-maxage, max-age, Expires - Date, else ttl
  std::chrono::seconds initial_age{0};  // the upstream's Age header (0 when absent)
};

struct evaluation {
  verdict why = verdict::stale;
  freshness fresh;
  [[nodiscard]] bool storable() const { return why == verdict::storable; }
};

/// Decides whether a response head to a cacheable request may be stored, and for how long.
/// `upstream_url` gives the path whose extension may qualify the response as media; `now` is
/// when the response head arrived (the Date header's fallback).
[[nodiscard]] evaluation evaluate_response(const conf::cache_config& cfg,
                                           std::string_view upstream_url, const response_head& head,
                                           clock::time_point now);

/// Parses an HTTP-date (IMF-fixdate, RFC 850 or asctime form); nullopt when invalid.
[[nodiscard]] std::optional<clock::time_point> parse_http_date(std::string_view text);

/// Formats an IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT").
[[nodiscard]] std::string format_http_date(clock::time_point t);

}  // namespace sidecar::cache
