// The trace store benchmark (issue 4): ingest rates, get-by-sid latency, page-0 latencies of
// the list filters over one account holding N records among 10 accounts, disk bytes per
// record, and the ResponseBody scan against `grep -F -c` over the same bodies, in one run.
//
//   store_bench --dir /tmp/store-bench [--records 1000000] [--others 1000000]
//               [--ingest 200000] [--big 2000] [--reuse] [--memory-mib 64]
//
// Prints one "figure value unit target" line per figure (bench/store/run.sh takes medians).
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "conf/config.hpp"
#include "store/trace_store.hpp"
#include "support/log.hpp"
#include "support/metrics.hpp"

namespace fs = std::filesystem;
using namespace sidecar;
using clock_type = std::chrono::steady_clock;

namespace {

constexpr std::string_view needle = "reason=carrier-blocked";
constexpr int accounts_total = 10;

std::string account_sid(int i) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "AC%032x", 0xacc0 + i);
  return buf;
}
std::string org_sid(int i) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "OR%032x", 0x0e90 + i % 3);
  return buf;
}

std::int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

const std::vector<std::string> words = {
    "Response", "Say",     "Play",  "Gather", "Dial",     "Number",  "hello",  "world",
    "welcome",  "to",      "acme",  "please", "press",    "one",     "for",    "sales",
    "two",      "support", "voice", "alice",  "language", "en-US",   "loop",   "timeout",
    "action",   "method",  "POST",  "status", "queued",   "ringing", "answer", "callback"};

/// Realistic records of 1-2 KB: a webhook or API exchange with headers, an XML or JSON
/// response body, sessions of a few records each.
class generator {
 public:
  explicit generator(std::uint64_t seed) : rng_(seed) {}

  store::trace_record make(std::int64_t created, const std::string& account, int account_index) {
    store::trace_record r;
    r.sid = store::make_trace_sid(created, rng_);
    r.account_sid = account;
    r.account_friendly_name = "Account " + std::to_string(account_index);
    r.org_sid = org_sid(account_index);
    r.org_name = "org" + std::to_string(account_index % 3) + ".example.com";
    r.created_ms = created;
    if (session_left_ == 0) {
      char buf[80];
      std::snprintf(buf, sizeof buf, "CA%016llx%016llx", static_cast<unsigned long long>(rng_()),
                    static_cast<unsigned long long>(rng_()));
      session_ = buf;
      session_left_ = 1 + static_cast<int>(rng_() % 8);
    }
    --session_left_;
    r.session_sid = session_;
    const auto roll = rng_() % 1000;
    r.response.code = roll < 20 ? "503" : roll < 50 ? "404" : roll < 60 ? "500" : "200";
    r.response.phrase = r.response.code == "200" ? "OK" : "Error";
    r.completed = r.response.code == "200" && rng_() % 50 != 0;
    if (!r.completed && r.response.code == "200") r.error = "client closed the connection";
    r.direction = rng_() % 4 == 0 ? conf::direction::api : conf::direction::webhook;
    const auto lat = rng_() % 1000;
    r.latency_ms = lat < 15 ? 1000 + static_cast<std::int64_t>(rng_() % 4000)
                            : 20 + static_cast<std::int64_t>(rng_() % 400);
    const char* app = rng_() % 10 == 0 ? "/apps/status/callback" : "/apps/acme/voice";
    r.request.path = std::string(app) + "?AccountSid=" + account + "&CallSid=" + session_;
    r.request.url = "http://10.0.0.7:9000" + r.request.path;
    r.request.method = rng_() % 3 == 0 ? "GET" : "POST";
    r.request.headers = {{"host", "10.0.0.7:9000"},
                         {"user-agent", "TelScale-Restcomm/8.4.0"},
                         {"accept", "application/xml, text/xml"},
                         {"content-type", "application/x-www-form-urlencoded"},
                         {"x-forwarded-for", "203.0.113.9"},
                         {"x-forwarded-proto", "http"},
                         {"authorization", "Basic [REDACTED]"}};
    r.request.body.body = "AccountSid=" + account + "&CallSid=" + session_ +
                          "&From=%2B15551234567&To=%2B15557654321&CallStatus=ringing"
                          "&Direction=inbound&ApiVersion=2012-04-24";
    r.request.body.size = r.request.body.body.size();
    r.response.headers = {{"content-type", "application/xml"},
                          {"date", "Sat, 28 Nov 2026 02:21:38 GMT"},
                          {"server", "nginx/1.22.1"},
                          {"connection", "keep-alive"}};
    auto& body = r.response.body.body;
    body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response>";
    const std::size_t target = 100 + rng_() % 500;
    while (body.size() < target) {
      body += "<Say voice=\"alice\">";
      for (int w = 0; w < 8; ++w) {
        body += words[rng_() % words.size()];
        body += ' ';
      }
      body += "</Say>";
    }
    if (rng_() % 100 == 0) {
      body += "<Reject ";
      body += needle;
      body += "/>";
    }
    body += "</Response>";
    r.response.body.size = body.size();
    return r;
  }

