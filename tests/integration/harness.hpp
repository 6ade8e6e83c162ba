// Test harness for the real trace-sidecar binary: start it with arguments, read its stderr
// and stdout as they come, signal it, wait for its exit; and a minimal HTTP/1.1 client and
// upstream over real sockets on 127.0.0.1. Every wait polls with a deadline.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <regex>
#include <string>
#include <string_view>
#include <vector>

namespace sidecar::testing_support {

using clock = std::chrono::steady_clock;
constexpr auto default_wait = std::chrono::seconds(20);

/// A running trace-sidecar (or any program), with its stdout and stderr piped to us.
class process {
 public:
  explicit process(std::vector<std::string> args) {
    int out[2];
    int err[2];
    if (::pipe2(out, O_CLOEXEC) != 0 || ::pipe2(err, O_CLOEXEC) != 0) std::abort();
    pid_ = ::fork();
    if (pid_ < 0) std::abort();
    if (pid_ == 0) {
      ::dup2(out[1], STDOUT_FILENO);
      ::dup2(err[1], STDERR_FILENO);
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    ::close(out[1]);
    ::close(err[1]);
    out_fd_ = out[0];
    err_fd_ = err[0];
  }
  ~process() {
    if (!exited_) {
      ::kill(pid_, SIGKILL);
      int status = 0;
      ::waitpid(pid_, &status, 0);
    }
    ::close(out_fd_);
    ::close(err_fd_);
  }
  process(const process&) = delete;
  process& operator=(const process&) = delete;

  [[nodiscard]] pid_t pid() const { return pid_; }
  [[nodiscard]] const std::string& err() const { return err_; }
  [[nodiscard]] const std::string& out() const { return out_; }

  /// Reads stderr until it matches `pattern`; the match and its groups, or nullopt at the
  /// deadline or when the program closed stderr without it.
  std::optional<std::vector<std::string>> wait_for_err(const std::regex& pattern,
                                                       clock::duration limit = default_wait) {
    const auto deadline = clock::now() + limit;
    for (;;) {
      std::smatch m;
      if (std::regex_search(err_, m, pattern)) {
        std::vector<std::string> groups;
        for (const auto& g : m) groups.push_back(g.str());
        return groups;
      }
      if (!pump(deadline)) return std::nullopt;
    }
  }

  /// Reads stdout until it contains `needle`; whether it did before the deadline (or the end
  /// of the output).
  bool wait_for_out(std::string_view needle, clock::duration limit = default_wait) {
    const auto deadline = clock::now() + limit;
    while (out_.find(needle) == std::string::npos) {
      if (!pump(deadline)) return false;
    }
    return true;
  }

  /// Sends a signal.
  void signal(int sig) const { ::kill(pid_, sig); }

  /// Waits for the exit (reading all output meanwhile); the exit code, or -1 when killed by
  /// a signal or still running at the deadline.
  int wait_exit(clock::duration limit = default_wait) {
    const auto deadline = clock::now() + limit;
    while (pump(deadline)) {
    }
    for (;;) {
      int status = 0;
      const pid_t r = ::waitpid(pid_, &status, WNOHANG);
      if (r == pid_) {
        exited_ = true;
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
      }
      if (clock::now() >= deadline) return -1;
      ::poll(nullptr, 0, 10);
    }
  }

 private:
  /// Reads whatever is available on both pipes; false once both are closed or at the
  /// deadline.
  bool pump(clock::time_point deadline) {
    if (out_open_ == false && err_open_ == false) return false;
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now());
    if (left.count() <= 0) return false;
    pollfd fds[2] = {{out_open_ ? out_fd_ : -1, POLLIN, 0}, {err_open_ ? err_fd_ : -1, POLLIN, 0}};
    const int n = ::poll(fds, 2, static_cast<int>(std::min<long>(left.count(), 100)));
    if (n < 0) return false;
    char buf[4096];
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      const ssize_t got = ::read(fds[i].fd, buf, sizeof buf);
      if (got <= 0) {
        (i == 0 ? out_open_ : err_open_) = false;
      } else {
        (i == 0 ? out_ : err_).append(buf, static_cast<std::size_t>(got));
      }
    }
    return true;
  }

