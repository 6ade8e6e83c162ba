// The live stream (docs/api.md, "Live stream").
#include "api/stream.hpp"

#include <algorithm>
#include <atomic>
#include <deque>
#include <list>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

#include "api/auth.hpp"
#include "api/list_params.hpp"
#include "api/routing.hpp"
#include "store/record_match.hpp"
#include "store/trace_record.hpp"
#include "support/json.hpp"

namespace sidecar::api {
namespace {

// Events are written once this many bytes are ready (or nothing more is due now).
constexpr std::size_t flush_bytes = 64 * 1024;
// The sids sent from the store are remembered this long once live: a record committed just
// as the resume read the store reaches the stream from both, and is sent once.
constexpr auto resume_memory = std::chrono::seconds(60);
// The `event: overflow` of a reader that fell behind gets this long to be written.
constexpr auto overflow_write = std::chrono::milliseconds(200);

constexpr auto as_tuple = net::as_tuple(net::use_awaitable);
// A resume reads the store again at most this many times while its total moves.
constexpr std::uint64_t max_resume_reads = 4;

std::int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::int64_t time_of(std::string_view sid) { return store::sid_time_ms(sid).value_or(0); }

/// Why a resume could not be read from the store.
std::string resume_failed(store::query_status s) {
  return s == store::query_status::timed_out
             ? "Resuming took longer than the configured query_timeout; resume from a later "
               "Last-Event-ID or narrow the filters"
             : "The trace store could not answer the resume query";
}

/// Wake-ups posted to API strands, until the server stops: then none (the io_context may be
/// going away while the committer still publishes).
struct gate {
  std::mutex mu;
  bool open = true;
  template <class F>
  void post(const net::any_io_executor& ex, F&& f) {
    const std::lock_guard lock(mu);
    if (open) net::post(ex, std::forward<F>(f));
  }
  void close() {
    const std::lock_guard lock(mu);
    open = false;
  }
};

/// A stream's state shared with its wake-ups; touched only on the connection's strand (the
/// subscription is thread-safe itself).
struct live_state {
  explicit live_state(net::any_io_executor ex) : strand(ex), timer(std::move(ex)) {}
  net::any_io_executor strand;
  net::steady_timer timer;  // the stream's sleep; cancelled to wake it
  std::unique_ptr<store::commit_feed::subscription> sub;
  // Set while the stream sleeps with nothing held: only then does a commit wake it (one with
  // records held takes the new batches at its next tick). Shared with the feed's notify, which
  // must not hold the state itself (its last reference would then die on the committer).
  std::shared_ptr<std::atomic<bool>> wants_batches = std::make_shared<std::atomic<bool>>(false);
  std::vector<store::committed_batch> stash;  // taken from the feed, not yet looked at
  store::commit_feed::state feed_state = store::commit_feed::state::open;
  stream_connection* conn = nullptr;  // while running
  bool writing = false;
  bool gone = false;   // the client closed
  bool ended = false;  // reauthorise() or stop()
  bool pending = false;

