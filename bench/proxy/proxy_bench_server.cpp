// A proxy::server on its own, for benchmarks: one route "/" to --upstream, captures handed to
// the real trace_store (--store DIR) or counted and dropped (--discard). Prints
// "listening <port>" and runs until stdin closes.
#include <csignal>
#include <cstdio>
#include <iostream>
#include <string>

#include "conf/load.hpp"
#include "proxy/server.hpp"
#include "store/trace_store.hpp"

namespace {

class discarding_sink : public sidecar::store::capture_sink {
 public:
  bool submit(sidecar::store::capture&& c) noexcept override {
    (void)c;
    ++count_;
    return true;
  }
  std::atomic<std::uint64_t> count_{0};
};

}  // namespace

int main(int argc, char** argv) {
  using namespace sidecar;
  std::string upstream = "http://127.0.0.1:9000/";
  std::string store_dir;
  unsigned threads = 1;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--upstream") upstream = argv[i + 1];
    if (flag == "--store") store_dir = argv[i + 1];
    if (flag == "--threads") threads = static_cast<unsigned>(std::stoul(argv[i + 1]));
  }
  std::signal(SIGPIPE, SIG_IGN);
  const std::string toml =
      "[proxy]\nlisten = \"127.0.0.1:0\"\nthreads = " + std::to_string(threads) +
      "\n[store]\npath = \"" + (store_dir.empty() ? "/tmp/unused-bench-store" : store_dir) +
      "\"\n[[route]]\nprefix = \"/\"\nupstream = \"" + upstream +
      "\"\naccount = \"ACae6e420f425248d6a26948c17a9e2acf\"\n"
      "[[account]]\nsid = \"ACae6e420f425248d6a26948c17a9e2acf\"\nauth_token = "
      "\"0123456789abcdef0123456789abcdef\"\ntraces = true\n";
  const auto cfg = conf::parse(toml, "bench");
  log::set_level(log::level::warn);
  metrics::registry registry;
  discarding_sink discard;
  std::unique_ptr<store::trace_store> store;
  if (!store_dir.empty()) store = std::make_unique<store::trace_store>(cfg, registry);
  store::capture_sink& sink = store ? static_cast<store::capture_sink&>(*store) : discard;
  proxy::server server(cfg, sink, registry, nullptr);
  const auto at = server.start({});
  std::cout << "listening " << at.port() << std::endl;
  std::string line;
  while (std::getline(std::cin, line)) {
  }
  server.stop(std::chrono::seconds(1));
  if (store) store->flush();
  return 0;
}
