// The capture of an exchange: see capture_observer.hpp.
#include "proxy/capture_observer.hpp"

#include <string>

#include "proxy/exchange_parts.hpp"
#include "store/access_line.hpp"
#include "support/log.hpp"

namespace sidecar::proxy {

namespace {

using clock = std::chrono::steady_clock;

// One line per exchange, at debug level only (docs/operations.md). The query string is left
// out: it may carry an AuthToken or a password, and no credential ever reaches a log line.
void log_exchange(const store::capture& cap) {
  std::string_view url = cap.upstream_url;
  url = url.substr(0, url.find('?', cap.target_at));
  const std::string status = std::to_string(cap.status_code);
  const std::string latency =
      std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(cap.latency).count());
  log::debug("exchange", {{"direction", conf::to_string(cap.direction)},
                          {"client", cap.client_address},
                          {"method", cap.method},
                          {"upstream", url},
                          {"status", status},
                          {"latency_ms", latency},
                          {"error", store::describe(cap.error)}});
}

// A webhook's form body attributes the record (AccountSid, CallSid...) from all of it, kept or
// not: it is scanned as it streams (store/form_scan.hpp).
bool scans_form(const exchange_start& start, conf::direction direction) {
  if (direction != conf::direction::webhook || !start.body_follows) return false;
  const auto& req = start.request;
  return store::is_form_body(req[http::field::content_type], req[http::field::content_encoding]);
}

}  // namespace

void capture_observer::request_head(const exchange_start& start) {
  const conf::route* route = start.dest.route;
  const auto& cfg = start.snap.cfg;
  // Built into the buffers the sink handed back for the last capture (store/capture.hpp): in
  // steady state the capture allocates nothing on this thread.
  capture_.reset();
  capture_.client_address = client_address_;
  capture_.direction = start.dest.direction();
  capture_.route_account = route != nullptr ? route->account : cfg->proxy.forward_account;
  if (route != nullptr) capture_.route_prefix = route->prefix;
  capture_.config = cfg;
  capture_.forward_proxy = route == nullptr;
  capture_.capture_bodies = route != nullptr ? route->capture_bodies : true;
  const auto method = start.request.method_string();
  capture_.method.assign(method.data(), method.size());
  capture_.upstream_url.reserve(start.dest.url_prefix().size() + start.dest.target.size());
  capture_.upstream_url.append(start.dest.url_prefix()).append(start.dest.target);
  capture_.target_at = start.dest.url_prefix().size();
  capture_.request_headers.assign(start.request);
  body_limit_ = cfg->store.body_limit;
  arrived_ = start.arrived;
  form_scan_.reset();
  form_body_ = scans_form(start, capture_.direction);
}

// A form body is scanned here only once it no longer fits whole in the kept head (or the head
// is not kept): until then the record builder can scan the head itself, on the store's writer
// thread, so most webhooks (a few hundred bytes) cost the proxy thread no scan at all.
void capture_observer::request_body(std::string_view piece) {
  auto& body = capture_.request_body;
  if (form_body_ && !form_scan_ &&
      (!capture_.capture_bodies || body.size + piece.size() > body_limit_)) {
    start_form_scan();
  }
  keep_head(body, piece.data(), piece.size(), body_limit_, capture_.capture_bodies);
  if (form_scan_) form_scan_->feed(piece);
}

// The scan of a form body that was kept whole so far: every byte of it is in the head.
void capture_observer::start_form_scan() {
  form_scan_.emplace();
  form_scan_->feed(capture_.request_body.head);
}

void capture_observer::response_head(const sidecar::response_head& head) {
  capture_.status_code = head.result_int();
  const auto reason = head.reason();
  capture_.reason.assign(reason.data(), reason.size());
  capture_.response_headers.assign(head);
}

void capture_observer::response_body(std::string_view piece) {
  // An api response's JSON sid or XML <Sid> names the session even when bodies are not kept:
  // the head is then read for that and dropped (store/record_builder.cpp).
  keep_head(capture_.response_body, piece.data(), piece.size(), body_limit_,
            capture_.capture_bodies || capture_.direction == conf::direction::api);
}

void capture_observer::response_complete() {
  if (capture_.latency == clock::duration::zero()) capture_.latency = clock::now() - arrived_;
}

// An answer of the sidecar's own, as the record's response (docs/records.md).
void capture_observer::local_answer(const http::response<http::string_body>& answer) {
  capture_.status_code = answer.result_int();
  const auto reason = answer.reason();
  capture_.reason.assign(reason.data(), reason.size());
  capture_.response_headers.assign(answer);
  const std::string& body = answer.body();
  if (capture_.capture_bodies) {
    capture_.response_body.head.assign(body, 0, body_limit_);
  } else {
    capture_.response_body.head.clear();
  }
  capture_.response_body.size = body.size();
  capture_.sidecar_answered = true;
}

void capture_observer::end(const exchange_end& how) {
  // Cut short while it still fitted: its complete pairs now, as the builder cannot tell.
  if (form_body_ && !form_scan_ && !how.request_complete) start_form_scan();
  if (form_scan_) {
    if (how.request_complete) form_scan_->finish();  // a cut body's last pair is not trusted
    capture_.request_form = std::move(*form_scan_).found();
  } else {
    capture_.request_form_in_head = form_body_;
  }
  capture_.error = how.error;
  capture_.upgraded = how.upgraded;
  capture_.completed_at = std::chrono::system_clock::now();
  // A tunnel's latency is its whole life; an exchange cut before its response was complete
  // ends now.
  if (how.upgraded || capture_.latency == clock::duration::zero()) {
    capture_.latency = clock::now() - arrived_;
  }
  if (log::enabled(log::level::debug)) log_exchange(capture_);
  // A capture the queue refused is left to us: its access line says so (the store writes the
  // others' once it knows their fate).
  if (!sink_.submit(std::move(capture_)) && log::access_enabled()) {
    store::log_access(capture_, {}, {}, "queue_full");
  }
}

}  // namespace sidecar::proxy
