// The fleet reader's SQL (see reader.hpp, docs/fleet.md). A list is three queries, one after
// the other: the page's sids (a top-k sort made distinct here, newest first), those records'
// JSON by primary key, then the exact total (count() FINAL or uniqExact of sid: a sid shipped
// twice counts once). Every value goes through sql::quote.
#include "fleet/reader.hpp"

#include <algorithm>
#include <atomic>
#include <functional>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "fleet/clickhouse_client.hpp"
#include "fleet/schema.hpp"
#include "fleet/sql.hpp"
#include "store/trace_record.hpp"
#include "support/ascii.hpp"
#include "support/log.hpp"
#include "support/utc_time.hpp"

namespace sidecar::fleet {

namespace {

using clock = std::chrono::steady_clock;

/// A RowBinary answer, read field by field.
class row_reader {
 public:
  explicit row_reader(std::string_view data) : data_(data) {}
  [[nodiscard]] bool at_end() const { return pos_ >= data_.size(); }
  bool string(std::string_view& out) {
    std::uint64_t len = 0;
    for (int shift = 0;; shift += 7) {
      if (pos_ >= data_.size() || shift > 63) return false;
      const auto b = static_cast<std::uint8_t>(data_[pos_++]);
      len |= std::uint64_t{b & 0x7fu} << shift;
      if ((b & 0x80) == 0) break;
    }
    if (len > data_.size() - pos_) return false;
    out = data_.substr(pos_, len);
    pos_ += len;
    return true;
  }
  bool u64(std::uint64_t& out) {
    if (data_.size() - pos_ < 8) return false;
    out = 0;
    for (int i = 7; i >= 0; --i) out = (out << 8) | static_cast<std::uint8_t>(data_[pos_ + i]);
    pos_ += 8;
    return true;
  }

 private:
  std::string_view data_;
  std::size_t pos_ = 0;
};

/// A page held whole: ClickHouse has answered every record before the API sends its head, so
/// a failure can never cut a page short. At most PageSize records (1000).
class page_stream final : public store::record_stream {
 public:
  explicit page_stream(std::vector<std::string> records) : records_(std::move(records)) {}
  bool next(std::string& json) override {
    if (at_ >= records_.size()) return false;
    json = std::move(records_[at_++]);
    return true;
  }
  [[nodiscard]] store::query_status status() const override { return store::query_status::ok; }
  [[nodiscard]] extent page_extent() const override {
    extent e;
    e.count = records_.size();
    if (!records_.empty()) {
      const auto& last = records_.back();
      const auto at = last.find("\"sid\":\"");
      if (at != std::string::npos) e.last_sid = last.substr(at + 7, 34);
    }
    return e;
  }

 private:
  std::vector<std::string> records_;
  std::size_t at_ = 0;
};

}  // namespace

struct clickhouse_reader::impl {
  std::shared_ptr<const conf::config> cfg;
  const conf::fleet_config& fleet;
  std::function<std::int64_t()> now_ms;
  std::string table;   // {database}.{table}
  std::string local;   // the table each shard holds: {database}.{local_table}, else `table`
  std::string purged;  // {database}.{local_table or table}_purged
  metrics::counter& failures;
  // How long each part of a list takes (one after the other): the page (its sids and records)
  // and its exact total, so that an operator sees which one a slow list waits for.
  metrics::histogram& page_seconds;
  metrics::histogram& total_seconds;

  std::mutex mu;
  std::vector<std::unique_ptr<clickhouse_client>> idle;  // kept-alive clients
  std::atomic<bool> schema_ready{false};
  const bool cluster = !fleet.local_table.empty();

