// Shared pieces of the reliability tests: a real trace-sidecar process started from a config
// file (ports from its `listening` line), a small threaded HTTP/1.1 upstream whose behaviour
// each test chooses, keep-alive clients, and reads of the API and /metrics. Builds on the
// integration harness (process, sockets) rather than repeating it.
#pragma once

#include <sys/resource.h>

#include <atomic>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "tests/common/temp_dir.hpp"
#include "tests/integration/harness.hpp"

namespace sidecar::testing_support {

inline constexpr std::string_view account_sid = "ACae6e420f425248d6a26948c17a9e2acf";
inline constexpr std::string_view account_token = "reliability-token-5d1c9a7e20b4";

/// The sections of a config file; each test adds keys to the tables it needs. Listeners are on
/// 127.0.0.1:0 and logging is at debug level unless a test says otherwise.
struct config_text {
  std::string proxy;
  std::string api;
  std::string store;
  std::string log = "level = \"debug\"\n";
  std::string proxy_listen = "127.0.0.1:0";
  std::string api_listen = "127.0.0.1:0";
  /// [[route]] and [[account]] tables; empty: one route "/" to `upstream_port` and the test
  /// account.
  std::string tail;

  [[nodiscard]] std::string render(const std::filesystem::path& data,
                                   std::uint16_t upstream_port) const {
    std::string t = "[log]\n" + log + "\n[proxy]\nlisten = \"" + proxy_listen + "\"\n" + proxy +
                    "\n[api]\nlisten = \"" + api_listen + "\"\n" + api + "\n[store]\npath = \"" +
                    data.string() + "\"\n" + store + "\n[cache]\nenabled = false\n";
    if (!tail.empty()) return t + tail;
    return t + "\n[[account]]\nsid = \"" + std::string(account_sid) + "\"\nauth_token = \"" +
           std::string(account_token) +
           "\"\nfriendly_name = \"Reliability\"\ntraces = true\n\n[[route]]\nprefix = \"/\"\n"
           "upstream = \"http://127.0.0.1:" +
           std::to_string(upstream_port) + "/\"\naccount = \"" + std::string(account_sid) + "\"\n";
  }
};

/// "Authorization: Basic ..." for the test account (a header line with its CRLF).
inline std::string basic_auth(std::string_view sid = account_sid,
                              std::string_view token = account_token) {
  return "Authorization: Basic " + base64(std::string(sid) + ":" + std::string(token)) + "\r\n";
}

/// A trace-sidecar process started with a config file; its ports come from the `listening`
/// line. The process is killed (SIGKILL) when this goes out of scope unless it exited.
class sidecar_process {
 public:
  sidecar_process(const std::filesystem::path& config_file)
      : proc_(std::make_unique<process>(
            std::vector<std::string>{SIDECAR_BINARY, "--config", config_file.string()})) {
    static const std::regex listening(
        R"(msg=listening proxy=127\.0\.0\.1:(\d+) api=127\.0\.0\.1:(\d+))");
    if (const auto m = proc_->wait_for_err(listening, std::chrono::seconds(60))) {
      proxy_port_ = static_cast<std::uint16_t>(std::stoi(m->at(1)));
      api_port_ = static_cast<std::uint16_t>(std::stoi(m->at(2)));
    }
  }

  [[nodiscard]] bool started() const { return proxy_port_ != 0 && api_port_ != 0; }
  [[nodiscard]] std::uint16_t proxy_port() const { return proxy_port_; }
  [[nodiscard]] std::uint16_t api_port() const { return api_port_; }
  [[nodiscard]] process& proc() { return *proc_; }
  /// Everything the process wrote to stderr so far (reads what is pending first).
  const std::string& log() {
    proc_->wait_for_err(std::regex(R"([^\s\S])"), std::chrono::milliseconds(50));
    return proc_->err();
  }

