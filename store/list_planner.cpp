// The planning of a list page (docs/store.md, "Reads"): which accounts, the total, and the
// page's keys, from the counters and a merge of the accounts when unfiltered, the session
// index for SessionSid, or the chunk scans for ResponseBody and the covering filters.

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
  merged_scan scan(db_.db.get(), db_[cf_by_account], ro, {std::string(account)}, lo, hi, {},
                   purged_.get());
  std::uint64_t n = 0;
  for (; scan.valid(); scan.next()) ++n;
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

list_result trace_store::impl::list(const list_query& q, bool every_match) {
  list_result result;
  try {
    std::shared_lock db_lock(db_mu_);  // held by the page's stream until it is done
    if (!db_.db) {
      result.status = query_status::failed;
      return result;
    }
    const auto& f = q.filter;
    auto snap = std::make_shared<snapshot_holder>(db_.db.get());
    auto ro = read_options(*snap);

    const std::int64_t cutoff = clock_->cutoff();
    const std::int64_t lo = std::max(cutoff, f.created_from_ms.value_or(cutoff));
    const std::int64_t hi = f.created_before_ms.value_or(max_sid_ms + 1);

    const std::vector<std::string> accounts = list_accounts(q, ro);

    std::optional<std::string> after_inv;
    if (q.after_sid && !every_match) {
      if (auto sid = store::parse_sid(*q.after_sid); sid && store::sid_ms(*sid) >= cutoff) {
        rocksdb::PinnableSlice stored;
        if (db_.db->Get(ro, db_[cf_records], sid_slice(*sid), &stored).ok()) {
          after_inv.emplace();
          for (auto v : *sid) after_inv->push_back(static_cast<char>(~v));
        }
      }
    }

    const std::uint64_t skip = after_inv || every_match ? 0 : q.page * q.page_size;
    const std::uint64_t want =
        every_match ? std::numeric_limits<std::uint64_t>::max() : q.page_size;
    std::vector<page_item> items;
    std::uint64_t total = 0;
    std::uint64_t pos = 0;  // matches after the cursor so far
    std::size_t checked = 0;
    auto timed_out = [&] {
      return (++checked & 1023) == 0 && std::chrono::steady_clock::now() > q.deadline;
    };
    auto fail = [&](query_status st) {
      result.status = st;
      result.total = 0;
      return std::move(result);
    };
    // Method and RequestBody: from the covering entry when it can, else from the record
    // (its JSON without the response body, which they never look at).
    const record_filter rfilter(f);
    std::string record_json;
    auto record_passes = [&](std::string_view inv) {
      rocksdb::PinnableSlice value;
      if (!db_.db->Get(ro, db_[cf_records], sid_slice(codec::uninvert(inv)), &value).ok()) {
        return false;
      }
      std::string_view account, spliced;
      std::uint32_t part = 0;
      record_json.clear();
      return codec::split_record_value(view(value), account, part, spliced) &&
             codec::assemble_json(record_json, spliced, {}) && rfilter.on_record(record_json);
    };
    // One match, in list order: counted, and kept when it falls on the page. `read`: the
    // record filter needs the record itself.
    auto take = [&](std::string_view account, std::string_view inv, auto&& make_key,
                    std::uint32_t part, bool read) {
      // Purged (by a marker, or deleted with its chunk entry not yet compacted).
      if (purged_->hidden(account, inv)) return;
      if (read && !record_passes(inv)) return;
      ++total;
      if (after_inv && inv <= std::string_view(*after_inv)) return;
      if (items.size() < want && pos++ >= skip) items.push_back({make_key(), part});
    };

    const bool body_filter = f.response_body_contains && !f.response_body_contains->empty();
    const bool path_filter = f.request_path_prefix && !f.request_path_prefix->empty();
    const bool covering_filter = f.completed || f.direction || f.min_latency_ms ||
                                 f.response_code_prefix || f.org_sid || path_filter ||
                                 rfilter.has_method();
    // Whether the covering filters pass; `read` is then set when the record must decide.
    auto covering_match = [&](const codec::covering& c, bool& read) {
      if (f.completed && c.completed != *f.completed) return false;
      if (f.direction && c.api != (*f.direction == conf::direction::api)) return false;
      if (f.min_latency_ms && c.latency_ms < *f.min_latency_ms) return false;
      if (f.response_code_prefix && !c.code.starts_with(*f.response_code_prefix)) return false;
      if (f.org_sid && c.org_sid != *f.org_sid) return false;
      if (path_filter && !c.path_or_url_starts_with(*f.request_path_prefix)) return false;
      const auto v = rfilter.on_covering(c);
      read = v == record_filter::verdict::read;
      return v != record_filter::verdict::no;
    };

    if (accounts.empty() || lo >= hi) {
      // nothing to list
    } else if (!covering_filter && !body_filter && !f.session_sid && !rfilter.active()) {
      // Unfiltered: the total from the counters, the page from a merge of the accounts.
      for (const auto& a : accounts) total += count_unfiltered(ro, a, lo, hi);
      merged_scan scan(db_.db.get(), db_[cf_by_account], ro, accounts, lo, hi, after_inv,
                       purged_.get());
      for (std::uint64_t n = 0; scan.valid() && items.size() < want; scan.next(), ++n) {
        if (timed_out()) return fail(query_status::timed_out);
        if (n < skip) continue;
        codec::covering c;
        if (!codec::decode_covering(scan.value(), c)) continue;
        items.push_back({std::string(scan.key()), c.body_part});
      }
      if (!scan.status().ok()) return fail(query_status::failed);
    } else if (f.session_sid) {
      // SessionSid: its own index, small; covering entries (from by_account) and bodies
      // looked up per candidate.
      std::unordered_set<std::string_view> allowed(accounts.begin(), accounts.end());
      merged_scan scan(db_.db.get(), db_[cf_by_session], ro, {*f.session_sid}, lo, hi, {}, nullptr);
      chunk_reader chunks(db_.db.get(), db_[cf_chunks]);
      for (; scan.valid(); scan.next()) {
        if (timed_out()) return fail(query_status::timed_out);
        std::string_view account;
        std::uint32_t part = 0;
        if (!codec::decode_session_entry(scan.value(), account, part)) continue;
        if (!allowed.contains(account)) continue;
        std::string key = codec::id_prefix(account);
        key.append(scan.inv());
        bool read = rfilter.active();
        if (covering_filter) {
          rocksdb::PinnableSlice value;
          const auto st = db_.db->Get(ro, db_[cf_by_account], slice(key), &value);
          if (!st.ok() && !st.IsNotFound()) return fail(query_status::failed);
          codec::covering c;
          if (!st.ok() || !codec::decode_covering(view(value), c) || !covering_match(c, read)) {
            continue;
          }
        }
        if (body_filter) {
          std::string_view body;
          if (!chunks.body(ro, key, part, body)) return fail(query_status::failed);
          if (!contains(body, *f.response_body_contains)) continue;
        }
        take(
            account, scan.inv(), [&] { return key; }, part, read);
      }
      if (!scan.status().ok()) return fail(query_status::failed);
    } else {
      // ResponseBody, or covering filters: scan chunks per account (the body chunks when
      // there is a ResponseBody, else the index chunks), merge the matches newest first.
      // With both, the covering filters are checked on each body match's index entry.
      auto needle = body_filter ? std::make_shared<finder>(*f.response_body_contains) : nullptr;
      std::vector<std::unique_ptr<chunk_matches>> sources;
      for (const auto& a : accounts) {
        if (needle) {
          sources.push_back(std::make_unique<chunk_matches>(
              db_.db.get(), db_[cf_chunks], ro, a, lo, hi,
              [needle](std::string_view chunk) { return needle->in(chunk); },
              [needle, read = rfilter.active()](std::string_view body, std::uint32_t part)
                  -> std::optional<chunk_matches::accepted> {
                if (!needle->in(body)) return std::nullopt;
                return chunk_matches::accepted{part, read};
              },
              q.deadline));
        } else {
          sources.push_back(std::make_unique<chunk_matches>(
              db_.db.get(), db_[cf_index_chunks], ro, a, lo, hi, nullptr,
              [&covering_match](std::string_view entry,
                                std::uint32_t) -> std::optional<chunk_matches::accepted> {
                codec::covering c;
                bool read = false;
                if (!codec::decode_covering(entry, c) || !covering_match(c, read)) {
                  return std::nullopt;
                }
                return chunk_matches::accepted{c.body_part, read};
              },
              q.deadline));
        }
      }
      for (;;) {
        if (timed_out()) return fail(query_status::timed_out);
        std::size_t best = sources.size();
        for (std::size_t i = 0; i < sources.size(); ++i) {
          if (sources[i]->valid() &&
              (best == sources.size() || sources[i]->top().inv < sources[best]->top().inv)) {
            best = i;
          }
        }
        if (best == sources.size()) break;
        const auto m = sources[best]->top();
        sources[best]->next();
        auto make_key = [&] { return codec::id_prefix(accounts[best]) + m.inv; };
        bool read = m.read;
        if (needle && covering_filter) {
          rocksdb::PinnableSlice value;
          const auto st = db_.db->Get(ro, db_[cf_by_account], slice(make_key()), &value);
          if (!st.ok() && !st.IsNotFound()) return fail(query_status::failed);
          codec::covering c;
          if (!st.ok() || !codec::decode_covering(view(value), c) || !covering_match(c, read)) {
            continue;
          }
        }
        take(accounts[best], m.inv, make_key, m.part, read);
      }
      for (const auto& src : sources) {
        if (src->timed_out()) return fail(query_status::timed_out);
        if (!src->status().ok()) return fail(query_status::failed);
      }
    }
    result.status = query_status::ok;
    result.total = total;
    result.records =
        std::make_unique<keyed_stream>(std::move(db_lock), db_.db.get(), db_[cf_records],
                                       db_[cf_chunks], std::move(snap), std::move(items), purged_);
    return result;
  } catch (const std::exception& e) {
    log::error("store: list failed", {{"error", e.what()}});
    result.status = query_status::failed;
    result.total = 0;
    result.records.reset();
    return result;
  }
}

}  // namespace sidecar::store
