// Eligibility and freshness rules of the media cache; see policy.hpp and docs/cache.md.
#include "cache/policy.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <limits>

#include "support/ascii.hpp"
#include "support/hex.hpp"
#include "support/http_fields.hpp"
#include "support/utc_time.hpp"

namespace sidecar::cache {

namespace {

constexpr std::int64_t max_delta_seconds = std::numeric_limits<std::int32_t>::max();

using ascii::iends_with;
using ascii::iequals;
using ascii::istarts_with;
using ascii::trim;

/// delta-seconds (RFC 9111 1.2.2): digits only; a value too large is clamped to 2^31-1.
std::optional<std::int64_t> parse_delta_seconds(std::string_view s) {
  if (s.empty()) return std::nullopt;
  std::int64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = std::min<std::int64_t>(v * 10 + (c - '0'), max_delta_seconds);
  }
  return v;
}

/// The directives of every Cache-Control (or Pragma) field of a message, in order.
struct directive {
  std::string_view name;
  std::string_view value;  // unquoted; empty when absent
  bool has_value = false;
};

/// The length of the directive at the start of `v`: up to the next comma outside quotes.
std::size_t directive_length(std::string_view v) {
  bool quoted = false;
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (v[i] == '"') {
      quoted = !quoted;
    } else if (v[i] == '\\' && quoted && i + 1 < v.size()) {
      ++i;
    } else if (v[i] == ',' && !quoted) {
      return i;
    }
  }
  return v.size();
}

/// One directive ("name", "name=value" or "name=\"value\""), already trimmed and not empty.
directive parse_directive(std::string_view item) {
  directive d;
  const auto eq = item.find('=');
  d.name = trim(item.substr(0, eq));
  if (eq == std::string_view::npos) return d;
  d.has_value = true;
  d.value = trim(item.substr(eq + 1));
  if (d.value.size() >= 2 && d.value.front() == '"' && d.value.back() == '"') {
    d.value = d.value.substr(1, d.value.size() - 2);
  }
  return d;
}

// Every field of that name, adjacent or not (a head keeps its fields in wire order).
template <class Fn>
void for_each_directive(const head_fields& headers, std::string_view field_name, Fn&& fn) {
  http_fields::for_each_value(headers, field_name, [&](std::string_view v) {
    while (!v.empty()) {
      const std::size_t length = directive_length(v);
      const std::string_view item = trim(v.substr(0, length));
      v.remove_prefix(std::min(length + 1, v.size()));
      if (!item.empty()) fn(parse_directive(item));
    }
  });
}

/// The path of a URL ("http://h:1/a/b.wav?x" -> "/a/b.wav").
std::string_view url_path(std::string_view url) {
  if (const auto scheme = url.find("://"); scheme != std::string_view::npos) {
    url.remove_prefix(scheme + 3);
    const auto slash = url.find('/');
    url = slash == std::string_view::npos ? std::string_view{} : url.substr(slash);
  }
  return url.substr(0, url.find_first_of("?#"));
}

bool is_media(const conf::cache_config& cfg, std::string_view upstream_url,
              const response_head& head) {
  std::string_view type = head[http::field::content_type];
  type = trim(type.substr(0, type.find(';')));
  if (istarts_with(type, "audio/") || istarts_with(type, "video/")) return true;
  const std::string_view path = url_path(upstream_url);
  return std::any_of(cfg.extensions.begin(), cfg.extensions.end(),
                     [&](const std::string& ext) { return !ext.empty() && iends_with(path, ext); });
}

// --- HTTP-date -------------------------------------------------------------------------------

std::optional<int> parse_int(std::string_view s, std::size_t min_digits, std::size_t max_digits) {
  if (s.size() < min_digits || s.size() > max_digits) return std::nullopt;
  int v = 0;
  const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || p != s.data() + s.size()) return std::nullopt;
  return v;
}

std::optional<unsigned> parse_month(std::string_view s) {
  for (unsigned i = 0; i < utc::month_names.size(); ++i) {
    if (s == utc::month_names[i]) return i + 1;
  }
  return std::nullopt;
}

/// "08:49:37" -> seconds of the day.
std::optional<int> parse_clock(std::string_view s) {
  if (s.size() != 8 || s[2] != ':' || s[5] != ':') return std::nullopt;
  const auto h = parse_int(s.substr(0, 2), 2, 2);
  const auto m = parse_int(s.substr(3, 2), 2, 2);
  const auto sec = parse_int(s.substr(6, 2), 2, 2);
  if (!h || !m || !sec || *h > 23 || *m > 59 || *sec > 60) return std::nullopt;
  return *h * 3600 + *m * 60 + std::min(*sec, 59);
}