  impl(std::shared_ptr<const conf::config> c, metrics::registry& m,
       std::function<std::int64_t()> now)
      : cfg(std::move(c)),
        fleet(*cfg->fleet),
        now_ms(now ? std::move(now) : utc::now_ms),
        table(table_name(fleet, fleet.table)),
        local(table_name(fleet, shard_table(fleet))),
        // On a cluster each shard reads its own tombstones (sharded by account like the
        // records), rather than a set of every tombstone sent to every shard.
        purged(table_name(fleet, shard_table(fleet) + "_purged")),
        failures(m.add_counter("sidecar_fleet_queries_failed_total",
                               "Fleet queries that ClickHouse did not answer")),
        page_seconds(
            m.add_histogram("sidecar_fleet_list_seconds", list_seconds_help, {{"part", "page"}})),
        total_seconds(m.add_histogram("sidecar_fleet_list_seconds", list_seconds_help,
                                      {{"part", "total"}})) {}

  /// The table each shard holds: `local_table` on a cluster, else `table` itself.
  static std::string shard_table(const conf::fleet_config& f) {
    return f.local_table.empty() ? f.table : f.local_table;
  }
  static constexpr const char* list_seconds_help =
      "Fleet lists: each part's time (the page, then its total)";

  /// Runs one query on a pooled client. On a single server, a sidecar that only queries
  /// creates the tables too (the first time), so that an empty fleet answers empty lists.
  clickhouse_answer run(const std::string& sql, clock::time_point deadline,
                        std::size_t max_bytes = 16u << 20) {
    if (auto a = ensure_schema(deadline); !a.ok()) return a;
    return on_client([&](clickhouse_client& c) { return c.query(sql, max_bytes, deadline); });
  }

  /// Inserts RowBinary `rows` with `insert_sql`; on a cluster the Distributed table answers
  /// once every shard holds its rows, so that they count at once.
  clickhouse_answer insert(const std::string& insert_sql, const std::string& rows) {
    if (auto a = ensure_schema(clock::time_point::max()); !a.ok()) return a;
    return on_client([&](clickhouse_client& c) { return c.insert(insert_sql, rows, cluster); });
  }

  clickhouse_answer ensure_schema(clock::time_point deadline) {
    if (schema_ready.load() || !fleet.local_table.empty()) return {};
    for (const auto& ddl : {create_database_sql(fleet), create_table_sql(fleet, fleet.table),
                            create_tombstone_table_sql(fleet, fleet.table)}) {
      auto a = on_client([&](clickhouse_client& c) { return c.query(ddl, 1u << 20, deadline); });
      if (!a.ok()) return a;
    }
    schema_ready.store(true);
    return {};
  }

  /// One request on a pooled client.
  template <class Request>
  clickhouse_answer on_client(Request&& request) {
    std::unique_ptr<clickhouse_client> c;
    {
      std::lock_guard lock(mu);
      if (!idle.empty()) {
        c = std::move(idle.back());
        idle.pop_back();
      }
    }
    if (!c) c = std::make_unique<clickhouse_client>(fleet.clickhouse, fleet);
    auto a = request(*c);
    if (!a.ok()) {
      failures.inc();
      log::warn("fleet: a query to ClickHouse failed", {{"error", a.describe()}});
    }
    std::lock_guard lock(mu);
    if (idle.size() < 8) idle.push_back(std::move(c));
    return a;
  }

  /// With a Distributed table, aggregate on each shard without merging on the entry server
  /// (exact, since every sid lives on one shard); nothing on a single server.
  [[nodiscard]] std::string per_shard() const {
    return cluster ? " SETTINGS distributed_group_by_no_merge = 1" : "";
  }

  [[nodiscard]] std::int64_t cutoff() const { return now_ms() - fleet.retention.count(); }

  /// The rows a purge has not removed (docs/fleet.md: tombstones).
  [[nodiscard]] std::string not_purged() const {
    return " AND sid NOT IN (SELECT sid FROM " + purged + ")";
  }