  void wake() {
    pending = true;
    timer.cancel();
  }
  /// Takes what the feed has, unless a write is in progress: what a reader has not taken
  /// stays in the feed, where its bound applies. A reader that overflowed while a write of it
  /// is stuck is cut now: its socket is full, so the overflow event could not be written.
  void drain() {
    if (!sub || feed_state != store::commit_feed::state::open) return;
    if (writing) {
      if (sub->status() == store::commit_feed::state::overflowed && conn) conn->cut();
      return;
    }
    feed_state = sub->take(stash);
  }
};

void append_event(std::string& out, std::string_view sid, std::string_view json, bool with_id) {
  if (with_id) {
    out += "id: ";
    out += sid;
    out += '\n';
  }
  out += "event: trace\ndata: ";
  out += json;  // the record's JSON is one line: the encoder escapes every control character
  out += "\n\n";
}

void append_notice(std::string& out, std::string_view event, std::string_view message,
                   std::optional<std::uint64_t> skipped = std::nullopt,
                   std::string_view last_sid = {}) {
  out += "event: ";
  out += event;
  out += "\ndata: ";
  json::writer w(out);
  w.begin_object();
  w.key("message").value(message);
  if (skipped) w.key("skipped").value(static_cast<std::int64_t>(*skipped));
  if (!last_sid.empty()) w.key("last_sid").value(last_sid);
  w.end_object();
  out += "\n\n";
}

/// The query without Page and PageSize (the stream takes the list's filters only).
std::string without_paging(std::string_view raw) {
  std::string out;
  while (!raw.empty()) {
    const auto amp = raw.find('&');
    const std::string_view pair = raw.substr(0, amp);
    raw = amp == std::string_view::npos ? std::string_view{} : raw.substr(amp + 1);
    const std::string_view name = pair.substr(0, pair.find('='));
    if (name == "Page" || name == "PageSize") continue;
    if (!out.empty()) out += '&';
    out += pair;
  }
  return out;
}

/// A record resumed from the store that waits for the hold like a live one.
struct resumed_record {
  std::string sid;
  std::string json;
};

/// A record waiting for the hold: its sid's time (parsed once), views of its sid and JSON, and
/// what keeps them alive: the commit feed's batch, shared by every reader (a live record), or
/// its own copy (one resumed from the store).
struct held_event {
  std::int64_t ms = 0;
  std::string_view sid;
  std::string_view json;
  store::committed_batch batch;
  std::shared_ptr<const resumed_record> own;
};

/// The records waiting for the hold, in sid order. They arrive almost in order (the writer
/// commits them a few milliseconds after their end), so one goes in near the back: a deque
/// searched from its end, not a tree.
class hold_queue {
 public:
  [[nodiscard]] bool empty() const { return q_.empty(); }
  [[nodiscard]] const held_event& front() const { return q_.front(); }
  void pop_front() { q_.pop_front(); }
  /// Inserts in sid order; a sid already held is not held twice.
  void insert(held_event&& e) {
    auto at = q_.end();
    while (at != q_.begin() && std::prev(at)->sid > e.sid) --at;
    if (at != q_.begin() && std::prev(at)->sid == e.sid) return;
    q_.insert(at, std::move(e));
  }

 private:
  std::deque<held_event> q_;
};

}  // namespace

/// One registered stream, for the limits and for reauthorise().
struct stream_entry {
  std::string caller;
  basic_credentials creds;
  std::string path_account;
  std::weak_ptr<live_state> live;
};

struct stream_hub::impl {
  impl(std::shared_ptr<const conf::config> c, const handler& a, store::trace_reader& r,
       store::commit_feed& f, metrics::registry& m, stream_options o)
      : cfg(std::move(c)),
        access(a),
        reader(r),
        feed(f),
        opts(o),
        open_gauge(m.add_gauge("sidecar_api_streams", "Live streams open")),
        cut_overflow(m.add_counter("sidecar_api_streams_cut_total",
                                   "Live streams cut for not keeping up",
                                   {{"reason", "overflow"}})),
        cut_slow(m.add_counter("sidecar_api_streams_cut_total",
                               "Live streams cut for not keeping up",
                               {{"reason", "write_timeout"}})),
        wakes(std::make_shared<gate>()) {}

  /// Ends a stream on its strand (reauthorise, stop).
  void end(const std::weak_ptr<live_state>& w) {
    auto l = w.lock();
    if (!l) return;
    wakes->post(l->strand, [w] {
      auto s = w.lock();
      if (!s) return;
      s->ended = true;
      if (s->writing && s->conn) s->conn->cut();
      s->wake();
    });
  }

  std::optional<std::string> plan_resume(stream_hub::ticket& t, const std::string& cursor,
                                         std::chrono::steady_clock::time_point deadline);
  std::optional<std::string> read_oldest(store::list_query& q, std::uint64_t total,
                                         const std::string& cursor, stream_hub::ticket& t,
                                         std::vector<std::string>& sids);

