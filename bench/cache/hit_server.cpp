// bench/cache: a proxy::server with the media cache in front of one upstream, for measuring
// cache-hit throughput (run.py drives it beside nginx). Hits never reach the capture sink, so
// a sink that drops everything stands in for the store.
//
//   cache_hit_server --upstream http://127.0.0.1:8000/media/ --dir /tmp/x [--threads 1]
// prints "port N" once listening, and runs until SIGINT or SIGTERM.
#include <csignal>
#include <cstdio>
#include <iostream>
#include <string>

#include "cache/media_cache.hpp"
#include "conf/load.hpp"
#include "proxy/server.hpp"
#include "store/capture.hpp"

namespace {

using namespace sidecar;

struct dropping_sink : store::capture_sink {
  bool submit(store::capture&&) noexcept override { return true; }
};

}  // namespace

int main(int argc, char** argv) {
  std::string upstream, dir, threads = "1";
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--upstream") upstream = argv[i + 1];
    else if (flag == "--dir") dir = argv[i + 1];
    else if (flag == "--threads") threads = argv[i + 1];
  }
  if (upstream.empty() || dir.empty()) {
    std::cerr << "usage: cache_hit_server --upstream URL --dir DIR [--threads N]\n";
    return 2;
  }
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  std::signal(SIGPIPE, SIG_IGN);
  try {
    const auto cfg = conf::parse(
        "[log]\nlevel = \"warn\"\n"
        "[proxy]\nlisten = \"127.0.0.1:0\"\nthreads = " + threads + "\n"
        "[store]\npath = \"" + dir + "/data\"\n"
        "[[route]]\nprefix = \"/media/\"\nupstream = \"" + upstream + "\"\n"
        "[cache]\ndir = \"" + dir + "/media\"\n",
        "cache_hit_server");
    log::set_level(log::level::warn);
    metrics::registry registry;
    dropping_sink sink;
    cache::media_cache cache(cfg, registry);
    proxy::server proxy(cfg, sink, registry, &cache);
    const auto at = proxy.start({});
    std::cout << "port " << at.port() << std::endl;
    int sig = 0;
    sigwait(&set, &sig);
    proxy.stop(std::chrono::seconds(1));
    std::cerr << registry.render();
  } catch (const std::exception& e) {
    std::cerr << "cache_hit_server: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
