// The capture's error texts (the record's `error`), its memory accounting and its reuse.
#include "store/capture.hpp"

#include <utility>

namespace sidecar::store {

std::string_view describe(exchange_error e) {
  switch (e) {
    case exchange_error::none:
      return "";
    case exchange_error::upstream_resolve_failed:
      return "upstream name resolution failed";
    case exchange_error::upstream_connect_refused:
      return "upstream connect refused";
    case exchange_error::upstream_connect_timeout:
      return "upstream connect timeout";
    case exchange_error::upstream_unreachable:
      return "upstream unreachable";
    case exchange_error::upstream_tls_failed:
      return "upstream TLS handshake failed";
    case exchange_error::upstream_closed:
      return "upstream closed the connection without a response";
    case exchange_error::upstream_response_timeout:
      return "upstream response timeout";
    case exchange_error::upstream_bad_response:
      return "upstream sent a malformed response";
    case exchange_error::upstream_reset_mid_body:
      return "upstream reset mid-body";
    case exchange_error::upstream_idle_timeout:
      return "upstream stalled mid-body";
    case exchange_error::client_closed:
      return "client closed the connection";
    case exchange_error::client_timeout:
      return "client stalled mid-body";
    case exchange_error::client_bad_body:
      return "client sent a malformed body";
    case exchange_error::shutdown:
      return "sidecar shutting down";
  }
  return "unknown error";  // a value outside the enum: still a failure worth recording
}

namespace {

std::size_t heap_size(const std::string& s) {
  // A string within its small buffer takes no heap; beyond it, its capacity (plus the NUL).
  return s.capacity() > std::string().capacity() ? s.capacity() + 1 : 0;
}

std::size_t heap_size(const field_list& f) { return heap_size(f.buffer()); }

}  // namespace

std::size_t capture::memory_size() const {
  std::size_t form = 0;
  if (request_form) {
    for (const auto* v : {&request_form->account_sid, &request_form->call_sid,
                          &request_form->message_sid, &request_form->sms_sid}) {
      if (*v) form += heap_size(**v);
    }
  }
  return sizeof(capture) + heap_size(client_address) + heap_size(route_account) +
         heap_size(route_prefix) + heap_size(method) + heap_size(upstream_url) +
         heap_size(request_headers) + heap_size(request_body.head) + heap_size(reason) +
         heap_size(response_headers) + heap_size(response_body.head) + form;
}

void capture::reset() {
  completed_at = {};
  latency = {};
  client_address.clear();
  direction = conf::direction::webhook;
  route_account.clear();
  route_prefix.clear();
  forward_proxy = false;
  capture_bodies = true;
  method.clear();
  upstream_url.clear();
  target_at = 0;
  request_headers.clear();
  request_body.head.clear();
  request_body.size = 0;
  request_form.reset();
  request_form_in_head = false;
  status_code = 0;
  reason.clear();
  response_headers.clear();
  response_body.head.clear();
  response_body.size = 0;
  sidecar_answered = false;
  upgraded = false;
  error = exchange_error::none;
  replay.reset();
  config.reset();
}

void capture::trim(std::size_t max_bytes) {
  // Freed by moving out (std::exchange): assigning an empty value would keep the buffer, as a
  // string moved from one within its small buffer keeps its own.
  for (std::string* s : {&client_address, &route_account, &route_prefix, &method, &upstream_url,
                         &reason, &request_body.head, &response_body.head}) {
    if (s->capacity() > max_bytes) std::exchange(*s, std::string());
  }
  for (field_list* f : {&request_headers, &response_headers}) {
    if (f->buffer().capacity() > max_bytes) std::exchange(*f, field_list());
  }
  request_form.reset();
  replay.reset();
  config.reset();
}

}  // namespace sidecar::store