  /// The stream's subscription to the commit feed. An overflow or the feed's end wakes the
  /// stream at once; a batch only when the stream waits for one (the batch stays in the feed,
  /// where the reader's bound applies).
  std::unique_ptr<store::commit_feed::subscription> subscribe(
      const std::shared_ptr<live_state>& live, const net::any_io_executor& strand) {
    return feed.subscribe(opts.queue_bytes,
                          [w = std::weak_ptr<live_state>(live), wants = live->wants_batches,
                           ex = strand, g = wakes](store::commit_feed::state st) {
                            if (st == store::commit_feed::state::open && !wants->exchange(false))
                              return;
                            g->post(ex, [w] {
                              if (auto s = w.lock()) {
                                s->drain();
                                s->wake();
                              }
                            });
                          });
  }

  std::shared_ptr<const conf::config> cfg;
  const handler& access;
  store::trace_reader& reader;
  store::commit_feed& feed;
  stream_options opts;
  metrics::gauge& open_gauge;
  metrics::counter& cut_overflow;
  metrics::counter& cut_slow;
  std::shared_ptr<gate> wakes;

  mutable std::mutex mu;
  std::list<stream_entry> streams;
};

/// An admitted stream: its slot (released when destroyed), its live state and subscription,
/// and what it sends first.
class stream_hub::ticket {
 public:
  ticket(impl& hub, std::list<stream_entry>::iterator entry) : hub_(hub), entry_(entry) {}
  ~ticket() {
    const std::lock_guard lock(hub_.mu);
    hub_.streams.erase(entry_);
    hub_.open_gauge.set(static_cast<std::int64_t>(hub_.streams.size()));
  }
  ticket(const ticket&) = delete;
  ticket& operator=(const ticket&) = delete;

  std::shared_ptr<live_state> live;
  std::unordered_set<std::string> scope;
  store::trace_filter filter;
  std::int64_t subscribed_ms = 0;
  std::vector<std::string> resume;  // stored sids to send first, ascending
  std::uint64_t skipped = 0;        // stored matches past max_resume
  bool truncated = false;

