// head_fields against Beast's basic_fields: the same heads parsed, the same changes made, the
// same fields in the same order and the same answers to every question the proxy asks.
#include "support/head_fields.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <boost/beast/http/parser.hpp>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "support/ascii.hpp"
#include "support/head_parser.hpp"

namespace sidecar {
namespace {

using pairs = std::vector<std::pair<std::string, std::string>>;

template <class Fields>
pairs fields_of(const Fields& f) {
  pairs out;
  for (const auto& field : f) {
    out.emplace_back(std::string(field.name_string()), std::string(field.value()));
  }
  return out;
}

// The fields grouped by name, each name's values in their order. basic_fields moves a field
// next to the last one of its name when inserted; head_fields keeps wire order (docs/proxy.md,
// "Heads"): both keep the order of one name's values, which is the order that means something.
// The fields as write_lines writes them, and as HTTP writes them, field by field.
std::string lines_of(const head_fields& f) {
  std::string out(f.lines_size(), '\0');
  EXPECT_EQ(f.write_lines(out.data()), out.data() + out.size());
  return out;
}
std::string lines_one_by_one(const head_fields& f) {
  std::string out;
  for (const auto& field : f) {
    out.append(field.name_string()).append(": ").append(field.value()).append("\r\n");
  }
  return out;
}

template <class Fields>
pairs by_name(const Fields& f) {
  pairs out = fields_of(f);
  std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    return ascii::to_lower(a.first) < ascii::to_lower(b.first);
  });
  return out;
}

// Both parsers given the same bytes; the heads must agree on everything.
struct both_requests {
  http::request_parser<http::buffer_body> beast;
  request_parser ours;
  beast::error_code beast_ec, our_ec;

  explicit both_requests(std::string_view text) {
    beast.put(net::buffer(text.data(), text.size()), beast_ec);
    ours.put(net::buffer(text.data(), text.size()), our_ec);
  }
  void expect_same() {
    EXPECT_EQ(beast_ec, our_ec);
    const auto& b = beast.get();
    const auto& o = ours.get();
    EXPECT_EQ(by_name(b), by_name(o));
    EXPECT_EQ(b.method(), o.method());
    EXPECT_EQ(std::string(b.method_string()), std::string(o.method_string()));
    EXPECT_EQ(std::string(b.target()), std::string(o.target()));
    EXPECT_EQ(b.version(), o.version());
    EXPECT_EQ(b.keep_alive(), o.keep_alive());
    EXPECT_EQ(b.chunked(), o.chunked());
    EXPECT_EQ(b.has_content_length(), o.has_content_length());
    EXPECT_EQ(beast.upgrade(), ours.upgrade());
    EXPECT_EQ(beast.is_done(), ours.is_done());
    EXPECT_TRUE(beast.content_length_remaining() == ours.content_length_remaining());
  }
};

TEST(head_fields, ParsesARequestHeadAsBeastDoes) {
  both_requests r(
      "POST /rcml?x=1 HTTP/1.1\r\nHost: app.example.com\r\nContent-Type: "
      "application/x-www-form-urlencoded\r\nX-Custom:   padded value \t\r\nx-custom: second\r\n"
      "Connection: keep-alive, Upgrade\r\nUpgrade: websocket\r\nContent-Length: 5\r\n\r\nhello");
  r.expect_same();
  const auto& o = r.ours.get();
  EXPECT_EQ(o[http::field::host], "app.example.com");
  EXPECT_EQ(o["x-CUSTOM"], "padded value");  // the first, trimmed
  EXPECT_EQ(o.count("X-Custom"), 2u);
  EXPECT_EQ(o.count(http::field::content_length), 1u);
  EXPECT_EQ(o.find("Nope"), o.end());
}

TEST(head_fields, KeepsFieldsInWireOrder) {
  request_parser p;
  const std::string_view text = "GET / HTTP/1.1\r\nA: 1\r\nHost: h\r\na: 2\r\n\r\n";
  beast::error_code ec;
  p.put(net::buffer(text.data(), text.size()), ec);
  ASSERT_FALSE(ec);
  EXPECT_EQ(fields_of(p.get()), (pairs{{"A", "1"}, {"Host", "h"}, {"a", "2"}}));
}

