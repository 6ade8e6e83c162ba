// The shipper's two threads (see shipper.hpp, docs/fleet.md): one builds batches from the
// outbox, the other sends them to ClickHouse and settles them, in commit order.
#include "fleet/shipper.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include "fleet/clickhouse_client.hpp"
#include "fleet/schema.hpp"
#include "fleet/sql.hpp"
#include "store/trace_record.hpp"
#include "support/log.hpp"
#include "support/utc_time.hpp"

namespace sidecar::fleet {

namespace {

using steady = std::chrono::steady_clock;

constexpr std::array<clickhouse_answer::failure, 6> failure_kinds{
    clickhouse_answer::failure::connect, clickhouse_answer::failure::tls,
    clickhouse_answer::failure::timeout, clickhouse_answer::failure::io,
    clickhouse_answer::failure::http,    clickhouse_answer::failure::too_large};

// While a backlog drains, a batch grows up to this many times batch_records (fewer parts for
// ClickHouse to write and merge, fewer round trips), as long as it stays under max_rows_bytes
// and, at the rate ClickHouse took the last batch, under a quarter of [fleet] timeout: a
// batch that would time out is sent again, which only adds work.
constexpr std::size_t max_growth = 8;
constexpr std::size_t max_rows_bytes = 32u << 20;
// Batches built ahead of the one in flight: one is built while ClickHouse takes the other.
constexpr std::size_t max_queued = 2;

/// "2026-12-01" for a Date partition; nullopt for anything else.
std::optional<std::int64_t> partition_day(std::string_view p) {
  if (p.size() != 10 || p[4] != '-' || p[7] != '-') return std::nullopt;
  auto num = [&](std::size_t at, std::size_t n) {
    int v = 0;
    for (std::size_t i = at; i < at + n; ++i) {
      if (p[i] < '0' || p[i] > '9') return -1;
      v = v * 10 + (p[i] - '0');
    }
    return v;
  };
  const int y = num(0, 4), m = num(5, 2), d = num(8, 2);
  if (y < 0 || m < 0 || d < 0) return std::nullopt;
  return utc::days_from_civil(y, static_cast<unsigned>(m), static_cast<unsigned>(d));
}

}  // namespace

struct shipper::impl {
  impl(std::shared_ptr<const conf::config> c, store::trace_store& s, metrics::registry& m,
       shipper_options o);
  ~impl();

  /// A batch built from the outbox: its rows, and the outbox entries it settles.
  struct batch {
    std::string rows;
    std::uint64_t last_seq = 0;  // settled through this sequence once ClickHouse took it
    std::uint64_t records = 0;   // rows in `rows`
    std::uint64_t lost = 0;      // entries whose record the store no longer held
    std::int64_t oldest_ms = 0;  // creation time of its first record
    bool inserted = false;       // ClickHouse took it; only the settle is left
  };

  // The builder thread: outbox → rows, into queue_ (at most max_queued).
  void build_loop();
  /// One try at a batch: true when one was queued; false when there is nothing to send yet
  /// (the builder waits a poll).
  bool build_once();
  /// Reads the outbox into pending_; true when a batch is due (full, or its oldest has waited
  /// batch_interval), false when none is yet or the read failed (tried again).
  bool gather();
  /// Moves pending_'s records into `b`, up to the batch's bounds: how many pending_ entries it
  /// took, or nothing when a read failed (the whole batch is tried again).
  std::optional<std::size_t> fill_batch(batch& b);
  /// How many records a batch may hold while a backlog drains.
  [[nodiscard]] std::size_t batch_limit() const;

  // The sender thread: schema, retention, then each batch of queue_ in order.
  void send_loop();
  bool ensure_schema();
  /// Inserts and settles the front batch; false when ClickHouse or the settle failed (the
  /// caller backs off and tries the same batch again).
  bool send(batch& b);
  bool drop_partitions();
  void failed(const clickhouse_answer& a, std::string_view what);
  void recovered();
  /// Sleeps up to `d`, or until stopped or a retention pass is asked for; false when stopped.
  bool pause(std::chrono::milliseconds d);

