// Serving a media cache hit on its own, from an entry file written with entry_file: the head's
// text is byte for byte what Beast would serialise, the body streams from disk in bounded
// chunks (through user space) or whole with sendfile(2) on plain TCP, HEAD sends no body.
#include "cache/hit_writer.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include "tests/common/temp_dir.hpp"

namespace sidecar::cache {
namespace {

using std::chrono::seconds;

std::string body_of(std::size_t n) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + (i * 7 + i / 251) % 26);
  return s;
}

class hit_writer_test : public ::testing::Test {
 protected:
  /// A hit of `body` as the cache would hand it out: an entry file written and opened, its
  /// stored head (Content-Type, X-Origin) with `reason`, `age` old.
  std::optional<cache_hit> make_hit(std::string_view body, std::string reason = "OK",
                                    seconds age = seconds{0}) {
    auto meta = std::make_shared<entry_meta>();
    meta->url = "http://127.0.0.1:9000/media/a.wav";
    meta->reason = std::move(reason);
    meta->headers = {{"Content-Type", "audio/wav"}, {"X-Origin", "app"}};
    const auto path = dir_ / ("hit-" + std::to_string(++files_) + ".entry");
    {
      const file_handle out(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
      const auto head = entry_file::head_bytes(*meta);
      if (!out || !head || !entry_file::write_all(out.get(), *head) ||
          !entry_file::write_all(out.get(), body) ||
          !entry_file::set_body_size(out.get(), body.size())) {
        ADD_FAILURE() << "cannot write " << path;
        return std::nullopt;
      }
      meta->body_offset = head->size();
      meta->body_size = body.size();
    }
    auto in = std::make_shared<file_handle>(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    return cache_hit(std::move(meta), std::move(in), age);
  }

  testing_support::temp_dir dir_;
  int files_ = 0;
};

/// Two connected TCP sockets on 127.0.0.1: a hit is written to `server` by a coroutine spawned
/// on `io`, and read from `client`.
struct socket_pair {
  net::io_context io;
  tcp::socket client{io};
  tcp::socket server{io};

  socket_pair() {
    tcp::acceptor acceptor(io, {net::ip::make_address("127.0.0.1"), 0});
    client.connect(acceptor.local_endpoint());
    acceptor.accept(server);
  }

  /// Runs `io` (the writer) while reading one response of at most `body_limit` body bytes.
  http::response<http::string_body> run_and_read(std::size_t body_limit) {
    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.body_limit(body_limit);
    beast::error_code read_error = net::error::would_block;
    http::async_read(client, buffer, parser,
                     [&](beast::error_code ec, std::size_t) { read_error = ec; });
    io.run();
    EXPECT_FALSE(read_error) << read_error.message();
    return parser.release();
  }
};

/// A stream that records the size of every write it is asked for.
struct recording_stream {
  tcp::socket& socket;
  std::size_t* largest_write;
  using executor_type = tcp::socket::executor_type;
  executor_type get_executor() { return socket.get_executor(); }
  template <class Buffers, class Token>
  auto async_write_some(const Buffers& buffers, Token&& token) {
    *largest_write = std::max(*largest_write, net::buffer_size(buffers));
    return socket.async_write_some(buffers, std::forward<Token>(token));
  }
};

// The proxy sends head_text(); it must be byte for byte what Beast would have serialised
// from head() with the client's version and keep-alive.
TEST_F(hit_writer_test, HeadTextIsTheSerialisedHead) {
  const auto hit = make_hit("abc", "Fine", seconds{12});
  for (const unsigned version : {10u, 11u}) {
    for (const bool keep : {true, false}) {
      auto head = hit->head();
      head.version(version);
      head.keep_alive(keep);
      EXPECT_EQ(hit->head_text(version, keep), serialize_head(head)) << version << " " << keep;
    }
  }
  const std::string text = hit->head_text(11, true);
  EXPECT_EQ(text.rfind("HTTP/1.1 200 Fine\r\n", 0), 0u) << text;
  EXPECT_NE(text.find("\r\nAge: 12\r\n"), std::string::npos) << text;
  EXPECT_NE(text.find("\r\nX-Cache: HIT\r\n"), std::string::npos) << text;
  EXPECT_EQ(text.find("Connection"), std::string::npos) << text;
  EXPECT_NE(hit->head_text(10, true).find("\r\nConnection: keep-alive\r\n"), std::string::npos);
  EXPECT_NE(hit->head_text(11, false).find("\r\nConnection: close\r\n"), std::string::npos);
}

TEST_F(hit_writer_test, HitStreamsFromDiskInChunks) {
  const std::string body = body_of(1 << 20);
  const auto hit = make_hit(body);

  socket_pair sockets;
  std::size_t largest = 0;
  beast::error_code write_error = net::error::would_block;
  const auto head = hit->head();
  net::co_spawn(
      sockets.io,
      [](recording_stream s, http::response<http::empty_body> h, const cache_hit* hp,
         beast::error_code* out) -> net::awaitable<void> {
        *out = co_await write_hit(s, h, *hp, false, 16 * 1024);
        s.socket.shutdown(tcp::socket::shutdown_send);
      }(recording_stream{sockets.server, &largest}, head, &*hit, &write_error),
      net::detached);
  const auto res = sockets.run_and_read(2 << 20);
  EXPECT_FALSE(write_error) << write_error.message();
  EXPECT_EQ(res["X-Cache"], "HIT");
  EXPECT_EQ(res[http::field::age], "0");
  EXPECT_EQ(res["X-Origin"], "app");
  EXPECT_EQ(res.body().size(), body.size());
  EXPECT_TRUE(res.body() == body);
  // Never more than the head and one chunk per write: the file is not held in memory whole.
  EXPECT_LE(largest, serialize_head(head).size() + 16 * 1024);
}

TEST_F(hit_writer_test, HitOverPlainTcpIsSentWholeWithSendfile) {
  const std::string body = body_of(3 << 20);  // several times a socket buffer
  const auto hit = make_hit(body);

  socket_pair sockets;
  beast::error_code write_error = net::error::would_block;
  int writes = 0;
  net::co_spawn(
      sockets.io,
      [](tcp::socket* s, const cache_hit* h, beast::error_code* out,
         int* count) -> net::awaitable<void> {
        *out = co_await write_hit(*s, h->head(), *h, false, 64 * 1024, [count] { ++*count; });
        s->shutdown(tcp::socket::shutdown_send);
      }(&sockets.server, &*hit, &write_error, &writes),
      net::detached);
  const auto res = sockets.run_and_read(8 << 20);
  EXPECT_FALSE(write_error) << write_error.message();
  EXPECT_EQ(res["X-Cache"], "HIT");
  EXPECT_TRUE(res.body() == body);
  EXPECT_GE(writes, 2);  // the head, then the body (the idle deadline re-armed for each)
}

TEST_F(hit_writer_test, HeadOnlyHitSendsNoBody) {
  const auto hit = make_hit(body_of(5000));
  socket_pair sockets;
  net::co_spawn(
      sockets.io,
      [](tcp::socket& s, const cache_hit& h) -> net::awaitable<void> {
        co_await write_hit(s, h.head(), h, true);
        s.shutdown(tcp::socket::shutdown_send);
      }(sockets.server, *hit),
      net::detached);
  sockets.io.run();
  std::string received(100'000, '\0');
  beast::error_code ec;
  std::size_t total = 0;
  for (;;) {
    const std::size_t n =
        sockets.client.read_some(net::buffer(received.data() + total, received.size() - total), ec);
    total += n;
    if (ec) break;
  }
  received.resize(total);
  EXPECT_TRUE(received.starts_with("HTTP/1.1 200 OK\r\n"));
  EXPECT_NE(received.find("Content-Length: 5000\r\n"), std::string::npos);
  EXPECT_TRUE(received.ends_with("\r\n\r\n"));
}

}  // namespace
}  // namespace sidecar::cache