  /// GET on the API listener (with the test account's credentials unless `auth` is given).
  std::string api_get(std::string_view target,
                      std::optional<std::string> auth = std::nullopt) const {
    return http_exchange(api_port_, "GET", target, auth ? *auth : basic_auth());
  }
  /// A metric's value from /metrics: `series` is the name with its labels exactly as
  /// rendered (`sidecar_records_dropped_total{reason="write_error"}`); -1 when absent.
  [[nodiscard]] double metric(std::string_view series) const {
    const std::string text = body_of(http_exchange(api_port_, "GET", "/metrics"));
    std::size_t at = 0;
    while ((at = text.find(series, at)) != std::string::npos) {
      const bool line_start = at == 0 || text[at - 1] == '\n';
      const std::size_t after = at + series.size();
      if (line_start && after < text.size() && text[after] == ' ') {
        return std::strtod(text.c_str() + after + 1, nullptr);
      }
      at = after;
    }
    return -1;
  }
  /// The `total` of the test account's trace list with `query` ("Status=failed&..."); -1 on
  /// an error answer.
  [[nodiscard]] long trace_total(std::string_view query = "") const {
    const std::string r =
        api_get("/2012-04-24/Accounts/" + std::string(account_sid) + "/Traces.json?PageSize=1" +
                (query.empty() ? "" : "&") + std::string(query));
    static const std::regex total(R"("total"\s*:\s*(\d+))");
    std::smatch m;
    if (status_of(r) != 200 || !std::regex_search(r, m, total)) return -1;
    return std::stol(m[1].str());
  }
  /// Polls until trace_total(query) >= n; the last total seen.
  long wait_for_traces(long n, std::string_view query = "",
                       clock::duration limit = default_wait) const {
    const auto deadline = clock::now() + limit;
    long seen = -1;
    while (clock::now() < deadline) {
      seen = trace_total(query);
      if (seen >= n) break;
      ::poll(nullptr, 0, 25);
    }
    return seen;
  }
  /// Every session_sid of the test account's traces (all pages, 1000 at a time).
  [[nodiscard]] std::vector<std::string> all_session_sids() const {
    std::vector<std::string> out;
    static const std::regex session(R"re("session_sid"\s*:\s*"([^"]*)")re");
    for (int page = 0;; ++page) {
      const std::string r = api_get("/2012-04-24/Accounts/" + std::string(account_sid) +
                                    "/Traces.json?PageSize=1000&Page=" + std::to_string(page));
      if (status_of(r) != 200) break;
      std::size_t before = out.size();
      for (std::sregex_iterator it(r.begin(), r.end(), session), end; it != end; ++it) {
        out.push_back((*it)[1].str());
      }
      if (out.size() - before < 1000) break;
    }
    return out;
  }

  /// SIGTERM and wait for the exit code.
  int terminate(clock::duration limit = std::chrono::seconds(30)) {
    proc_->signal(SIGTERM);
    return proc_->wait_exit(limit);
  }

 private:
  std::unique_ptr<process> proc_;
  std::uint16_t proxy_port_ = 0;
  std::uint16_t api_port_ = 0;
};

/// Writes the config for `dir` and starts a sidecar on it.
inline std::unique_ptr<sidecar_process> start_sidecar(const temp_dir& dir, const config_text& c,
                                                      std::uint16_t upstream_port,
                                                      std::filesystem::path data = {}) {
  if (data.empty()) data = dir / "data";
  const auto file = dir.write("sidecar.toml", c.render(data, upstream_port));
  return std::make_unique<sidecar_process>(file);
}

/// A request head read from a socket, and its Content-Length (0 when none).
struct request_head {
  std::string head;
  std::size_t content_length = 0;
};

inline std::optional<std::size_t> content_length_of(std::string_view head) {
  static const std::regex cl(R"(\r\n[Cc]ontent-[Ll]ength:\s*(\d+))");
  std::match_results<std::string_view::const_iterator> m;
  if (!std::regex_search(head.begin(), head.end(), m, cl)) return std::nullopt;
  return std::stoull(m[1].str());
}

/// Reads one request head into `buf` (which keeps what follows it); nullopt on EOF/deadline.
inline std::optional<request_head> read_request_head(int fd, std::string& buf,
                                                     clock::duration limit = default_wait) {
  if (!read_until(fd, buf, "\r\n\r\n", limit)) return std::nullopt;
  const auto end = buf.find("\r\n\r\n") + 4;
  request_head h{buf.substr(0, end), content_length_of(buf.substr(0, end)).value_or(0)};
  buf.erase(0, end);
  return h;
}

/// A threaded HTTP/1.1 upstream on 127.0.0.1: one thread per connection, each calling the
/// handler with the connected socket. The default handler answers every request (bodies by
/// Content-Length) with 200 and a small text body, keeping the connection alive.
class test_upstream {
 public:
  using handler = std::function<void(int fd)>;

  explicit test_upstream(handler h = {}) : handler_(h ? std::move(h) : handler(serve_ok)) {
    acceptor_ = std::jthread([this](std::stop_token stop) {
      while (!stop.stop_requested()) {
        const int fd = listener_.accept(std::chrono::milliseconds(100));
        if (fd < 0) continue;
        connections_.fetch_add(1);
        std::lock_guard lock(mu_);
        fds_.push_back(fd);
        threads_.emplace_back([this, fd] { handler_(fd); });
      }
    });
  }
  ~test_upstream() {
    acceptor_.request_stop();
    acceptor_.join();
    std::lock_guard lock(mu_);
    for (int fd : fds_) ::shutdown(fd, SHUT_RDWR);
    for (auto& t : threads_) t.join();
    for (int fd : fds_) ::close(fd);
  }
  test_upstream(const test_upstream&) = delete;
  test_upstream& operator=(const test_upstream&) = delete;

  [[nodiscard]] std::uint16_t port() const { return listener_.port(); }
  [[nodiscard]] int connections() const { return connections_.load(); }

  /// Answers requests with 200 "ok" until the peer closes.
  static void serve_ok(int fd) {
    std::string buf;
    for (;;) {
      const auto h = read_request_head(fd, buf, std::chrono::minutes(5));
      if (!h) return;
      if (buf.size() < h->content_length && !read_until_size(fd, buf, h->content_length)) return;
      buf.erase(0, h->content_length);
      if (!send_all(fd,
                    "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok")) {
        return;
      }
    }
  }

  /// Reads until `buf` holds at least `n` bytes; false on EOF or the deadline.
  static bool read_until_size(int fd, std::string& buf, std::size_t n,
                              clock::duration limit = default_wait) {
    const auto deadline = clock::now() + limit;
    char chunk[16384];
    while (buf.size() < n) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now()).count();
      if (left <= 0) return false;
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left)) != 1) return false;
      const ssize_t got = ::recv(fd, chunk, sizeof chunk, 0);
      if (got <= 0) return false;
      buf.append(chunk, static_cast<std::size_t>(got));
    }
    return true;
  }

 private:
  listener listener_;
  handler handler_;
  std::atomic<int> connections_{0};
  std::mutex mu_;
  std::vector<int> fds_;
  std::vector<std::jthread> threads_;
  std::jthread acceptor_;
};