  std::shared_ptr<const conf::config> cfg_;
  const conf::fleet_config& fleet_;
  store::trace_store& store_;
  shipper_options opts_;
  std::chrono::milliseconds poll_;

  // The builder's own state.
  row_encoder rows_;
  std::vector<store::outbox_entry> pending_;  // read from the outbox, not yet in a batch
  std::uint64_t cursor_ = 0;                  // first sequence not yet read into pending_
  steady::time_point gathering_since_{};

  // The sender's own state.
  clickhouse_client client_;
  std::vector<std::unique_ptr<clickhouse_client>> shard_clients_;
  bool schema_ready_ = false;
  steady::time_point next_retention_{};
  std::uint64_t failures_in_a_row_ = 0;
  // Records per second ClickHouse took in the last insert (0: not measured yet).
  std::atomic<double> insert_rate_{0};

  metrics::counter& shipped_;
  metrics::counter& batches_;
  metrics::counter& lost_;
  metrics::counter& dropped_partitions_;
  std::map<clickhouse_answer::failure, metrics::counter*> failed_;
  metrics::gauge& behind_seconds_;
  metrics::gauge& failing_;
  // The backlog's ends, shared with the metric's callback (which may outlive this shipper):
  // the store's next outbox sequence, as last seen, and the first one not yet settled.
  struct backlog_ends {
    std::atomic<std::uint64_t> next{0};
    std::atomic<std::uint64_t> settled{0};
    [[nodiscard]] std::uint64_t records() const {
      const auto n = next.load(), d = settled.load();
      return n > d ? n - d : 0;
    }
  };
  std::shared_ptr<backlog_ends> backlog_ = std::make_shared<backlog_ends>();

  mutable std::mutex mu_;
  std::condition_variable cv_;
  // Built batches in commit order; the front is the one being sent. Only the builder pushes
  // and only the sender pops, so the sender's reference to the front stays valid (a deque
  // keeps references to its elements across push_back).
  std::deque<batch> queue_;
  bool stop_ = false;
  bool retention_now_ = false;
  shipping_health health_;
  std::thread builder_;
  std::thread sender_;
};

shipper::impl::impl(std::shared_ptr<const conf::config> c, store::trace_store& s,
                    metrics::registry& m, shipper_options o)
    : cfg_(std::move(c)),
      fleet_(*cfg_->fleet),
      store_(s),
      opts_(std::move(o)),
      poll_(std::clamp<std::chrono::milliseconds>(
          fleet_.batch_interval / 4, std::chrono::milliseconds(5), std::chrono::milliseconds(100))),
      client_(fleet_.clickhouse, fleet_),
      shipped_(m.add_counter("sidecar_fleet_records_shipped_total",
                             "Trace records ClickHouse has taken")),
      batches_(m.add_counter("sidecar_fleet_batches_shipped_total",
                             "Batches of records ClickHouse has taken")),
      lost_(m.add_counter("sidecar_fleet_records_lost_total",
                          "Records removed locally (retention, max_bytes) before they were shipped",
                          {{"reason", "removed_locally"}})),
      dropped_partitions_(m.add_counter("sidecar_fleet_partitions_dropped_total",
                                        "Day partitions dropped from ClickHouse past retention")),
      behind_seconds_(m.add_gauge("sidecar_fleet_backlog_seconds",
                                  "Age of the oldest record not yet shipped, in seconds")),
      failing_(m.add_gauge("sidecar_fleet_shipping_failing",
                           "1 while shipping to ClickHouse fails, else 0")) {
  if (!opts_.now_ms) opts_.now_ms = utc::now_ms;
  for (const auto k : failure_kinds) {
    clickhouse_answer a;
    a.fail = k;
    failed_[k] = &m.add_counter("sidecar_fleet_batches_failed_total",
                                "Requests to ClickHouse that failed, by kind",
                                {{"kind", std::string(a.kind())}});
  }
  for (const auto& url : fleet_.shards) {
    shard_clients_.push_back(std::make_unique<clickhouse_client>(url, fleet_));
  }
  // The backlog: entries given by the committer and not yet settled.
  m.add_callback("sidecar_fleet_backlog_records", "Records committed locally, not yet shipped",
                 [b = backlog_] { return static_cast<double>(b->records()); });
  std::vector<store::outbox_entry> first;
  if (store_.outbox_read(0, 1, first) && !first.empty())
    cursor_ = first.front().seq;
  else
    cursor_ = store_.outbox_next_seq();
  backlog_->settled.store(cursor_);
  backlog_->next.store(store_.outbox_next_seq());
  builder_ = std::thread([this] { build_loop(); });
  sender_ = std::thread([this] { send_loop(); });
}

shipper::impl::~impl() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (builder_.joinable()) builder_.join();
  if (sender_.joinable()) sender_.join();
}

