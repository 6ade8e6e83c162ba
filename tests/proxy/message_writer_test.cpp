// The relay's message writer (proxy/message_writer.hpp): the bytes Beast's serializer writes
// for the same message and pieces, byte for byte, except after a response that has no body.
#include "proxy/message_writer.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace sidecar::proxy {
namespace {

using namespace std::literals;

std::string bytes_of(const message_writer::buffers& out) {
  std::string s;
  for (const auto& b : out) s.append(static_cast<const char*>(b.data()), b.size());
  return s;
}

// Each piece through the writer, the bytes of every write concatenated.
std::string written(message_writer& w, const std::vector<std::string>& pieces) {
  std::string s;
  for (std::size_t i = 0; i < pieces.size(); ++i) {
    s += bytes_of(w.next(pieces[i], i + 1 == pieces.size()));
    w.sent();
  }
  return s;
}

// The same message with Beast's basic_fields, the fields in the same order.
http::request<http::buffer_body> as_beast(const proxied_request& m) {
  http::request<http::buffer_body> out;
  out.method_string(m.method_string());
  out.target(m.target());
  out.version(m.version());
  for (const auto& f : m) out.insert(f.name_string(), f.value());
  return out;
}

http::response<http::buffer_body> as_beast(const proxied_response& m) {
  http::response<http::buffer_body> out;
  out.result(m.result_int());
  out.reason(m.reason());
  out.version(m.version());
  for (const auto& f : m) out.insert(f.name_string(), f.value());
  return out;
}

// The same pieces through Beast's serializer and a buffer_body, as the proxy streamed them.
template <bool IsRequest>
std::string beast_wrote(const http::message<IsRequest, http::buffer_body, head_fields>& ours,
                        const std::vector<std::string>& pieces) {
  auto m = as_beast(ours);
  std::string s;
  http::serializer<IsRequest, http::buffer_body> sr{m};
  for (std::size_t i = 0; i < pieces.size(); ++i) {
    m.body().data = pieces[i].empty() ? nullptr : const_cast<char*>(pieces[i].data());
    m.body().size = pieces[i].size();
    m.body().more = i + 1 < pieces.size();
    beast::error_code ec;
    while (!sr.is_done() && !ec) {
      sr.next(ec, [&](beast::error_code&, const auto& buffers) {
        std::size_t n = 0;
        for (const auto b : beast::buffers_range_ref(buffers)) {
          s.append(static_cast<const char*>(b.data()), b.size());
          n += b.size();
        }
        sr.consume(n);
      });
    }
    if (ec && ec != http::error::need_buffer) ADD_FAILURE() << ec.message();
  }
  return s;
}

proxied_request post(bool chunked) {
  proxied_request req{http::verb::post, "/apps/voice?x=1", 11};
  req.set(http::field::host, "app.example");
  req.set("X-Forwarded-For", "203.0.113.9, 127.0.0.1");
  req.set(http::field::content_type, "application/x-www-form-urlencoded");
  if (chunked) {
    req.chunked(true);
  } else {
    req.content_length(11);
  }
  return req;
}

TEST(message_writer, RequestWithALengthIsWhatBeastWrites) {
  auto req = post(false);
  const std::vector<std::string> pieces = {"hello ", "world"};
  message_writer w;
  w.start(req);
  const std::string ours = written(w, pieces);
  EXPECT_EQ(ours, beast_wrote(req, pieces));
  EXPECT_TRUE(ours.starts_with("POST /apps/voice?x=1 HTTP/1.1\r\nHost: app.example\r\n"));
  EXPECT_TRUE(ours.ends_with("\r\n\r\nhello world"));
  EXPECT_TRUE(w.done());
}

TEST(message_writer, ChunkedBodiesAreFramedAsBeastFramesThem) {
  const std::string big(300, 'x');  // a size of three hex digits: 12c
  for (const auto& pieces : std::vector<std::vector<std::string>>{
           {"abc", "", big, "xyz"},  // the last piece with data: its chunk, then the last chunk
           {"abc", big, ""},         // the last piece empty: the last chunk alone
           {""},                     // no body at all: the head and the last chunk
           {std::string(16, 'y')}}) {
    auto req = post(true);
    message_writer w;
    w.start(req);
    EXPECT_EQ(written(w, pieces), beast_wrote(req, pieces));
    EXPECT_TRUE(w.done());
  }
}

TEST(message_writer, StatusLineKeepsTheReasonOrGivesTheUsualOne) {
  for (const auto& [code, reason, version] :
       {std::tuple{404u, ""sv, 11u}, std::tuple{200u, "Fine"sv, 11u}, std::tuple{299u, ""sv, 10u},
        std::tuple{503u, "Busy Now"sv, 10u}}) {
    proxied_response res;
    res.result(code);
    res.reason(reason);
    res.version(version);
    res.set(http::field::content_type, "text/plain");
    res.content_length(2);
    const std::vector<std::string> pieces = {"ok"};
    message_writer w;
    w.start(res, true);
    EXPECT_EQ(written(w, pieces), beast_wrote(res, pieces)) << code;
  }
}

TEST(message_writer, HeadAloneThenTheBodyWithoutTheHeadAgain) {
  auto req = post(false);
  message_writer w;
  w.start(req);
  const std::string head = bytes_of(w.head_only());
  w.sent();
  EXPECT_TRUE(w.head_sent());
  EXPECT_FALSE(w.done());
  EXPECT_TRUE(head.ends_with("Content-Length: 11\r\n\r\n"));
  EXPECT_EQ(bytes_of(w.next("hello world", true)), "hello world");
  w.sent();
  EXPECT_TRUE(w.done());
}

TEST(message_writer, NothingIsDoneUntilTheBytesAreSent) {
  auto req = post(false);
  message_writer w;
  w.start(req);
  const std::string first = bytes_of(w.next("hello ", false));
  EXPECT_FALSE(w.head_sent());
  // A write that failed is not retried by the proxy; but a writer asked again still has the
  // head to send, since sent() was not called.
  EXPECT_EQ(bytes_of(w.next("hello ", false)), first);
  w.sent();
  EXPECT_EQ(bytes_of(w.next("world", true)), "world");
  EXPECT_FALSE(w.done());
  w.sent();
  EXPECT_TRUE(w.done());
}

TEST(message_writer, ResponseWithoutBodyIsItsHeadEvenWhenItSaysChunked) {
  proxied_response res{http::status::ok, 11};
  res.chunked(true);
  message_writer w;
  w.start(res, false);
  const std::string out = bytes_of(w.next({}, true));
  w.sent();
  EXPECT_EQ(out, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
  EXPECT_TRUE(w.done());
}

TEST(message_writer, ANewMessageForgetsThePreviousOne) {
  message_writer w;
  auto chunked = post(true);
  w.start(chunked);
  (void)w.next("abc", true);
  w.sent();
  proxied_request get{http::verb::get, "/next", 11};
  get.set(http::field::host, "a");
  w.start(get);
  EXPECT_FALSE(w.head_sent());
  EXPECT_EQ(bytes_of(w.next({}, true)), "GET /next HTTP/1.1\r\nHost: a\r\n\r\n");
}

}  // namespace
}  // namespace sidecar::proxy
