// The test upstream's implementation (see test_upstream.hpp for the behaviours by path).
#include "tests/proxy_support/test_upstream.hpp"

#include <atomic>
#include <charconv>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>

namespace sidecar::testing {

std::vector<std::string> received_request::values(std::string_view name) const {
  std::vector<std::string> out;
  for (const auto& [n, v] : headers) {
    if (beast::iequals(n, name)) out.push_back(v);
  }
  return out;
}

std::string received_request::value(std::string_view name) const {
  auto v = values(name);
  return v.empty() ? std::string() : v.front();
}

namespace {

// The responses of /raw/<name>, byte for byte.
std::string_view raw_answer(std::string_view target) {
  if (target == "/raw/te-identity") {
    return "HTTP/1.1 200 OK\r\nTransfer-Encoding: identity\r\nContent-Length: 5\r\n\r\nhello";
  }
  if (target == "/raw/204-with-length") {
    return "HTTP/1.1 204 No Content\r\nContent-Length: 5\r\nX-A: 1\r\n\r\n";
  }
  if (target == "/raw/bad-chunk-size") {
    return "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\nzz\r\nmore\r\n";
  }
  if (target == "/raw/bare-lf-chunks") {
    return "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n5\nworld\n0\n\n";
  }
  if (target == "/raw/head-chunked") {  // a HEAD's answer: the head of a chunked GET, no body
    return "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-A: 1\r\n\r\n";
  }
  if (target == "/raw/bad-first-chunk") {
    return "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n";
  }
  return {};
}

}  // namespace

class test_upstream::impl {
 public:
  explicit impl(ssl::context* tls) : tls_(tls), acceptor_(ioc_) {
    const tcp::endpoint ep(net::ip::make_address("127.0.0.1"), 0);
    acceptor_.open(ep.protocol());
    acceptor_.set_option(net::socket_base::reuse_address(true));
    acceptor_.bind(ep);
    acceptor_.listen();
    port_ = acceptor_.local_endpoint().port();
    net::co_spawn(ioc_, accept_loop(this), net::detached);
    thread_ = std::thread([this] { ioc_.run(); });
  }
  ~impl() {
    net::post(ioc_, [this] {
      beast::error_code ec;
      acceptor_.close(ec);
    });
    ioc_.stop();
    thread_.join();
  }

  [[nodiscard]] std::uint16_t port() const { return port_; }
  [[nodiscard]] std::size_t connections() const { return connections_.load(); }
  [[nodiscard]] std::size_t request_count() {
    std::lock_guard l(mu_);
    return requests_.size();
  }
  [[nodiscard]] std::vector<received_request> requests() {
    std::lock_guard l(mu_);
    return requests_;
  }
  [[nodiscard]] received_request last() {
    std::lock_guard l(mu_);
    return requests_.empty() ? received_request{} : requests_.back();
  }
  /// Whether an upstream connection saw its peer close (counted once per connection).
  [[nodiscard]] std::size_t peer_closes() const { return peer_closes_.load(); }

 private:
  static net::awaitable<void> accept_loop(impl* self) {
    for (;;) {
      auto [ec, s] = co_await self->acceptor_.async_accept(net::as_tuple(net::use_awaitable));
      if (ec) co_return;
      const std::size_t n = ++self->connections_;
      if (self->tls_) {
        net::co_spawn(self->ioc_, serve_tls(self, std::move(s), n), net::detached);
      } else {
        net::co_spawn(self->ioc_, serve_plain(self, std::move(s), n), net::detached);
      }
    }
  }
  static net::awaitable<void> serve_plain(impl* self, tcp::socket s, std::size_t n) {
    beast::tcp_stream stream(std::move(s));
    co_await self->serve(stream, n);
  }
  static net::awaitable<void> serve_tls(impl* self, tcp::socket s, std::size_t n) {
    beast::ssl_stream<beast::tcp_stream> stream(beast::tcp_stream(std::move(s)), *self->tls_);
    auto [ec] = co_await stream.async_handshake(ssl::stream_base::server,
                                                net::as_tuple(net::use_awaitable));
    if (ec) co_return;
    co_await self->serve(stream, n);
  }