std::optional<clock::time_point> make_time(int year, unsigned month, int day, int seconds) {
  const auto days = utc::days_from_civil(year, month, static_cast<unsigned>(day));
  if (!days) return std::nullopt;
  return clock::time_point{std::chrono::days{*days} + std::chrono::seconds{seconds}};
}

std::vector<std::string_view> split_spaces(std::string_view s) {
  std::vector<std::string_view> out;
  while (!s.empty()) {
    const auto start = s.find_first_not_of(' ');
    if (start == std::string_view::npos) break;
    s.remove_prefix(start);
    const auto end = s.find(' ');
    out.push_back(s.substr(0, end));
    s.remove_prefix(end == std::string_view::npos ? s.size() : end);
  }
  return out;
}

}  // namespace

std::string key_of(std::string_view upstream_url) {
  // Fetched once: with OpenSSL 3, EVP_sha256() makes every digest look the algorithm up again
  // (under a lock shared by all threads), and this runs on every cacheable request.
  static const EVP_MD* const sha256 = [] {
    const EVP_MD* md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    return md != nullptr ? md : EVP_sha256();
  }();
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int length = 0;
  // EVP_Digest with SHA-256 cannot fail for in-memory input short of allocation failure.
  const int ok =
      EVP_Digest(upstream_url.data(), upstream_url.size(), digest.data(), &length, sha256, nullptr);
  if (ok != 1) return {};
  std::string out;
  hex::append_bytes(out, std::span(digest.data(), length));
  return out;
}

bool cacheable_request(http::verb method, conf::direction direction, bool forward_proxy,
                       const head_fields& headers) {
  if (method != http::verb::get || direction != conf::direction::webhook || forward_proxy) {
    return false;
  }
  if (headers.count(http::field::authorization) != 0 ||
      headers.count(http::field::proxy_authorization) != 0 ||
      headers.count(http::field::cookie) != 0 || headers.count(http::field::range) != 0) {
    return false;
  }
  bool bypass = false;
  for_each_directive(headers, "cache-control", [&](const directive& d) {
    if (iequals(d.name, "no-cache") || iequals(d.name, "no-store")) bypass = true;
  });
  for_each_directive(headers, "pragma", [&](const directive& d) {
    if (iequals(d.name, "no-cache")) bypass = true;
  });
  return !bypass;
}

std::string_view to_string(verdict v) {
  switch (v) {
    case verdict::storable:
      return "storable";
    case verdict::not_200:
      return "status not 200";
    case verdict::not_media:
      return "not media";
    case verdict::no_store:
      return "no-store";
    case verdict::private_:
      return "private";
    case verdict::no_cache:
      return "no-cache";
    case verdict::too_big:
      return "too big";
    case verdict::vary:
      return "vary";
    case verdict::set_cookie:
      return "set-cookie";
    case verdict::stale:
      return "stale";
  }
  return "?";
}

namespace {

// What a response's Cache-Control says to a shared cache.
struct cache_control {
  bool no_store = false;
  bool private_ = false;
  bool no_cache = false;
  std::optional<std::int64_t> s_maxage;
  std::optional<std::int64_t> max_age;
};

cache_control read_cache_control(const response_head& head) {
  cache_control cc;
  for_each_directive(head, "cache-control", [&](const directive& d) {
    if (iequals(d.name, "no-store")) {
      cc.no_store = true;
    } else if (iequals(d.name, "private")) {
      cc.private_ = true;
    } else if (iequals(d.name, "no-cache")) {
      cc.no_cache = true;
    } else if (iequals(d.name, "s-maxage") || iequals(d.name, "max-age")) {
      auto& target = iequals(d.name, "s-maxage") ? cc.s_maxage : cc.max_age;
      // A malformed value makes the response stale (RFC 9111 4.2.1), and the first of
      // duplicated directives wins.
      if (!target) target = parse_delta_seconds(d.value).value_or(0);
    }
  });
  return cc;
}

// Whether a declared Content-Length is malformed or larger than the cache takes.
bool declared_too_big(const response_head& head, std::uint64_t limit) {
  const auto cl = head.find(http::field::content_length);
  if (cl == head.end()) return false;
  std::uint64_t length = 0;
  const std::string_view v = cl->value();
  const auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), length);
  return ec != std::errc{} || p != v.data() + v.size() || length > limit;
}