TEST(head_fields, ParsesAResponseHeadAsBeastDoes) {
  const std::string_view text =
      "HTTP/1.1 404 Not Here\r\nContent-Type: text/plain\r\nTransfer-Encoding: gzip, chunked\r\n"
      "Connection: close\r\n\r\n";
  http::response_parser<http::buffer_body> beast;
  response_parser ours;
  beast::error_code beast_ec, our_ec;
  beast.put(net::buffer(text.data(), text.size()), beast_ec);
  ours.put(net::buffer(text.data(), text.size()), our_ec);
  EXPECT_EQ(beast_ec, our_ec);
  EXPECT_EQ(by_name(beast.get()), by_name(ours.get()));
  EXPECT_EQ(ours.get().result_int(), 404u);
  EXPECT_EQ(std::string(ours.get().reason()), "Not Here");
  EXPECT_TRUE(ours.get().chunked());
  EXPECT_FALSE(ours.get().keep_alive());
  EXPECT_EQ(beast.get().need_eof(), ours.get().need_eof());
}

TEST(head_fields, UnknownMethodKeepsItsName) {
  both_requests r("PURGEX /x HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n");
  r.expect_same();
  EXPECT_EQ(std::string(r.ours.get().method_string()), "PURGEX");
}

TEST(head_fields, ReadsAChunkedBodyIntoTheCallersBuffer) {
  const std::string_view text =
      "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n";
  request_parser p;
  beast::error_code ec;
  std::size_t used = p.put(net::buffer(text.data(), text.size()), ec);
  ASSERT_FALSE(ec);
  ASSERT_TRUE(p.is_header_done());
  std::string body;
  char buf[3];
  while (!p.is_done()) {
    p.get().body().data = buf;
    p.get().body().size = sizeof buf;
    used += p.put(net::buffer(text.data() + used, text.size() - used), ec);
    if (ec == http::error::need_buffer) ec = {};
    ASSERT_FALSE(ec) << ec.message();
    body.append(buf, sizeof buf - p.get().body().size);
  }
  EXPECT_EQ(body, "hello");
  EXPECT_EQ(used, text.size());
}

// Every change the proxy makes, made to both, in random orders and on random heads.
TEST(head_fields, ChangesAgreeWithBasicFields) {
  std::mt19937 rng(1234);
  const std::vector<std::string> names{"Host",           "Connection",          "Transfer-Encoding",
                                       "Content-Length", "X-Forwarded-For",     "Upgrade",
                                       "x-custom",       "Proxy-Authorization", "keep-alive"};
  const std::vector<std::string> values{"a",
                                        " spaced ",
                                        "close",
                                        "keep-alive",
                                        "gzip, chunked",
                                        "chunked",
                                        "Upgrade, close",
                                        "x, keep-alive, y",
                                        "identity"};
  for (int round = 0; round < 2000; ++round) {
    http::request<http::empty_body> b;
    http::message<true, http::empty_body, head_fields> o;
    const unsigned version = rng() % 2 == 0 ? 11 : 10;
    b.version(version);
    o.version(version);
    for (int step = 0; step < 12; ++step) {
      const std::string& name = names[rng() % names.size()];
      const std::string& value = values[rng() % values.size()];
      switch (rng() % 9) {
        case 0:
        case 1:
          b.insert(name, value);
          o.insert(name, value);
          break;
        case 2:
          b.set(name, value);
          o.set(name, value);
          break;
        case 3:
          EXPECT_EQ(b.erase(name), o.erase(name));
          break;
        case 4: {
          const bool keep = rng() % 2 == 0;
          b.keep_alive(keep);
          o.keep_alive(keep);
          break;
        }
        case 5: {
          const bool chunked = rng() % 2 == 0;
          b.chunked(chunked);
          o.chunked(chunked);
          break;
        }
        case 6: {
          const auto it = b.find(name);
          const auto ot = o.find(name);
          ASSERT_EQ(it == b.end(), ot == o.end());
          if (it != b.end()) {
            b.erase(it);
            o.erase(ot);
          }
          break;
        }
        case 7:
          b.target(value);
          o.target(value);
          break;
        default: {
          const auto n = rng() % 3 == 0 ? boost::optional<std::uint64_t>() : rng() % 1000;
          b.content_length(n);
          o.content_length(n);
        }
      }
      ASSERT_EQ(by_name(b), by_name(o)) << "round " << round << " step " << step;
      ASSERT_EQ(b.keep_alive(), o.keep_alive());
      ASSERT_EQ(std::string(b.target()), std::string(o.target()));
      for (const auto& n : names) {
        ASSERT_EQ(std::string(b[n]), std::string(o[n]));
        ASSERT_EQ(b.count(n), o.count(n));
      }
      ASSERT_EQ(b.chunked(), o.chunked());
      ASSERT_EQ(b.has_content_length(), o.has_content_length());
    }
  }
}