  template <class Stream>
  net::awaitable<void> serve(Stream& stream, std::size_t conn) {
    constexpr auto tok = net::as_tuple(net::use_awaitable);
    beast::flat_buffer buf;
    std::vector<char> chunk(64 * 1024);
    for (;;) {
      http::request_parser<http::buffer_body> p;
      p.body_limit(boost::none);
      p.header_limit(1 << 20);
      auto [ec, n] = co_await http::async_read_header(stream, buf, p, tok);
      if (ec) {
        ++peer_closes_;
        co_return;
      }
      auto& req = p.get();
      received_request r;
      r.method = std::string(req.method_string());
      r.target = std::string(req.target());
      r.version = req.version();
      r.chunked = req.chunked();
      r.connection = conn;
      for (const auto& f : req) r.headers.emplace_back(f.name_string(), f.value());
      const std::string target = r.target.substr(0, r.target.find('?'));

      if (req[http::field::upgrade].find("h2c") != std::string_view::npos) {
        // An h2c-capable server: 101, its HTTP/2 SETTINGS frame, then whatever it reads is
        // answered with a marker, so that a tunnel through the proxy would show.
        record(r);
        const std::string switched =
            "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n" +
            std::string("\0\0\0\x04\0\0\0\0\0", 9);
        auto [wec, wn] = co_await net::async_write(stream, net::buffer(switched), tok);
        if (wec) co_return;
        for (;;) {
          auto [tec, tn] = co_await stream.async_read_some(net::buffer(chunk), tok);
          if (tec) co_return;
          auto [xec, xn] =
              co_await net::async_write(stream, net::buffer(std::string_view("H2C-TUNNEL")), tok);
          if (xec) co_return;
        }
      }
      if (target == "/ws" && beast::websocket::is_upgrade(req)) {
        record(r);
        http::request<http::empty_body> up;
        up.base() = req.base();
        beast::websocket::stream<Stream&> ws(stream);
        auto [aec] = co_await ws.async_accept(up, tok);
        if (aec) co_return;
        beast::flat_buffer wb;
        for (;;) {
          auto [rec, rn] = co_await ws.async_read(wb, tok);
          if (rec) co_return;
          ws.text(ws.got_text());
          auto [wec, wn] = co_await ws.async_write(wb.data(), tok);
          if (wec) co_return;
          wb.consume(wb.size());
        }
      }

      if (target == "/early401") {
        // Answers before reading the body, and closes with the body unread (a reset).
        record(r);
        const std::string_view denied =
            "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"test\"\r\n"
            "Content-Length: 12\r\nConnection: close\r\n\r\nunauthorized";
        co_await net::async_write(stream, net::buffer(denied), tok);
        beast::get_lowest_layer(stream).close();
        co_return;
      }
      if (const auto raw = raw_answer(target); !raw.empty()) {
        // A response written byte for byte; the connection then stays open for the next
        // request (so that what the proxy does is about the bytes, not about a close).
        while (!p.is_done()) {
          req.body().data = chunk.data();
          req.body().size = chunk.size();
          auto [rec, rn] = co_await http::async_read_some(stream, buf, p, tok);
          if (rec && rec != http::error::need_buffer) co_return;
        }
        record(r);
        auto [wec, wn] = co_await net::async_write(stream, net::buffer(raw), tok);
        if (wec) co_return;
        continue;  // the next request, if the proxy sends one on this connection
      }
      if (beast::iequals(req[http::field::expect], "100-continue") && target != "/nocontinue") {
        http::response<http::empty_body> cont{http::status::continue_, 11};
        auto [cec, cn] = co_await http::async_write(stream, cont, tok);
        if (cec) co_return;
      }
      // The body, streamed and counted.
      while (!p.is_done()) {
        req.body().data = chunk.data();
        req.body().size = chunk.size();
        auto [rec, rn] = co_await http::async_read_some(stream, buf, p, tok);
        if (rec == http::error::need_buffer) rec = {};
        if (rec) {
          ++peer_closes_;
          record(r);
          co_return;
        }
        const std::size_t got = chunk.size() - req.body().size;
        r.body_size += got;
        if (r.body.size() < (1u << 20)) r.body.append(chunk.data(), std::min<std::size_t>(got, (1u << 20) - r.body.size()));
      }
      const bool keep = req.keep_alive();
      const std::string content_type(req[http::field::content_type]);
      record(r);

      if (target == "/stall") {
        beast::get_lowest_layer(stream).expires_never();
        for (;;) {  // until the peer closes
          auto [sec, sn] = co_await stream.async_read_some(net::buffer(chunk), tok);
          if (sec) break;
        }
        ++peer_closes_;
        co_return;
      }
      if (target == "/close") co_return;
      if (target.starts_with("/slow/")) {  // answer as below, after N milliseconds
        net::steady_timer wait(stream.get_executor());
        wait.expires_after(std::chrono::milliseconds(std::stoi(target.substr(6))));
        co_await wait.async_wait(tok);
      }
      if (target == "/reset-mid") {
        std::string head = "HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\n" + std::string(1000, 'r');
        co_await net::async_write(stream, net::buffer(head), tok);
        beast::get_lowest_layer(stream).socket().set_option(net::socket_base::linger(true, 0));
        beast::get_lowest_layer(stream).close();
        co_return;
      }
      if (target.starts_with("/big/") || target.starts_with("/bigchunked/")) {
        const bool chunked = target.starts_with("/bigchunked/");
        std::uint64_t total = 0;
        const auto digits = target.substr(target.find('/', 1) + 1);
        std::from_chars(digits.data(), digits.data() + digits.size(), total);
        http::response<http::buffer_body> res{http::status::ok, 11};
        res.set(http::field::content_type, "application/octet-stream");
        if (chunked) {
          res.chunked(true);
        } else {
          res.content_length(total);
        }
        res.keep_alive(keep);
        http::response_serializer<http::buffer_body> sr{res};
        std::fill(chunk.begin(), chunk.end(), 'x');
        std::uint64_t left = total;
        for (;;) {
          const std::size_t piece = static_cast<std::size_t>(std::min<std::uint64_t>(left, chunk.size()));
          res.body().data = piece ? chunk.data() : nullptr;
          res.body().size = piece;
          left -= piece;
          res.body().more = left > 0;
          auto [wec, wn] = co_await http::async_write(stream, sr, tok);
          if (wec == http::error::need_buffer) wec = {};
          if (wec) {
            ++peer_closes_;
            co_return;
          }
          if (sr.is_done()) break;
        }
        if (!keep) co_return;
        continue;
      }
      if (target == "/closedelim") {
        std::string text = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the end";
        co_await net::async_write(stream, net::buffer(text), tok);
        beast::error_code ignored;
        beast::get_lowest_layer(stream).socket().shutdown(tcp::socket::shutdown_send, ignored);
        co_return;
      }
      if (target == "/interim") {
        std::string early = "HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n";
        co_await net::async_write(stream, net::buffer(early), tok);
      }

      http::response<http::string_body> res{http::status::ok, 11};
      if (target.starts_with("/status/")) {
        res.result(static_cast<unsigned>(std::stoi(target.substr(8))));
      } else if (target == "/echo") {
        res.body() = r.body;
        if (!content_type.empty()) res.set(http::field::content_type, content_type);
      } else if (target == "/sink") {
        res.body() = std::to_string(r.body_size);
      } else {
        res.set(http::field::content_type, "text/plain");
        res.set("X-Upstream-Header", "yes");
        res.set(http::field::connection, "X-Hop");
        res.set("X-Hop", "dropped");
        res.body() = "hello " + target;
      }
      res.keep_alive(keep);
      if (res.result() != http::status::no_content && res.result() != http::status::not_modified) {
        res.prepare_payload();
      }
      auto [wec, wn] = co_await http::async_write(stream, res, tok);
      if (wec || !keep) co_return;
    }
  }

  void record(const received_request& r) {
    std::lock_guard l(mu_);
    requests_.push_back(r);
  }

  ssl::context* tls_;
  net::io_context ioc_;
  tcp::acceptor acceptor_;
  std::uint16_t port_ = 0;
  std::thread thread_;
  std::atomic<std::size_t> connections_{0};
  std::atomic<std::size_t> peer_closes_{0};
  std::mutex mu_;
  std::vector<received_request> requests_;
};


test_upstream::test_upstream(ssl::context* tls) : impl_(std::make_unique<impl>(tls)) {}
test_upstream::~test_upstream() = default;
std::uint16_t test_upstream::port() const { return impl_->port(); }
std::size_t test_upstream::connections() const { return impl_->connections(); }
std::size_t test_upstream::request_count() { return impl_->request_count(); }
std::vector<received_request> test_upstream::requests() { return impl_->requests(); }
received_request test_upstream::last() { return impl_->last(); }
std::size_t test_upstream::peer_closes() const { return impl_->peer_closes(); }

}  // namespace sidecar::testing