bool shipper::impl::pause(std::chrono::milliseconds d) {
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, d, [&] { return stop_ || retention_now_; });
  return !stop_;
}

void shipper::impl::failed(const clickhouse_answer& a, std::string_view what) {
  ++failures_in_a_row_;
  const std::string reason = a.describe();
  bool first = false;
  {
    std::lock_guard lock(mu_);
    first = health_.ok;
    if (health_.ok || health_.reason != reason) {
      health_.ok = false;
      health_.reason = reason;
      if (first) health_.since_ms = opts_.now_ms();
    }
  }
  // Counted once the health says it: whoever sees the failure counted sees it in /health too.
  failed_[a.fail]->inc();
  failing_.set(1);
  // One line when shipping starts failing, then one per 64 failures in a row.
  if (first || (failures_in_a_row_ & 63) == 0) {
    log::warn("fleet: shipping to ClickHouse failed; records wait in the local outbox",
              {{"step", what},
               {"error", reason},
               {"failures_in_a_row", std::to_string(failures_in_a_row_)}});
  }
}

void shipper::impl::recovered() {
  bool was_failing = false;
  {
    std::lock_guard lock(mu_);
    was_failing = !health_.ok;
    health_ = {};
  }
  failing_.set(0);
  if (was_failing) {
    log::info("fleet: shipping to ClickHouse again",
              {{"failures", std::to_string(failures_in_a_row_)}});
  }
  failures_in_a_row_ = 0;
}

bool shipper::impl::ensure_schema() {
  if (!fleet_.local_table.empty()) {
    // A cluster's tables are the operator's (docs/fleet.md gives the SQL): nothing to create.
    schema_ready_ = true;
    return true;
  }
  for (const auto& q : {create_database_sql(fleet_), create_table_sql(fleet_, fleet_.table),
                        create_tombstone_table_sql(fleet_, fleet_.table)}) {
    const auto a = client_.query(q);
    if (!a.ok()) {
      failed(a, "create table");
      return false;
    }
  }
  schema_ready_ = true;
  return true;
}

std::size_t shipper::impl::batch_limit() const {
  const std::size_t base = fleet_.batch_records;
  const double rate = insert_rate_.load();
  if (rate <= 0) return base;  // ClickHouse's pace is not known yet
  const auto in_a_quarter_timeout =
      static_cast<std::size_t>(rate * std::chrono::duration<double>(fleet_.timeout).count() / 4);
  return std::clamp(in_a_quarter_timeout, base, base * max_growth);
}

bool shipper::impl::gather() {
  const std::size_t want = fleet_.batch_records;
  backlog_->next.store(store_.outbox_next_seq());
  if (pending_.size() < want) {
    const std::size_t before = pending_.size();
    if (!store_.outbox_read(cursor_, want - pending_.size(), pending_)) return false;  // retried
    if (pending_.size() > before) cursor_ = pending_.back().seq + 1;
  }
  if (pending_.empty()) {
    std::lock_guard lock(mu_);
    if (queue_.empty()) behind_seconds_.set(0);
    return false;
  }
  const auto now = steady::now();
  if (gathering_since_ == steady::time_point{}) gathering_since_ = now;
  {
    std::lock_guard lock(mu_);
    const auto oldest = store::sid_time_ms(pending_.front().sid);
    if (queue_.empty() && oldest) {
      behind_seconds_.set(std::max<std::int64_t>(0, (opts_.now_ms() - *oldest) / 1000));
    }
  }
  if (pending_.size() < want && now - gathering_since_ < fleet_.batch_interval) {
    return false;  // let the batch gather
  }
  // Behind: more records wait than a batch holds, so this batch grows (batch_limit).
  const std::size_t limit = batch_limit();
  if (pending_.size() >= want && pending_.size() < limit && backlog_->next.load() > cursor_) {
    if (store_.outbox_read(cursor_, limit - pending_.size(), pending_)) {
      cursor_ = pending_.back().seq + 1;
    }
  }
  return true;
}