TEST(head_fields, AValueReadFromTheHeadItselfCanBeSetAgain) {
  request_head h;
  h.insert(http::field::host, "example.com");
  for (int i = 0; i < 100; ++i) h.insert("X-Pad", std::string(40, 'p'));  // the buffer grows
  h.set("X-Forwarded-Host", h[http::field::host]);
  h.target(h[http::field::host]);
  EXPECT_EQ(h["X-Forwarded-Host"], "example.com");
  EXPECT_EQ(h.target(), "example.com");
}

TEST(head_fields, PutHeadParsesItsOwnCopyOfTheHead) {
  std::string text = "POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\n";
  request_parser p;
  beast::error_code ec;
  EXPECT_EQ(p.put_head(text, ec), text.size());
  ASSERT_FALSE(ec);
  text.assign(text.size(), 'x');  // the bytes read are reused for the body
  EXPECT_EQ(fields_of(p.get()), (pairs{{"Host", "h"}, {"Content-Length", "3"}}));
  EXPECT_EQ(p.get().target(), "/x");
  EXPECT_TRUE(p.content_length_remaining() == std::uint64_t{3});
}

// A folded value (obs-fold, which Beast accepts in a response) is joined by Beast in a buffer
// of its own and stored while the held copy is being parsed: the copy must not move (ASan
// found it through the response fuzzer's corpus).
TEST(head_fields, AFoldedValueIsStoredWhileTheHeldHeadStaysPut) {
  std::string text = "HTTP/1.1 200 OK\r\nX-Folded: first\r\n second\r\n";
  for (int i = 0; i < 40; ++i) text += "X-F" + std::to_string(i) + ": a\r\n b\r\n c\r\n";
  text += "Content-Length: 0\r\n\r\n";
  response_parser p;
  beast::error_code ec;
  EXPECT_EQ(p.put(net::buffer(text), ec), text.size());
  ASSERT_FALSE(ec) << ec.message();
  EXPECT_EQ(p.get()["X-Folded"], "first second");
  EXPECT_EQ(p.get()["X-F39"], "a b c");
  EXPECT_EQ(p.get().size(), 42u);
}

// As the proxy reads an upstream's answer: a head in pieces, its body's first bytes behind it.
TEST(head_fields, PutStopsAfterAHeadThatArrivedWithItsBody) {
  const std::string text = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A: 1\r\n\r\nhello";
  response_parser p;
  beast::error_code ec;
  // No blank line yet: Beast may take the status line, not the fields.
  const std::size_t first = p.put(net::buffer(text.data(), 30), ec);
  EXPECT_EQ(ec, http::error::need_more);
  EXPECT_FALSE(p.is_header_done());
  const std::size_t head = text.size() - 5;
  EXPECT_EQ(p.put(net::buffer(text.data() + first, text.size() - first), ec), head - first);
  ASSERT_FALSE(ec);
  EXPECT_EQ(fields_of(p.get()), (pairs{{"Content-Length", "5"}, {"X-A", "1"}}));
  EXPECT_EQ(std::string(p.get().reason()), "OK");
  char body[8];
  p.get().body().data = body;
  p.get().body().size = sizeof body;
  EXPECT_EQ(p.put(net::buffer(text.data() + head, 5), ec), 5u);
  EXPECT_TRUE(p.is_done());
  EXPECT_EQ(std::string_view(body, sizeof body - p.get().body().size), "hello");
}

