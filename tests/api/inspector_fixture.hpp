// The inspector tests' fixture (tests/api/inspector_test.cpp, curl_command_test.cpp,
// purge_test.cpp): the real API server over the real RocksDB trace_store, a shell runner, and a
// real HTTP server that keeps the last request it received.
#pragma once

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

#include "api/har.hpp"
#include "api/server.hpp"
#include "store/trace_record.hpp"
#include "store/trace_store.hpp"
#include "support/ascii.hpp"
#include "support/base64.hpp"
#include "support/net.hpp"
#include "support/text.hpp"
#include "support/utc_time.hpp"
#include "tests/api/test_support.hpp"

namespace sidecar::api::inspector_testing {

namespace fs = std::filesystem;
namespace json = boost::json;
using testing::accounts;
using testing::http_answer;
using testing::http_client;

inline std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

/// Runs a shell command line; its exit status and what it wrote on stdout and stderr.
struct run_result {
  int status = -1;
  std::string output;
};
inline run_result run(const std::string& command) {
  run_result r;
  FILE* p = ::popen((command + " 2>&1").c_str(), "r");
  if (p == nullptr) return r;
  char buf[4096];
  std::size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) r.output.append(buf, n);
  const int st = ::pclose(p);
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

/// A real HTTP server on 127.0.0.1:0 that answers 200 to every request and keeps the last
/// request it received, parsed by Beast from the bytes on the wire.
class capture_server {
 public:
  capture_server() : acceptor_(ioc_, tcp::endpoint(net::ip::make_address("127.0.0.1"), 0)) {
    thread_ = std::thread([this] { serve(); });
  }
  ~capture_server() {
    stop_ = true;
    beast::error_code ec;
    acceptor_.close(ec);
    // Wake the accept with a connection of our own.
    tcp::socket s(ioc_);
    s.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port_), ec);
    thread_.join();
  }
  [[nodiscard]] std::uint16_t port() const { return port_; }
  /// The last request received, waiting up to 10 s for one.
  std::optional<http::request<http::string_body>> last() {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, std::chrono::seconds(10), [this] { return got_.has_value(); });
    auto out = std::move(got_);
    got_.reset();
    return out;
  }

 private:
  void serve() {
    while (!stop_) {
      beast::error_code ec;
      tcp::socket s(ioc_);
      acceptor_.accept(s, ec);
      if (ec || stop_) return;
      beast::flat_buffer buf;
      http::request_parser<http::string_body> parser;
      parser.body_limit(1u << 26);
      http::read(s, buf, parser, ec);
      if (ec) continue;
      {
        const std::lock_guard lock(mu_);
        got_ = parser.release();
      }
      cv_.notify_all();
      http::response<http::string_body> res{http::status::ok, 11};
      res.body() = "ok";
      res.keep_alive(false);
      res.prepare_payload();
      http::write(s, res, ec);
    }
  }

  net::io_context ioc_;
  tcp::acceptor acceptor_;
  std::uint16_t port_ = acceptor_.local_endpoint().port();
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::condition_variable cv_;
  std::optional<http::request<http::string_body>> got_;
  std::thread thread_;
};

class inspector : public ::testing::Test {
 protected:
  store::trace_record make(const std::string& account, std::int64_t created_ms) {
    store::trace_record r = testing::sample_record(account, created_ms, rng_);
    r.account_friendly_name = "Friendly";
    r.session_sid = "CA" + std::to_string(created_ms);
    r.latency_ms = 250;
    r.request.path = "/apps/voice?From=%2B1555&To=a+b";
    r.request.url = "http://127.0.0.1:9000/apps/voice?From=%2B1555&To=a+b";
    r.request.headers = {{"content-type", "application/x-www-form-urlencoded"},
                         {"authorization", "Basic [REDACTED]"}};
    r.request.body.body = "CallSid=CA1&Digits=1";
    r.request.body.size = r.request.body.body.size();
    r.response.headers = {{"content-type", "application/xml"}};
    r.response.body.body = "<Response><Say>hello</Say></Response>";
    r.response.body.size = r.response.body.body.size();
    return r;
  }
  std::string put(store::trace_record r) { return env_.put(std::move(r)); }
  http_answer get(const std::string& target, const std::string& sid) {
    return http_client(env_.port).get(target, sid);
  }
  std::string traces(const std::string& account) {
    return "/2012-04-24/Accounts/" + account + "/Traces";
  }
  fs::path write(const std::string& name, const std::string& bytes) {
    const fs::path p = env_.dir() / name;
    std::ofstream(p, std::ios::binary) << bytes;
    return p;
  }
  /// har-validator's verdict on a HAR document ("" when valid); skips when npm's packages
  /// are not installed (scripts/install-deps installs them).
  std::string har_errors(const std::string& har) {
    const fs::path tools = fs::path(SIDECAR_SOURCE_DIR) / "tests" / "tools";
    if (!fs::exists(tools / "node_modules" / "har-validator")) return "skip";
    const auto r = run("node " + (tools / "validate_har.js").string() + " " +
                       write("answer.har", har).string());
    return r.status == 0 ? "" : r.output + " (status " + std::to_string(r.status) + ")";
  }

  testing::store_env env_;
  std::mt19937_64 rng_{7};
};

}  // namespace sidecar::api::inspector_testing