/// A keep-alive client connection to the proxy: one request at a time, responses framed by
/// Content-Length.
class client_connection {
 public:
  explicit client_connection(std::uint16_t port) : fd_(connect_to(port)) {}
  ~client_connection() {
    if (fd_ >= 0) ::close(fd_);
  }
  client_connection(const client_connection&) = delete;
  client_connection& operator=(const client_connection&) = delete;

  [[nodiscard]] bool connected() const { return fd_ >= 0; }
  [[nodiscard]] int fd() const { return fd_; }

  /// Sends a request and reads its response; the status code, or 0 when the connection
  /// failed (then this connection is closed).
  int request(std::string_view method, std::string_view target, std::string_view body = "",
              std::string_view extra_headers = "") {
    if (fd_ < 0) return 0;
    std::string req = std::string(method) + " " + std::string(target) +
                      " HTTP/1.1\r\nHost: 127.0.0.1\r\n" + std::string(extra_headers);
    if (!body.empty() || method == "POST") {
      req += "Content-Length: " + std::to_string(body.size()) + "\r\n";
    }
    req += "\r\n";
    req += body;
    if (!send_all(fd_, req)) return fail();
    if (!read_until(fd_, buf_, "\r\n\r\n")) return fail();
    const auto end = buf_.find("\r\n\r\n") + 4;
    const std::string head = buf_.substr(0, end);
    const std::size_t length = content_length_of(head).value_or(0);
    if (!test_upstream::read_until_size(fd_, buf_, end + length)) return fail();
    last_body_ = buf_.substr(end, length);
    buf_.erase(0, end + length);
    return status_of(head);
  }
  [[nodiscard]] const std::string& last_body() const { return last_body_; }

 private:
  int fail() {
    ::close(fd_);
    fd_ = -1;
    return 0;
  }
  int fd_ = -1;
  std::string buf_;
  std::string last_body_;
};

/// Raises this process's open-file limit to its hard limit (children inherit it).
inline rlim_t raise_file_limit() {
  rlimit r{};
  ::getrlimit(RLIMIT_NOFILE, &r);
  r.rlim_cur = r.rlim_max;
  ::setrlimit(RLIMIT_NOFILE, &r);
  return r.rlim_cur;
}

/// The resident set size of a process in bytes (from /proc), or 0.
inline std::uint64_t rss_bytes(pid_t pid) {
  const std::string status = read_file("/proc/" + std::to_string(pid) + "/status");
  static const std::regex vm_rss(R"(VmRSS:\s*(\d+) kB)");
  std::smatch m;
  if (!std::regex_search(status, m, vm_rss)) return 0;
  return std::stoull(m[1].str()) * 1024;
}

/// Polls `ready` every 20 ms until it holds or the deadline passes; whether it held.
inline bool poll_until(const std::function<bool()>& ready, clock::duration limit = default_wait) {
  const auto deadline = clock::now() + limit;
  for (;;) {
    if (ready()) return true;
    if (clock::now() >= deadline) return false;
    ::poll(nullptr, 0, 20);
  }
}

}  // namespace sidecar::testing_support