// Beast's parser and the proxy's, given the same message whole: the same verdict and, when
// the head parses, the same head and framing.
template <bool isRequest>
void expect_parsed_alike(std::string_view text, std::uint32_t limit = 8192) {
  http::parser<isRequest, http::buffer_body> beast;
  head_parser<isRequest> ours;
  beast.header_limit(limit);
  ours.header_limit(limit);
  beast::error_code beast_ec, our_ec;
  const std::size_t beast_used = beast.put(net::buffer(text.data(), text.size()), beast_ec);
  const std::size_t our_used = ours.put(net::buffer(text.data(), text.size()), our_ec);
  const std::string shown = testing::PrintToString(std::string(text));
  ASSERT_EQ(beast_ec, our_ec) << shown;
  ASSERT_EQ(beast.is_header_done(), ours.is_header_done()) << shown;
  if (beast_ec || !beast.is_header_done()) return;
  EXPECT_EQ(beast_used, our_used) << shown;
  const auto& b = beast.get();
  const auto& o = ours.get();
  EXPECT_EQ(by_name(b), by_name(o)) << shown;
  EXPECT_EQ(b.version(), o.version()) << shown;
  if constexpr (isRequest) {
    EXPECT_EQ(std::string(b.method_string()), std::string(o.method_string())) << shown;
    EXPECT_EQ(std::string(b.target()), std::string(o.target())) << shown;
  } else {
    EXPECT_EQ(b.result_int(), o.result_int()) << shown;
    EXPECT_EQ(std::string(b.reason()), std::string(o.reason())) << shown;
  }
  EXPECT_EQ(beast.keep_alive(), ours.keep_alive()) << shown;
  EXPECT_EQ(beast.upgrade(), ours.upgrade()) << shown;
  EXPECT_EQ(beast.chunked(), ours.chunked()) << shown;
  EXPECT_EQ(beast.need_eof(), ours.need_eof()) << shown;
  EXPECT_TRUE(beast.content_length() == ours.content_length()) << shown;
  EXPECT_EQ(lines_of(o), lines_one_by_one(o)) << shown;
}

// A plain head is split without Beast reading its fields (head_fields::split_plain): what Beast
// still reads is the first line and the fields its parser acts on.
TEST(head_fields, SplitsAPlainHeadAndLeavesBeastItsFramingLines) {
  head_fields h;
  const std::string_view held = h.hold(
      "HTTP/1.1 200 OK\r\nServer: nginx\r\nContent-Length:  12 \r\nX-Tab:\ta\tb\t\r\n"
      "Connection: keep-alive\r\nX-Empty:\r\nUpgrade: h2c\r\n\r\n");
  const auto for_beast = h.split_plain(held, false);
  ASSERT_TRUE(for_beast);
  // HTTP/1.1's default Connection tells Beast nothing: it is not copied.
  EXPECT_EQ(*for_beast, "HTTP/1.1 200 OK\r\nContent-Length:  12 \r\nUpgrade: h2c\r\n\r\n");
  EXPECT_EQ(fields_of(h), (pairs{{"Server", "nginx"},
                                 {"Content-Length", "12"},
                                 {"X-Tab", "a\tb"},
                                 {"Connection", "keep-alive"},
                                 {"X-Empty", ""},
                                 {"Upgrade", "h2c"}}));
  EXPECT_EQ(h.find(http::field::server)->name(), http::field::server);

  // In HTTP/1.0 it is what keeps the connection; a close or another token counts in 1.1.
  head_fields old;
  const auto old_copy = old.split_plain(
      old.hold("GET / HTTP/1.0\r\nConnection: keep-alive\r\nTransfer-Encoding: x\r\n\r\n"), true);
  ASSERT_TRUE(old_copy);
  EXPECT_EQ(*old_copy, "GET / HTTP/1.0\r\nConnection: keep-alive\r\nTransfer-Encoding: x\r\n\r\n");
  head_fields closing;
  const auto closing_copy = closing.split_plain(
      closing.hold("GET / HTTP/1.1\r\nConnection: close\r\nProxy-Connection: keep-alive\r\n\r\n"),
      true);
  ASSERT_TRUE(closing_copy);
  EXPECT_EQ(*closing_copy,
            "GET / HTTP/1.1\r\nConnection: close\r\nProxy-Connection: keep-alive\r\n\r\n");
}

