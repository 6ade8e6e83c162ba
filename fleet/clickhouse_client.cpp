// ClickHouse over HTTP with Beast (see clickhouse_client.hpp). Each call runs one coroutine on
// the client's own io_context until it is done; the coroutine refers to the client and to the
// call's locals by reference, which is safe because the caller is blocked in io.run() until
// the coroutine has finished.
#include "fleet/clickhouse_client.hpp"

#include <algorithm>
#include <boost/url/url.hpp>
#include <optional>

#include "support/base64.hpp"
#include "support/net.hpp"

namespace sidecar::fleet {

namespace {

using clock = std::chrono::steady_clock;

/// ClickHouse's "Code: 60, e.displayText() = ...": the number only.
int error_code_of(std::string_view body) {
  const auto at = body.find("Code: ");
  if (at == std::string_view::npos) return 0;
  int code = 0;
  for (std::size_t i = at + 6; i < body.size() && i < at + 12; ++i) {
    if (body[i] < '0' || body[i] > '9') break;
    code = code * 10 + (body[i] - '0');
  }
  return code;
}

}  // namespace

std::string_view clickhouse_answer::kind() const {
  switch (fail) {
    case failure::none:
      return "none";
    case failure::connect:
      return "connect";
    case failure::tls:
      return "tls";
    case failure::timeout:
      return "timeout";
    case failure::io:
      return "io";
    case failure::http:
      return "http";
    case failure::too_large:
      return "too_large";
  }
  return "io";
}

std::string clickhouse_answer::describe() const {
  switch (fail) {
    case failure::none:
      return "ok";
    case failure::connect:
      return "cannot connect to ClickHouse";
    case failure::tls:
      return "TLS with ClickHouse failed (certificate or handshake)";
    case failure::timeout:
      return "ClickHouse did not answer in time";
    case failure::io:
      return "the connection to ClickHouse failed";
    case failure::too_large:
      return "ClickHouse's answer was too large";
    case failure::http: {
      std::string s = "ClickHouse answered HTTP " + std::to_string(status);
      if (code != 0) s += " (ClickHouse error " + std::to_string(code) + ")";
      return s;
    }
  }
  return "failed";
}

struct clickhouse_client::impl {
  conf::clickhouse_url url;
  std::string authorization;
  std::chrono::milliseconds timeout;
  net::io_context io;
  ssl::context tls{ssl::context::tls_client};
  std::optional<beast::tcp_stream> plain;
  std::optional<ssl::stream<beast::tcp_stream>> secure;
  beast::flat_buffer buffer;
  bool connected = false;