 private:
  impl& hub_;
  std::list<stream_entry>::iterator entry_;
};

/// The stored records after `cursor` (up to the subscription's moment) that match, oldest
/// first, at most max_resume of them. The list is newest first, so the oldest are its last
/// positions: the total first, then the one or two pages of size N that hold the last N. An
/// error message when the store cannot answer in time.
std::optional<std::string> stream_hub::impl::plan_resume(
    stream_hub::ticket& t, const std::string& cursor,
    std::chrono::steady_clock::time_point deadline) {
  store::list_query q;
  q.accounts.assign(t.scope.begin(), t.scope.end());
  q.filter = t.filter;
  const std::int64_t from = time_of(cursor);
  q.filter.created_from_ms = std::max(q.filter.created_from_ms.value_or(from), from);
  // Newer records come from the feed (subscribed before this): the store's part ends here.
  const std::int64_t before = t.subscribed_ms + 1;
  q.filter.created_before_ms = std::min(q.filter.created_before_ms.value_or(before), before);
  q.deadline = deadline;
  q.page_size = 1;
  store::list_result first = reader.list(q);
  if (first.status != store::query_status::ok) return resume_failed(first.status);
  // A record created before the subscription but committed since (it was in the writer's
  // hands) moves every position of the list by one, and the last positions read would miss
  // the oldest: the total is counted again after the read, and the read done again if it moved.
  std::vector<std::string> sids;
  for (std::uint64_t total = first.total, attempt = 1;; ++attempt) {
    if (auto error = read_oldest(q, total, cursor, t, sids)) return error;
    q.page = 0;
    q.page_size = 1;
    store::list_result again = reader.list(q);
    if (again.status != store::query_status::ok) return resume_failed(again.status);
    if (again.total == total || attempt == max_resume_reads) break;
    total = again.total;
  }
  t.resume = std::move(sids);
  return std::nullopt;
}

/// The last positions of the list `q` of `total` records: the sids after `cursor`, ascending,
/// at most max_resume (t.truncated and t.skipped say what was left out).
std::optional<std::string> stream_hub::impl::read_oldest(store::list_query& q, std::uint64_t total,
                                                         const std::string& cursor,
                                                         stream_hub::ticket& t,
                                                         std::vector<std::string>& sids) {
  sids.clear();
  t.truncated = false;
  t.skipped = 0;
  if (total == 0) return std::nullopt;
  // A few records of the cursor's own millisecond may be at or before it: fetch some more.
  const std::uint64_t want = std::min<std::uint64_t>(total, opts.max_resume + 32);
  const std::uint64_t start = total - want;  // the first position wanted
  sids.reserve(want);
  q.page_size = static_cast<std::uint32_t>(want);
  for (std::uint64_t page = start / want; page * want < total; ++page) {
    q.page = page;
    store::list_result r = reader.list(q);
    if (r.status != store::query_status::ok || !r.records) return resume_failed(r.status);
    std::string json;
    for (std::uint64_t pos = page * want; r.records->next(json); ++pos) {
      if (pos < start) continue;
      const std::string_view sid = record_sid(json);
      if (sid > std::string_view(cursor)) sids.emplace_back(sid);
    }
    if (r.records->status() != store::query_status::ok) return resume_failed(r.records->status());
  }
  std::sort(sids.begin(), sids.end());
  sids.erase(std::unique(sids.begin(), sids.end()), sids.end());
  const std::uint64_t unseen = total - want;  // newer than every fetched one
  if (sids.size() > opts.max_resume || unseen > 0) {
    t.truncated = true;
    const std::size_t keep = std::min(sids.size(), opts.max_resume);
    t.skipped = sids.size() - keep + unseen;
    sids.resize(keep);
  }
  return std::nullopt;
}

void stream_hub::ticket_deleter::operator()(ticket* t) const { delete t; }

stream_hub::stream_hub(std::shared_ptr<const conf::config> cfg, const handler& access,
                       store::trace_reader& reader, store::commit_feed& feed,
                       metrics::registry& metrics, stream_options opts)
    : impl_(std::make_unique<impl>(std::move(cfg), access, reader, feed, metrics, opts)) {}

stream_hub::~stream_hub() { stop(); }

std::size_t stream_hub::active() const {
  const std::lock_guard lock(impl_->mu);
  return impl_->streams.size();
}

std::variant<answer, stream_hub::ticket_ptr> stream_hub::admit(const request_view& req,
                                                               std::string_view last_event_id,
                                                               net::any_io_executor strand) {
  impl& h = *impl_;
  const target_match& m = req.match;
  const bool head = req.method == "HEAD";
  if (req.method != "GET" && !head) {
    answer a = handler::error(405, "The live stream answers GET and HEAD only");
    a.allow = allowed_methods(resource::stream);
    return a;
  }
  auto access = h.access.check_access(req, m.account_sid);
  if (auto* refused = std::get_if<answer>(&access)) return std::move(*refused);
  const access_grant& grant = std::get<access_grant>(access);
  if (h.cfg->fleet && h.cfg->fleet->query) {
    // Query mode (docs/fleet.md): the fleet's records arrive in ClickHouse in batches, and
    // only the node that records them sees each as it is committed.
    return handler::error(
        409,
        "The live stream is served by the node that records the traces: this sidecar, "
        "node \"" +
            h.cfg->fleet->node +
            "\", answers the Traces API from the fleet's ClickHouse ([fleet] query = true); "
            "open the stream on the API of the sidecar whose node you want to watch (each "
            "record's \"node\" names it)");
  }

  list_params_result parsed = parse_list_params(without_paging(m.query));
  if (!parsed.params) return handler::error(400, parsed.error);
  list_params& lp = *parsed.params;
  if (lp.filter.account_sid && !grant.cfg->may_read(*grant.caller, *lp.filter.account_sid)) {
    return handler::error(403, "AccountSid: account " + grant.caller->sid +
                                   " may not read the traces of account " + *lp.filter.account_sid);
  }
  std::optional<std::string> cursor;
  if (!last_event_id.empty()) {
    if (!is_trace_sid(last_event_id)) {
      return handler::error(400,
                            "Last-Event-ID must be the id of an event of this stream: a trace "
                            "sid, TR followed by 32 lower-case hex digits");
    }
    cursor.emplace(last_event_id);
  } else if (lp.after_sid) {
    if (!is_trace_sid(*lp.after_sid)) {
      return handler::error(400,
                            "AfterSid must be a trace sid: TR followed by 32 lower-case "
                            "hex digits");
    }
    cursor = lp.after_sid;
  }
  if (head) {
    answer a;
    a.content_type = "text/event-stream";
    return a;
  }

  const auto creds = parse_basic_auth(req.authorization);
  std::list<stream_entry>::iterator entry;
  {
    const std::lock_guard lock(h.mu);
    const std::size_t mine = static_cast<std::size_t>(
        std::count_if(h.streams.begin(), h.streams.end(),
                      [&](const stream_entry& e) { return e.caller == grant.caller->sid; }));
    if (h.streams.size() >= h.cfg->api.max_streams || mine >= h.opts.per_account) {
      return handler::error(503, "Too many live streams: at most " +
                                     std::to_string(h.cfg->api.max_streams) + " at once and " +
                                     std::to_string(h.opts.per_account) +
                                     " per account; close one and try again");
    }
    h.streams.push_back(
        {grant.caller->sid, creds.value_or(basic_credentials{}), std::string(m.account_sid), {}});
    entry = std::prev(h.streams.end());
    h.open_gauge.set(static_cast<std::int64_t>(h.streams.size()));
  }
  ticket_ptr t(new ticket(h, entry));
  t->live = std::make_shared<live_state>(strand);
  t->scope.insert(grant.scope.begin(), grant.scope.end());
  t->filter = lp.filter;
  {
    const std::lock_guard lock(h.mu);
    entry->live = t->live;
  }
  // Subscribed before the store is read for the resume: every record is in one or both.
  t->live->sub = h.subscribe(t->live, strand);
  t->subscribed_ms = wall_ms();
  if (cursor) {
    const auto deadline = std::chrono::steady_clock::now() + grant.cfg->api.query_timeout;
    if (auto error = h.plan_resume(*t, *cursor, deadline)) return handler::error(503, *error);
  }
  return t;
}

/// One stream's run: the resume phase, then the live phase until the client goes, the stream
/// is ended or cut, or the store closes. It lives in run()'s coroutine frame, which stays
/// suspended until its coroutines have completed, so they may use `this`.
class stream_hub::stream_run {
 public:
  stream_run(impl& hub, ticket& t, stream_connection& conn)
      : h_(hub), t_(t), l_(*t.live), conn_(conn), hold_ms_(hub.opts.hold.count()) {}

