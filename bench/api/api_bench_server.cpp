// Benchmark server for the Traces API: opens (or fills) a trace_store with N records of
// 1-2 KB for one account, starts api::server on 127.0.0.1:0, and prints what the driver
// (run.sh) needs: the port, the account SID and token, and a trace sid to GET.
//
//   api_bench_server DATA_DIR RECORDS
#include <csignal>
#include <cstdio>
#include <iostream>
#include <random>

#include "api/server.hpp"
#include "store/trace_record.hpp"
#include "store/trace_store.hpp"

using namespace sidecar;

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: api_bench_server DATA_DIR RECORDS\n";
    return 2;
  }
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);

  const std::int64_t wanted = std::stoll(argv[2]);
  auto cfg = std::make_shared<conf::config>();
  cfg->source = "bench";
  cfg->store.path = argv[1];
  cfg->store.queue_bytes = 256u << 20;
  cfg->api.listen.address = net::ip::make_address("127.0.0.1");
  cfg->api.threads = 2;
  // PURGE=1 deletes the whole account: its planning may outlast the default 10 s on a busy
  // machine, and the benchmark wants the time it takes, not a 503.
  cfg->api.query_timeout = std::chrono::minutes(5);
  conf::account a;
  a.sid = "ACbe0c4bbe0c4bbe0c4bbe0c4bbe0c4bbe";
  a.auth_token = "bench-token";
  a.friendly_name = "Bench";
  a.org_sid = "ORbe0c4bbe0c4bbe0c4bbe0c4bbe0c4bbe";
  a.traces = true;
  cfg->accounts.push_back(a);

  log::set_level(log::level::warn);
  metrics::registry registry;
  store::trace_store store(cfg, registry);

  // Fill only what is missing, so that reruns reuse the database.
  store::list_query q;
  q.accounts = {a.sid};
  q.page_size = 1;
  std::int64_t have = static_cast<std::int64_t>(store.list(q).total);
  std::mt19937_64 rng(1);
  const std::int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                               std::chrono::system_clock::now().time_since_epoch())
                               .count();
  const std::string filler(2048, 'x');
  for (std::int64_t i = have; i < wanted; ++i) {
    store::trace_record r;
    // Spread over the last 12 hours, newest last.
    r.created_ms =
        now - 12 * 3600 * 1000 + i * (12 * 3600 * 1000 / std::max<std::int64_t>(1, wanted));
    r.sid = store::make_trace_sid(r.created_ms, rng);
    r.account_sid = a.sid;
    r.account_friendly_name = a.friendly_name;
    r.org_sid = a.org_sid;
    r.org_name = "bench.example.com";
    r.session_sid = "IDbb44ef8c2ebf4d4599d0378a2a8a2ea8-CA" + std::to_string(i);
    r.completed = i % 10 != 0;
    r.latency_ms = static_cast<std::int64_t>(rng() % 1000);
    r.request.path = "/apps/acme/voice?AccountSid=" + a.sid + "&CallSid=CA" + std::to_string(i);
    r.request.url = "http://127.0.0.1:9000" + r.request.path;
    r.request.method = "POST";
    r.request.headers = {{"accept", "application/xml"},
                         {"content-type", "application/x-www-form-urlencoded"},
                         {"user-agent", "TelScale-Restcomm/8.4"}};
    r.request.body.body = "CallSid=CA" + std::to_string(i) +
                          "&From=%2B15551234567&To=%2B15557654321&CallStatus=ringing";
    r.request.body.size = r.request.body.body.size();
    r.response.code = r.completed ? "200" : "500";
    r.response.phrase = r.completed ? "OK" : "Internal Server Error";
    r.response.headers = {{"content-type", "application/xml"}};
    // 1-2 KB records: about 1 KB of metadata and headers, and a body of 50..1000 bytes.
    r.response.body.body =
        "<Response><Say>" + filler.substr(0, 50 + rng() % 950) + "</Say></Response>";
    r.response.body.size = r.response.body.body.size();
    while (!store.submit(std::move(r))) store.flush();  // the queue is full: let it drain
    if ((i + 1) % 100000 == 0) std::cerr << "filled " << (i + 1) << "\n";
  }
  store.flush();
  have = static_cast<std::int64_t>(store.list(q).total);

  // A sid in the middle of the list.
  q.page = static_cast<std::uint64_t>(have / 2);
  std::string json;
  auto mid = store.list(q);
  std::string sid;
  if (mid.records && mid.records->next(json)) sid = json.substr(json.find("\"sid\":\"") + 7, 34);

  api::server server(cfg, store, registry, [&store] { return store.health(); });
  const tcp::endpoint at = server.start();
  std::cout << "port " << at.port() << "\naccount " << a.sid << "\ntoken " << *a.auth_token
            << "\nsid " << sid << "\nrecords " << have << "\nready" << std::endl;
  int sig = 0;
  sigwait(&set, &sig);
  server.stop();
  return 0;
}
