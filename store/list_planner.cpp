// The planning of a list page (docs/store.md, "Queries"): which accounts, the total, and the
// page's keys, from the counters and a merge of the accounts when unfiltered, the session
// index for SessionSid, or the chunk scans for ResponseBody and the covering filters.
#include "store/list_planner.hpp"

#include <rocksdb/db.h>

#include <algorithm>
#include <chrono>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

#include "store/record_filter.hpp"
#include "store/rocks_support.hpp"
#include "store/scanners.hpp"
#include "store/store_codec.hpp"
#include "store/trace_store_impl.hpp"
#include "support/log.hpp"

namespace sidecar::store {

std::vector<std::string> trace_store::impl::all_accounts(const rocksdb::ReadOptions& ro) const {
  std::vector<std::string> out;
  std::unique_ptr<rocksdb::Iterator> it(db_.db->NewIterator(ro, db_[cf_counters]));
  for (it->SeekToFirst(); it->Valid();) {
    std::string_view id;
    std::int64_t bucket = 0, width = 0;
    if (!codec::split_counter_key(view(it->key()), id, bucket, width)) {
      it->Next();
      continue;
    }
    out.emplace_back(id);
    std::string past = codec::id_prefix(id);
    past.append(9, '\xff');
    it->Seek(past);
  }
  return out;
}

std::vector<std::string> trace_store::impl::list_accounts(const list_query& q,
                                                          const rocksdb::ReadOptions& ro) const {
  std::vector<std::string> accounts;
  const auto& f = q.filter;
  if (f.account_sid) {
    if (q.all_accounts ||
        std::find(q.accounts.begin(), q.accounts.end(), *f.account_sid) != q.accounts.end()) {
      accounts.push_back(*f.account_sid);
    }
  } else if (q.all_accounts) {
    accounts = all_accounts(ro);
  } else {
    accounts = q.accounts;
    std::sort(accounts.begin(), accounts.end());
    accounts.erase(std::unique(accounts.begin(), accounts.end()), accounts.end());
  }
  return accounts;
}

std::uint64_t trace_store::impl::count_keys(const rocksdb::ReadOptions& ro,
                                            std::string_view account, std::int64_t lo,
                                            std::int64_t hi) const {
  if (lo >= hi) return 0;
  const auto entries =
      index_entries(db_.db.get(), db_[cf_index_chunks], ro, std::string(account), lo, hi);
  std::uint64_t n = 0;
  for (; entries->valid(); entries->next()) {
    if (!purged_->hidden(account, entries->top().inv)) ++n;
  }
  return n;
}

std::uint64_t trace_store::impl::count_unfiltered(const rocksdb::ReadOptions& ro,
                                                  std::string_view account, std::int64_t lo,
                                                  std::int64_t hi) const {
  // A purge marker hides the account's records up to its sid: the counters of the minutes up to
  // its time are not read (the removal behind it decrements them meanwhile), the marker's own
  // millisecond is counted by its keys (the scan stops at the marker).
  if (const auto m = purged_->marker(account); m && lo <= store::sid_ms(*m)) {
    const std::int64_t ms = store::sid_ms(*m);
    if (hi <= ms) return 0;
    return count_keys(ro, account, ms, std::min(hi, ms + 1)) +
           count_unfiltered(ro, account, ms + 1, hi);
  }
  // Whole minutes inside [lo, hi) from the counters (whole hours among them from the hour
  // counters); the partial minutes at either edge by counting their keys (at most one
  // minute's worth each).
  const std::int64_t b = codec::bucket_ms;
  const std::int64_t first_full = floor_div(lo + b - 1, b);  // first bucket starting >= lo
  const std::int64_t end_full =
      hi > max_sid_ms ? floor_div(max_sid_ms, b) + 1 : floor_div(hi, b);  // buckets ending <= hi
  if (first_full >= end_full) return count_keys(ro, account, lo, hi);
  std::uint64_t n = count_keys(ro, account, lo, first_full * b);
  if (hi <= max_sid_ms) n += count_keys(ro, account, end_full * b, hi);
  const std::int64_t per_hour = codec::buckets_per_hour;
  const std::int64_t first_hour = floor_div(first_full + per_hour - 1, per_hour);
  const std::int64_t end_hour = floor_div(end_full, per_hour);
  if (first_hour >= end_hour) {
    return n + sum_counters(ro, codec::counter_key(account, first_full),
                            codec::counter_key(account, end_full));
  }
  n += sum_counters(ro, codec::counter_key(account, first_full),
                    codec::counter_key(account, first_hour * per_hour));
  n += sum_counters(ro, codec::hour_counter_key(account, first_hour),
                    codec::hour_counter_key(account, end_hour));
  n += sum_counters(ro, codec::counter_key(account, end_hour * per_hour),
                    codec::counter_key(account, end_full));
  return n;
}

std::uint64_t trace_store::impl::sum_counters(const rocksdb::ReadOptions& ro,
                                              const std::string& start,
                                              const std::string& upper) const {
  if (start >= upper) return 0;
  const rocksdb::Slice upper_slice = slice(upper);
  auto opts = ro;
  opts.iterate_upper_bound = &upper_slice;
  std::unique_ptr<rocksdb::Iterator> it(db_.db->NewIterator(opts, db_[cf_counters]));
  std::uint64_t n = 0;
  for (it->Seek(start); it->Valid(); it->Next()) n += rocks::decode_count(view(it->value()));
  return n;
}

namespace {

/// The source whose next match is the newest (the smallest inverted sid); size() when all
/// are done.
std::size_t newest_source(const std::vector<std::unique_ptr<chunk_matches>>& sources) {
  std::size_t best = sources.size();
  for (std::size_t i = 0; i < sources.size(); ++i) {
    if (sources[i]->valid() &&
        (best == sources.size() || sources[i]->top().inv < sources[best]->top().inv)) {
      best = i;
    }
  }
  return best;
}

}  // namespace

page_planner::page_planner(const database& db, const purge_set& purged, const list_query& q,
                           const rocksdb::ReadOptions& ro, std::optional<std::string> after_inv,
                           bool every_match)
    : db_(db),
      purged_(purged),
      q_(q),
      ro_(ro),
      after_inv_(std::move(after_inv)),
      skip_(after_inv_ || every_match ? 0 : q.page * q.page_size),
      want_(every_match ? std::numeric_limits<std::uint64_t>::max() : q.page_size),
      rfilter_(q.filter) {
  const auto& f = q.filter;
  body_filter_ = f.response_body_contains && !f.response_body_contains->empty();
  path_filter_ = f.request_path_prefix && !f.request_path_prefix->empty();
  covering_filter_ = f.completed || f.direction || f.min_latency_ms || f.response_code_prefix ||
                     f.org_sid || path_filter_ || rfilter_.has_method();
}

bool page_planner::timed_out() {
  return (++checked_ & 1023) == 0 && std::chrono::steady_clock::now() > q_.deadline;
}

bool page_planner::covering_match(const codec::covering& c, bool& read) const {
  const auto& f = q_.filter;
  if (f.completed && c.completed != *f.completed) return false;
  if (f.direction && c.api != (*f.direction == conf::direction::api)) return false;
  if (f.min_latency_ms && c.latency_ms < *f.min_latency_ms) return false;
  if (f.response_code_prefix && !c.code.starts_with(*f.response_code_prefix)) return false;
  if (f.org_sid && c.org_sid != *f.org_sid) return false;
  if (path_filter_ && !c.path_or_url_starts_with(*f.request_path_prefix)) return false;
  const auto v = rfilter_.on_covering(c);
  read = v == record_filter::verdict::read;
  return v != record_filter::verdict::no;
}

page_planner::covered page_planner::covering_of(const std::string& account, std::string_view inv,
                                                bool& read) {
  auto& lookup =
      lookups_.try_emplace(account, db_.db.get(), db_[cf_index_chunks], ro_, account).first->second;
  const auto entry = lookup.entry(inv);
  if (!lookup.status().ok()) return covered::failed;
  codec::covering c;
  if (!entry || !codec::decode_covering(*entry, c) || !covering_match(c, read)) {
    return covered::no;
  }
  return covered::yes;
}

bool page_planner::record_passes(std::string_view inv) {
  rocksdb::PinnableSlice value;
  if (!db_.db->Get(ro_, db_[cf_records], sid_slice(codec::uninvert(inv)), &value).ok()) {
    return false;
  }
  std::string_view account, spliced;
  std::uint32_t part = 0;
  record_json_.clear();
  return codec::split_record_value(view(value), account, part, spliced) &&
         codec::assemble_json(record_json_, account, spliced, {}) &&
         rfilter_.on_record(record_json_);
}

void page_planner::take(std::string_view account, std::string_view inv, std::uint32_t part,
                        bool read) {
  // Purged (by a marker, or deleted with its chunk entry not yet compacted).
  if (purged_.hidden(account, inv)) return;
  if (read && !record_passes(inv)) return;
  ++total_;
  if (after_inv_ && inv <= std::string_view(*after_inv_)) return;
  if (items_.size() < want_ && pos_++ >= skip_) {
    std::string key = codec::id_prefix(account);
    key.append(inv);
    items_.push_back({std::move(key), part});
  }
}

query_status page_planner::plan_unfiltered(const std::vector<std::string>& accounts,
                                           std::int64_t lo, std::int64_t hi, std::uint64_t total) {
  // After a cursor, no chunk newer than its record is read.
  if (after_inv_) hi = std::min(hi, codec::inv_ms(*after_inv_) + 1);
  std::vector<std::unique_ptr<chunk_matches>> sources;
  sources.reserve(accounts.size());
  for (const auto& a : accounts) {
    sources.push_back(index_entries(db_.db.get(), db_[cf_index_chunks], ro_, a,
                                    purged_.visible_from(a, lo), hi, q_.deadline));
  }
  while (items_.size() < want_) {
    if (timed_out()) return query_status::timed_out;
    const std::size_t best = newest_source(sources);
    if (best == sources.size()) break;
    const auto m = sources[best]->top();
    sources[best]->next();
    take(accounts[best], m.inv, m.part, false);
  }
  total_ = total;  // the counters' (take() counted only what the page needed)
  return sources_status(sources);
}

query_status page_planner::plan_session(const std::vector<std::string>& accounts, std::int64_t lo,
                                        std::int64_t hi) {
  const auto& f = q_.filter;
  std::unordered_set<std::string_view> allowed(accounts.begin(), accounts.end());
  merged_scan scan(db_.db.get(), db_[cf_by_session], ro_, {*f.session_sid}, lo, hi);
  chunk_reader chunks(db_.db.get(), db_[cf_chunks]);
  for (; scan.valid(); scan.next()) {
    if (timed_out()) return query_status::timed_out;
    std::string_view account;
    std::uint32_t part = 0;
    if (!codec::decode_session_entry(scan.value(), account, part)) continue;
    if (!allowed.contains(account)) continue;
    std::string key = codec::id_prefix(account);
    key.append(scan.inv());
    bool read = rfilter_.active();
    if (covering_filter_) {
      const auto c = covering_of(std::string(account), scan.inv(), read);
      if (c == covered::failed) return query_status::failed;
      if (c == covered::no) continue;
    }
    if (body_filter_) {
      std::string_view body;
      if (!chunks.body(ro_, key, part, body)) return query_status::failed;
      if (!contains(body, *f.response_body_contains)) continue;
    }
    take(account, scan.inv(), part, read);
  }
  return scan.status().ok() ? query_status::ok : query_status::failed;
}

std::unique_ptr<chunk_matches> page_planner::chunk_source(const std::string& account,
                                                          std::int64_t lo, std::int64_t hi,
                                                          const std::shared_ptr<finder>& needle) {
  // A filtered scan reads every chunk of the range: large reads ahead pay.
  rocksdb::ReadOptions ro = ro_;
  ro.readahead_size = 4u << 20;
  if (needle) {
    return std::make_unique<chunk_matches>(
        db_.db.get(), db_[cf_chunks], ro, account, lo, hi,
        [needle](std::string_view chunk) { return needle->in(chunk); },
        [needle, read = rfilter_.active()](
            std::string_view body, std::uint32_t part) -> std::optional<chunk_matches::accepted> {
          if (!needle->in(body)) return std::nullopt;
          return chunk_matches::accepted{part, read};
        },
        q_.deadline);
  }
  return std::make_unique<chunk_matches>(
      db_.db.get(), db_[cf_index_chunks], ro, account, lo, hi, nullptr,
      [this](std::string_view entry, std::uint32_t) -> std::optional<chunk_matches::accepted> {
        codec::covering c;
        bool read = false;
        if (!codec::decode_covering(entry, c) || !covering_match(c, read)) return std::nullopt;
        return chunk_matches::accepted{c.body_part, read};
      },
      q_.deadline);
}

query_status page_planner::sources_status(
    const std::vector<std::unique_ptr<chunk_matches>>& sources) {
  for (const auto& src : sources) {
    if (src->timed_out()) return query_status::timed_out;
    if (!src->status().ok()) return query_status::failed;
  }
  return query_status::ok;
}

query_status page_planner::plan_chunks(const std::vector<std::string>& accounts, std::int64_t lo,
                                       std::int64_t hi) {
  // With both ResponseBody and covering filters, the covering filters are checked on each body
  // match's index entry.
  // One finder for every account: it learns which byte is rare from the first chunk it searches.
  const auto needle =
      body_filter_ ? std::make_shared<finder>(*q_.filter.response_body_contains) : nullptr;
  std::vector<std::unique_ptr<chunk_matches>> sources;
  sources.reserve(accounts.size());
  for (const auto& a : accounts) {
    sources.push_back(chunk_source(a, purged_.visible_from(a, lo), hi, needle));
  }
  for (;;) {
    if (timed_out()) return query_status::timed_out;
    const std::size_t best = newest_source(sources);
    if (best == sources.size()) break;
    const auto m = sources[best]->top();
    sources[best]->next();
    bool read = m.read;
    if (body_filter_ && covering_filter_) {
      const auto c = covering_of(accounts[best], m.inv, read);
      if (c == covered::failed) return query_status::failed;
      if (c == covered::no) continue;
    }
    take(accounts[best], m.inv, m.part, read);
  }
  return sources_status(sources);
}

std::optional<std::string> trace_store::impl::cursor_of(const list_query& q,
                                                        const rocksdb::ReadOptions& ro,
                                                        std::int64_t cutoff) const {
  std::optional<std::string> after_inv;
  if (!q.after_sid) return after_inv;
  // A cursor that expired or no longer exists is ignored, as if there were none.
  if (auto sid = store::parse_sid(*q.after_sid); sid && store::sid_ms(*sid) >= cutoff) {
    rocksdb::PinnableSlice stored;
    if (db_.db->Get(ro, db_[cf_records], sid_slice(*sid), &stored).ok()) {
      codec::append_inv_sid(after_inv.emplace(), *sid);
    }
  }
  return after_inv;
}

list_result trace_store::impl::list(const list_query& q, bool every_match) {
  list_result result;
  auto fail = [&](query_status st) {
    result.status = st;
    result.total = 0;
    result.records.reset();
    return std::move(result);
  };
  try {
    std::shared_lock db_lock(db_mu_);  // held by the page's stream until it is done
    if (!db_.db) return fail(query_status::failed);
    const auto& f = q.filter;
    auto snap = std::make_shared<snapshot_holder>(db_.db.get());
    const auto ro = read_options(*snap);
    const std::int64_t cutoff = clock_->cutoff();
    const std::int64_t lo = std::max(cutoff, f.created_from_ms.value_or(cutoff));
    const std::int64_t hi = f.created_before_ms.value_or(max_sid_ms + 1);
    const std::vector<std::string> accounts = list_accounts(q, ro);
    page_planner plan(db_, *purged_, q, ro, every_match ? std::nullopt : cursor_of(q, ro, cutoff),
                      every_match);
    query_status st = query_status::ok;
    if (accounts.empty() || lo >= hi) {
      // nothing to list
    } else if (plan.unfiltered()) {
      // The total from the counters, the page from a merge of the accounts.
      std::uint64_t total = 0;
      for (const auto& a : accounts) total += count_unfiltered(ro, a, lo, hi);
      st = plan.plan_unfiltered(accounts, lo, hi, total);
    } else if (f.session_sid) {
      st = plan.plan_session(accounts, lo, hi);
    } else {
      st = plan.plan_chunks(accounts, lo, hi);
    }
    if (st != query_status::ok) return fail(st);
    result.status = query_status::ok;
    result.total = plan.total();
    result.records =
        std::make_unique<keyed_stream>(std::move(db_lock), db_.db.get(), db_[cf_records],
                                       db_[cf_chunks], std::move(snap), plan.take_items(), purged_);
    return result;
  } catch (const std::exception& e) {
    log::error("store: list failed", {{"error", e.what()}});
    return fail(query_status::failed);
  }
}

}  // namespace sidecar::store