  /// " AND day = '2026-12-02'": the one day partition that can hold `sid` (its creation day,
  /// as the rows are partitioned), so that a lookup by sid alone opens no other partition.
  static std::string in_day_of(std::int64_t created_ms) {
    // Past 2099 a sid's day is no date that ClickHouse's Date holds (nor one a row was shipped
    // with): no partition is named, as before.
    constexpr std::int64_t year_2100_ms = 4'102'444'800'000;
    if (created_ms < 0 || created_ms >= year_2100_ms) return {};
    std::string iso;
    utc::append_iso8601(iso, created_ms, false);
    return " AND day = " + sql::quote(std::string_view(iso).substr(0, 10));
  }

  store::trace_lookup find(std::string_view sid) {
    store::trace_lookup r;
    const auto created = store::sid_time_ms(sid);
    if (!created || *created < cutoff()) return r;
    const std::string sql = "SELECT account_sid, json FROM " + table +
                            " WHERE sid = " + sql::quote(sid) + in_day_of(*created) + not_purged() +
                            " LIMIT 1 FORMAT RowBinary";
    const auto a = run(sql, clock::time_point::max());
    if (!a.ok()) {
      r.status = store::query_status::failed;
      r.failure = a.describe();
      return r;
    }
    row_reader rows(a.body);
    std::string_view account, json;
    if (rows.at_end()) return r;
    if (!rows.string(account) || !rows.string(json)) {
      r.status = store::query_status::failed;
      r.failure = "ClickHouse's answer could not be read";
      return r;
    }
    r.trace = store::stored_trace{std::string(account), std::string(json)};
    return r;
  }

  /// Whether `f` sets nothing but the sort key's columns (the account, the dates).
  static bool key_only(const store::trace_filter& f) {
    return !f.completed && !f.session_sid && !f.min_latency_ms && !f.direction &&
           !f.response_code_prefix && !f.response_body_contains && !f.request_path_prefix &&
           !f.org_sid && !f.method && !f.request_body_contains;
  }

  /// The WHERE clause of a list, or nullopt when it can match nothing.
  std::optional<std::string> where(const store::list_query& q) const {
    std::string w;
    if (!append_time_range(w, q.filter) || !append_accounts(w, q)) return std::nullopt;
    append_filters(w, q.filter);
    w += not_purged();
    return w;
  }

  /// The sid range of the creation-time bounds, within retention; false when it is empty.
  bool append_time_range(std::string& w, const store::trace_filter& f) const {
    const std::int64_t lo = std::max(cutoff(), f.created_from_ms.value_or(cutoff()));
    const std::int64_t hi = f.created_before_ms.value_or(store::max_sid_ms + 1);
    if (lo >= hi) return false;
    w += "sid >= " + sql::quote(store::sid_floor(lo)) + " AND sid < " +
         sql::quote(store::sid_floor(hi));
    return true;
  }

  /// The accounts the caller may read, narrowed by AccountSid; false when none is left.
  static bool append_accounts(std::string& w, const store::list_query& q) {
    const auto& account = q.filter.account_sid;
    if (account) {
      const bool readable = q.all_accounts || std::find(q.accounts.begin(), q.accounts.end(),
                                                        *account) != q.accounts.end();
      if (!readable) return false;
      w += " AND account_sid = " + sql::quote(*account);
      return true;
    }
    if (q.all_accounts) return true;
    if (q.accounts.empty()) return false;
    w += " AND account_sid IN (";
    for (std::size_t i = 0; i < q.accounts.size(); ++i) {
      if (i > 0) w += ", ";
      sql::append_quoted(w, q.accounts[i]);
    }
    w += ")";
    return true;
  }

