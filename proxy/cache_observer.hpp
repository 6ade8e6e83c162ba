// The media cache's fill as an observer of the exchange that misses it
// (proxy/exchange_observer.hpp): the upstream's response head decides whether it is stored,
// its body goes to the entry's file as it streams, and the entry is in place when the
// upstream's response is complete, before the client has its last bytes, so that the next
// request finds it (docs/cache.md).
#pragma once

#include "cache/media_cache.hpp"
#include "proxy/exchange_observer.hpp"

namespace sidecar::proxy {

class cache_observer final : public exchange_observer {
 public:
  /// `fill` outlives the exchange; one that is never committed aborts when it is destroyed.
  explicit cache_observer(cache::cache_fill& fill) : fill_(fill) {}

  void request_head(const exchange_start& /*start*/) override {}
  void request_body(std::string_view /*piece*/) override {}
  // Before the head is adapted to the client.
  void response_head(const sidecar::response_head& head) override { fill_.start(head); }
  // Only a response the cache is storing is marked; any other passes unchanged.
  void client_head(sidecar::response_head& head) override {
    if (fill_.active()) head.set("X-Cache", "MISS");
  }
  void response_body(std::string_view piece) override {
    fill_.write(net::const_buffer(piece.data(), piece.size()));
  }
  void response_complete() override { fill_.commit(); }
  void local_answer(const http::response<http::string_body>& /*answer*/) override {}
  void end(const exchange_end& /*how*/) override {}

 private:
  cache::cache_fill& fill_;
};

}  // namespace sidecar::proxy
