// One client connection of the proxy (docs/proxy.md): a coroutine on one proxy thread's event
// loop (its `strand()`: the loop runs one thing at a time, so it needs no strand) that reads
// request heads, chooses each one's destination, answers from the media cache or runs an
// exchange (proxy/exchange.cpp), and keeps the connection alive between them. Its deadlines are
// one watchdog's (support/watchdog.hpp). Internal to the proxy: proxy/server.cpp spawns them.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "cache/media_cache.hpp"
#include "proxy/block_cache.hpp"
#include "proxy/cache_observer.hpp"
#include "proxy/capture_observer.hpp"
#include "proxy/destination.hpp"
#include "proxy/exchange_observer.hpp"
#include "proxy/message_writer.hpp"
#include "proxy/proxy_context.hpp"
#include "proxy/snapshot.hpp"
#include "proxy/upstream_pool.hpp"
#include "store/capture.hpp"
#include "support/head_parser.hpp"
#include "support/net.hpp"
#include "support/watchdog.hpp"

namespace sidecar::proxy {

class session : public std::enable_shared_from_this<session> {
 public:
  using clock = std::chrono::steady_clock;

  static constexpr std::size_t body_chunk = block_cache::block_size;  // one read or write of a body

  /// `ctx` outlives the session (the server waits for every session before it goes).
  /// `pool` is the keep-alive pool of the loop that `socket` runs on.
  session(proxy_context& ctx, upstream_pool& pool, tcp::socket socket);

  /// Serves the connection to its end. The coroutine shares the session.
  static net::awaitable<void> run(std::shared_ptr<session> self);

  /// stop(): an idle connection closes now; a busy one finishes its exchange (then closes)
  /// unless `hard`, which cancels everything. Called on the session's strand.
  void on_stop(bool hard);

  [[nodiscard]] const net::any_io_executor& strand() const { return strand_; }

 private:
  // What the watchdog cancels when a deadline passes.
  enum class phase : std::uint8_t { none, client, upstream, both };
  enum class head_status : std::uint8_t { ok, closed, bad, target_long, head_large };
  // A request read whole up to its body, or the local answer it gets instead.
  struct routed {
    destination dest;
    int refusal = 0;     // a local answer's status; 0: go on to dest
    bool close = false;  // the connection ends after the refusal
  };
  // What stops an exchange before its end, if anything (proxy/exchange.cpp).
  struct stop_reason {
    enum class kind : std::uint8_t { none, answer, end, bad_body, stale } how = kind::none;
    store::exchange_error error = store::exchange_error::none;
    // The sidecar's own 502/504 for `e`, recorded as the response.
    static stop_reason answer(store::exchange_error e) { return {kind::answer, e}; }
    // The connection ends with no answer (the client left, a deadline, shutdown).
    static stop_reason end(store::exchange_error e) { return {kind::end, e}; }
    // A malformed request body: the client gets 400.
    static stop_reason bad_body() {
      return {kind::bad_body, store::exchange_error::client_bad_body};
    }
    // A reused connection turned out stale: the request goes again on a fresh one.
    static stop_reason stale() { return {kind::stale, store::exchange_error::none}; }
  };
  struct exchange_state;

  // The connection (session.cpp).
  net::awaitable<void> serve();
  net::awaitable<bool> tls_handshake();
  // The next request's head: read_head() finds it in the bytes from the client, then
  // take_request_head() parses it into the parser.
  net::awaitable<head_status> read_head(bool first, std::size_t& head_len);
  void request_started(bool first);
  int take_request_head(head_status got, request_parser& parser, std::size_t head_len,
                        unsigned& version);
  // Where the request goes, or the local answer it gets: choose_route() for an origin-form
  // target (and CONNECT's refusal), with no wait; choose_forward() for an absolute-form one,
  // whose host is resolved first.
  [[nodiscard]] routed choose_route(const request_head& req);
  net::awaitable<routed> choose_forward(const request_head& req);
  // The destination is the caller's (serve() awaits the exchange): not copied onto frames.
  [[nodiscard]] bool uses_media_cache(const request_parser& parser, const destination& dest) const;
  net::awaitable<bool> forward_via_cache(request_parser& parser, const destination& dest,
                                         clock::time_point arrived,
                                         const exchange_observers& recorded);
  net::awaitable<bool> answer_local(int status, bool keep_alive, unsigned version);
  // Writes an answer of the sidecar's own; whether the connection may go on.
  net::awaitable<bool> write_answer(http::response<http::string_body>& res);
  net::awaitable<std::optional<cache::cache_fill>> look_up_cache(const proxied_request& req,
                                                                 const destination& dest,
                                                                 bool& answered, bool& keep);
  net::awaitable<bool> answer_from_cache(const cache::cache_hit& hit, unsigned version,
                                         bool keep_alive);
  net::awaitable<void> tunnel();
  // Whether the client closed or reset its connection (a non-blocking peek; data waiting,
  // such as a pipelined request, means it is still there).
  bool client_left();