  /// Every other filter, each matched with a function that takes the value as data.
  static void append_filters(std::string& w, const store::trace_filter& f) {
    if (f.completed) w += *f.completed ? " AND completed = 1" : " AND completed = 0";
    if (f.direction) w += f.direction == conf::direction::api ? " AND api = 1" : " AND api = 0";
    if (f.min_latency_ms) w += " AND latency_ms >= " + sql::number(*f.min_latency_ms);
    if (f.session_sid) w += " AND session_sid = " + sql::quote(*f.session_sid);
    if (f.org_sid) w += " AND org_sid = " + sql::quote(*f.org_sid);
    if (f.response_code_prefix) {
      w += " AND startsWith(response_code, " + sql::quote(*f.response_code_prefix) + ")";
    }
    if (f.request_path_prefix && !f.request_path_prefix->empty()) {
      const auto p = sql::quote(*f.request_path_prefix);
      w += " AND (startsWith(request_path, " + p + ") OR startsWith(request_url, " + p + "))";
    }
    if (f.response_body_contains && !f.response_body_contains->empty()) {
      w += " AND position(response_body, " + sql::quote(*f.response_body_contains) + ") > 0";
    }
    if (f.method && !f.method->empty()) {
      // Letter case aside (ASCII, as the local store compares): lower() is ASCII-only.
      w += " AND lower(method) = " + sql::quote(ascii::to_lower(*f.method));
    }
    if (f.request_body_contains && !f.request_body_contains->empty()) {
      w += " AND position(request_body, " + sql::quote(*f.request_body_contains) + ") > 0";
    }
  }

  store::list_result fail(const clickhouse_answer& a, clock::time_point deadline) {
    store::list_result r;
    r.status = clock::now() >= deadline && a.fail == clickhouse_answer::failure::timeout
                   ? store::query_status::timed_out
                   : store::query_status::failed;
    r.failure = a.describe();
    return r;
  }

  struct page_row {
    std::string sid;
    std::string account;
  };

  /// A failed list for an answer that is not the RowBinary asked for.
  static store::list_result unreadable() {
    store::list_result failed;
    failed.status = store::query_status::failed;
    failed.failure = "ClickHouse's answer could not be read";
    return failed;
  }

  /// The (sid, account) rows of a RowBinary answer; false when it cannot be read.
  static bool read_page_rows(std::string_view body, std::vector<page_row>& rows) {
    for (row_reader r(body); !r.at_end();) {
      std::string_view sid, account;
      if (!r.string(sid) || !r.string(account)) return false;
      rows.push_back({std::string(sid), std::string(account)});
    }
    return true;
  }

  /// Newest first, each sid once, and none below the `k`-th row received when a shard may
  /// have rows it did not send (`k` is 0 when every row was sent).
  static void distinct_top(std::vector<page_row>& rows, std::size_t k) {
    std::sort(rows.begin(), rows.end(),
              [](const page_row& x, const page_row& y) { return x.sid > y.sid; });
    if (k > 0) {
      const std::string cut = rows[k - 1].sid;
      std::erase_if(rows, [&](const page_row& r) { return r.sid < cut; });
    }
    rows.erase(std::unique(rows.begin(), rows.end(),
                           [](const page_row& x, const page_row& y) { return x.sid == y.sid; }),
               rows.end());
  }

  /// The k largest (sid, account) rows of `range` on each shard, newest first.
  ///
  /// For a list bounded by the sort key alone, each shard first finds the k-th largest
  /// creation time of the range (its created_ms column, 8 bytes a row, is the sid's own
  /// time), then sorts the sids from that time on only: every one of its k largest sids is
  /// there, since a row older than that time has k rows above it. As a PREWHERE, the bound is
  /// read first, and the sids only of the granules that hold a row from that time on: a few
  /// granules per account instead of the whole window's sids (docs/fleet.md, "The page, then
  /// the total"). On an empty range the bound is 0 and nothing is read. A filtered list is left to
  /// ClickHouse, which reads its filters' columns first and the sids of the few granules that
  /// match: the bound would read the filters' columns twice.
  [[nodiscard]] std::string top_k_sql(const std::string& range, std::uint64_t k,
                                      bool by_key) const {
    const std::string limit = " LIMIT " + std::to_string(k);
    std::string sql = "SELECT sid, account_sid FROM " + table;
    if (by_key) {
      sql += " PREWHERE created_ms >= (SELECT min(created_ms) FROM (SELECT created_ms FROM " +
             local + " WHERE " + range + " ORDER BY created_ms DESC" + limit + "))";
    }
    return sql + " WHERE " + range + " ORDER BY sid DESC" + limit + per_shard() +
           " FORMAT RowBinary";
  }

