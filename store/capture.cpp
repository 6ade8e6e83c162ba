// The capture's error texts (the record's `error`) and its memory accounting.
#include "store/capture.hpp"

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
         heap_size(method) + heap_size(upstream_url) + heap_size(request_headers) +
         heap_size(request_body.head) + heap_size(reason) + heap_size(response_headers) +
         heap_size(response_body.head) + form;
}

}  // namespace sidecar::store