  /// A record with a 100 KB binary body (base64 in the record, as the builder stores it).
  store::trace_record make_big(std::int64_t created, const std::string& account) {
    auto r = make(created, account, 0);
    std::string raw(100 * 1024, '\0');
    for (auto& c : raw) c = static_cast<char>(rng_());
    static constexpr char b64[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string enc;
    enc.reserve(raw.size() / 3 * 4 + 4);
    for (std::size_t i = 0; i + 2 < raw.size(); i += 3) {
      const auto v = (std::uint32_t(std::uint8_t(raw[i])) << 16) |
                     (std::uint32_t(std::uint8_t(raw[i + 1])) << 8) | std::uint8_t(raw[i + 2]);
      enc += b64[v >> 18];
      enc += b64[(v >> 12) & 63];
      enc += b64[(v >> 6) & 63];
      enc += b64[v & 63];
    }
    r.response.headers = {{"content-type", "audio/wav"}};
    r.response.body.body = std::move(enc);
    r.response.body.base64 = true;
    r.response.body.size = raw.size();
    return r;
  }

 private:
  std::mt19937_64 rng_;
  std::string session_;
  int session_left_ = 0;
};

/// The stores' `[store] memory` (docs/store.md, "Memory"): the default unless --memory-mib.
std::size_t store_memory = conf::config{}.store.memory;

std::shared_ptr<conf::config> make_config(const fs::path& dir) {
  auto c = std::make_shared<conf::config>();
  c->store.path = dir;
  c->store.queue_bytes = 256u << 20;
  c->store.memory = store_memory;
  return c;
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const auto i = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

void figure(const std::string& name, double value, const std::string& unit,
            const std::string& target = "") {
  std::printf("%-34s %14.3f %-8s %s\n", name.c_str(), value, unit.c_str(), target.c_str());
  std::fflush(stdout);
}

double process_cpu_seconds() {
  timespec ts{};
  ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

/// CPU seconds of this process's threads, summed by thread name (RocksDB's two flush threads
/// share one), from /proc: where the CPU of an ingest went.
std::map<std::string, double> thread_cpu_seconds() {
  std::map<std::string, double> by_name;
  const double tick = static_cast<double>(::sysconf(_SC_CLK_TCK));
  for (const auto& task : fs::directory_iterator("/proc/self/task")) {
    std::ifstream in(task.path() / "stat");
    std::string stat;
    std::getline(in, stat);
    // "tid (name) state ppid ...": utime and stime are the 12th and 13th fields after ')'.
    const auto open = stat.find('('), close = stat.rfind(')');
    if (open == std::string::npos || close == std::string::npos) continue;
    std::istringstream fields(stat.substr(close + 2));
    std::string field;
    double ticks = 0;
    for (int i = 0; i < 13 && fields >> field; ++i) {
      if (i >= 11) ticks += std::stod(field);
    }
    by_name[stat.substr(open + 1, close - open - 1)] += ticks / tick;
  }
  return by_name;
}

double seconds_since(clock_type::time_point t) {
  return std::chrono::duration<double>(clock_type::now() - t).count();
}

/// Wall and CPU milliseconds of list pages, each read to its end; the last query's total, and
/// whether any failed.
struct page_times {
  std::vector<double> ms, cpu_ms;
  std::uint64_t total = 0;
  bool failed = false;
};

/// `iterations` first pages of `s`, each query filled in by `make_query`.
template <class MakeQuery>
page_times time_pages(store::trace_store& s, int iterations, MakeQuery&& make_query) {
  page_times out;
  for (int i = 0; i < iterations; ++i) {
    store::list_query q;
    make_query(q);
    const double c0 = process_cpu_seconds();
    const auto t = clock_type::now();
    auto res = s.list(q);
    std::string json;
    while (res.records && res.records->next(json)) {
    }
    out.ms.push_back(seconds_since(t) * 1e3);
    // CPU time of the query (the machine is shared: wall time includes waiting for a core).
    out.cpu_ms.push_back((process_cpu_seconds() - c0) * 1e3);
    out.total = res.total;
    out.failed = out.failed || res.status != store::query_status::ok;
  }
  return out;
}

void page_figures(const std::string& prefix, const page_times& t, const std::string& target) {
  figure(prefix + "_p50", percentile(t.ms, 0.5), "ms", target);
  figure(prefix + "_p99", percentile(t.ms, 0.99), "ms");
  figure(prefix + "_cpu_p50", percentile(t.cpu_ms, 0.5), "ms");
  figure(prefix + "_total", static_cast<double>(t.total), "records");
}

void ingest(const fs::path& dir, std::size_t count, bool big) {
  fs::remove_all(dir);
  metrics::registry m;
  auto cfg = make_config(dir);
  generator gen(big ? 11 : 7);
  std::vector<store::trace_record> records;
  records.reserve(count);
  const std::int64_t now = wall_ms();
  for (std::size_t i = 0; i < count; ++i) {
    const int a = static_cast<int>(i % accounts_total);
    const std::int64_t t = now - static_cast<std::int64_t>(count - i);
    records.push_back(big ? gen.make_big(t, account_sid(a)) : gen.make(t, account_sid(a), a));
  }
  std::size_t bytes = 0;
  for (const auto& r : records) bytes += store::to_json(r).size();
  // The sessions of the last records (account, session): their index keys are still in the
  // memtables when the ingest ends.
  std::vector<std::pair<std::string, std::string>> recent;
  for (std::size_t i = records.size() - std::min<std::size_t>(records.size(), 500);
       i < records.size(); ++i) {
    recent.emplace_back(records[i].account_sid, records[i].session_sid);
  }
  store::trace_store s(cfg, m);
  const auto threads0 = thread_cpu_seconds();
  const auto start = clock_type::now();
  const double cpu0 = process_cpu_seconds();
  // The producer stays a few batches ahead, as the proxy does: queueing all the records at
  // once would time the growth of a queue of 200 000 records (moves and page faults on the
  // submitting thread), which no running sidecar has. A few batches: the writer lingers until
  // 4 MiB of records are queued (their memory, about 2.6 KB a record here), and holds one
  // batch it encodes and one it commits, all counted as queued; 24 MiB leaves three batches
  // waiting beyond those (at 8 MiB, until 2026-12-06, the encoder waited on an empty queue for
  // a quarter of each run while the producer slept on its limit: bench/store/README.md).
  constexpr std::uint64_t ahead = 24u << 20;
  for (std::size_t i = 0; i < records.size(); ++i) {
    if (i % 64 == 0) {
      while (s.get_stats().queue_bytes > ahead)
        std::this_thread::sleep_for(std::chrono::microseconds(50));
    }
    while (!s.submit(std::move(records[i]))) {
      std::this_thread::sleep_for(std::chrono::microseconds(100));
    }
  }
  s.flush();
  const double secs = seconds_since(start);
  const double cpu = process_cpu_seconds() - cpu0;
  const auto threads1 = thread_cpu_seconds();
  const std::string prefix = big ? "ingest_100KB_body" : "ingest_1-2KB";
  // The machine is shared: CPU seconds per record say what one free core would do.
  figure(prefix + "_cpu_us_per_record", cpu / static_cast<double>(count) * 1e6, "us");
  figure(prefix + "_records_per_s", static_cast<double>(count) / secs, "rec/s",
         big ? "" : ">= 150000");
  figure(prefix + "_MB_per_s", static_cast<double>(bytes) / secs / 1e6, "MB/s");
  if (!big) figure("record_json_bytes_avg", static_cast<double>(bytes) / count, "B");
  // Each thread's share of the CPU per record: the writer's encoder and committer, RocksDB's
  // flushes (rocksdb:high) and compactions (rocksdb:low), and this producer (store_bench).
  for (const auto& [name, seconds] : threads1) {
    const auto before = threads0.find(name);
    const double used = seconds - (before == threads0.end() ? 0 : before->second);
    if (used <= 0) continue;
    figure(prefix + "_cpu_us_" + name, used / static_cast<double>(count) * 1e6, "us");
  }
  if (big) return;
  // SessionSid pages read from the memtables, where the dataset's queries (below) read tables
  // only: the session index's hash memtable (docs/store.md, "RocksDB settings").
  std::mt19937_64 pick(5);
  const auto live = time_pages(s, 500, [&](store::list_query& q) {
    const auto& [account, session] = recent[pick() % recent.size()];
    q.accounts = {account};
    q.filter.session_sid = session;
  });
  if (live.failed) std::fprintf(stderr, "live SessionSid failed\n");
  page_figures("ingest_live_SessionSid", live, "<= 2");
}

/// The crash window at a steady 5000 records/s (a busy sidecar): the bytes queued (what
/// kill -9 would lose) sampled at every submit, default queue_bytes.
void paced(const fs::path& dir) {
  fs::remove_all(dir);
  metrics::registry m;
  auto cfg = make_config(dir);
  cfg->store.queue_bytes = 64u << 20;
  generator gen(3);
  store::trace_store s(cfg, m);
  std::vector<double> queued;
  const auto start = clock_type::now();
  for (int i = 0; i < 15000; ++i) {
    std::this_thread::sleep_until(start + std::chrono::microseconds(200 * i));
    auto r = gen.make(wall_ms(), account_sid(i % accounts_total), i % accounts_total);
    if (!s.submit(std::move(r))) std::fprintf(stderr, "paced: dropped\n");
    queued.push_back(static_cast<double>(s.get_stats().queue_bytes));
  }
  s.flush();
  figure("paced_5k_queue_bytes_p50", percentile(queued, 0.5), "B");
  figure("paced_5k_queue_bytes_p99", percentile(queued, 0.99), "B");
  figure("paced_5k_queue_bytes_max", percentile(queued, 1.0), "B");
}

}  // namespace

int main(int argc, char** argv) {
  fs::path dir = "/tmp/store-bench";
  std::size_t records = 1'000'000, others = 1'000'000, ingest_n = 200'000, big_n = 2000;
  bool reuse = false, only_body = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&] { return std::string(i + 1 < argc ? argv[++i] : ""); };
    if (a == "--dir")
      dir = next();
    else if (a == "--records")
      records = std::stoull(next());
    else if (a == "--others")
      others = std::stoull(next());
    else if (a == "--ingest")
      ingest_n = std::stoull(next());
    else if (a == "--big")
      big_n = std::stoull(next());
    else if (a == "--reuse")
      reuse = true;
    else if (a == "--memory-mib")
      store_memory = std::stoull(next()) << 20;
    else if (a == "--only-body")
      only_body = true;  // profiling the ResponseBody scan
    else {
      std::fprintf(stderr, "unknown argument %s\n", a.c_str());
      return 2;
    }
  }
  log::set_level(log::level::warn);
  fs::create_directories(dir);