  /// The first `want` distinct sids of the list (WHERE `w`, after `after`), newest first, with
  /// their accounts, into `out` (fewer when the list is shorter); a failed list otherwise.
  ///
  /// A plain top-k sort (ORDER BY sid DESC LIMIT k, per shard) is what ClickHouse does fast;
  /// making sids distinct in ClickHouse (LIMIT 1 BY sid) sorts every matching sid instead
  /// (bench/fleet). A sid shipped twice can take two of the k rows, so the rows are made
  /// distinct here. Each shard sent its k largest rows: a shard that sent k rows holds no
  /// unsent row above its k-th, and that k-th is at most the k-th largest row received, so
  /// every sid at or above that row was received. When fewer than `want` distinct sids are
  /// at or above it (duplicates), k grows and the shards are asked again.
  std::optional<store::list_result> page_rows(const std::string& w, const store::list_query& q,
                                              const std::optional<std::string>& after,
                                              std::uint64_t want, clock::time_point deadline,
                                              std::vector<page_row>& out) {
    std::uint64_t k = want + std::max<std::uint64_t>(q.page_size, 16);
    // The window: sids sort by creation time, so the newest `want` of the list are the newest
    // of any window of its newest records that holds `want` of them. For a list bounded by the
    // sort key alone, the first looks at the last hour before the cursor (or now), and each
    // next one at 16 times as long, up to the list's whole range: the page then reads the
    // rows of its window, not of the whole table.
    const std::int64_t lo = std::max(cutoff(), q.filter.created_from_ms.value_or(cutoff()));
    std::int64_t top = q.filter.created_before_ms.value_or(now_ms());
    if (after) top = std::min(top, store::sid_time_ms(*after).value_or(top) + 1);
    // A filtered list may have no record in the last hours: its page reads the whole range
    // at once rather than three windows.
    const bool by_key = key_only(q.filter);
    std::int64_t window = by_key ? 3'600'000 : top - lo;
    for (;;) {
      const bool whole = top - window <= lo;
      std::string range = w;
      if (after) range += " AND sid < " + sql::quote(*after);
      if (!whole) range += " AND sid >= " + sql::quote(store::sid_floor(top - window));
      const auto a = run(top_k_sql(range, k, by_key), deadline, 1u << 30);
      if (!a.ok()) return fail(a, deadline);
      std::vector<page_row> rows;
      if (!read_page_rows(a.body, rows)) return unreadable();
      const bool complete = rows.size() < k;  // no shard had k rows: every row was sent
      distinct_top(rows, complete ? 0 : k);
      if (rows.size() >= want || (complete && whole)) {
        if (rows.size() > want) rows.resize(want);
        out = std::move(rows);
        return std::nullopt;
      }
      if (complete) {
        window *= 16;  // the window holds fewer than `want`: a longer one
      } else {
        k *= 4;  // copies of sids crowded the k rows
      }
    }
  }

  struct counted {
    std::uint64_t total = 0;
    std::optional<store::list_result> failed;
  };

  /// The exact total of the list (WHERE `w`): each sid once, however many times it was
  /// shipped. On a cluster each shard counts its own (a sid lives on one shard: sharded by
  /// account) and the counts are added here, instead of every shard sending its set of sids to
  /// one server to merge. Conditions on the sort key alone (accounts, dates, tombstones):
  /// count() FINAL, which collapses the copies of a sid (same key, same partition) as it
  /// reads, and reads nothing else. Other filters: uniqExact(sid) of what matches, since FINAL
  /// would read and collapse the filters' columns of the whole range before filtering
  /// (bench/fleet, docs/fleet.md).
  counted exact_total(const store::list_query& q, const std::string& w,
                      clock::time_point deadline) {
    counted c;
    const bool key = key_only(q.filter);
    const auto a =
        run("SELECT " + std::string(key ? "count() FROM " : "uniqExact(sid) FROM ") + table +
                (key ? " FINAL" : "") + " WHERE " + w + per_shard() + " FORMAT RowBinary",
            deadline);
    if (!a.ok()) {
      c.failed = fail(a, deadline);
      return c;
    }
    for (row_reader rows(a.body); !rows.at_end();) {
      std::uint64_t n = 0;
      if (!rows.u64(n)) {
        c.failed = unreadable();
        return c;
      }
      c.total += n;
    }
    return c;
  }