std::optional<std::size_t> shipper::impl::fill_batch(batch& b) {
  const std::size_t want = fleet_.batch_records;
  b.oldest_ms = store::sid_time_ms(pending_.front().sid).value_or(0);
  std::size_t taken = 0;
  for (const auto& e : pending_) {
    // Past a normal batch, stop at the byte bound; the rest start the next batch.
    if (taken >= want && b.rows.size() >= max_rows_bytes) break;
    const auto t = store_.get(e.sid);
    // A read that failed is tried again with the whole batch; only a record the store no
    // longer holds is counted as removed.
    if (t.status != store::query_status::ok) return std::nullopt;
    ++taken;
    if (!t || !rows_.append(b.rows, e.sid, t->json)) {
      ++b.lost;  // removed locally (retention, max_bytes) before it could be shipped
      continue;
    }
    ++b.records;
  }
  b.last_seq = pending_[taken - 1].seq;
  return taken;
}

bool shipper::impl::build_once() {
  if (!gather()) return false;
  batch b;
  const auto taken = fill_batch(b);
  if (!taken) return false;
  pending_.erase(pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(*taken));
  gathering_since_ = pending_.empty() ? steady::time_point{} : steady::now();
  {
    std::lock_guard lock(mu_);
    queue_.push_back(std::move(b));
  }
  cv_.notify_all();
  return true;
}

void shipper::impl::build_loop() {
  for (;;) {
    {
      // Wait for room: at most max_queued batches built ahead (memory stays bounded).
      std::unique_lock lock(mu_);
      while (!stop_ && queue_.size() >= max_queued) {
        // The store goes on committing while ClickHouse is stuck: keep the backlog metric's
        // end current, or it would show only what was committed before the queue filled.
        backlog_->next.store(store_.outbox_next_seq());
        cv_.wait_for(lock, poll_);
      }
      if (stop_) return;
    }
    if (build_once()) continue;
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, poll_, [&] { return stop_; });
    if (stop_) return;
  }
}

bool shipper::impl::send(batch& b) {
  if (!b.inserted && b.records > 0) {
    const auto start = steady::now();
    const auto a = client_.insert(insert_sql(fleet_), b.rows, !fleet_.local_table.empty());
    if (!a.ok()) {
      // The table is gone (an operator dropped it): create it again before the next try.
      if (a.fail == clickhouse_answer::failure::http && (a.code == 60 || a.code == 81)) {
        schema_ready_ = false;
      }
      failed(a, "insert");
      return false;
    }
    const double took = std::chrono::duration<double>(steady::now() - start).count();
    if (took > 0) insert_rate_.store(static_cast<double>(b.records) / took);
  }
  b.inserted = true;
  b.rows = {};
  // The durable position moves only past batches ClickHouse took, in commit order (this
  // thread sends the queue's batches one after the other).
  if (!store_.outbox_settle(backlog_->settled.load(), b.last_seq)) {
    return false;  // settled after a pause, without sending the rows again
  }
  if (b.lost > 0) {
    lost_.inc(b.lost);
    log::warn("fleet: records removed locally before they were shipped",
              {{"records", std::to_string(b.lost)}});
  }
  shipped_.inc(b.records);
  if (b.records > 0) batches_.inc();
  backlog_->settled.store(b.last_seq + 1);
  {
    std::lock_guard lock(mu_);
    queue_.pop_front();
    if (!queue_.empty()) {
      behind_seconds_.set(
          std::max<std::int64_t>(0, (opts_.now_ms() - queue_.front().oldest_ms) / 1000));
    }
  }
  cv_.notify_all();
  recovered();
  return true;
}

