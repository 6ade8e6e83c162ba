// proxy/write_now: a message that the socket's send buffer takes whole is written and
// completed at once, inside the call (no turn of the event loop); one that does not fit goes out
// in part at once and the rest through async_write, completing with every byte counted once; a
// send that fails completes at once with its error; completions nested eight deep go through the
// loop. Real sockets on 127.0.0.1.
#include "proxy/write_now.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <thread>
#include <vector>

namespace sidecar::proxy {
namespace {

/// How a write completed: whether, with what error, how many bytes.
struct outcome {
  bool completed = false;
  beast::error_code result;
  std::size_t written = 0;
  auto handler() {
    return [this](beast::error_code ec, std::size_t n) {
      completed = true;
      result = ec;
      written = n;
    };
  }
};

class write_now_test : public ::testing::Test {
 protected:
  write_now_test() {
    writer_.connect(acceptor_.local_endpoint());
    acceptor_.accept(reader_);
  }

  /// Everything the reader's end receives until the writer's end is shut down.
  std::string read_all() {
    std::string got;
    beast::error_code ec;
    net::read(reader_, net::dynamic_buffer(got), ec);
    EXPECT_EQ(ec, net::error::eof);
    return got;
  }

  /// Writes text[i] and, from its completion, text[i + 1], and so on: each write nested in
  /// the one before, as an exchange writes body pieces parsed from bytes at hand.
  void write_chain(const std::vector<std::string>& text, std::vector<outcome>& done,
                   std::size_t i) {
    write_now(writer_, net::buffer(text[i]),
              [this, &text, &done, i](beast::error_code ec, std::size_t n) {
                done[i].handler()(ec, n);
                if (i + 1 < text.size()) write_chain(text, done, i + 1);
              });
  }

  net::io_context ioc_;
  tcp::acceptor acceptor_{ioc_, tcp::endpoint(net::ip::make_address("127.0.0.1"), 0)};
  tcp::socket writer_{ioc_};
  tcp::socket reader_{ioc_};
};

TEST_F(write_now_test, AMessageTheSocketTakesWholeCompletesInsideTheCall) {
  const std::string head = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n";
  const std::array<net::const_buffer, 3> pieces{net::buffer(head), net::const_buffer(),
                                                net::buffer("hello", 5)};
  outcome o;
  write_now(writer_, pieces, o.handler());
  EXPECT_TRUE(o.completed);  // before any handler of the loop has run
  EXPECT_EQ(ioc_.poll(), 0u);
  EXPECT_FALSE(o.result);
  EXPECT_EQ(o.written, head.size() + 5);
  writer_.shutdown(tcp::socket::shutdown_send);
  EXPECT_EQ(read_all(), head + "hello");
}

TEST_F(write_now_test, TheRestOfALargeMessageWaitsForTheSocketAndEveryByteIsCountedOnce) {
  writer_.set_option(net::socket_base::send_buffer_size(16 << 10));
  reader_.set_option(net::socket_base::receive_buffer_size(16 << 10));
  std::string first(3 << 20, 'a');
  std::string second(1 << 20, 'b');
  for (std::size_t i = 0; i < first.size(); i += 4096) first[i] = static_cast<char>('A' + i % 26);
  const std::array<net::const_buffer, 2> pieces{net::buffer(first), net::buffer(second)};
  outcome o;
  write_now(writer_, pieces, o.handler());
  EXPECT_FALSE(o.completed);  // the reader has read nothing: the socket took only a part
  std::string got;
  std::thread reader([&] { got = read_all(); });
  ioc_.run();
  ASSERT_TRUE(o.completed);
  EXPECT_FALSE(o.result);
  EXPECT_EQ(o.written, first.size() + second.size());
  writer_.shutdown(tcp::socket::shutdown_send);
  reader.join();
  EXPECT_TRUE(got == first + second);  // in order, nothing sent twice
}

TEST_F(write_now_test, ASendThatFailsCompletesInsideTheCallWithItsError) {
  writer_.shutdown(tcp::socket::shutdown_send);  // every send now fails: EPIPE
  outcome o;
  o.written = 1;  // so that the 0 below is the handler's
  write_now(writer_, net::buffer("late", 4), o.handler());
  EXPECT_TRUE(o.completed);
  EXPECT_EQ(o.result, net::error::broken_pipe);
  EXPECT_EQ(o.written, 0u);
}

TEST_F(write_now_test, WritesNestedPastEightLevelsWaitForTheLoop) {
  constexpr std::size_t pieces = 20;
  std::vector<std::string> text;
  for (std::size_t i = 0; i < pieces; ++i) text.push_back("piece " + std::to_string(i) + ";");
  std::vector<outcome> done(pieces);
  write_chain(text, done, 0);
  const auto completed = [&] { return std::ranges::count_if(done, &outcome::completed); };
  EXPECT_EQ(completed(), 8);  // the ninth went through async_write
  EXPECT_EQ(write_now_depth, 0u);
  ioc_.run();
  // Each piece completed without an error, its own bytes counted.
  std::vector<std::size_t> written;
  std::vector<std::size_t> expected;
  for (std::size_t i = 0; i < pieces; ++i) {
    written.push_back(done[i].completed && !done[i].result ? done[i].written : 0);
    expected.push_back(text[i].size());
  }
  EXPECT_EQ(written, expected);
  writer_.shutdown(tcp::socket::shutdown_send);
  std::string all;
  for (const auto& t : text) all += t;
  EXPECT_EQ(read_all(), all);
}

}  // namespace
}  // namespace sidecar::proxy
