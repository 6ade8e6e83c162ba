// The fleet benchmark (docs/fleet.md, bench/fleet/run.sh starts the ClickHouse servers):
//   1. ingest: N records into a local store with [fleet] shipping on (the outbox included),
//      CPU per record;
//   2. keep-up: records submitted at the store writer's full rate (or --keep-up-rate) while
//      the shipper runs:
//      arrival rate, shipped rate, the backlog at the end and how fast it grew;
//   3. drain: the backlog left by (1) shipped with nothing arriving: records/s, CPU per record
//      of the sidecar and (with --clickhouse-pid) of the ClickHouse servers;
//   4. queries over everything shipped, through the fleet reader (ClickHouse, two shards
//      behind a Distributed table) and the local store on the same records: page of 50 and
//      its exact total, unfiltered, by SessionSid, by ResponseBody; medians of the whole answer,
//      of its page and of its total. Once right after the keep-up phase (ClickHouse still
//      merging the inserted parts), and once more after the merges are done (at most
//      --settle-seconds).
// Output: one line per figure, "name value unit".
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "fleet/clickhouse_client.hpp"
#include "fleet/reader.hpp"
#include "fleet/shipper.hpp"
#include "store/trace_store.hpp"

using namespace sidecar;
using clock_type = std::chrono::steady_clock;

namespace {

double cpu_seconds() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

/// User + system CPU seconds of the processes `pids` (the ClickHouse servers), from /proc.
double cpu_seconds_of(const std::vector<int>& pids) {
  double total = 0;
  for (const int pid : pids) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    std::getline(in, line);
    // Fields after the command's closing parenthesis: state is field 3, utime 14, stime 15.
    std::istringstream rest(line.substr(line.rfind(')') + 2));
    std::string field;
    double ticks = 0;
    for (int i = 3; i <= 15 && rest >> field; ++i) {
      if (i >= 14) ticks += std::stod(field);
    }
    total += ticks / static_cast<double>(::sysconf(_SC_CLK_TCK));
  }
  return total;
}

double seconds_since(clock_type::time_point t) {
  return std::chrono::duration<double>(clock_type::now() - t).count();
}

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

const std::vector<std::string> accounts = {
    "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "ACbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
    "ACcccccccccccccccccccccccccccccccc", "ACdddddddddddddddddddddddddddddddd"};

/// A webhook-shaped record of about 900 bytes of JSON, as the store benchmark makes them.
store::trace_record make(std::mt19937_64& rng, std::int64_t created, std::uint64_t i) {
  store::trace_record r;
  r.sid = store::make_trace_sid(created, rng);
  r.account_sid = accounts[i % accounts.size()];
  r.account_friendly_name = "Acme";
  r.org_sid = "ORfe81fe8a3d5f4d5391e901db0bf5755d";
  r.org_name = "acme.example.com";
  r.created_ms = created;
  r.session_sid = "CA" + std::to_string(i / 4);  // four records per call
  r.completed = i % 20 != 0;
  r.latency_ms = static_cast<std::int64_t>(i % 800);
  r.request.path = "/apps/voice?AccountSid=" + r.account_sid + "&CallSid=" + r.session_sid;
  r.request.url = "http://app.example.com" + r.request.path;
  r.request.method = "POST";
  r.request.headers = {{"content-type", "application/x-www-form-urlencoded"},
                       {"user-agent", "TelScale-Restcomm/8.4"}};
  r.request.body.body = "CallStatus=ringing&From=%2B1555" + std::to_string(i % 10000);
  r.request.body.size = r.request.body.body.size();
  r.response.code = i % 20 == 0 ? "500" : "200";
  r.response.phrase = "OK";
  r.response.headers = {{"content-type", "application/xml"}};
  r.response.body.body = "<Response><Say>Hello caller " + std::to_string(i % 100000) +
                         "</Say><Dial>+1555" + std::to_string(i % 7919) + "</Dial></Response>";
  r.response.body.size = r.response.body.body.size();
  r.node = "bench-node";
  return r;
}

/// The fleet reader's own account of its lists (sidecar_fleet_list_seconds{part}): the sum of
/// seconds of the page's part and of the total's part, in milliseconds.
struct part_times {
  double page_ms = 0, total_ms = 0;
};

/// The value of the line of `text` that starts with `series` followed by a space; 0 if none.
double series_value(const std::string& text, const std::string& series) {
  const auto at = text.find("\n" + series + " ");
  return at == std::string::npos ? 0 : std::strtod(text.c_str() + at + series.size() + 2, nullptr);
}

