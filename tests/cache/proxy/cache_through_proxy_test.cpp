// Issue 6 through a real proxy::server and a real upstream: hits served from disk without
// reaching the app and without a capture, misses forwarded, captured and cached; what is never
// cached; expiry; LRU; restarts; crash leftovers; concurrent misses.
#include <fstream>
#include <future>

#include "harness.hpp"

namespace sidecar::cache::testing {
namespace {

const std::string wav_body = std::string(40'000, 'w') + "end of sound";

TEST_F(cache_through_proxy, MissIsForwardedCapturedAndCachedThenHitIsServedFromDisk) {
  upstream.add("/media/hello.wav", media(wav_body, "audio/wav", {{"X-App", "acme"}}));
  start();

  const reply miss = get(port, "/media/hello.wav");
  EXPECT_EQ(miss.status, 200);
  EXPECT_EQ(miss.header("X-Cache"), "MISS");
  EXPECT_EQ(miss.body, wav_body);
  EXPECT_EQ(sink.wait_for(1), 1u);

  advance(7s);
  const reply hit = get(port, "/media/hello.wav");
  EXPECT_EQ(hit.status, 200);
  EXPECT_EQ(hit.header("X-Cache"), "HIT");
  EXPECT_EQ(hit.header("Age"), "7");
  EXPECT_EQ(hit.header("Content-Type"), "audio/wav");
  EXPECT_EQ(hit.header("X-App"), "acme");
  EXPECT_EQ(hit.header("Content-Length"), std::to_string(wav_body.size()));
  EXPECT_EQ(hit.body, wav_body);
  EXPECT_EQ(upstream.requests("/media/hello.wav"), 1);  // the app saw the miss only

  // Another exchange after the hit: once its capture is in, nothing else came for the hit.
  upstream.add("/media/other.txt", media("x", "text/plain"));
  get(port, "/media/other.txt");
  EXPECT_EQ(sink.wait_for(2), 2u);
  const auto urls = sink.urls();
  ASSERT_EQ(urls.size(), 2u);
  EXPECT_EQ(urls[0], "http://127.0.0.1:" + std::to_string(upstream.port()) + "/media/hello.wav");
  EXPECT_EQ(metric("sidecar_cache_hits_total"), "1");
  // The text/plain answer could never have been served from the cache: not a miss.
  EXPECT_EQ(metric("sidecar_cache_misses_total"), "1");
}

TEST_F(cache_through_proxy, ManyHitsOnOneKeepAliveConnection) {
  upstream.add("/media/a.mp3", media(wav_body, "audio/mpeg"));
  start();
  EXPECT_EQ(get(port, "/media/a.mp3").header("X-Cache"), "MISS");
  net::io_context io;
  tcp::socket socket(io);
  socket.connect({net::ip::make_address("127.0.0.1"), port});
  beast::flat_buffer buffer;
  for (int i = 0; i < 5; ++i) {
    http::request<http::empty_body> req{http::verb::get, "/media/a.mp3", 11};
    req.set(http::field::host, "127.0.0.1");
    http::write(socket, req);
    http::response<http::string_body> res;
    http::read(socket, buffer, res);
    EXPECT_EQ(res["X-Cache"], "HIT");
    EXPECT_TRUE(res.keep_alive());
    EXPECT_EQ(res.body(), wav_body);
  }
  EXPECT_EQ(upstream.requests("/media/a.mp3"), 1);
}

// A hit's head follows the client: HTTP/1.0 with keep-alive is answered in 1.0 with
// "Connection: keep-alive" on a connection that stays open; "Connection: close" is answered
// with "Connection: close", and the proxy closes.
TEST_F(cache_through_proxy, HitsAnswerInTheClientsVersionAndKeepAlive) {
  upstream.add("/media/a.wav", media(wav_body, "audio/wav"));
  start();
  EXPECT_EQ(get(port, "/media/a.wav").header("X-Cache"), "MISS");
  net::io_context io;
  tcp::socket socket(io);
  socket.connect({net::ip::make_address("127.0.0.1"), port});
  beast::flat_buffer buffer;
  const auto ask = [&](unsigned version, std::string_view connection) {
    http::request<http::empty_body> req{http::verb::get, "/media/a.wav", version};
    req.set(http::field::host, "127.0.0.1");
    req.set(http::field::connection, connection);
    http::write(socket, req);
    http::response<http::string_body> res;
    http::read(socket, buffer, res);
    return res;
  };
  const auto old = ask(10, "keep-alive");
  EXPECT_EQ(old.version(), 10u);
  EXPECT_EQ(old["X-Cache"], "HIT");
  EXPECT_EQ(old[http::field::connection], "keep-alive");
  EXPECT_EQ(old.body(), wav_body);
  const auto last = ask(11, "close");
  EXPECT_EQ(last.version(), 11u);
  EXPECT_EQ(last["X-Cache"], "HIT");
  EXPECT_EQ(last[http::field::connection], "close");
  EXPECT_EQ(last.body(), wav_body);
  beast::error_code ec;
  char byte = 0;
  socket.read_some(net::buffer(&byte, 1), ec);
  EXPECT_EQ(ec, net::error::eof);
  EXPECT_EQ(upstream.requests("/media/a.wav"), 1);
}

TEST_F(cache_through_proxy, NoStoreIsNeverCached) {
  upstream.add("/media/live.wav", media(wav_body, "audio/wav", {{"Cache-Control", "no-store"}}));
  start();
  // Not stored, so passed on unchanged: X-Cache marks only what the cache serves or stores.
  EXPECT_EQ(get(port, "/media/live.wav").header("X-Cache"), "<none>");
  const reply again = get(port, "/media/live.wav");
  EXPECT_EQ(again.header("X-Cache"), "<none>");
  EXPECT_EQ(again.body, wav_body);
  EXPECT_EQ(upstream.requests("/media/live.wav"), 2);
  EXPECT_EQ(cache->entries(), 0u);
}

TEST_F(cache_through_proxy, PrivateIsNeverCached) {
  upstream.add("/media/mine.wav",
               media(wav_body, "audio/wav", {{"Cache-Control", "private, max-age=600"}}));
  start();
  get(port, "/media/mine.wav");
  EXPECT_EQ(get(port, "/media/mine.wav").header("X-Cache"), "<none>");
  EXPECT_EQ(upstream.requests("/media/mine.wav"), 2);
  EXPECT_EQ(sink.wait_for(2), 2u);  // both captured
}

TEST_F(cache_through_proxy, RequestWithCredentialsIsNeverServedFromTheCache) {
  upstream.add("/media/hello.wav", media(wav_body));
  start();
  EXPECT_EQ(get(port, "/media/hello.wav").header("X-Cache"), "MISS");
  EXPECT_EQ(get(port, "/media/hello.wav").header("X-Cache"), "HIT");

  const reply with_auth = get(port, "/media/hello.wav", {{"Authorization", "Basic dTpw"}});
  EXPECT_EQ(with_auth.status, 200);
  EXPECT_EQ(with_auth.header("X-Cache"), "<none>");  // the cache was not even consulted
  const reply with_cookie = get(port, "/media/hello.wav", {{"Cookie", "session=1"}});
  EXPECT_EQ(with_cookie.header("X-Cache"), "<none>");
  EXPECT_EQ(upstream.requests("/media/hello.wav"), 3);
  EXPECT_EQ(sink.wait_for(3), 3u);  // forwarded and captured like any exchange
}

TEST_F(cache_through_proxy, ApiRouteIsNeverCached) {
  upstream.add("/media/hello.wav", media(wav_body));
  start();
  const reply first = get(port, "/api/hello.wav");
  EXPECT_EQ(first.status, 200);
  EXPECT_EQ(first.header("X-Cache"), "<none>");
  EXPECT_EQ(get(port, "/api/hello.wav").header("X-Cache"), "<none>");
  EXPECT_EQ(upstream.requests("/media/hello.wav"), 2);
  EXPECT_EQ(cache->entries(), 0u);
}

TEST_F(cache_through_proxy, NonMediaIsNotCached) {
  upstream.add("/media/voice.xml",
               media("<Response><Play>hello.wav</Play></Response>", "application/xml"));
  start();
  get(port, "/media/voice.xml");
  // RCML passes through with its headers unchanged (docs/cache.md): no X-Cache.
  EXPECT_EQ(get(port, "/media/voice.xml").header("X-Cache"), "<none>");
  EXPECT_EQ(upstream.requests("/media/voice.xml"), 2);
}

TEST_F(cache_through_proxy, ExpiresAfterMaxAge) {
  upstream.add("/media/short.wav", media(wav_body, "audio/wav", {{"Cache-Control", "max-age=60"}}));
  start();
  EXPECT_EQ(get(port, "/media/short.wav").header("X-Cache"), "MISS");
  advance(59s);
  const reply hit = get(port, "/media/short.wav");
  EXPECT_EQ(hit.header("X-Cache"), "HIT");
  EXPECT_EQ(hit.header("Age"), "59");
  advance(1s);
  EXPECT_EQ(get(port, "/media/short.wav").header("X-Cache"), "MISS");
  EXPECT_EQ(upstream.requests("/media/short.wav"), 2);
  EXPECT_EQ(get(port, "/media/short.wav").header("X-Cache"), "HIT");  // refilled
}

TEST_F(cache_through_proxy, ExpiresAfterTtl) {
  upstream.add("/media/plain.wav", media(wav_body));
  start("ttl = \"5m\"\n");
  get(port, "/media/plain.wav");
  advance(299s);
  EXPECT_EQ(get(port, "/media/plain.wav").header("X-Cache"), "HIT");
  advance(1s);
  EXPECT_EQ(get(port, "/media/plain.wav").header("X-Cache"), "MISS");
  EXPECT_EQ(upstream.requests("/media/plain.wav"), 2);
}

TEST_F(cache_through_proxy, EvictsLeastRecentlyUsedAtMaxBytes) {
  const std::string body(10'000, 'x');
  for (const char* name : {"a", "b", "c"}) {
    upstream.add(std::string("/media/") + name + ".wav", media(body));
  }
  // An entry is 14 KiB on disk (the body on a 4 KiB boundary after its metadata): two fit.
  start("max_bytes = \"30KiB\"\nmax_object_bytes = \"16KiB\"\n");
  get(port, "/media/a.wav");
  get(port, "/media/b.wav");
  EXPECT_EQ(get(port, "/media/a.wav").header("X-Cache"), "HIT");  // a is now the fresher
  get(port, "/media/c.wav");                                      // b goes
  EXPECT_EQ(get(port, "/media/a.wav").header("X-Cache"), "HIT");
  EXPECT_EQ(get(port, "/media/c.wav").header("X-Cache"), "HIT");
  EXPECT_EQ(get(port, "/media/b.wav").header("X-Cache"), "MISS");
  EXPECT_EQ(upstream.requests("/media/b.wav"), 2);
  EXPECT_LE(cache->bytes(), 30u * 1024);
  EXPECT_GE(std::stoi(metric("sidecar_cache_evictions_total")), 1);
}

TEST_F(cache_through_proxy, ObjectAboveMaxObjectBytesIsNotCached) {
  upstream.add("/media/big.wav", media(std::string(20'000, 'b')));
  start("max_object_bytes = \"16KiB\"\n");
  EXPECT_EQ(get(port, "/media/big.wav").body.size(), 20'000u);
  EXPECT_EQ(get(port, "/media/big.wav").header("X-Cache"), "<none>");
  EXPECT_EQ(upstream.requests("/media/big.wav"), 2);
}

TEST_F(cache_through_proxy, SurvivesARestart) {
  upstream.add("/media/hold.ogg", media(wav_body, "audio/ogg"));
  start();
  EXPECT_EQ(get(port, "/media/hold.ogg").header("X-Cache"), "MISS");
  restart();
  advance(3s);
  const reply hit = get(port, "/media/hold.ogg");
  EXPECT_EQ(hit.header("X-Cache"), "HIT");
  EXPECT_EQ(hit.header("Age"), "3");
  EXPECT_EQ(hit.header("Content-Type"), "audio/ogg");
  EXPECT_EQ(hit.body, wav_body);
  EXPECT_EQ(upstream.requests("/media/hold.ogg"), 1);
}

TEST_F(cache_through_proxy, CrashLeftoverIsIgnoredAndRemoved) {
  upstream.add("/media/hello.wav", media(wav_body));
  start();
  get(port, "/media/hello.wav");
  stop();
  // What a crash mid-fill leaves: a truncated temporary file; and an entry torn short.
  const std::string url = "http://127.0.0.1:" + std::to_string(upstream.port()) + "/media/hello.wav";
  const fs::path entry = cache_dir() / (key_of(url) + ".entry");
  ASSERT_TRUE(fs::exists(entry));
  const fs::path leftover = cache_dir() / (key_of(url) + ".4242-0.tmp");
  fs::copy_file(entry, leftover);
  fs::resize_file(leftover, fs::file_size(entry) / 2);
  fs::resize_file(entry, fs::file_size(entry) - 1);

  start();
  EXPECT_FALSE(fs::exists(leftover));
  EXPECT_FALSE(fs::exists(entry));
  const reply miss = get(port, "/media/hello.wav");
  EXPECT_EQ(miss.header("X-Cache"), "MISS");
  EXPECT_EQ(miss.body, wav_body);
  const reply hit = get(port, "/media/hello.wav");
  EXPECT_EQ(hit.header("X-Cache"), "HIT");
  EXPECT_EQ(hit.body, wav_body);
  EXPECT_EQ(upstream.requests("/media/hello.wav"), 2);
}

TEST_F(cache_through_proxy, TwentyConcurrentMissesReachTheAppOnce) {
  // A slow app: every request arrives while the first is still being answered.
  upstream.add("/media/music.wav", media(wav_body, "audio/wav", {}, 300ms));
  start();
  std::vector<std::future<reply>> replies;
  for (int i = 0; i < 20; ++i) {
    replies.push_back(std::async(std::launch::async, [this] { return get(port, "/media/music.wav"); }));
  }
  int hits = 0, misses = 0;
  for (auto& f : replies) {
    const reply r = f.get();
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, wav_body);
    hits += r.header("X-Cache") == "HIT" ? 1 : 0;
    misses += r.header("X-Cache") == "MISS" ? 1 : 0;
  }
  EXPECT_EQ(upstream.requests("/media/music.wav"), 1);
  EXPECT_EQ(misses, 1);
  EXPECT_EQ(hits, 19);
  EXPECT_EQ(sink.wait_for(1), 1u);  // one Trace record, for the one fetch
  EXPECT_EQ(metric("sidecar_cache_hits_total"), "19");
}

TEST_F(cache_through_proxy, CaptureCountIsOneForTheMissAndNoneForHits) {
  upstream.add("/media/play.wav", media(wav_body));
  upstream.add("/media/sync.txt", media("sync", "text/plain"));
  start();
  get(port, "/media/play.wav");
  for (int i = 0; i < 10; ++i) EXPECT_EQ(get(port, "/media/play.wav").header("X-Cache"), "HIT");
  get(port, "/media/sync.txt");  // its capture comes after any the hits could have made
  EXPECT_EQ(sink.wait_for(2), 2u);
  EXPECT_EQ(sink.count(), 2u);
  EXPECT_EQ(upstream.requests("/media/play.wav"), 1);
}

TEST_F(cache_through_proxy, DisabledCacheForwardsEverything) {
  upstream.add("/media/hello.wav", media(wav_body));
  const std::string up = "http://127.0.0.1:" + std::to_string(upstream.port()) + "/media/";
  cfg = conf::parse("[proxy]\nlisten = \"127.0.0.1:0\"\n[[route]]\nprefix = \"/media/\"\n"
                    "upstream = \"" + up + "\"\n[cache]\nenabled = false\n",
                    "cache-test.toml");
  registry = std::make_unique<metrics::registry>();
  proxy = std::make_unique<proxy::server>(cfg, sink, *registry, nullptr);
  port = proxy->start({}).port();
  EXPECT_EQ(get(port, "/media/hello.wav").header("X-Cache"), "<none>");
  EXPECT_EQ(get(port, "/media/hello.wav").body, wav_body);
  EXPECT_EQ(upstream.requests("/media/hello.wav"), 2);
}

}  // namespace
}  // namespace sidecar::cache::testing
