// What an exchange tells the parts that watch it: the request as it goes upstream and its body,
// the response as it arrives and its body, the end. The capture (proxy/capture_observer.hpp)
// and the media cache's fill (proxy/cache_observer.hpp) are observers; the exchange knows
// neither the store nor the cache, and a new observer plugs in without touching it
// (docs/architecture.md, "The path of one exchange").
#pragma once

#include <array>
#include <cassert>
#include <chrono>
#include <cstddef>
#include <string_view>

#include "proxy/destination.hpp"
#include "proxy/snapshot.hpp"
#include "store/capture.hpp"
#include "support/head_fields.hpp"
#include "support/net.hpp"

namespace sidecar::proxy {

/// The request of one exchange, as it goes upstream (its fields rewritten: hop-by-hop removed,
/// Host and X-Forwarded-* set).
struct exchange_start {
  const snapshot& snap;  // the configuration the exchange keeps to its end
  const destination& dest;
  const request_head& request;
  bool body_follows;  // a request body is still to be read from the client
  std::chrono::steady_clock::time_point arrived;  // when the request head had arrived
};

/// How an exchange ended.
struct exchange_end {
  store::exchange_error error = store::exchange_error::none;
  bool request_complete = false;  // the client's request body was read to its end
  bool upgraded = false;          // a 101 whose tunnel has now closed
};

/// One watcher of exchanges. Its calls come in order, on the connection's strand, without
/// waiting: request_head, request_body*, then either response_head, client_head,
/// response_body*, response_complete, or local_answer (the sidecar answered itself), and end
/// always last. An observer is reused for the connection's next exchange after end.
class exchange_observer {
 public:
  virtual ~exchange_observer() = default;
  virtual void request_head(const exchange_start& start) = 0;
  virtual void request_body(std::string_view piece) = 0;
  /// The upstream's final head as it arrived.
  virtual void response_head(const sidecar::response_head& head) = 0;
  /// The same head as the client gets it, which an observer may mark (X-Cache).
  virtual void client_head(sidecar::response_head& head) = 0;
  virtual void response_body(std::string_view piece) = 0;
  /// The upstream's response has been read whole (the client may not have all of it yet).
  virtual void response_complete() = 0;
  /// An answer of the sidecar's own (400, 502, 504) stands for the upstream's response.
  virtual void local_answer(const http::response<http::string_body>& answer) = 0;
  virtual void end(const exchange_end& how) = 0;
};

/// The observers of one exchange: a few pointers, held without any allocation.
class exchange_observers {
 public:
  static constexpr std::size_t capacity = 4;

  void add(exchange_observer& o) {
    assert(count_ < capacity);
    list_[count_++] = &o;
  }
  template <class F>
  void each(F&& f) const {
    for (std::size_t i = 0; i < count_; ++i) f(*list_[i]);
  }

 private:
  std::array<exchange_observer*, capacity> list_{};
  std::size_t count_ = 0;
};

}  // namespace sidecar::proxy
