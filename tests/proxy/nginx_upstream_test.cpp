// The proxy in front of a real nginx (started by the test with a generated config): keep-alive
// reuse seen by nginx itself ($connection), a static file with its length, and a chunked
// upload read by nginx.
#include <csignal>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>
#include <sys/wait.h>

#include "tests/proxy_support/harness.hpp"

namespace sidecar::testing {
namespace {

class nginx_upstream {
 public:
  nginx_upstream() {
    dir_ = std::filesystem::temp_directory_path() / ("sidecar-nginx-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_ / "www");
    std::ofstream(dir_ / "www" / "file.bin") << std::string(300000, 'n');
    {
      net::io_context ioc;
      tcp::acceptor a(ioc, tcp::endpoint(net::ip::make_address("127.0.0.1"), 0));
      port_ = a.local_endpoint().port();
    }
    const std::string d = dir_.string();
    std::ofstream(dir_ / "nginx.conf")
        << "worker_processes 1; daemon off; pid " << d << "/nginx.pid; error_log " << d
        << "/error.log;\nevents { worker_connections 64; }\n"
        << "http { access_log off; client_body_temp_path " << d << "/body;\n"
        << "  proxy_temp_path " << d << "/proxy; fastcgi_temp_path " << d << "/fcgi;\n"
        << "  uwsgi_temp_path " << d << "/uwsgi; scgi_temp_path " << d << "/scgi;\n"
        << "  server { listen 127.0.0.1:" << port_ << "; root " << d << "/www;\n"
        << "    location = /conn { add_header X-Conn $connection always; return 200 \"ok\"; }\n"
        << "    location = /upload { client_max_body_size 10m; add_header X-Len $request_length always;\n"
        << "      return 200 \"$http_transfer_encoding\"; }\n"
        << "  } }\n";
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
  ~nginx_upstream() {
    ::kill(pid_, SIGQUIT);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  [[nodiscard]] std::uint16_t port() const { return port_; }

 private:
  std::filesystem::path dir_;
  std::uint16_t port_ = 0;
  pid_t pid_ = -1;
};

TEST(proxy_nginx, UpstreamConnectionIsReusedAsNginxSeesIt) {
  nginx_upstream ngx;
  auto c = base_config();
  c->routes.push_back(route_to("/", upstream_at(ngx.port())));
  running_proxy proxy(c);
  const auto first = round_trip(proxy.port(), "GET /conn HTTP/1.1\r\nHost: a\r\n\r\n");
  const auto second = round_trip(proxy.port(), "GET /conn HTTP/1.1\r\nHost: b\r\n\r\n");
  ASSERT_EQ(first.res.result_int(), 200);
  ASSERT_FALSE(first.res["X-Conn"].empty());
  EXPECT_EQ(first.res["X-Conn"], second.res["X-Conn"]);
}

TEST(proxy_nginx, StaticFileKeepsItsLength) {
  nginx_upstream ngx;
  auto c = base_config();
  c->routes.push_back(route_to("/static/", upstream_at(ngx.port())));
  running_proxy proxy(c);
  const auto r = round_trip(proxy.port(), "GET /static/file.bin HTTP/1.1\r\nHost: a\r\n\r\n");
  ASSERT_EQ(r.res.result_int(), 200);
  EXPECT_EQ(r.res[http::field::content_length], "300000");
  EXPECT_EQ(r.res.body(), std::string(300000, 'n'));
}

TEST(proxy_nginx, ChunkedUploadReachesNginxChunked) {
  nginx_upstream ngx;
  auto c = base_config();
  c->routes.push_back(route_to("/", upstream_at(ngx.port())));
  running_proxy proxy(c);
  const auto r = round_trip(proxy.port(),
                            "POST /upload HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                            "4\r\nabcd\r\n0\r\n\r\n");
  ASSERT_EQ(r.res.result_int(), 200);
  EXPECT_EQ(r.res.body(), "chunked");
}

}  // namespace
}  // namespace sidecar::testing
