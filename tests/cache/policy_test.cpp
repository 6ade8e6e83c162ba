// What the media cache may store and for how long: request eligibility, response verdicts,
// freshness (s-maxage, max-age, Expires, ttl), HTTP dates and the key.
#include "cache/policy.hpp"

#include <gtest/gtest.h>

namespace sidecar::cache {
namespace {

using std::chrono::seconds;

const clock::time_point t0 = clock::time_point{seconds{1'700'000'000}};

request_head get_request() {
  request_head h;
  h.method(http::verb::get);
  h.target("/media/hello.wav");
  h.set(http::field::host, "127.0.0.1");
  return h;
}

response_head media_response(std::string_view type = "audio/wav") {
  response_head h;
  h.result(http::status::ok);
  h.set(http::field::content_type, type);
  h.set(http::field::content_length, "1000");
  return h;
}

evaluation eval(const response_head& h, std::string_view url = "http://app:9000/a/b",
                conf::cache_config cfg = {}) {
  return evaluate_response(cfg, url, h, t0);
}

TEST(cache_key, IsSha256HexOfTheFullUrl) {
  EXPECT_EQ(key_of("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(key_of("http://127.0.0.1:9000/a.wav").size(), 64u);
  EXPECT_NE(key_of("http://127.0.0.1:9000/a.wav"), key_of("http://127.0.0.1:9000/a.wav?x=1"));
}

TEST(cache_request, PlainGetOnWebhookRouteIsCacheable) {
  EXPECT_TRUE(cacheable_request(http::verb::get, conf::direction::webhook, false, get_request()));
}

TEST(cache_request, OtherMethodsApiRoutesAndForwardProxyAreNot) {
  const auto h = get_request();
  EXPECT_FALSE(cacheable_request(http::verb::post, conf::direction::webhook, false, h));
  EXPECT_FALSE(cacheable_request(http::verb::head, conf::direction::webhook, false, h));
  EXPECT_FALSE(cacheable_request(http::verb::get, conf::direction::api, false, h));
  EXPECT_FALSE(cacheable_request(http::verb::get, conf::direction::webhook, true, h));
}

TEST(cache_request, CredentialsNeverUseTheCache) {
  for (const auto f : {http::field::authorization, http::field::cookie,
                       http::field::proxy_authorization}) {
    auto h = get_request();
    h.set(f, "Basic dXNlcjpwYXNz");
    EXPECT_FALSE(cacheable_request(http::verb::get, conf::direction::webhook, false, h))
        << http::to_string(f);
  }
}

TEST(cache_request, RangeAndNoCacheBypassTheCache) {
  auto range = get_request();
  range.set(http::field::range, "bytes=0-99");
  EXPECT_FALSE(cacheable_request(http::verb::get, conf::direction::webhook, false, range));
  auto no_cache = get_request();
  no_cache.set(http::field::cache_control, "max-stale, No-Cache");
  EXPECT_FALSE(cacheable_request(http::verb::get, conf::direction::webhook, false, no_cache));
  auto pragma = get_request();
  pragma.set(http::field::pragma, "no-cache");
  EXPECT_FALSE(cacheable_request(http::verb::get, conf::direction::webhook, false, pragma));
  auto max_age = get_request();
  max_age.set(http::field::cache_control, "max-age=0");  // not a bypass: still served if fresh
  EXPECT_TRUE(cacheable_request(http::verb::get, conf::direction::webhook, false, max_age));
}

TEST(cache_response, AudioWithoutFreshnessLivesForTtl) {
  conf::cache_config cfg;
  cfg.ttl = std::chrono::hours(3);
  const auto e = eval(media_response(), "http://app/x", cfg);
  ASSERT_TRUE(e.storable()) << to_string(e.why);
  EXPECT_EQ(e.fresh.lifetime, seconds{3 * 3600});
}

TEST(cache_response, VideoAndTypeParametersAreMedia) {
  EXPECT_TRUE(eval(media_response("video/mp4")).storable());
  EXPECT_TRUE(eval(media_response("Audio/MPEG; charset=binary")).storable());
}

TEST(cache_response, ConfiguredExtensionMakesAnyTypeMedia) {
  const auto h = media_response("application/octet-stream");
  EXPECT_TRUE(eval(h, "http://app:9000/media/hello.WAV?x=1").storable());
  EXPECT_TRUE(eval(h, "http://app:9000/music/hold.ulaw").storable());
  EXPECT_EQ(eval(h, "http://app:9000/voice.xml").why, verdict::not_media);
  // The extension is the path's, not the query's.
  EXPECT_EQ(eval(h, "http://app:9000/play?file=x.wav").why, verdict::not_media);
  conf::cache_config only_raw;
  only_raw.extensions = {".raw"};
  EXPECT_TRUE(eval(h, "http://app/a.raw", only_raw).storable());
  EXPECT_EQ(eval(h, "http://app/a.wav", only_raw).why, verdict::not_media);
}

TEST(cache_response, OnlyStatus200IsStored) {
  auto h = media_response();
  h.result(http::status::partial_content);
  EXPECT_EQ(eval(h).why, verdict::not_200);
  h.result(http::status::not_found);
  EXPECT_EQ(eval(h).why, verdict::not_200);
}

TEST(cache_response, NoStorePrivateAndNoCacheAreNotStored) {
  auto h = media_response();
  h.set(http::field::cache_control, "public, NO-STORE");
  EXPECT_EQ(eval(h).why, verdict::no_store);
  h.set(http::field::cache_control, "private, max-age=600");
  EXPECT_EQ(eval(h).why, verdict::private_);
  h.set(http::field::cache_control, "private=\"x-user\"");
  EXPECT_EQ(eval(h).why, verdict::private_);
  h.set(http::field::cache_control, "no-cache");
  EXPECT_EQ(eval(h).why, verdict::no_cache);
  // Several Cache-Control fields are one list.
  auto two = media_response();
  two.insert(http::field::cache_control, "max-age=60");
  two.insert(http::field::cache_control, "no-store");
  EXPECT_EQ(eval(two).why, verdict::no_store);
}

TEST(cache_response, BiggerThanMaxObjectBytesIsNotStored) {
  conf::cache_config cfg;
  cfg.max_object_bytes = 999;
  EXPECT_EQ(eval(media_response(), "http://app/a", cfg).why, verdict::too_big);
  cfg.max_object_bytes = 1000;
  EXPECT_TRUE(eval(media_response(), "http://app/a", cfg).storable());
  cfg.max_bytes = 500;  // an object can never be bigger than the whole cache
  EXPECT_EQ(eval(media_response(), "http://app/a", cfg).why, verdict::too_big);
}

TEST(cache_response, VaryAndSetCookieAreNotStored) {
  auto vary = media_response();
  vary.set(http::field::vary, "Accept-Encoding");
  EXPECT_EQ(eval(vary).why, verdict::vary);
  auto cookie = media_response();
  cookie.set(http::field::set_cookie, "id=1");
  EXPECT_EQ(eval(cookie).why, verdict::set_cookie);
}

TEST(cache_response, MaxAgeAndSMaxAgeSetTheLifetime) {
  auto h = media_response();
  h.set(http::field::cache_control, "max-age=60");
  EXPECT_EQ(eval(h).fresh.lifetime, seconds{60});
  h.set(http::field::cache_control, "max-age=60, s-maxage=120");
  EXPECT_EQ(eval(h).fresh.lifetime, seconds{120});
  h.set(http::field::cache_control, "max-age=0");
  EXPECT_EQ(eval(h).why, verdict::stale);
  h.set(http::field::cache_control, "max-age=soon");  // malformed: stale
  EXPECT_EQ(eval(h).why, verdict::stale);
  h.set(http::field::cache_control, "max-age=\"30\"");
  EXPECT_EQ(eval(h).fresh.lifetime, seconds{30});
}

TEST(cache_response, MaxAgeWinsOverExpires) {
  auto h = media_response();
  h.set(http::field::cache_control, "max-age=60");
  h.set(http::field::expires, format_http_date(t0 + seconds{3600}));
  EXPECT_EQ(eval(h).fresh.lifetime, seconds{60});
}

TEST(cache_response, ExpiresCountsFromDate) {
  auto h = media_response();
  h.set(http::field::date, format_http_date(t0 - seconds{10}));  // upstream clock behind
  h.set(http::field::expires, format_http_date(t0 + seconds{290}));
  EXPECT_EQ(eval(h).fresh.lifetime, seconds{300});
  h.erase(http::field::date);  // no Date: from when it arrived
  EXPECT_EQ(eval(h).fresh.lifetime, seconds{290});
}

TEST(cache_response, InvalidOrPastExpiresIsStale) {
  auto h = media_response();
  h.set(http::field::expires, "0");
  EXPECT_EQ(eval(h).why, verdict::stale);
  h.set(http::field::expires, format_http_date(t0 - seconds{1}));
  EXPECT_EQ(eval(h).why, verdict::stale);
}

TEST(cache_response, UpstreamAgeIsKept) {
  auto h = media_response();
  h.set(http::field::cache_control, "max-age=100");
  h.set(http::field::age, "40");
  const auto e = eval(h);
  ASSERT_TRUE(e.storable());
  EXPECT_EQ(e.fresh.initial_age, seconds{40});
  h.set(http::field::age, "100");  // already as old as its lifetime
  EXPECT_EQ(eval(h).why, verdict::stale);
}

TEST(http_date, ParsesTheThreeFormsOfRfc9110) {
  const auto expected = clock::time_point{seconds{784111777}};  // Sun, 06 Nov 1994 08:49:37 GMT
  EXPECT_EQ(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"), expected);
  EXPECT_EQ(parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT"), expected);
  EXPECT_EQ(parse_http_date("Sun Nov  6 08:49:37 1994"), expected);
  EXPECT_EQ(format_http_date(expected), "Sun, 06 Nov 1994 08:49:37 GMT");
}

TEST(http_date, RejectsGarbage) {
  for (const char* bad : {"", "0", "-1", "tomorrow", "Sun, 31 Feb 1994 08:49:37 GMT",
                          "Sun, 06 Nov 1994 25:49:37 GMT", "Sun, 06 Foo 1994 08:49:37 GMT",
                          "Sun, 06 Nov 1994 08:49:37 PST"}) {
    EXPECT_FALSE(parse_http_date(bad).has_value()) << bad;
  }
}

}  // namespace
}  // namespace sidecar::cache
