// The proxy thread's steady state, for the tests that count what it does per exchange
// (allocations, system calls): a webhook form POST, again and again on one keep-alive
// connection, through a real proxy::server on one thread to a real nginx, captures taken by a
// sink that drops them. The same request, the same response, one connection on each side: the
// counts are deterministic.
#pragma once

#include <gtest/gtest.h>
#include <pthread.h>

#include <atomic>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>

#include "tests/proxy_support/harness.hpp"
#include "tests/proxy_support/nginx.hpp"

namespace sidecar::testing {

/// Whether the calling thread is one of the proxy's ("proxy-N"). A thread's name is set after
/// it starts (its first allocations come before): only a "yes" is remembered.
inline bool on_proxy_thread() noexcept {
  thread_local bool known = false;
  if (known) return true;
  char name[16] = {};
  if (pthread_getname_np(pthread_self(), name, sizeof name) != 0) return false;
  known = std::strncmp(name, "proxy-", 6) == 0;
  return known;
}

/// The store's side is not the proxy's: captures are counted here, on the proxy thread, and
/// taken as the store's submit() takes them, an earlier capture's buffers given back for the
/// next (store/trace_writer.hpp, spare captures).
class dropping_sink : public store::capture_sink {
 public:
  bool submit(store::capture&& c) noexcept override {
    std::swap(c, held_);
    count.fetch_add(1, std::memory_order_relaxed);
    return true;
  }
  std::atomic<std::uint64_t> count{0};

 private:
  store::capture held_;
};

inline constexpr std::string_view webhook_form =
    "CallSid=IDbb44ef8c2ebf4d4599d0378a2a8a2ea8-CAd9e08ede8b604e739ba7d0bd477fdf49&InstanceId="
    "IDbb44ef8c2ebf4d4599d0378a2a8a2ea8&AccountSid=ACae6e420f425248d6a26948c17a9e2acf&From=%"
    "2B15551234567&To=%2B15557654321&CallStatus=ringing&ApiVersion=2012-04-24&Direction="
    "inbound&CallerName=null&ForwardedFrom=null&CallTimestamp=2026-11-28T01%3A02%3A03.456Z&"
    "FromCountry=US&ToCountry=US&FromState=CA&ToState=NY";

/// The proxy, its upstream and a client connected to it. run(n) makes n exchanges, each
/// awaited (one at a time); settled(n) waits until the sink has n captures (the capture of an
/// exchange is submitted after its response is written).
class keepalive_webhooks {
 public:
  keepalive_webhooks()
      : app_(R"(location / { return 200 '<Response><Say>hello</Say></Response>'; })",
             "keepalive_requests 100000;"),
        server_(config(app_.port()), sink, registry_, nullptr),
        client_(connect_to(ioc_, server_.start({}).port())) {}

  ~keepalive_webhooks() { server_.stop(std::chrono::milliseconds(500)); }

  void run(int n) {
    for (int i = 0; i < n; ++i) {
      send_all(client_, request_);
      const auto r = read_response(client_, buf_);
      ASSERT_FALSE(r.ec) << r.ec.message();
      ASSERT_EQ(r.res.result_int(), 200);
    }
  }

  [[nodiscard]] bool settled(std::uint64_t n) {
    return eventually([&] { return sink.count.load() == n; });
  }

  dropping_sink sink;

 private:
  static std::shared_ptr<conf::config> config(std::uint16_t app_port) {
    auto cfg = base_config();
    cfg->proxy.threads = 1;
    cfg->routes.push_back(route_to("/", upstream_at(app_port)));
    return cfg;
  }

  // A target longer than the 15 bytes a std::string holds inline, and the headers of
  // Restcomm's own webhook client.
  const std::string request_ =
      "POST /restcomm/voice.xml?CallSid=CA0a1b2c3d HTTP/1.1\r\nHost: app.example\r\n"
      "Content-Type: application/x-www-form-urlencoded; charset=UTF-8\r\nAccept: "
      "application/xml, text/xml\r\nUser-Agent: Apache-HttpClient/4.5.13 (Java/11.0.16)\r\n"
      "Content-Length: " +
      std::to_string(webhook_form.size()) + "\r\n\r\n" + std::string(webhook_form);
  nginx_server app_;
  metrics::registry registry_;
  proxy::server server_;
  net::io_context ioc_;
  tcp::socket client_;
  beast::flat_buffer buf_;
};

}  // namespace sidecar::testing
