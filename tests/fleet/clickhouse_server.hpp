// A real clickhouse-server (Debian's 18.16) for the fleet tests: its own data directory and
// free ports, the config made from tests/fleet/clickhouse/config.xml, stopped by pid. It can
// be stopped and started again on the same directory and ports (outage tests), and it answers
// SQL over HTTP for the tests' own checks.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace sidecar::fleet::testing {

/// Whether /usr/sbin/clickhouse-server is installed (the tests skip with a message if not).
bool clickhouse_installed();

class clickhouse_server {
 public:
  /// The password of the `sidecar` user (the `default` user has none).
  static constexpr const char* password = "s3cret'\"pass";

  /// Picks ports and a directory; `shard_tcp_ports` lists the tcp ports of the servers that
  /// form the cluster "fleet" (their own included, or empty for no cluster).
  clickhouse_server();
  ~clickhouse_server();
  clickhouse_server(const clickhouse_server&) = delete;
  clickhouse_server& operator=(const clickhouse_server&) = delete;

  /// Writes the config (with the cluster's shards) and starts the server; waits until it
  /// answers. Fails the test when it does not within 30 s.
  void start(const std::vector<std::uint16_t>& shard_tcp_ports = {});
  /// SIGTERM, or SIGKILL with `kill`; waits for the process to end.
  void stop(bool kill = false);
  /// SIGSTOP / SIGCONT: a server that hangs.
  void pause();
  void resume();
  [[nodiscard]] bool running() const { return pid_ > 0; }

  [[nodiscard]] std::uint16_t http_port() const { return http_port_; }
  [[nodiscard]] std::uint16_t tcp_port() const { return tcp_port_; }
  [[nodiscard]] std::string url() const;  // http://127.0.0.1:PORT/

  /// Runs `sql` as the default user; the answer's body (TabSeparated), or "ERROR: ..." text.
  [[nodiscard]] std::string query(const std::string& sql) const;

 private:
  std::filesystem::path dir_;
  std::uint16_t http_port_ = 0;
  std::uint16_t tcp_port_ = 0;
  pid_t pid_ = -1;
  std::vector<std::uint16_t> shards_;
};

/// A TCP port that was free a moment ago (bound to 127.0.0.1:0 and closed).
std::uint16_t free_port();

}  // namespace sidecar::fleet::testing
