// What the proxy observed of one exchange, as raw as it was seen: the seam between the proxy
// (which fills it on the request path) and the store (which turns it into a trace record on
// its writer thread, off the request path).
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "conf/config.hpp"
#include "store/field_list.hpp"
#include "store/form_scan.hpp"

namespace sidecar::store {

/// Header fields as a record holds them (store/trace_record.hpp).
using header_list = std::vector<std::pair<std::string, std::string>>;

/// Why an exchange did not run to its end. Each has a fixed text for the record's `error`.
enum class exchange_error : std::uint8_t {
  none,
  upstream_resolve_failed,    // "upstream name resolution failed"
  upstream_connect_refused,   // "upstream connect refused"
  upstream_connect_timeout,   // "upstream connect timeout"
  upstream_unreachable,       // "upstream unreachable"
  upstream_tls_failed,        // "upstream TLS handshake failed" (verification included)
  upstream_closed,            // "upstream closed the connection without a response"
  upstream_response_timeout,  // "upstream response timeout"
  upstream_bad_response,      // "upstream sent a malformed response"
  upstream_reset_mid_body,    // "upstream reset mid-body"
  upstream_idle_timeout,      // "upstream stalled mid-body"
  client_closed,              // "client closed the connection"
  client_timeout,             // "client stalled mid-body"
  client_bad_body,            // "client sent a malformed body" (answered 400)
  shutdown,                   // "sidecar shutting down"
};

/// The record's `error` text of a kind ("" for none).
[[nodiscard]] std::string_view describe(exchange_error e);

/// One body as it passed through: its first bytes and its full size.
struct captured_body {
  std::string head;        // at most store.body_limit bytes; empty when not kept
  std::uint64_t size = 0;  // every byte that passed (after de-chunking)

  bool operator==(const captured_body&) const = default;
};

/// A new member must be reset by reset() too: the test that resets a capture with every member
/// set compares it with a fresh one (tests/store/capture_test.cpp).
struct capture {
  // Times. `completed_at` is the wall clock when the response was complete or the exchange
  // ended (the record's date_created and its sid's time); `latency` is monotonic, from the
  // request head arriving to the last byte of the upstream's response.
  std::chrono::system_clock::time_point completed_at;
  std::chrono::steady_clock::duration latency{};

  // Where it came from and how it was routed.
  std::string client_address;  // "203.0.113.9:51234"
  conf::direction direction = conf::direction::webhook;
  std::string route_account;  // the route's `account` (or forward_account); "" when none
  std::string route_prefix;   // the route's `prefix` ("" for the forward proxy): access lines
  bool forward_proxy = false;  // an absolute-form request sent under forward_hosts
  bool capture_bodies = true;  // the route's capture_bodies

  // The request as sent upstream (hop-by-hop headers removed, Host and X-Forwarded-* set).
  std::string method;
  // The URL sent upstream: the origin as the proxy reached it (scheme://host[:port], no
  // userinfo), then from `target_at` on the target sent (path and query). One string, one
  // allocation; the proxy says where the target starts, so nobody parses the URL again.
  std::string upstream_url;
  std::size_t target_at = 0;
  field_list request_headers;  // in wire order, names as written
  captured_body request_body;
  // The attribution parameters of a webhook's form body (is_form_body), read from all of it as
  // it streamed, however much request_body kept; nullopt when the body is not a form: the
  // record then takes no parameter from it. Unless `request_form_in_head`: the form body came
  // whole and complete and request_body.head holds all of it, so it was not scanned on the
  // proxy thread; the record builder scans that head instead (the same scan, off the request
  // path; docs/records.md).
  std::optional<form_attribution> request_form;
  bool request_form_in_head = false;

  // The response as received from upstream; or the sidecar's own answer (502/504) when
  // `sidecar_answered`; status_code 0 when no response was given at all.
  int status_code = 0;
  std::string reason;
  field_list response_headers;
  captured_body response_body;
  bool sidecar_answered = false;
  bool upgraded = false;  // 101 and tunnelled; the record holds the handshake only

  exchange_error error = exchange_error::none;

  /// A replay through the API (docs/api.md, "Replay"): the record it replays and that record's
  /// account and session, which the new record keeps whatever the request says; the sid the
  /// API was promised (its time is completed_at's); and the names of headers whose values were
  /// supplied for this replay, recorded redacted like the configured ones. Empty otherwise.
  struct replay_origin {
    std::string of;
    std::string account_sid;
    std::string session_sid;
    std::string sid;
    std::vector<std::string> redact_headers;

    bool operator==(const replay_origin&) const = default;
  };
  std::optional<replay_origin> replay;

  /// The configuration the exchange ran under (accounts, redaction lists, body_limit): the
  /// record is built with it, so a reload between the exchange and its recording changes
  /// neither. Null: the store's own.
  std::shared_ptr<const conf::config> config;

  [[nodiscard]] std::string_view upstream_origin() const {
    return std::string_view(upstream_url).substr(0, target_at);
  }
  [[nodiscard]] std::string_view upstream_target() const {
    return std::string_view(upstream_url).substr(std::min(target_at, upstream_url.size()));
  }

  /// Bytes this capture holds in memory, for the writer queue's bound.
  [[nodiscard]] std::size_t memory_size() const;

  /// Back to a fresh capture's values, its strings and header lists keeping their capacity:
  /// the proxy builds each exchange into the buffers of an earlier capture (capture_sink).
  void reset();
  /// Frees the buffers of more than `max_bytes` and lets go of the configuration and the
  /// optional parts, for a capture kept only for its buffers (store/trace_writer.hpp).
  void trim(std::size_t max_bytes);

  bool operator==(const capture&) const = default;
};

/// Where the proxy hands captures. submit() never blocks and never throws: when the queue
/// is full the capture is dropped and counted, and false is returned (the capture left as it
/// was). An accepted capture may be traded for the buffers of an earlier one, whose contents
/// are then left over: the caller reset()s it before building the next exchange into it.
class capture_sink {
 public:
  virtual ~capture_sink() = default;
  virtual bool submit(capture&& c) noexcept = 0;
};

}  // namespace sidecar::store