  /// The `AfterSid` cursor when its sid is still stored (and not purged), whichever account;
  /// nothing when it is not (the list then pages as without it); a failed list otherwise.
  std::optional<store::list_result> resolve_cursor(const store::list_query& q,
                                                   std::optional<std::string>& after) {
    if (!q.after_sid) return std::nullopt;
    const auto created = store::sid_time_ms(*q.after_sid);
    if (!created || *created < cutoff()) return std::nullopt;
    const auto a = run("SELECT count() FROM " + table + " WHERE sid = " + sql::quote(*q.after_sid) +
                           in_day_of(*created) + not_purged() + " FORMAT RowBinary",
                       q.deadline);
    if (!a.ok()) return fail(a, q.deadline);
    std::uint64_t n = 0;
    if (row_reader rows(a.body); rows.u64(n) && n > 0) after = *q.after_sid;
    return std::nullopt;
  }

  /// The page's records, in the page's order, by their primary key (account, sid): a few
  /// granules per part, instead of the sid column of the whole range. A record purged between
  /// the two queries is left out: the page is shorter rather than wrong.
  std::optional<store::list_result> fetch_records(const std::vector<page_row>& page,
                                                  clock::time_point deadline,
                                                  std::vector<std::string>& records) {
    if (page.empty()) return std::nullopt;
    std::string in = "(";
    for (std::size_t i = 0; i < page.size(); ++i) {
      if (i > 0) in += ", ";
      in += "(";
      sql::append_quoted(in, page[i].account);
      in += ", ";
      sql::append_quoted(in, page[i].sid);
      in += ")";
    }
    in += ")";
    const auto a = run("SELECT sid, any(json) FROM " + table + " WHERE (account_sid, sid) IN " +
                           in + not_purged() + " GROUP BY sid" + per_shard() + " FORMAT RowBinary",
                       deadline, 1u << 30);
    if (!a.ok()) return fail(a, deadline);
    std::unordered_map<std::string_view, std::string_view> by_sid;
    for (row_reader rows(a.body); !rows.at_end();) {
      std::string_view sid, json;
      if (!rows.string(sid) || !rows.string(json)) return unreadable();
      by_sid.emplace(sid, json);
    }
    records.reserve(page.size());
    for (const auto& row : page) {
      if (const auto it = by_sid.find(row.sid); it != by_sid.end()) {
        records.emplace_back(it->second);
      }
    }
    return std::nullopt;
  }

  store::list_result list(const store::list_query& q) {
    store::list_result result;
    const auto w = where(q);
    if (!w) {
      result.records = std::make_unique<page_stream>(std::vector<std::string>{});
      return result;
    }
    const auto deadline = q.deadline;
    // The page's two or three queries first, then the exact total's one. Run side by side they
    // share the servers' cores: the page, tens of milliseconds alone, then took as long as the
    // total, and the whole answer was not shorter (docs/fleet.md, "The page, then the total").
    const auto started = clock::now();
    std::optional<std::string> after;
    if (auto failed = resolve_cursor(q, after)) return std::move(*failed);
    const std::uint64_t skip = after ? 0 : q.page * q.page_size;
    std::vector<page_row> page;
    if (auto failed = page_rows(*w, q, after, skip + q.page_size, deadline, page)) {
      return std::move(*failed);
    }
    page.erase(page.begin(), page.begin() + static_cast<std::ptrdiff_t>(
                                                std::min<std::uint64_t>(skip, page.size())));
    if (page.size() > q.page_size) page.resize(q.page_size);
    std::vector<std::string> records;
    if (auto failed = fetch_records(page, deadline, records)) return std::move(*failed);
    const auto counting = clock::now();
    page_seconds.observe(std::chrono::duration<double>(counting - started).count());
    auto count = exact_total(q, *w, deadline);
    total_seconds.observe(std::chrono::duration<double>(clock::now() - counting).count());
    if (count.failed) return std::move(*count.failed);
    result.total = count.total;
    result.records = std::make_unique<page_stream>(std::move(records));
    return result;
  }