  /// 1. The stored records after the cursor.
  net::awaitable<void> resume() {
    co_await send();
    for (const auto& sid : t_.resume) {
      if (!running()) break;
      auto stored = h_.reader.get(sid);
      if (stored.status != store::query_status::ok) {
        ok_ = false;  // a failed read: the client resumes from the last id it got
        break;
      }
      if (!stored) continue;  // expired or purged since the plan
      resumed_.insert(sid);
      if (const std::int64_t ms = time_of(sid); ms > t_.subscribed_ms - hold_ms_) {
        // As recent as live ones: held like them.
        auto own =
            std::make_shared<const resumed_record>(resumed_record{sid, std::move(stored->json)});
        held_.insert({ms, own->sid, own->json, nullptr, own});
        continue;
      }
      append_event(buf_, sid, stored->json, true);
      cursor_ = sid;
      if (buf_.size() >= flush_bytes) {
        co_await send();
        l_.drain();  // what was committed meanwhile waits here, not against the feed's bound
      }
    }
    if (ok_ && t_.truncated) {
      append_notice(buf_, "truncated",
                    "More stored records matched than a resume sends; the list (AfterSid) "
                    "has the rest",
                    t_.skipped, cursor_);
    }
    t_.resume = {};
  }

  /// 2. Live: take what the feed has, hold it for sid order, send what is due.
  net::awaitable<void> live() {
    const auto live_since = std::chrono::steady_clock::now();
    while (running()) {
      l_.pending = false;
      l_.drain();
      take_stash();
      if (l_.feed_state == store::commit_feed::state::overflowed) {
        co_await send_overflow();
        break;
      }
      const bool closing = l_.feed_state == store::commit_feed::state::closed;
      co_await send_due(closing);
      const auto steady = std::chrono::steady_clock::now();
      co_await send_or_heartbeat(steady);
      if (!resumed_.empty() && steady - live_since > resume_memory) resumed_.clear();
      if (closing) {
        l_.ended = true;  // the store is shutting down
        break;
      }
      if (l_.pending || !ok_) continue;
      if (held_.empty() && !await_batches()) continue;
      co_await sleep();
      l_.wants_batches->store(false);
    }
  }

