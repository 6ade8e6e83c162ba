// trace-sidecar: wires configuration, store, proxy and API together, and handles signals.
#include <cstdio>
#include <iostream>
#include <sstream>

#include "api/server.hpp"
#include "cache/media_cache.hpp"
#include "conf/data_dir.hpp"
#include "conf/listen.hpp"
#include "conf/live_config.hpp"
#include "conf/load.hpp"
#include "conf/reload.hpp"
#include "conf/server_tls.hpp"
#include "fleet/reader.hpp"
#include "fleet/shipper.hpp"
#include "proxy/server.hpp"
#include "signals.hpp"
#include "store/trace_store.hpp"
#include "support/health.hpp"
#include "support/log.hpp"
#include "support/metrics.hpp"
#include "support/process_metrics.hpp"

namespace {

using namespace sidecar;

constexpr int exit_config_error = 2;

/// Nothing is half-started (docs/configuration.md): a listen address that cannot be taken stops
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

/// --check-config: everything startup checks but binding, without touching the data
/// directory (docs/operations.md). Throws config_error.
void check_config(const conf::cli_options& options) {
  const auto cfg = conf::load(options, conf::data_dir_access::read_only);
  if (cfg->proxy.tls) (void)conf::make_server_tls(*cfg->proxy.tls, cfg->source, "[proxy]");
  if (cfg->api.tls) (void)conf::make_server_tls(*cfg->api.tls, cfg->source, "[api]");
}

std::string to_text(const tcp::endpoint& e) {
  std::ostringstream s;
  s << e;  // "127.0.0.1:8080", "[::1]:8080"
  return s.str();
}

void apply_logging(const conf::config& cfg) {
  log::set_level(cfg.log_level);
  log::set_access(cfg.log_access);
}

/// Seconds until each listener's certificate expires, as the running configuration has it.
void add_certificate_metrics(metrics::registry& registry, const conf::live_config& live) {
  auto seconds_left = [](const std::optional<conf::tls_files>& tls) {
    if (!tls) return 0.0;
    return std::chrono::duration<double>(tls->not_after - std::chrono::system_clock::now()).count();
  };
  const auto cfg = live.get();
  if (cfg->proxy.tls) {
    registry.add_callback("sidecar_tls_certificate_expiry_seconds",
                          "Seconds until the listener's TLS certificate expires",
                          [&live, seconds_left] { return seconds_left(live.get()->proxy.tls); },
                          {{"listener", "proxy"}});
  }
  if (cfg->api.tls) {
    registry.add_callback("sidecar_tls_certificate_expiry_seconds",
                          "Seconds until the listener's TLS certificate expires",
                          [&live, seconds_left] { return seconds_left(live.get()->api.tls); },
                          {{"listener", "api"}});
  }
}

/// One SIGHUP: load and check the file whole, keep what needs a restart, swap the snapshot
/// in every module, or change nothing and say why in one line.
void reload(const conf::cli_options& options, conf::live_config& live, api::server& api,
            proxy::server& proxy) {
  const auto running = live.get();
  try {
    const auto loaded = conf::load(options);
    conf::reload_plan plan = conf::plan_reload(*running, *loaded);
    for (const auto& setting : plan.ignored) {
      log::warn("reload: this setting needs a restart, kept as it runs", {{"setting", setting}});
    }
    api.reconfigure(plan.next);  // nothing changed if it throws
    try {
      proxy.reconfigure(plan.next);
    } catch (...) {
      api.reconfigure(running);
      throw;
    }
    live.set(plan.next);
    log::info("reload done", {{"config", plan.next->source},
                              {"routes", std::to_string(plan.next->routes.size())},
                              {"accounts", std::to_string(plan.next->accounts.size())},
                              {"ignored", std::to_string(plan.ignored.size())}});
  } catch (const conf::config_error& e) {
    log::error("reload refused, the running configuration stays", {{"error", e.what()}});
  } catch (const std::exception& e) {
    log::error("reload failed, the running configuration stays", {{"error", e.what()}});
  }
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
  if (options.check_config) {
    check_config(options);
    std::cout << "config ok\n";
    return 0;
  }
  // First, before any thread starts: the signals are then blocked in every thread but the one
  // that waits for them, and a SIGHUP or SIGTERM during startup waits for it instead of
  // killing the process.
  signal_handling signals;
  conf::live_config live(conf::load(options));
  const std::shared_ptr<const conf::config> cfg = live.get();  // the startup snapshot
  apply_logging(*cfg);
  check_listen_addresses(*cfg);
  const conf::data_dir_lock lock(cfg->store.path);

  metrics::registry registry;
  metrics::add_process_metrics(registry, SIDECAR_VERSION);
  health::board board;
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
  api.enable_streams(store.feed());
  proxy::server proxy(cfg, store, registry, cache.get());
  api.attach(&board);
  board.add_part("store", [&store] {
    const store::store_health h = store.health();
    return health::state{h.ok, h.reason, true};
  });
  board.add_part("cache", [&cache] {
    return cache ? health::state{} : health::state{true, "disabled", false};
  });
  board.add_part("fleet", [&shipper, &cfg] {
    if (!cfg->fleet) return health::state{true, "not configured", false};
    if (!shipper) return health::state{true, "queries only", true};
    const fleet::shipping_health h = shipper->health();
    return health::state{h.ok, h.ok ? std::string() : "shipping: " + h.reason, true};
  });
  add_certificate_metrics(registry, live);
  live.on_change([&cache](const std::shared_ptr<const conf::config>& next) {
    apply_logging(*next);
    if (cache) cache->reconfigure(next);
  });

  const tcp::endpoint api_at = api.start();
  const tcp::endpoint proxy_at = proxy.start({api_at});
  // Replays (docs/api.md) go through the proxy's upstream code and checks.
  const std::unique_ptr<store::trace_replayer> replayer = proxy.make_replayer(store.feed());
  api.enable_replay(*replayer);
  signals.start([&] { reload(options, live, api, proxy); });
  board.set_phase(health::phase::serving);

  if (!cfg->local_account_file.empty()) {
    log::info("local account", {{"sid", cfg->accounts.front().sid},
                                {"token_file", cfg->local_account_file.string()}});
  }
  log::info("listening", {{"proxy", to_text(proxy_at)}, {"api", to_text(api_at)}});

  const int sig = signals.wait_for_stop();
  board.set_phase(health::phase::draining);  // /ready answers 503 from now on
  log::info("shutting down", {{"signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"}});
  // A replay still in progress ends with the proxy's io_context; its API request then ends
  // with the API (both stopped before `replayer` goes).
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