  if (ingest_n > 0) ingest(dir / "ingest", ingest_n, false);
  if (big_n > 0) ingest(dir / "ingest-big", big_n, true);
  if (ingest_n > 0) paced(dir / "paced");
  fs::remove_all(dir / "ingest");
  fs::remove_all(dir / "ingest-big");
  fs::remove_all(dir / "paced");
  if (records == 0) return 0;

  // The big dataset: account 0 holds `records`, accounts 1..9 share `others`, spread over
  // the last 36 hours in time order.
  const fs::path data = dir / "dataset";
  const fs::path bodies_file = dir / "bodies.txt";
  const fs::path sample_file = dir / "sample.txt";
  const std::string target_account = account_sid(0);
  std::vector<std::string> sample_sids, sample_sessions;
  metrics::registry m;
  auto cfg = make_config(data);
  const bool have = reuse && fs::exists(sample_file) && fs::exists(bodies_file);
  if (!have) {
    fs::remove_all(data);
    store::trace_store s(cfg, m);
    std::ofstream bodies(bodies_file, std::ios::binary | std::ios::trunc);
    std::ofstream sample(sample_file, std::ios::trunc);
    generator gen(2026);
    std::mt19937_64 pick(5);
    const std::size_t total = records + others;
    const std::int64_t span = 36ll * 3600 * 1000;
    const std::int64_t start_ms = wall_ms() - span;
    const auto start = clock_type::now();
    std::size_t target_left = records, others_left = others;
    std::vector<double> queue_samples;
    for (std::size_t i = 0; i < total; ++i) {
      // Interleave the target account and the others in proportion, in time order.
      const bool to_target =
          others_left == 0 ||
          (target_left > 0 && pick() % (target_left + others_left) < target_left);
      const int a = to_target ? 0 : 1 + static_cast<int>(pick() % (accounts_total - 1));
      (to_target ? target_left : others_left)--;
      const std::int64_t t =
          start_ms + static_cast<std::int64_t>(static_cast<double>(i) / total * span);
      auto r = gen.make(t, account_sid(a), a);
      if (to_target) {
        bodies << r.response.body.body << '\n';
        if (pick() % 100 == 0) sample << r.sid << ' ' << r.session_sid << '\n';
      }
      while (!s.submit(std::move(r))) std::this_thread::sleep_for(std::chrono::microseconds(100));
      if (i % 1000 == 0) queue_samples.push_back(static_cast<double>(s.get_stats().queue_bytes));
    }
    s.flush();
    // The crash window: what kill -9 would lose is what is queued at that instant.
    figure("crash_window_queue_bytes_p50", percentile(queue_samples, 0.5), "B");
    figure("crash_window_queue_bytes_max", percentile(queue_samples, 1.0), "B");
    figure("dataset_build_records_per_s", static_cast<double>(total) / seconds_since(start),
           "rec/s");
    const auto c0 = clock_type::now();
    s.compact();
    figure("dataset_compaction_s", seconds_since(c0), "s");
    figure("disk_bytes_per_record", static_cast<double>(s.disk_bytes()) / total, "B");
  }
  {
    std::ifstream sample(sample_file);
    std::string sid, session;
    while (sample >> sid >> session) {
      sample_sids.push_back(sid);
      sample_sessions.push_back(session);
    }
  }