  /// Whether the stream ended as it should (reauthorise(), stop() or the store closing), not
  /// by a failure or the client going.
  [[nodiscard]] bool clean() const { return ok_ && !l_.gone && l_.ended; }

 private:
  [[nodiscard]] bool running() const { return ok_ && !l_.gone && !l_.ended; }

  /// One write of what is ready; `ok_` false once the connection is done.
  net::awaitable<void> send() {
    l_.writing = true;
    ok_ = co_await conn_.write(buf_, h_.opts.write_timeout);
    l_.writing = false;
    last_write_ = std::chrono::steady_clock::now();
    if (!ok_ && !l_.gone && l_.feed_state == store::commit_feed::state::open) h_.cut_slow.inc();
  }

  /// The batches taken from the feed: each matching record is held for sid order, or sent at
  /// once when it is older than the cursor.
  void take_stash() {
    for (const auto& batch : l_.stash) {
      // A batch's records are mostly of one account: its scope check is done once per run.
      const std::string* last_account = nullptr;
      bool in_scope = false;
      for (const auto& c : *batch) {
        if (last_account == nullptr || *last_account != c.record.account_sid) {
          last_account = &c.record.account_sid;
          in_scope = t_.scope.contains(c.record.account_sid);
        }
        if (in_scope && store::matches(t_.filter, c.record)) take(c, batch);
      }
    }
    l_.stash.clear();
  }

  void take(const store::committed_record& c, const store::committed_batch& batch) {
    const std::string& sid = c.record.sid;
    if (!cursor_.empty() && sid <= cursor_) {
      if (resumed_.contains(sid)) return;  // sent from the store already
      // Committed after a later record went out: sent now, without an id, so that a
      // reconnection resumes after the newest sid sent and doubles nothing (docs/api.md).
      append_event(buf_, sid, c.json, false);
      return;
    }
    // Held once, should the resume have held it too.
    held_.insert({time_of(sid), sid, c.json, batch, nullptr});
  }

  /// The reader fell behind the feed's bound: told so, briefly, and cut.
  net::awaitable<void> send_overflow() {
    h_.cut_overflow.inc();
    buf_.clear();
    append_notice(buf_, "overflow",
                  "This reader fell too far behind and is cut; reconnect with Last-Event-ID "
                  "to resume");
    co_await conn_.write(buf_, overflow_write);
  }

  /// The held records whose hold has passed (all of them when the store is closing).
  net::awaitable<void> send_due(bool closing) {
    const std::int64_t now = wall_ms();
    while (!held_.empty() && (closing || held_.front().ms <= now - hold_ms_)) {
      append_event(buf_, held_.front().sid, held_.front().json, true);
      cursor_ = held_.front().sid;
      held_.pop_front();
      if (buf_.size() >= flush_bytes) co_await send();
      if (!ok_) break;
    }
  }