  // One exchange (exchange.cpp). Returns whether the client connection may carry another
  // request.
  net::awaitable<bool> exchange(request_parser& parser, const destination& dest,
                                clock::time_point arrived, const exchange_observers& observers);
  void prepare_request(exchange_state& x);
  net::awaitable<stop_reason> send_request(exchange_state& x);
  bool take_ready_upstream(exchange_state& x);
  net::awaitable<stop_reason> open_upstream(exchange_state& x);
  net::awaitable<store::exchange_error> connect_upstream(const destination& dest);
  void start_sending(exchange_state& x);
  net::awaitable<stop_reason> send_head(const exchange_state& x);
  net::awaitable<stop_reason> send_body(exchange_state& x);
  stop_reason write_failed(exchange_state& x, const beast::error_code& ec, std::size_t written);
  [[nodiscard]] bool nothing_sent_on_pooled(const exchange_state& x, const beast::error_code& ec,
                                            std::size_t written) const;
  // A body piece (request or response) goes through the body buffer: start_piece() readies
  // it and fills it from the bytes already read if they suffice, else the read_*_piece
  // coroutine reads, and take_*_piece() passes the piece on.
  template <class Buffer, class Parser>
  std::optional<beast::error_code> start_piece(http::buffer_body::value_type& body, phase p,
                                               Buffer& buffered, Parser& parser);
  net::awaitable<beast::error_code> read_body_piece(exchange_state& x, bool watch_early);
  stop_reason take_body_piece(exchange_state& x, beast::error_code ec);
  net::awaitable<stop_reason> read_final_head(exchange_state& x);
  net::awaitable<stop_reason> continue_body(exchange_state& x, response_head& interim);
  [[nodiscard]] stop_reason head_failure(const exchange_state& x, const beast::error_code& ec,
                                         bool nothing_read) const;
  // Reads the upstream's response head into `p` within `limit`. Meanwhile, every
  // client_check, it looks whether the client has closed its side: then `client_gone` is set
  // and the read abandoned (plain-TCP upstreams only: a TLS read is not cut off half-way).
  net::awaitable<beast::error_code> read_upstream_head(response_parser& p,
                                                       std::chrono::milliseconds limit,
                                                       bool& client_gone, bool& nothing_read);
  net::awaitable<bool> write_interim(response_head& h);
  stop_reason adapt_response(exchange_state& x);
  net::awaitable<stop_reason> relay_response(exchange_state& x);
  net::awaitable<beast::error_code> read_response_piece(exchange_state& x);
  stop_reason take_response_piece(exchange_state& x, beast::error_code ec, bool head_relayed);
  [[nodiscard]] store::exchange_error cut_short(store::exchange_error on_timeout,
                                                store::exchange_error otherwise) const;
  void release_upstream(exchange_state& x);
  net::awaitable<bool> conclude(exchange_state& x, stop_reason stop);
  void record_local_answer(exchange_state& x, const http::response<http::string_body>& res);
  void finish(exchange_state& x, store::exchange_error error, bool upgraded = false);

  // Deadlines.
  void arm(std::chrono::milliseconds d, phase p) { watchdog_.arm(d, static_cast<std::uint8_t>(p)); }
  void cancel_phase(phase p);

  tcp::socket& client_socket() {
    return client_tls_ ? beast::get_lowest_layer(*client_tls_) : *client_plain_;
  }
  template <class F>
  auto visit_client(F&& f) {
    return client_tls_ ? f(*client_tls_) : f(*client_plain_);
  }
  /// One operation on the client's stream, awaited in place (support/net.hpp, on_stream).
  template <class Start>
  auto client_io(Start start) {
    return on_stream(client_tls_ ? &*client_tls_ : nullptr,
                     client_plain_ ? &*client_plain_ : nullptr, std::move(start));
  }
  char* body_buffer() {
    if (!body_buf_) body_buf_ = take_block();
    return body_buf_.get();
  }

  // How often a client is looked at while the upstream has not answered its request's head.
  static constexpr std::chrono::milliseconds client_check{1000};

  proxy_context& ctx_;
  upstream_pool& pool_;  // its loop's (proxy_context::pools)
  net::any_io_executor strand_;
  support::watchdog watchdog_;
  std::optional<tcp::socket> client_plain_;
  std::optional<beast::ssl_stream<tcp::socket>> client_tls_;
  // Both hold a block from the block cache while a request is being read (client_buf_ once
  // reserved to a whole chunk), and give it back while the connection is idle.
  beast::basic_flat_buffer<block_allocator<char>> client_buf_;
  block_ptr body_buf_;
  // What the wait for a next request reads into (read_head): the first bytes of a request
  // head and often its body, without holding a block while idle.
  std::array<char, 1024> idle_bytes_{};
  std::unique_ptr<upstream_connection> upstream_;
  // The client's address as X-Forwarded-For names it, formatted once per connection.
  std::string peer_text_;
  // A routed request's path with dot-segments resolved, and its target as it goes upstream
  // (lent to the exchange's destination, then taken back): a connection's requests reuse them.
  std::string path_buf_;
  std::string target_buf_;
  // The configuration this connection's current exchange uses: taken when the connection is
  // accepted (its TLS context) and again when each request head has arrived, then kept to the
  // exchange's end whatever a reload does meanwhile.
  std::shared_ptr<const snapshot> snap_;
  // The capture of each exchange, reused from one to the next.
  std::optional<capture_observer> capture_;
  // The parsers of the current request and response, renewed for each message with the
  // buffers of the last (head_parser::renew).
  std::optional<request_parser> request_parser_;
  std::optional<response_parser> response_parser_;
  // The current exchange's request as it goes upstream and response as it goes to the client;
  // their head buffers are reused from one exchange to the next.
  message_writer request_writer_;
  message_writer response_writer_;
  bool shutdown_ = false;  // stop() gave up waiting
  bool idle_ = false;      // waiting for a next request with nothing read
};

}  // namespace sidecar::proxy