  static store::purge_result purge_failed(const clickhouse_answer& a, clock::time_point deadline) {
    store::purge_result r;
    r.status = clock::now() >= deadline && a.fail == clickhouse_answer::failure::timeout
                   ? store::query_status::timed_out
                   : store::query_status::failed;
    r.failure = a.describe();
    return r;
  }

  /// Tombstones for `victims` (sid, account), in inserts of at most 100 000 rows. A failed
  /// insert stops there: the tombstones already written stay (as the local store's batches).
  store::purge_result bury(const std::vector<std::pair<std::string, std::string>>& victims) {
    store::purge_result r;
    const std::string sql = insert_tombstones_sql(fleet);
    const std::int64_t at = now_ms();
    std::string rows;
    std::uint64_t pending = 0;
    for (std::size_t i = 0; i < victims.size(); ++i) {
      if (append_tombstone(rows, victims[i].first, victims[i].second, at)) ++pending;
      if (i + 1 == victims.size() || pending == 100'000) {
        if (pending == 0) break;
        const auto a = insert(sql, rows);
        if (!a.ok()) return purge_failed(a, clock::time_point::max());
        r.deleted += pending;
        pending = 0;
        rows.clear();
      }
    }
    return r;
  }

  store::purge_result purge(std::string_view sid) {
    const auto found = find(sid);
    if (found.status != store::query_status::ok) {
      return {found.status, 0, found.failure};
    }
    if (!found.trace) return {};
    return bury({{std::string(sid), found.trace->account_sid}});
  }

  store::purge_result purge(const store::list_query& q) {
    const auto w = where(q);  // excludes what is purged already: each record counted once
    if (!w) return {};
    // Every matching sid once (a sid lives on one shard: per shard is exact), read whole
    // before any tombstone is written; records shipped meanwhile that it did not hold stay.
    const auto a = run("SELECT DISTINCT sid, account_sid FROM " + table + " WHERE " + *w +
                           per_shard() + " FORMAT RowBinary",
                       q.deadline, std::size_t{1} << 30);
    if (!a.ok()) return purge_failed(a, q.deadline);
    std::vector<std::pair<std::string, std::string>> victims;
    for (row_reader rows(a.body); !rows.at_end();) {
      std::string_view sid, account;
      if (!rows.string(sid) || !rows.string(account)) {
        return {store::query_status::failed, 0, "ClickHouse's answer could not be read"};
      }
      victims.emplace_back(sid, account);
    }
    return bury(victims);
  }
};

clickhouse_reader::clickhouse_reader(std::shared_ptr<const conf::config> cfg,
                                     metrics::registry& metrics,
                                     std::function<std::int64_t()> now_ms)
    : impl_(std::make_unique<impl>(std::move(cfg), metrics, std::move(now_ms))) {}

clickhouse_reader::~clickhouse_reader() = default;

store::trace_lookup clickhouse_reader::get(std::string_view sid) { return impl_->find(sid); }

store::list_result clickhouse_reader::list(const store::list_query& q) { return impl_->list(q); }

store::purge_result clickhouse_reader::purge(std::string_view sid) { return impl_->purge(sid); }

store::purge_result clickhouse_reader::purge(const store::list_query& q) { return impl_->purge(q); }

}  // namespace sidecar::fleet