  /// What is ready, or a heartbeat when nothing was written for the heartbeat interval.
  net::awaitable<void> send_or_heartbeat(std::chrono::steady_clock::time_point steady) {
    if (!buf_.empty()) {
      co_await send();
    } else if (steady - last_write_ >= h_.opts.heartbeat) {
      buf_ = ": heartbeat\n\n";
      co_await send();
    }
  }

  /// With nothing held, the next commit should wake the stream: asks for that, then looks
  /// once more at the feed, so that a batch published just before the ask is not left waiting
  /// until the heartbeat. False when that look found one (the loop goes on at once).
  bool await_batches() {
    l_.wants_batches->store(true);
    l_.drain();
    if (l_.stash.empty() && l_.feed_state == store::commit_feed::state::open) return true;
    l_.wants_batches->store(false);
    return false;
  }

  /// Sleeps until the next heartbeat or the first tick at or after the next held record's due
  /// time, or a wake-up.
  net::awaitable<void> sleep() {
    auto wake_at = last_write_ + h_.opts.heartbeat;
    if (!held_.empty()) {
      const std::int64_t due = held_.front().ms + hold_ms_ - wall_ms();
      wake_at =
          std::min(wake_at, on_tick(std::chrono::steady_clock::now() +
                                    std::chrono::milliseconds(std::max<std::int64_t>(due, 0))));
    }
    l_.timer.expires_at(wake_at);
    co_await l_.timer.async_wait(as_tuple);
  }

  /// The first tick at or after `t`.
  [[nodiscard]] std::chrono::steady_clock::time_point on_tick(
      std::chrono::steady_clock::time_point t) const {
    const auto tick = std::chrono::duration_cast<std::chrono::steady_clock::duration>(h_.opts.tick);
    if (tick.count() <= 0) return t;
    const auto since = t.time_since_epoch();
    const auto rounded = (since + tick - std::chrono::steady_clock::duration(1)) / tick * tick;
    return std::chrono::steady_clock::time_point(rounded);
  }

  impl& h_;
  ticket& t_;
  live_state& l_;
  stream_connection& conn_;
  const std::int64_t hold_ms_;
  std::string buf_ = ": live stream of trace records\n\n";
  std::chrono::steady_clock::time_point last_write_ = std::chrono::steady_clock::now();
  bool ok_ = true;
  hold_queue held_;                          // waiting for the hold, in sid order
  std::unordered_set<std::string> resumed_;  // sent (or held) from the store
  std::string cursor_;                       // the newest sid sent with an id
};

net::awaitable<void> stream_hub::run(ticket_ptr t, stream_connection& conn) {
  live_state& l = *t->live;
  l.conn = &conn;
  conn.watch([w = std::weak_ptr<live_state>(t->live)] {
    if (auto s = w.lock()) {
      s->gone = true;
      s->wake();
    }
  });
  stream_run r(*impl_, *t, conn);
  co_await r.resume();
  co_await r.live();
  l.conn = nullptr;
  co_await conn.finish(r.clean());
  // The subscription goes with the ticket: the feed stops queueing for this reader.
}

std::size_t stream_hub::reauthorise(const conf::config& cfg) {
  impl& h = *impl_;
  const authenticator auth(cfg);
  std::vector<std::weak_ptr<live_state>> ending;
  {
    const std::lock_guard lock(h.mu);
    for (const auto& e : h.streams) {
      const conf::account* caller = auth.check(e.creds);
      const conf::account* target = cfg.find_account(e.path_account);
      if (caller == nullptr || caller->sid != e.caller || target == nullptr || !target->traces ||
          !cfg.may_read(*caller, e.path_account)) {
        ending.push_back(e.live);
      }
    }
  }
  for (const auto& w : ending) h.end(w);
  return ending.size();
}

void stream_hub::stop() {
  impl& h = *impl_;
  std::vector<std::weak_ptr<live_state>> all;
  {
    const std::lock_guard lock(h.mu);
    for (const auto& e : h.streams) all.push_back(e.live);
  }
  for (const auto& w : all) h.end(w);
  h.wakes->close();
}

}  // namespace sidecar::api
