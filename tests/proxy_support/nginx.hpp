// A real nginx for the proxy's tests, started with a generated config in a temporary directory
// on 127.0.0.1:<free port> and stopped (SIGQUIT) at destruction. `server_block` is the body of
// its one server { } (locations); `http_block` goes beside it (log formats, upstreams).
#pragma once

#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <string>

#include "tests/proxy_support/harness.hpp"

namespace sidecar::testing {

class nginx_server {
 public:
  explicit nginx_server(const std::string& server_block, const std::string& http_block = "") {
    static int instance = 0;
    dir_ = std::filesystem::temp_directory_path() /
           ("sidecar-nginx-" + std::to_string(::getpid()) + "-" + std::to_string(++instance));
    std::filesystem::create_directories(dir_ / "www");
    {
      net::io_context ioc;
      tcp::acceptor a(ioc, tcp::endpoint(net::ip::make_address("127.0.0.1"), 0));
      port_ = a.local_endpoint().port();
    }
    const std::string d = dir_.string();
    std::ofstream(dir_ / "nginx.conf")
        << "worker_processes 1; daemon off; pid " << d << "/nginx.pid; error_log " << d
        << "/error.log;\nevents { worker_connections 512; }\n"
        << "http { access_log off; client_body_temp_path " << d << "/body;\n"
        << "  proxy_temp_path " << d << "/proxy; fastcgi_temp_path " << d << "/fcgi;\n"
        << "  uwsgi_temp_path " << d << "/uwsgi; scgi_temp_path " << d << "/scgi;\n"
        << http_block << "\n"
        << "  server { listen 127.0.0.1:" << port_ << "; root " << d << "/www;\n"
        << server_block << "\n  } }\n";
    pid_ = ::fork();
    if (pid_ == 0) {
      ::execlp("nginx", "nginx", "-c", (d + "/nginx.conf").c_str(), "-p", d.c_str(), nullptr);
      ::_exit(127);
    }
    // Ready when it accepts.
    eventually([&] {
      net::io_context ioc;
      tcp::socket s(ioc);
      beast::error_code ec;
      s.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port_), ec);
      return !ec;
    });
  }
  ~nginx_server() {
    ::kill(pid_, SIGQUIT);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  nginx_server(const nginx_server&) = delete;
  nginx_server& operator=(const nginx_server&) = delete;

  [[nodiscard]] std::uint16_t port() const { return port_; }
  /// The server's directory ("www/" is its root; logs written there by the config).
  [[nodiscard]] const std::filesystem::path& dir() const { return dir_; }

 private:
  std::filesystem::path dir_;
  std::uint16_t port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace sidecar::testing
