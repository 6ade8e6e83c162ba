// A real HTTP/1.1 upstream for the proxy's tests: a Beast server on 127.0.0.1:0 (plain or
// TLS) with behaviours chosen by path, which records what it received so that tests can
// assert what the proxy sent.
//
//   /echo          200, the request body back (same Content-Type)
//   /sink          reads any body streaming, answers "<bytes>" (the size it counted)
//   /big/N         200 with an N-byte body, Content-Length; /bigchunked/N the same, chunked
//   /status/N      status N, no body (204, 304, 404...)
//   /interim       a 103 Early Hints, then 200
//   /stall         reads the request, never answers
//   /close         reads the request, closes without answering
//   /reset-mid     200 with Content-Length 1000000, sends 1000 bytes, then resets
//   /ws            WebSocket echo
//   Upgrade: h2c   (any path) 101 to HTTP/2 with a SETTINGS frame, then "H2C-TUNNEL" for any
//                  bytes read: an h2c-capable upstream
//   /closedelim    200 with no length: the body ends when the connection closes
//   /nocontinue    ignores Expect: 100-continue (waits for the body), then as below
//   /slow/N        answers as below after N milliseconds
//   /early401      401 before reading the body, then closes (resetting the unread body)
//   /raw/NAME      a response byte for byte (te-identity, 204-with-length, bad-chunk-size,
//                  bare-lf-chunks, bad-first-chunk), then the connection stays open
//   anything else  200 "hello <target>"
// Expect: 100-continue is answered with a 100 before the body is read.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "support/net.hpp"

namespace sidecar::testing {

struct received_request {
  std::string method;
  std::string target;
  unsigned version = 11;
  std::vector<std::pair<std::string, std::string>> headers;  // as on the wire, in order
  std::string body;          // first MiB
  std::uint64_t body_size = 0;
  bool chunked = false;
  std::size_t connection = 0;  // which upstream connection carried it (1-based)

  [[nodiscard]] std::vector<std::string> values(std::string_view name) const;
  [[nodiscard]] std::string value(std::string_view name) const;
};

/// Compiled once in tests/proxy_support/test_upstream.cpp: its coroutines (plain, TLS,
/// WebSocket) are the heaviest code the tests instantiate.
class test_upstream {
 public:
  explicit test_upstream(ssl::context* tls = nullptr);
  ~test_upstream();
  test_upstream(const test_upstream&) = delete;
  test_upstream& operator=(const test_upstream&) = delete;

  [[nodiscard]] std::uint16_t port() const;
  [[nodiscard]] std::size_t connections() const;
  [[nodiscard]] std::size_t request_count();
  [[nodiscard]] std::vector<received_request> requests();
  [[nodiscard]] received_request last();
  /// Whether an upstream connection saw its peer close (counted once per connection).
  [[nodiscard]] std::size_t peer_closes() const;

 private:
  class impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace sidecar::testing