  store::trace_store s(cfg, m);
  if (have) {
    figure("disk_bytes_per_record", static_cast<double>(s.disk_bytes()) / (records + others), "B");
  }
  std::mt19937_64 pick(99);

  // get by sid
  if (!only_body) {
    std::vector<double> lat;
    for (int i = 0; i < 20000; ++i) {
      const auto& sid = sample_sids[pick() % sample_sids.size()];
      const auto t = clock_type::now();
      auto got = s.get(sid);
      lat.push_back(seconds_since(t) * 1e3);
      if (!got) {
        std::fprintf(stderr, "missing %s\n", sid.c_str());
        return 1;
      }
    }
    figure("get_by_sid_p50", percentile(lat, 0.5), "ms");
    figure("get_by_sid_p99", percentile(lat, 0.99), "ms", "<= 0.5");
  }

  auto run = [&](const std::string& name, int iterations, const std::string& target,
                 auto&& make_filter) {
    const auto t = time_pages(s, iterations, [&](store::list_query& q) {
      q.accounts = {target_account};
      make_filter(q.filter);
    });
    if (t.failed) std::fprintf(stderr, "%s failed\n", name.c_str());
    page_figures("page0_" + name, t, target);
    return std::pair{percentile(t.ms, 0.5), percentile(t.cpu_ms, 0.5)};
  };
  if (!only_body) {
    run("unfiltered", 200, "<= 10", [](store::trace_filter&) {});
    run("SessionSid", 500, "<= 2", [&](store::trace_filter& f) {
      f.session_sid = sample_sessions[pick() % sample_sessions.size()];
    });
    run("Status_failed", 7, "<= 300", [](store::trace_filter& f) { f.completed = false; });
    run("ResponseCode_5", 7, "<= 300",
        [](store::trace_filter& f) { f.response_code_prefix = "5"; });
    run("Latency_1000", 7, "<= 300", [](store::trace_filter& f) { f.min_latency_ms = 1000; });
    run("RequestPath_prefix", 7, "<= 300",
        [](store::trace_filter& f) { f.request_path_prefix = "/apps/status/"; });
  }
  run("ResponseBody_absent", only_body ? 50 : 5, "",
      [](store::trace_filter& f) { f.response_body_contains = "no such text in any body"; });
  const auto [body_ms, body_cpu] = run("ResponseBody", 5, "", [](store::trace_filter& f) {
    f.response_body_contains = std::string(needle);
  });

