// The capture of an exchange as an observer (proxy/exchange_observer.hpp): what the proxy saw,
// as raw as it was seen (store/capture.hpp), handed to the store's sink when the exchange ends,
// without waiting; and the exchange's debug log line.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "proxy/exchange_observer.hpp"
#include "store/capture.hpp"
#include "store/form_scan.hpp"

namespace sidecar::proxy {

class capture_observer final : public exchange_observer {
 public:
  /// `client_address` is the connection's peer ("203.0.113.9:51234"); `sink` outlives this.
  capture_observer(store::capture_sink& sink, std::string client_address)
      : sink_(sink), client_address_(std::move(client_address)) {}

  void request_head(const exchange_start& start) override;
  void request_body(std::string_view piece) override;
  void response_head(const sidecar::response_head& head) override;
  void client_head(sidecar::response_head& /*head*/) override {}
  void response_body(std::string_view piece) override;
  void response_complete() override;
  void local_answer(const http::response<http::string_body>& answer) override;
  void end(const exchange_end& how) override;

 private:
  void start_form_scan();

  store::capture_sink& sink_;
  const std::string client_address_;
  store::capture capture_;
  bool form_body_ = false;  // the request body is a form that attributes the record
  std::optional<store::form_scanner> form_scan_;  // started once it is not kept whole
  std::chrono::steady_clock::time_point arrived_;
  std::size_t body_limit_ = 0;
};

}  // namespace sidecar::proxy
