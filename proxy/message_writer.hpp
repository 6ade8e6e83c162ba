// A relayed message as it goes on the wire: its head formatted once into one buffer, then each
// body piece framed (chunked, or as it is) and written after the head in one gathered write.
// It writes the bytes Beast's serializer wrote, without its view of a dozen buffers per head:
// a sixth of the proxy thread's instructions fewer (bench/README.md, session 15).
#pragma once

#include <array>
#include <cstddef>
#include <string>
#include <string_view>

#include "support/head_parser.hpp"
#include "support/net.hpp"

namespace sidecar::proxy {

class message_writer {
 public:
  /// The buffers of one write: the head (until it has gone), a chunk's size line, the piece,
  /// and a chunk's end (with the last chunk after it). Empty buffers are left in place.
  using buffers = std::array<net::const_buffer, 4>;

  /// A new message, its head formatted now: later changes to the fields are not seen. The
  /// body is chunked when the head says so (Transfer-Encoding: chunked), else sent as it is.
  void start(const proxied_request& head);
  /// A response without a body (to HEAD; 1xx, 204, 304) is its head alone, even when its head
  /// says chunked: Beast's serializer wrote a last chunk after it, which a client reads as the
  /// start of the next response (docs/proxy.md, "Decisions where the contract is silent").
  void start(const proxied_response& head, bool has_body);

  /// What to write next: the head if it has not gone yet, then `piece` framed; `last` ends
  /// the body (a chunked body's last chunk). The bytes stay valid until the next call; call
  /// sent() once they have all been written.
  [[nodiscard]] buffers next(std::string_view piece, bool last);
  /// The head alone (Expect: 100-continue: the body waits for the upstream's 100).
  [[nodiscard]] buffers head_only();
  void sent();

  [[nodiscard]] bool head_sent() const { return head_sent_; }
  /// The whole message has been written.
  [[nodiscard]] bool done() const { return done_; }

 private:
  void add_fields(const head_fields& fields);

  std::string head_;                 // its capacity is kept from one message to the next
  std::array<char, 18> size_buf_{};  // a chunk's size line: 16 hex digits at most, CRLF
  std::string_view size_line_;       // the part of size_buf_ in use
  std::string_view chunk_end_;       // CRLF, or CRLF and the last chunk
  bool chunked_ = false;
  bool has_body_ = true;
  bool head_sent_ = false;
  bool last_pending_ = false;  // the buffers handed out end the message
  bool done_ = false;
};

}  // namespace sidecar::proxy