bool shipper::impl::drop_partitions() {
  const std::int64_t cutoff = opts_.now_ms() - fleet_.retention.count();
  // A day partition goes once the whole day is past the cutoff.
  const std::int64_t last_day_to_drop = day_of(cutoff) - 1;
  auto drop_on = [&](clickhouse_client& c, const std::string& table) {
    const std::string list = "SELECT DISTINCT partition FROM system.parts WHERE database = " +
                             sql::quote(fleet_.database) + " AND table = " + sql::quote(table) +
                             " AND active FORMAT TabSeparated";
    const auto a = c.query(list);
    if (!a.ok()) {
      failed(a, "retention");
      return false;
    }
    std::string_view rest = a.body;
    while (!rest.empty()) {
      const auto nl = rest.find('\n');
      const std::string_view p = rest.substr(0, nl);
      rest = nl == std::string_view::npos ? std::string_view{} : rest.substr(nl + 1);
      const auto day = partition_day(p);
      if (!day || *day > last_day_to_drop) continue;
      const auto d =
          c.query("ALTER TABLE " + table_name(fleet_, table) + " DROP PARTITION " + sql::quote(p));
      if (!d.ok()) {
        failed(d, "retention");
        return false;
      }
      dropped_partitions_.inc();
      log::info("fleet: day partition past retention dropped", {{"table", table}, {"day", p}});
    }
    return true;
  };
  bool ok = true;
  if (shard_clients_.empty()) {
    ok = drop_on(client_, fleet_.table) && drop_on(client_, fleet_.table + "_purged");
  } else {
    for (auto& c : shard_clients_) {
      ok = drop_on(*c, fleet_.local_table) && drop_on(*c, fleet_.local_table + "_purged") && ok;
    }
  }
  return ok;
}

void shipper::impl::send_loop() {
  std::chrono::milliseconds backoff{0};
  for (;;) {
    batch* front = nullptr;
    {
      std::unique_lock lock(mu_);
      // Idle until a batch is built, a retention pass is due or asked for, or the end.
      const auto until_retention = next_retention_ - steady::now();
      cv_.wait_for(lock, std::max<steady::duration>(until_retention, poll_),
                   [&] { return stop_ || retention_now_ || !queue_.empty(); });
      if (stop_) return;
      if (retention_now_) next_retention_ = {};
      retention_now_ = false;
      if (!queue_.empty()) front = &queue_.front();
    }
    bool ok = schema_ready_ || ensure_schema();
    if (ok && steady::now() >= next_retention_) {
      if (drop_partitions()) next_retention_ = steady::now() + opts_.retention_interval;
    }
    if (ok && front != nullptr) ok = send(*front);
    if (!ok) {
      backoff = std::min<std::chrono::milliseconds>(
          opts_.max_backoff,
          std::max<std::chrono::milliseconds>(backoff * 2, std::chrono::milliseconds(250)));
      if (!pause(backoff)) return;
      continue;
    }
    backoff = {};
  }
}

shipper::shipper(std::shared_ptr<const conf::config> cfg, store::trace_store& store,
                 metrics::registry& metrics, shipper_options opts)
    : impl_(std::make_unique<impl>(std::move(cfg), store, metrics, std::move(opts))) {}

shipper::~shipper() = default;

shipper::stats shipper::get_stats() const {
  stats s;
  s.shipped = impl_->shipped_.value();
  s.batches = impl_->batches_.value();
  for (const auto& [k, c] : impl_->failed_) s.failed_batches += c->value();
  s.lost = impl_->lost_.value();
  impl_->backlog_->next.store(impl_->store_.outbox_next_seq());
  s.backlog = impl_->backlog_->records();
  s.partitions_dropped = impl_->dropped_partitions_.value();
  return s;
}

shipping_health shipper::health() const {
  std::lock_guard lock(impl_->mu_);
  return impl_->health_;
}

void shipper::drop_expired_partitions() {
  {
    std::lock_guard lock(impl_->mu_);
    impl_->retention_now_ = true;
  }
  impl_->cv_.notify_all();
}

}  // namespace sidecar::fleet