// Anything but a plain head is left whole to Beast, with nothing added.
TEST(head_fields, LeavesEveryOtherHeadToBeast) {
  for (const std::string_view text :
       {"HTTP/1.1 200 OK\r\nX-Folded: a\r\n b\r\n\r\n", "HTTP/1.1 200 OK\r\nX-A: a\nb\r\n\r\n",
        "HTTP/1.1 200 OK\r\n: empty\r\n\r\n", "HTTP/1.1 200 OK\r\nX-A : a\r\n\r\n",
        "HTTP/1.1 200 OK\r\nX-A: a\x01\r\n\r\n", "HTTP/1.1 200 OK\r\nX-A: a\x7f\r\n\r\n",
        "\r\nHTTP/1.1 200 OK\r\n\r\n", "HTTP/1.1\t200 OK\r\n\r\n",
        "HTTP/1.1 200 OK\r\nX-A: a\r\r\n\r\n", "HTTP/1.1 200 OK\r\nX-A\r\n\r\n"}) {
    head_fields h;
    const std::string_view held = h.hold(text);
    EXPECT_FALSE(h.split_plain(held, false)) << testing::PrintToString(std::string(text));
    EXPECT_TRUE(h.empty());
  }
}

TEST(head_fields, SplitHeadsParseAsBeastParsesThem) {
  for (const std::string_view text : {
           "POST /rcml HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc",
           "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n",
           "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3, 3\r\n\r\nabc",
           "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n",
           "POST / HTTP/1.1\r\nContent-Length: x\r\n\r\n",
           "GET / HTTP/1.1\r\nConnection: Upgrade, close\r\nUpgrade: websocket\r\n\r\n",
           "GET / HTTP/1.1\r\nConnection: ,\r\n\r\n",
           "GET / HTTP/1.0\r\nProxy-Connection: keep-alive\r\n\r\n",
           "GET /\x80 HTTP/1.1\r\nX-Obs: caf\xc3\xa9\r\n\r\n",
           "GET / HTTP/1.1\r\nX-Folded: a\r\n\tb\r\n\r\n",
           "BREW / HTTP/1.1\r\nHost: h\r\n\r\n",
       }) {
    expect_parsed_alike<true>(text);
  }
  for (const std::string_view text : {
           "HTTP/1.1 200 OK\r\nServer: nginx\r\nContent-Length: 5\r\nConnection: "
           "keep-alive\r\n\r\n",
           "HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n",
           "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
           "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n",
           "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\n\r\n",
           "HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\nUpgrade: h2c\r\n\r\n",
           "HTTP/1.1 200\r\n\r\n",
           "HTTP/1.1 999 Odd\r\nX-A: 1\r\n\r\n",
           "HTTP/1.1 200 OK\r\nX-Folded: a\r\n b\r\nContent-Length: 0\r\n\r\n",
       }) {
    expect_parsed_alike<false>(text);
  }
  // Past the limit, Beast's own verdict (header_limit).
  expect_parsed_alike<false>("HTTP/1.1 200 OK\r\nX-Long: " + std::string(100, 'a') + "\r\n\r\n",
                             64);
}

// Random damage to real heads: every verdict, split or not, is Beast's.
TEST(head_fields, DamagedHeadsParseAsBeastParsesThem) {
  const std::vector<std::string> heads{
      "POST /rcml?CallSid=CA1 HTTP/1.1\r\nHost: app.example.com\r\nUser-Agent: TelScale\r\n"
      "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 9\r\n"
      "Connection: keep-alive\r\n\r\nFrom=%2B1",
      "HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nDate: Sun, 06 Dec 2026 18:00:00 GMT\r\n"
      "Content-Type: application/xml\r\nTransfer-Encoding: chunked\r\nConnection: "
      "keep-alive\r\n\r\n"};
  const std::string_view damage(
      "  \t\t::\r\n\r\n,,\x00\x7f\x80"
      "aA-1",
      20);
  std::mt19937 rng(2026);
  for (int round = 0; round < 4000; ++round) {
    std::string text = heads[round % 2];
    for (int hits = 1 + static_cast<int>(rng() % 3); hits > 0; --hits) {
      const std::size_t at = rng() % (text.size() - 2);
      const char c = damage[rng() % damage.size()];
      if (rng() % 2 == 0) {
        text[at] = c;
      } else {
        text.insert(at, 1, c);
      }
    }
    if (round % 2 == 0) {
      expect_parsed_alike<true>(text);
    } else {
      expect_parsed_alike<false>(text);
    }
    if (testing::Test::HasFailure()) return;
  }
}

