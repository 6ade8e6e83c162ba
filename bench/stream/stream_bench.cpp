// The live stream's latency: records submitted to a real trace_store at RATE per second (each
// with its exchange's end = now, as the proxy's captures have), READERS streams on real
// sockets through the real API server, and for every event at every reader the time from the
// record's end (its sid's time) to the event's arrival. Prints p50, p99 and max per run.
//
//   stream_bench [RATE=1000] [READERS=10] [SECONDS=10] [DIR=/tmp/stream-bench]
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "api/server.hpp"
#include "store/trace_record.hpp"
#include "store/trace_store.hpp"
#include "support/base64.hpp"

using namespace sidecar;
namespace fs = std::filesystem;

namespace {

/// The value of a Basic Authorization header's credentials.
std::string credentials(std::string_view user, std::string_view token) {
  std::string out;
  base64::append_encoded(out, std::string(user) + ":" + std::string(token));
  return out;
}

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

/// One reader: reads the stream and records, per event, now - the sid's time (ms).
void read_stream(std::uint16_t port, const std::string& account, const std::string& user,
                 const std::string& token, const std::atomic<bool>& stop, std::atomic<int>& ready,
                 std::vector<std::int64_t>& out) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(port);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) return;
  const std::string req = "GET /2012-04-24/Accounts/" + account +
                          "/Traces/Stream HTTP/1.0\r\nAuthorization: Basic " +
                          credentials(user, token) + "\r\n\r\n";
  ::send(fd, req.data(), req.size(), MSG_NOSIGNAL);
  std::string buf;
  bool subscribed = false;
  char chunk[65536];
  while (!stop.load()) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) continue;
    const ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
    if (n <= 0) break;
    const std::int64_t at = now_ms();
    buf.append(chunk, static_cast<std::size_t>(n));
    if (!subscribed && buf.find(": live stream") != std::string::npos) {
      subscribed = true;  // the stream's opening comment: it is subscribed
      ++ready;
    }
    std::size_t pos = 0;
    std::size_t keep = buf.size() > 64 ? buf.size() - 64 : 0;  // a split "\nid: TR..." fits
    for (;;) {
      const auto id = buf.find("\nid: TR", pos);
      if (id == std::string::npos) break;
      if (id + 7 + 12 > buf.size()) {
        keep = std::min(keep, id);
        break;
      }
      out.push_back(at - std::stoll(buf.substr(id + 7, 12), nullptr, 16));
      pos = id + 7;
    }
    buf.erase(0, std::max(keep, pos));
  }
  ::close(fd);
}

}  // namespace

int main(int argc, char** argv) {
  const int rate = argc > 1 ? std::atoi(argv[1]) : 1000;
  const int readers = argc > 2 ? std::atoi(argv[2]) : 10;
  const int seconds = argc > 3 ? std::atoi(argv[3]) : 10;
  const fs::path dir = argc > 4 ? argv[4] : "/tmp/stream-bench";
  fs::remove_all(dir);

  const std::string account = "ACae6e420f425248d6a26948c17a9e2acf";
  const std::string token = "bench-token";
  auto cfg = std::make_shared<conf::config>();
  cfg->store.path = dir;
  cfg->api.listen.address = net::ip::make_address("127.0.0.1");
  conf::account acct;
  acct.sid = account;
  acct.auth_token = token;
  acct.traces = true;
  cfg->accounts.push_back(acct);
  // Half the readers sign in as an administrator reading the same account: at most 8 streams
  // per caller (docs/api.md).
  const std::string admin_sid = "ACadadadadadadadadadadadadadadadad";
  conf::account admin;
  admin.sid = admin_sid;
  admin.auth_token = token;
  admin.traces = true;
  admin.administrator = true;
  cfg->accounts.push_back(admin);

  metrics::registry registry;
  store::trace_store store(cfg, registry);
  api::server server(cfg, store, registry, [&store] { return store.health(); });
  server.enable_streams(store.feed());
  const std::uint16_t port = server.start().port();

  std::atomic<bool> stop{false};
  std::atomic<int> ready{0};
  std::vector<std::vector<std::int64_t>> lat(static_cast<std::size_t>(readers));
  std::vector<std::thread> threads;
  for (int i = 0; i < readers; ++i) {
    const std::string& user = i % 2 == 0 ? account : admin_sid;
    threads.emplace_back(read_stream, port, account, user, token, std::cref(stop), std::ref(ready),
                         std::ref(lat[static_cast<std::size_t>(i)]));
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (ready.load() < readers && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }

  std::mt19937_64 rng(1);
  const auto period = std::chrono::nanoseconds(1'000'000'000 / rate);
  auto next = std::chrono::steady_clock::now();
  const long total = static_cast<long>(rate) * seconds;
  for (long i = 0; i < total; ++i) {
    next += period;
    std::this_thread::sleep_until(next);
    store::trace_record r;
    r.created_ms = now_ms();
    r.sid = store::make_trace_sid(r.created_ms, rng);
    r.account_sid = account;
    r.completed = true;
    r.latency_ms = 3;
    r.request.method = "POST";
    r.request.path = "/voice?CallSid=CA" + std::to_string(i);
    r.request.url = "http://127.0.0.1:9000" + r.request.path;
    r.request.headers = {{"content-type", "application/x-www-form-urlencoded"}};
    r.request.body.body = std::string(600, 'f');
    r.request.body.size = 600;
    r.response.code = "200";
    r.response.phrase = "OK";
    r.response.headers = {{"content-type", "application/xml"}};
    r.response.body.body = "<Response><Say>hello world</Say></Response>";
    r.response.body.size = r.response.body.body.size();
    store.submit(std::move(r));
  }
  std::this_thread::sleep_for(std::chrono::seconds(1));  // the last ones arrive
  stop.store(true);
  for (auto& t : threads) t.join();
  server.stop();

  std::vector<std::int64_t> all;
  std::printf("events per reader:");
  for (const auto& l : lat) {
    std::printf(" %zu", l.size());
    all.insert(all.end(), l.begin(), l.end());
  }
  std::printf("\n");
  std::sort(all.begin(), all.end());
  if (all.empty()) {
    std::printf("no events\n");
    return 1;
  }
  const auto pct = [&](double p) {
    return all[std::min(all.size() - 1,
                        static_cast<std::size_t>(p * static_cast<double>(all.size())))];
  };
  std::printf(
      "rate %d/s readers %d seconds %d events %zu (expected %ld) p50 %lld ms p99 %lld ms "
      "max %lld ms\n",
      rate, readers, seconds, all.size(), total * readers, static_cast<long long>(pct(0.5)),
      static_cast<long long>(pct(0.99)), static_cast<long long>(all.back()));
  return 0;
}
