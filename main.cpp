// trace-sidecar: wires configuration, store, proxy and API together, and handles signals.
#include <csignal>
#include <cstdio>
#include <iostream>
#include <sstream>

#include "api/server.hpp"
#include "cache/media_cache.hpp"
#include "conf/listen.hpp"
#include "conf/load.hpp"
#include "fleet/reader.hpp"
#include "fleet/shipper.hpp"
#include "proxy/server.hpp"
#include "store/trace_store.hpp"
#include "support/log.hpp"
#include "support/metrics.hpp"

namespace {

using namespace sidecar;

constexpr int exit_config_error = 2;

/// Blocks SIGINT and SIGTERM in every thread (call before any thread starts) and waits for
/// one of them on the main thread.
class signal_waiter {
 public:
  signal_waiter() {
    sigemptyset(&set_);
    sigaddset(&set_, SIGINT);
    sigaddset(&set_, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set_, nullptr);
    std::signal(SIGPIPE, SIG_IGN);
  }
  int wait() const {
    int sig = 0;
    sigwait(&set_, &sig);
    return sig;
  }

 private:
  sigset_t set_{};
};

/// Nothing is half-started (contract section 2): a listen address that cannot be taken stops
/// startup before the data directory, the store or the cache are touched. (The servers bind
/// again when they start; only a race with another process could fail there now.)
void check_listen_addresses(const conf::config& cfg) {
  net::io_context io;
  for (const auto& [at, origin] : {std::pair{cfg.proxy.listen, cfg.proxy.listen_origin},
                                   std::pair{cfg.api.listen, cfg.api.listen_origin}}) {
    if (at.port == 0) continue;  // any free port: nothing to check
    tcp::acceptor probe(io);
    conf::listen_on(probe, at, origin);
  }
}

std::string to_text(const tcp::endpoint& e) {
  std::ostringstream s;
  s << e;  // "127.0.0.1:8080", "[::1]:8080"
  return s.str();
}

int run(int argc, char** argv) {
  const conf::cli_options options = conf::parse_command_line(argc, argv);
  if (options.help) {
    std::cout << conf::usage();
    return 0;
  }
  if (options.version) {
    std::cout << "trace-sidecar " << SIDECAR_VERSION << "\n";
    return 0;
  }
  const std::shared_ptr<const conf::config> cfg = conf::load(options);
  log::set_level(cfg->log_level);
  check_listen_addresses(*cfg);
  const conf::data_dir_lock lock(cfg->store.path);

  const signal_waiter signals;
  metrics::registry registry;
  store::trace_store store(cfg, registry);
  std::unique_ptr<cache::media_cache> cache;
  if (cfg->cache.enabled) cache = std::make_unique<cache::media_cache>(cfg, registry);

  // [fleet] (docs/fleet.md): the shipper sends committed records to ClickHouse; in query
  // mode the API reads every node's records from there instead of the local store.
  std::unique_ptr<fleet::shipper> shipper;
  if (cfg->fleet && cfg->fleet->ship) {
    shipper = std::make_unique<fleet::shipper>(cfg, store, registry);
  }
  std::unique_ptr<fleet::clickhouse_reader> fleet_reader;
  if (cfg->fleet && cfg->fleet->query) {
    fleet_reader = std::make_unique<fleet::clickhouse_reader>(cfg, registry);
  }
  store::trace_reader& reader =
      fleet_reader ? *fleet_reader : static_cast<store::trace_reader&>(store);

  api::server api(cfg, reader, registry, [&store] { return store.health(); });
  proxy::server proxy(cfg, store, registry, cache.get());
  const tcp::endpoint api_at = api.start();
  const tcp::endpoint proxy_at = proxy.start({api_at});

  if (!cfg->local_account_file.empty()) {
    log::info("local account", {{"sid", cfg->accounts.front().sid},
                                {"token_file", cfg->local_account_file.string()}});
  }
  log::info("listening", {{"proxy", to_text(proxy_at)}, {"api", to_text(api_at)}});

  const int sig = signals.wait();
  log::info("shutting down", {{"signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"}});
  proxy.stop(cfg->proxy.drain_timeout);  // in-flight exchanges finish, captures submitted
  api.stop();
  store.flush();
  log::info("stopped");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const sidecar::conf::config_error& e) {
    std::fprintf(stderr, "trace-sidecar: %s\n", e.what());
    return exit_config_error;
  } catch (const std::exception& e) {
    sidecar::log::error("fatal", {{"error", e.what()}});
    return 1;
  }
}