  pid_t pid_ = -1;
  int out_fd_ = -1;
  int err_fd_ = -1;
  bool out_open_ = true;
  bool err_open_ = true;
  bool exited_ = false;
  std::string out_;
  std::string err_;
};

/// A listening TCP socket on 127.0.0.1 with a free port.
class listener {
 public:
  listener() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(fd_, 16) != 0) {
      std::abort();
    }
    socklen_t len = sizeof a;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
  }
  ~listener() { ::close(fd_); }
  listener(const listener&) = delete;
  listener& operator=(const listener&) = delete;

  [[nodiscard]] std::uint16_t port() const { return port_; }
  /// The next connection, or -1 at the deadline.
  [[nodiscard]] int accept(clock::duration limit = default_wait) const {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1,
               static_cast<int>(
                   std::chrono::duration_cast<std::chrono::milliseconds>(limit).count())) != 1) {
      return -1;
    }
    return ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
  }

 private:
  int fd_ = -1;
  std::uint16_t port_ = 0;
};

/// A connection to 127.0.0.1:port (-1 on failure).
inline int connect_to(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(port);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

inline bool send_all(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n <= 0) return false;
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

/// Reads into `into` until it contains `needle`, the peer closes, or the deadline; whether
/// `needle` was found. An empty needle reads to the end.
inline bool read_until(int fd, std::string& into, std::string_view needle,
                       clock::duration limit = default_wait) {
  const auto deadline = clock::now() + limit;
  char buf[4096];
  for (;;) {
    if (!needle.empty() && into.find(needle) != std::string::npos) return true;
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now()).count();
    if (left <= 0) return false;
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left)) != 1) return false;
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) return needle.empty();
    into.append(buf, static_cast<std::size_t>(n));
  }
}

/// One HTTP/1.1 request on a fresh connection with `Connection: close`; the whole response
/// as received (empty when the connection failed).
inline std::string http_exchange(std::uint16_t port, std::string_view method,
                                 std::string_view target, std::string_view extra_headers = "") {
  const int fd = connect_to(port);
  if (fd < 0) return {};
  std::string req = std::string(method) + " " + std::string(target) +
                    " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n" +
                    std::string(extra_headers) + "\r\n";
  std::string resp;
  if (send_all(fd, req)) read_until(fd, resp, "");
  ::close(fd);
  return resp;
}

/// The status code of a raw response ("HTTP/1.1 200 OK..." -> 200), or 0.
inline int status_of(std::string_view response) {
  if (response.size() < 12 || response.substr(0, 5) != "HTTP/") return 0;
  return std::atoi(std::string(response.substr(9, 3)).c_str());
}

/// The body of a raw response (everything after the head).
inline std::string body_of(std::string_view response) {
  const auto end = response.find("\r\n\r\n");
  return end == std::string_view::npos ? std::string() : std::string(response.substr(end + 4));
}

inline std::string base64(std::string_view in) {
  static constexpr char table[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    const unsigned v = static_cast<unsigned char>(in[i]) << 16 |
                       static_cast<unsigned char>(in[i + 1]) << 8 |
                       static_cast<unsigned char>(in[i + 2]);
    out += table[v >> 18 & 63];
    out += table[v >> 12 & 63];
    out += table[v >> 6 & 63];
    out += table[v & 63];
  }
  if (i + 1 == in.size()) {
    const unsigned v = static_cast<unsigned char>(in[i]) << 16;
    out += table[v >> 18 & 63];
    out += table[v >> 12 & 63];
    out += "==";
  } else if (i + 2 == in.size()) {
    const unsigned v =
        static_cast<unsigned char>(in[i]) << 16 | static_cast<unsigned char>(in[i + 1]) << 8;
    out += table[v >> 18 & 63];
    out += table[v >> 12 & 63];
    out += table[v >> 6 & 63];
    out += '=';
  }
  return out;
}

}  // namespace sidecar::testing_support