part_times list_part_times(const metrics::registry& m) {
  const std::string text = m.render();
  const std::string name = "sidecar_fleet_list_seconds";
  return {series_value(text, name + "_sum{part=\"page\"}") * 1000,
          series_value(text, name + "_sum{part=\"total\"}") * 1000};
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

/// Medians over the runs of one list query: the whole answer, and (for the fleet reader,
/// whose `metrics` are given) its page and its exact total, each run's own time.
struct medians {
  double whole_ms = -1, page_ms = -1, total_ms = -1;
};

medians median_ms(store::trace_reader& reader, const store::list_query& q, int runs,
                  std::uint64_t& total, const metrics::registry* parts = nullptr) {
  std::vector<double> whole, page, count;
  for (int i = 0; i < runs; ++i) {
    const part_times before = parts ? list_part_times(*parts) : part_times{};
    const auto t = clock_type::now();
    auto res = reader.list(q);
    std::string json;
    if (res.records) {
      while (res.records->next(json)) {
      }
    }
    whole.push_back(seconds_since(t) * 1000);
    if (parts) {
      const part_times after = list_part_times(*parts);
      page.push_back(after.page_ms - before.page_ms);
      count.push_back(after.total_ms - before.total_ms);
    }
    total = res.total;
    if (res.status != store::query_status::ok) {
      std::fprintf(stderr, "query failed: %s\n", res.failure.c_str());
      return {};
    }
  }
  medians m{median(whole)};
  if (parts) {
    m.page_ms = median(page);
    m.total_ms = median(count);
  }
  return m;
}

void print(const char* name, double value, const char* unit) {
  std::printf("%-34s %14.3f %s\n", name, value, unit);
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  std::string dir = "/tmp/fleet-bench", clickhouse, table = "traces", local_table;
  std::vector<std::string> shards;
  std::vector<int> clickhouse_pids;
  double settle_seconds = 180;
  std::uint64_t records = 1'000'000;
  double keep_up_seconds = 10;
  double keep_up_rate = 0;  // records/s offered in the keep-up phase; 0: the writer flat out
  int runs = 11;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i], v = argv[i + 1];
    if (k == "--dir")
      dir = v;
    else if (k == "--clickhouse")
      clickhouse = v;
    else if (k == "--shard")
      shards.push_back(v);
    else if (k == "--clickhouse-pid")
      clickhouse_pids.push_back(std::stoi(v));
    else if (k == "--settle-seconds")
      settle_seconds = std::stod(v);
    else if (k == "--local-table")
      local_table = v;
    else if (k == "--records")
      records = std::stoull(v);
    else if (k == "--keep-up-seconds")
      keep_up_seconds = std::stod(v);
    else if (k == "--keep-up-rate")
      keep_up_rate = std::stod(v);
    else if (k == "--runs")
      runs = std::stoi(v);
  }
  auto parse_url = [](const std::string& u) {
    const auto colon = u.rfind(':');
    conf::clickhouse_url url{u, false, "127.0.0.1",
                             static_cast<std::uint16_t>(std::stoi(u.substr(colon + 1)))};
    return url;
  };
  std::filesystem::remove_all(dir);
  auto cfg = std::make_shared<conf::config>();
  cfg->store.path = dir;
  cfg->store.retention = std::chrono::hours(48);
  cfg->store.queue_bytes = 256u << 20;
  conf::fleet_config f;
  f.clickhouse = parse_url(clickhouse);
  f.table = table;
  f.local_table = local_table;
  for (const auto& s : shards) f.shards.push_back(parse_url(s));
  f.node = "bench-node";
  f.retention = std::chrono::hours(48);
  f.query = true;
  cfg->fleet = f;
  metrics::registry metrics;
  store::trace_store st(cfg, metrics);
  std::mt19937_64 rng(1);

  // 1. ingest with the outbox. Creation times spread over the last 40 hours.
  const std::int64_t start_ms = now_ms() - 40 * 3'600'000;
  const double step = 40.0 * 3'600'000 / static_cast<double>(records);
  auto t = clock_type::now();
  double cpu = cpu_seconds();
  for (std::uint64_t i = 0; i < records; ++i) {
    auto r = make(rng, start_ms + static_cast<std::int64_t>(static_cast<double>(i) * step), i);
    while (!st.submit(std::move(r))) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  st.flush();
  double took = seconds_since(t);
  print("ingest_records_per_s", static_cast<double>(records) / took, "rec/s");
  print("ingest_cpu_us_per_record", (cpu_seconds() - cpu) * 1e6 / static_cast<double>(records),
        "us");

  // 3. drain the backlog, nothing arriving.
  t = clock_type::now();
  cpu = cpu_seconds();
  double ch_cpu = cpu_seconds_of(clickhouse_pids);
  {
    fleet::shipper sh(cfg, st, metrics);
    while (sh.get_stats().backlog > 0) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    took = seconds_since(t);
    print("drain_records_per_s", static_cast<double>(records) / took, "rec/s");
    print("ship_cpu_us_per_record", (cpu_seconds() - cpu) * 1e6 / static_cast<double>(records),
          "us");
    if (!clickhouse_pids.empty()) {
      print("clickhouse_cpu_us_per_shipped_record",
            (cpu_seconds_of(clickhouse_pids) - ch_cpu) * 1e6 / static_cast<double>(records), "us");
    }
    print("drain_batches", static_cast<double>(sh.get_stats().batches), "batches");

    // 2. keep-up: the writer at full rate while the shipper runs.
    const auto shipped_before = sh.get_stats().shipped;
    std::uint64_t sent = 0;
    t = clock_type::now();
    cpu = cpu_seconds();
    ch_cpu = cpu_seconds_of(clickhouse_pids);
    const auto start_backlog = sh.get_stats().backlog;
    std::uint64_t max_backlog = 0;
    std::uint64_t offered = 0;
    while (seconds_since(t) < keep_up_seconds) {
      // Flat out, or paced at --keep-up-rate (a stated arrival rate).
      const std::uint64_t due = keep_up_rate > 0
                                    ? static_cast<std::uint64_t>(keep_up_rate * seconds_since(t))
                                    : offered + 1000;
      if (offered >= due) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
        continue;
      }
      for (; offered < due; ++offered) {
        if (st.submit(make(rng, now_ms(), records + sent))) ++sent;
      }
      max_backlog = std::max<std::uint64_t>(max_backlog, sh.get_stats().backlog);
    }
    st.flush();
    const double offered_for = seconds_since(t);  // until every record offered is written
    const double arrival = static_cast<double>(sent) / offered_for;
    const auto end_backlog = sh.get_stats().backlog;
    const double keep_up_cpu = cpu_seconds() - cpu;
    const double keep_up_ch_cpu = cpu_seconds_of(clickhouse_pids) - ch_cpu;
    const auto t2 = clock_type::now();
    while (sh.get_stats().backlog > 0) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    print("keepup_arrival_records_per_s", arrival, "rec/s");
    print("keepup_shipped_records_per_s",
          static_cast<double>(sh.get_stats().shipped - shipped_before) /
              (keep_up_seconds + seconds_since(t2)),
          "rec/s");
    print("keepup_max_backlog_records", static_cast<double>(max_backlog), "records");
    print("keepup_backlog_at_end_records", static_cast<double>(end_backlog), "records");
    print("keepup_backlog_growth_records_per_s",
          (static_cast<double>(end_backlog) - static_cast<double>(start_backlog)) / offered_for,
          "rec/s");
    print("keepup_catch_up_s", seconds_since(t2), "s");
    print("keepup_sidecar_cpu_cores", keep_up_cpu / offered_for, "cores");
    if (!clickhouse_pids.empty()) {
      print("keepup_clickhouse_cpu_cores", keep_up_ch_cpu / offered_for, "cores");
    }
    records += sent;
  }

  // 4. queries, both readers, the same records.
  fleet::clickhouse_reader fleet_reader(cfg, metrics);
  store::list_query q;
  q.accounts = accounts;
  q.page_size = 50;
  std::uint64_t total = 0;
  auto both = [&](const char* name, store::list_query query) {
    const std::string base = name;
    const medians fleet = median_ms(fleet_reader, query, runs, total, &metrics);
    print((base + "_fleet_p50_ms").c_str(), fleet.whole_ms, "ms");
    // The page, then its total: each part's own time.
    print((base + "_fleet_page_p50_ms").c_str(), fleet.page_ms, "ms");
    print((base + "_fleet_total_p50_ms").c_str(), fleet.total_ms, "ms");
    print((base + "_fleet_total").c_str(), static_cast<double>(total), "records");
    print((base + "_local_p50_ms").c_str(), median_ms(st, query, runs, total).whole_ms, "ms");
    print((base + "_local_total").c_str(), static_cast<double>(total), "records");
  };
  auto all_queries = [&](const std::string& when) {
    both(("list_page50" + when).c_str(), q);
    auto by_session = q;
    by_session.filter.session_sid = "CA12345";
    both(("session_sid" + when).c_str(), by_session);
    auto by_body = q;
    by_body.filter.response_body_contains = "Hello caller 4242<";
    both(("response_body" + when).c_str(), by_body);
    auto deep = q;
    deep.page = 1000;
    both(("list_page1000" + when).c_str(), deep);
  };
  // Active parts and running merges on every shard: what a query reads through.
  auto shard_state = [&](const char* sql) {
    double n = 0;
    for (const auto& url : cfg->fleet->shards) {
      fleet::clickhouse_client c(url, *cfg->fleet);
      const auto a = c.query(sql);
      if (a.ok()) n += std::stod(a.body);
    }
    return n;
  };
  const char* parts_sql =
      "SELECT count() FROM system.parts WHERE active AND table = 'traces_local'";
  const char* merges_sql = "SELECT count() FROM system.merges";
  print("parts_after_ingest", shard_state(parts_sql), "parts");
  all_queries("");
  t = clock_type::now();
  while (shard_state(merges_sql) > 0 && seconds_since(t) < settle_seconds) {
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  print("merges_settled_after_s", seconds_since(t), "s");
  print("parts_after_merges", shard_state(parts_sql), "parts");
  all_queries("_merged");
  return 0;
}