// Why a 200 response may not be stored (the first reason found); nothing when it may.
std::optional<verdict> refusal(const conf::cache_config& cfg, std::string_view upstream_url,
                               const response_head& head, const cache_control& cc) {
  if (cc.no_store) return verdict::no_store;
  if (cc.private_) return verdict::private_;
  if (cc.no_cache) return verdict::no_cache;
  if (head.count(http::field::set_cookie) != 0) return verdict::set_cookie;
  if (head.count(http::field::vary) != 0 && !trim(head[http::field::vary]).empty()) {
    return verdict::vary;
  }
  if (!is_media(cfg, upstream_url, head)) return verdict::not_media;
  if (declared_too_big(head, std::min(cfg.max_object_bytes, cfg.max_bytes))) {
    return verdict::too_big;
  }
  return std::nullopt;
}

// The freshness lifetime: s-maxage, else max-age, else Expires against Date, else the
// configured ttl.
std::chrono::seconds lifetime_of(const conf::cache_config& cfg, const response_head& head,
                                 const cache_control& cc, clock::time_point now) {
  using std::chrono::seconds;
  if (cc.s_maxage) return seconds{*cc.s_maxage};
  if (cc.max_age) return seconds{*cc.max_age};
  if (head.count(http::field::expires) == 0) return std::chrono::duration_cast<seconds>(cfg.ttl);
  const auto expires = parse_http_date(head[http::field::expires]);
  const auto date = parse_http_date(head[http::field::date]);
  const clock::time_point base = date.value_or(now);
  return expires ? std::chrono::floor<seconds>(*expires - base) : seconds{0};
}

}  // namespace

evaluation evaluate_response(const conf::cache_config& cfg, std::string_view upstream_url,
                             const response_head& head, clock::time_point now) {
  evaluation e;
  if (head.result_int() != 200) return e.why = verdict::not_200, e;
  const cache_control cc = read_cache_control(head);
  if (const auto why = refusal(cfg, upstream_url, head, cc)) return e.why = *why, e;

  const std::chrono::seconds lifetime = lifetime_of(cfg, head, cc, now);
  std::chrono::seconds initial_age{0};
  if (head.count(http::field::age) != 0) {
    initial_age =
        std::chrono::seconds{parse_delta_seconds(trim(head[http::field::age])).value_or(0)};
  }
  e.fresh = {lifetime, initial_age};
  e.why = lifetime <= initial_age ? verdict::stale : verdict::storable;
  return e;
}

std::optional<clock::time_point> parse_http_date(std::string_view text) {
  text = trim(text);
  const auto comma = text.find(',');
  if (comma != std::string_view::npos) {
    const std::string_view rest = trim(text.substr(comma + 1));
    const auto parts = split_spaces(rest);
    if (comma == 3) {
      // IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT"
      if (parts.size() != 5 || parts[4] != "GMT") return std::nullopt;
      const auto day = parse_int(parts[0], 1, 2);
      const auto month = parse_month(parts[1]);
      const auto year = parse_int(parts[2], 4, 4);
      const auto secs = parse_clock(parts[3]);
      if (!day || !month || !year || !secs) return std::nullopt;
      return make_time(*year, *month, *day, *secs);
    }
    // RFC 850: "Sunday, 06-Nov-94 08:49:37 GMT"; a two-digit year is taken in 1970-2069.
    if (parts.size() != 3 || parts[2] != "GMT" || parts[0].size() != 9 || parts[0][2] != '-' ||
        parts[0][6] != '-') {
      return std::nullopt;
    }
    const auto day = parse_int(parts[0].substr(0, 2), 2, 2);
    const auto month = parse_month(parts[0].substr(3, 3));
    auto year = parse_int(parts[0].substr(7, 2), 2, 2);
    const auto secs = parse_clock(parts[1]);
    if (!day || !month || !year || !secs) return std::nullopt;
    *year += *year < 70 ? 2000 : 1900;
    return make_time(*year, *month, *day, *secs);
  }
  // asctime: "Sun Nov  6 08:49:37 1994"
  const auto parts = split_spaces(text);
  if (parts.size() != 5 ||
      std::find(utc::day_names.begin(), utc::day_names.end(), parts[0]) == utc::day_names.end()) {
    return std::nullopt;
  }
  const auto month = parse_month(parts[1]);
  const auto day = parse_int(parts[2], 1, 2);
  const auto secs = parse_clock(parts[3]);
  const auto year = parse_int(parts[4], 4, 4);
  if (!day || !month || !year || !secs) return std::nullopt;
  return make_time(*year, *month, *day, *secs);
}

std::string format_http_date(clock::time_point t) {
  return utc::http_date(
      std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count());
}

}  // namespace sidecar::cache
