// Eligibility and freshness rules of the media cache; see policy.hpp and docs/cache.md.
#include "cache/policy.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <limits>

#include "support/ascii.hpp"
#include "support/hex.hpp"
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

template <class Fn>
void for_each_directive(const http::fields& headers, std::string_view field_name, Fn&& fn) {
  for (auto it = headers.find(field_name);
       it != headers.end() && iequals(it->name_string(), field_name); ++it) {
    std::string_view v = it->value();
    while (!v.empty()) {
      // One directive: up to the next comma outside quotes.
      std::size_t i = 0;
      bool quoted = false;
      for (; i < v.size(); ++i) {
        if (v[i] == '"')
          quoted = !quoted;
        else if (v[i] == '\\' && quoted && i + 1 < v.size())
          ++i;
        else if (v[i] == ',' && !quoted)
          break;
      }
      std::string_view item = trim(v.substr(0, i));
      v.remove_prefix(std::min(i + 1, v.size()));
      if (item.empty()) continue;
      directive d;
      const auto eq = item.find('=');
      d.name = trim(item.substr(0, eq));
      if (eq != std::string_view::npos) {
        d.has_value = true;
        d.value = trim(item.substr(eq + 1));
        if (d.value.size() >= 2 && d.value.front() == '"' && d.value.back() == '"') {
          d.value = d.value.substr(1, d.value.size() - 2);
        }
      }
      fn(d);
    }
  }
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
              const http::response_header<>& head) {
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
                       const http::fields& headers) {
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

evaluation evaluate_response(const conf::cache_config& cfg, std::string_view upstream_url,
                             const http::response_header<>& head, clock::time_point now) {
  evaluation e;
  if (head.result_int() != 200) return e.why = verdict::not_200, e;

  bool no_store = false, private_ = false, no_cache = false;
  std::optional<std::int64_t> s_maxage, max_age;
  for_each_directive(head, "cache-control", [&](const directive& d) {
    if (iequals(d.name, "no-store"))
      no_store = true;
    else if (iequals(d.name, "private"))
      private_ = true;
    else if (iequals(d.name, "no-cache"))
      no_cache = true;
    else if (iequals(d.name, "s-maxage") || iequals(d.name, "max-age")) {
      auto& target = iequals(d.name, "s-maxage") ? s_maxage : max_age;
      // A malformed value makes the response stale (RFC 9111 4.2.1), and the first of
      // duplicated directives wins.
      if (!target) target = parse_delta_seconds(d.value).value_or(0);
    }
  });
  if (no_store) return e.why = verdict::no_store, e;
  if (private_) return e.why = verdict::private_, e;
  if (no_cache) return e.why = verdict::no_cache, e;
  if (head.count(http::field::set_cookie) != 0) return e.why = verdict::set_cookie, e;
  if (head.count(http::field::vary) != 0 && !trim(head[http::field::vary]).empty()) {
    return e.why = verdict::vary, e;
  }
  if (!is_media(cfg, upstream_url, head)) return e.why = verdict::not_media, e;

  const std::uint64_t limit = std::min(cfg.max_object_bytes, cfg.max_bytes);
  if (const auto cl = head.find(http::field::content_length); cl != head.end()) {
    std::uint64_t length = 0;
    const std::string_view v = cl->value();
    const auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), length);
    if (ec != std::errc{} || p != v.data() + v.size() || length > limit) {
      return e.why = verdict::too_big, e;
    }
  }

  using std::chrono::seconds;
  seconds lifetime = std::chrono::duration_cast<seconds>(cfg.ttl);
  if (s_maxage) {
    lifetime = seconds{*s_maxage};
  } else if (max_age) {
    lifetime = seconds{*max_age};
  } else if (head.count(http::field::expires) != 0) {
    const auto expires = parse_http_date(head[http::field::expires]);
    const auto date = parse_http_date(head[http::field::date]);
    const clock::time_point base = date.value_or(now);
    lifetime = expires ? std::chrono::floor<seconds>(*expires - base) : seconds{0};
  }

  seconds initial_age{0};
  if (head.count(http::field::age) != 0) {
    initial_age = seconds{parse_delta_seconds(trim(head[http::field::age])).value_or(0)};
  }
  e.fresh = {lifetime, initial_age};
  if (lifetime <= initial_age) return e.why = verdict::stale, e;
  e.why = verdict::storable;
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