// Runs of fields as read go out as they came; a field changed, added, or read with other
// spacing goes out as HTTP writes it; an erased one leaves no trace.
TEST(head_fields, WritesItsLinesAsHTTPWritesThem) {
  response_parser p;
  const std::string_view text =
      "HTTP/1.1 200 OK\r\nServer: nginx\r\nDate: today\r\nX-Spaced:  a \r\nX-Tight:b\r\n"
      "Connection: keep-alive\r\nContent-Length: 0\r\nX-Last: z\r\n\r\n";
  beast::error_code ec;
  p.put(net::buffer(text.data(), text.size()), ec);
  ASSERT_FALSE(ec);
  auto& h = p.get();
  EXPECT_EQ(lines_of(h),
            "Server: nginx\r\nDate: today\r\nX-Spaced: a\r\nX-Tight: b\r\n"
            "Connection: keep-alive\r\nContent-Length: 0\r\nX-Last: z\r\n");
  h.erase(http::field::connection);
  h.set(http::field::date, "tomorrow");
  h.insert("X-Forwarded-For", "10.0.0.1");
  EXPECT_EQ(lines_of(h),
            "Server: nginx\r\nX-Spaced: a\r\nX-Tight: b\r\nContent-Length: 0\r\nX-Last: z\r\n"
            "Date: tomorrow\r\nX-Forwarded-For: 10.0.0.1\r\n");
  head_fields built;
  built.insert("A", "1");
  built.insert("B", ": 2");
  EXPECT_EQ(lines_of(built), "A: 1\r\nB: : 2\r\n");
  EXPECT_EQ(lines_of(head_fields()), "");
}

TEST(head_fields, RecycleKeepsNoFieldButTheCapacity) {
  request_parser first;
  const std::string_view text = "GET /a HTTP/1.1\r\nHost: h\r\nX-A: 1\r\n\r\n";
  beast::error_code ec;
  first.put(net::buffer(text.data(), text.size()), ec);
  ASSERT_EQ(first.get().size(), 2u);
  request_parser second(std::move(static_cast<head_fields&>(first.get())));
  EXPECT_TRUE(second.get().empty());
  EXPECT_EQ(second.get().target(), "");
  second.put(net::buffer(text.data(), text.size()), ec);
  EXPECT_EQ(fields_of(second.get()), (pairs{{"Host", "h"}, {"X-A", "1"}}));
}

TEST(head_fields, ALargeHeadsBuffersAreNotKept) {
  std::optional<request_parser> p;
  request_parser::renew(p);
  const std::string big =
      "GET / HTTP/1.1\r\nHost: h\r\nX-Big: " + std::string(20000, 'b') + "\r\n\r\n";
  beast::error_code ec;
  p->header_limit(64 * 1024);
  p->put_head(big, ec);
  ASSERT_FALSE(ec);
  EXPECT_GT(p->get().held_bytes(), 20000u);
  head_fields kept;
  kept.recycle(std::move(static_cast<head_fields&>(p->get())));
  EXPECT_LE(kept.held_bytes(), head_fields::kept_bytes);
  request_parser again(std::move(kept));
  const std::string small = "GET / HTTP/1.1\r\nHost: h\r\n\r\n";
  again.put_head(small, ec);
  ASSERT_FALSE(ec);
  EXPECT_EQ(fields_of(again.get()), (pairs{{"Host", "h"}}));
  head_fields small_kept;
  small_kept.recycle(std::move(static_cast<head_fields&>(again.get())));
  EXPECT_GE(small_kept.held_bytes(), small.size());  // a usual head's buffer is kept
}

}  // namespace
}  // namespace sidecar
