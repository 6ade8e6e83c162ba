// A TCP proxy for the fleet's fault tests: forwards 127.0.0.1:port() to a target port, holding
// every chunk of bytes for `delay` in each direction (a slow ClickHouse or a slow network).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>

namespace sidecar::fleet::testing {

class delay_proxy {
 public:
  delay_proxy(std::uint16_t target_port, std::chrono::milliseconds delay);
  ~delay_proxy();
  delay_proxy(const delay_proxy&) = delete;
  delay_proxy& operator=(const delay_proxy&) = delete;
  [[nodiscard]] std::uint16_t port() const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace sidecar::fleet::testing
