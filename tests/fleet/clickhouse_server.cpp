// The fleet tests' clickhouse-server (see clickhouse_server.hpp).
#include "tests/fleet/clickhouse_server.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <iterator>
#include <sstream>
#include <thread>

#include "support/net.hpp"

namespace sidecar::fleet::testing {

namespace fs = std::filesystem;

namespace {

constexpr const char* server_binary = "/usr/sbin/clickhouse-server";

std::string read_all(const fs::path& p) {
  std::ifstream in(p);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void replace_all(std::string& s, std::string_view from, std::string_view to) {
  for (std::size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size())) {
    s.replace(at, from.size(), to);
  }
}

}  // namespace

bool clickhouse_installed() { return ::access(server_binary, X_OK) == 0; }

std::uint16_t free_port() {
  net::io_context io;
  tcp::acceptor a(io, tcp::endpoint(net::ip::make_address("127.0.0.1"), 0));
  return a.local_endpoint().port();
}

clickhouse_server::clickhouse_server() {
  std::string tmpl = (fs::temp_directory_path() / "fleet_clickhouse.XXXXXX").string();
  dir_ = ::mkdtemp(tmpl.data());
  http_port_ = free_port();
  tcp_port_ = free_port();
  while (tcp_port_ == http_port_) tcp_port_ = free_port();
}

clickhouse_server::~clickhouse_server() {
  if (pid_ > 0) stop(true);
  std::error_code ec;
  fs::remove_all(dir_, ec);
}

std::string clickhouse_server::url() const {
  return "http://127.0.0.1:" + std::to_string(http_port_) + "/";
}

void clickhouse_server::start(const std::vector<std::uint16_t>& shard_tcp_ports) {
  if (!shard_tcp_ports.empty()) shards_ = shard_tcp_ports;
  std::string xml =
      read_all(fs::path(SIDECAR_SOURCE_DIR) / "tests" / "fleet" / "clickhouse" / "config.xml");
  std::string shards;
  for (const auto port : shards_) {
    shards += "      <shard><replica><host>127.0.0.1</host><port>" + std::to_string(port) +
              "</port></replica></shard>\n";
  }
  replace_all(xml, "@DIR@", dir_.string());
  replace_all(xml, "@HTTP_PORT@", std::to_string(http_port_));
  replace_all(xml, "@TCP_PORT@", std::to_string(tcp_port_));
  replace_all(xml, "@PASSWORD@", password);
  replace_all(xml, "@SHARDS@", shards);
  const fs::path config = dir_ / "config.xml";
  std::ofstream(config) << xml;

  const std::string config_arg = "--config-file=" + config.string();
  pid_ = ::fork();
  if (pid_ == 0) {
    const int null = ::open("/dev/null", O_RDWR);
    ::dup2(null, 0);
    ::dup2(null, 1);
    ::dup2(null, 2);
    ::execl(server_binary, server_binary, config_arg.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ASSERT_GT(pid_, 0);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline) {
    if (query("SELECT 1") == "1\n") return;
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      // Its own words, here: the directory is removed with this object.
      const std::string log = read_all(dir_ / "server.err.log");
      FAIL() << "clickhouse-server exited at start (http port " << http_port_ << ", tcp port "
             << tcp_port_ << "); the end of its error log:\n"
             << log.substr(log.size() > 4000 ? log.size() - 4000 : 0);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  FAIL() << "clickhouse-server did not answer within 30 s";
}

void clickhouse_server::stop(bool kill) {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGCONT);
  ::kill(pid_, kill ? SIGKILL : SIGTERM);
  int status = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (::waitpid(pid_, &status, WNOHANG) != pid_) {
    if (std::chrono::steady_clock::now() > deadline) ::kill(pid_, SIGKILL);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  pid_ = -1;
}

void clickhouse_server::pause() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGSTOP);
  // kill() returns before the process has stopped: a request sent at once could still be
  // answered. Wait (bounded) until /proc says it is stopped.
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  while (std::chrono::steady_clock::now() < until) {
    std::ifstream stat("/proc/" + std::to_string(pid_) + "/stat");
    std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
    const auto close = text.rfind(')');
    if (close != std::string::npos && close + 2 < text.size() && text[close + 2] == 'T') return;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

void clickhouse_server::resume() {
  if (pid_ > 0) ::kill(pid_, SIGCONT);
}

std::string clickhouse_server::query(const std::string& sql) const {
  try {
    net::io_context io;
    beast::tcp_stream s(io);
    s.expires_after(std::chrono::seconds(30));
    s.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), http_port_));
    http::request<http::string_body> req{http::verb::post, "/", 11};
    req.set(http::field::host, "127.0.0.1");
    req.body() = sql;
    req.prepare_payload();
    http::write(s, req);
    beast::flat_buffer buf;
    http::response_parser<http::string_body> p;
    p.body_limit(1u << 30);
    http::read(s, buf, p);
    auto res = p.release();
    if (res.result_int() != 200) return "ERROR: " + res.body();
    return res.body();
  } catch (const std::exception& e) {
    return std::string("ERROR: ") + e.what();
  }
}

}  // namespace sidecar::fleet::testing