  // grep -F -c over the same bodies, one per line, in a flat file (page cache warm).
  // (Not to /dev/null: GNU grep then stops at the first match, as with -q.)
  std::vector<double> grep_ms, grep_cpu;
  const std::string cmd = "grep -F -c '" + std::string(needle) + "' " + bodies_file.string() +
                          " > " + (dir / "grep.out").string();
  for (int i = 0; i < 5; ++i) {
    rusage before{}, after{};
    ::getrusage(RUSAGE_CHILDREN, &before);
    const auto t = clock_type::now();
    if (std::system(cmd.c_str()) != 0) return 1;
    grep_ms.push_back(seconds_since(t) * 1e3);
    ::getrusage(RUSAGE_CHILDREN, &after);
    auto secs = [](const timeval& tv) { return tv.tv_sec + tv.tv_usec / 1e6; };
    grep_cpu.push_back((secs(after.ru_utime) - secs(before.ru_utime) + secs(after.ru_stime) -
                        secs(before.ru_stime)) *
                       1e3);
  }
  const double grep_p50 = percentile(grep_ms, 0.5);
  figure("grep_F_c_same_bodies_p50", grep_p50, "ms");
  figure("grep_F_c_same_bodies_cpu_p50", percentile(grep_cpu, 0.5), "ms");
  figure("ResponseBody_speed_vs_grep", grep_p50 / body_ms, "x", ">= 0.5");
  figure("ResponseBody_speed_vs_grep_cpu", percentile(grep_cpu, 0.5) / body_cpu, "x");
  figure("bodies_file_MB", static_cast<double>(fs::file_size(bodies_file)) / 1e6, "MB");
  return 0;
}