  impl(conf::clickhouse_url u, const conf::fleet_config& f)
      : url(std::move(u)), timeout(f.timeout) {
    std::string credentials = f.user + ":" + f.password;
    authorization = "Basic ";
    base64::append_encoded(authorization, credentials);
    tls.set_default_verify_paths();
    if (f.ca) tls.load_verify_file(f.ca->string());
    tls.set_options(ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
  }

  beast::tcp_stream& lowest() { return secure ? beast::get_lowest_layer(*secure) : *plain; }

  void close() {
    beast::error_code ignored;
    if (secure || plain) lowest().socket().close(ignored);
    secure.reset();
    plain.reset();
    buffer.clear();
    connected = false;
  }

  net::awaitable<clickhouse_answer::failure> connect(clock::time_point deadline) {
    using f = clickhouse_answer::failure;
    auto token = net::as_tuple(net::use_awaitable);
    tcp::resolver resolver(io);
    // The resolver has no deadline of its own; a timer cancels it.
    net::steady_timer watchdog(io, deadline);
    watchdog.async_wait([&resolver](beast::error_code ec) {
      if (!ec) resolver.cancel();
    });
    auto [rec, results] =
        co_await resolver.async_resolve(url.host, std::to_string(url.port), token);
    watchdog.cancel();
    if (rec) co_return clock::now() >= deadline ? f::timeout : f::connect;
    if (url.https) {
      secure.emplace(io, tls);
    } else {
      plain.emplace(io);
    }
    lowest().expires_at(deadline);
    auto [cec, at] = co_await lowest().async_connect(results, token);
    if (cec) co_return cec == beast::error::timeout ? f::timeout : f::connect;
    lowest().socket().set_option(tcp::no_delay(true));
    if (secure) {
      beast::error_code addr_ec;
      (void)net::ip::make_address(url.host, addr_ec);
      if (addr_ec) SSL_set_tlsext_host_name(secure->native_handle(), url.host.c_str());
      secure->set_verify_mode(ssl::verify_peer);
      secure->set_verify_callback(ssl::host_name_verification(url.host));
      auto [hec] = co_await secure->async_handshake(ssl::stream_base::client, token);
      if (hec) co_return hec == beast::error::timeout ? f::timeout : f::tls;
    }
    connected = true;
    co_return f::none;
  }

  template <class Stream>
  net::awaitable<beast::error_code> exchange(Stream& s, http::request<http::string_body>& req,
                                             http::response_parser<http::string_body>& parser,
                                             bool& got_bytes) {
    auto token = net::as_tuple(net::use_awaitable);
    auto [wec, w] = co_await http::async_write(s, req, token);
    if (wec) co_return wec;
    auto [rec, r] = co_await http::async_read(s, buffer, parser, token);
    got_bytes = r > 0;
    co_return rec;
  }

  net::awaitable<void> run(http::request<http::string_body>& req, std::size_t limit,
                           clock::time_point deadline, clickhouse_answer& out) {
    using f = clickhouse_answer::failure;
    // A kept-alive connection may have been closed by the server meanwhile: one more try on
    // a fresh connection when the reused one fails before any answer arrived.
    for (int attempt = 0; attempt < 2; ++attempt) {
      const bool reused = connected;
      if (!connected) {
        out.fail = co_await connect(deadline);
        if (out.fail != f::none) {
          close();
          co_return;
        }
      }
      lowest().expires_at(deadline);
      http::response_parser<http::string_body> parser;
      parser.body_limit(limit);
      parser.header_limit(64 * 1024);
      bool got_bytes = false;
      const beast::error_code ec = secure ? co_await exchange(*secure, req, parser, got_bytes)
                                          : co_await exchange(*plain, req, parser, got_bytes);
      if (ec) {
        close();
        if (reused && !got_bytes && ec != beast::error::timeout) continue;
        out.fail = ec == beast::error::timeout     ? f::timeout
                   : ec == http::error::body_limit ? f::too_large
                                                   : f::io;
        co_return;
      }
      auto res = parser.release();
      out.status = res.result_int();
      if (!res.keep_alive()) close();
      if (out.status != 200) {
        out.fail = f::http;
        out.code = error_code_of(res.body());
        co_return;
      }
      out.fail = f::none;
      out.body = std::move(res.body());
      co_return;
    }
  }

  clickhouse_answer call(std::string target, std::string body, std::size_t limit,
                         clock::time_point deadline) {
    deadline = std::min(deadline, clock::now() + timeout);
    http::request<http::string_body> req{http::verb::post, target, 11};
    req.set(http::field::host, url.host);
    req.set(http::field::authorization, authorization);
    req.set(http::field::content_type, "text/plain; charset=utf-8");
    req.keep_alive(true);
    req.body() = std::move(body);
    req.prepare_payload();
    clickhouse_answer out;
    std::exception_ptr failed;
    net::co_spawn(io, run(req, limit, deadline, out),
                  [&failed](std::exception_ptr e) { failed = e; });
    io.restart();
    io.run();
    if (failed) {  // allocation failure and the like: the connection's state is unknown
      close();
      out = {};
      out.fail = clickhouse_answer::failure::io;
    }
    return out;
  }
};

clickhouse_client::clickhouse_client(conf::clickhouse_url url, const conf::fleet_config& fleet)
    : impl_(std::make_unique<impl>(std::move(url), fleet)) {}

clickhouse_client::~clickhouse_client() {
  if (impl_) impl_->close();
}

const conf::clickhouse_url& clickhouse_client::url() const { return impl_->url; }

clickhouse_answer clickhouse_client::query(std::string_view sql, std::size_t max_answer_bytes,
                                           std::chrono::steady_clock::time_point deadline) {
  // The whole answer is computed before it is sent, so an error half-way is an HTTP error,
  // never a truncated 200 (docs/fleet.md: no partial page).
  return impl_->call("/?wait_end_of_query=1", std::string(sql), max_answer_bytes, deadline);
}

clickhouse_answer clickhouse_client::insert(std::string_view insert_sql, std::string_view data,
                                            bool distributed_sync) {
  boost::urls::url target;
  target.set_path("/");
  target.params().append({"query", insert_sql});
  if (distributed_sync) target.params().append({"insert_distributed_sync", "1"});
  return impl_->call(std::string(target.encoded_target()), std::string(data), 1u << 20,
                     clock::time_point::max());
}

}  // namespace sidecar::fleet
