// Purge (docs/store.md, "Purge"): the purge of a whole list by one marker per account, the
// remover thread that deletes the keys a marker covers behind it, the purge of single keys,
// and the purged sids and markers loaded at open and forgotten once expired.
#include "store/purge_markers.hpp"

#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

#include "store/purge_batch.hpp"
#include "store/scanners.hpp"
#include "store/store_codec.hpp"
#include "store/trace_store_impl.hpp"
#include "support/log.hpp"
#include "support/thread_priority.hpp"

namespace sidecar::store {

bool markable(const trace_filter& f) {
  return !f.completed && !f.created_from_ms && !f.session_sid && !f.min_latency_ms &&
         !f.direction && !f.response_code_prefix && !f.response_body_contains &&
         !f.request_path_prefix && !f.org_sid && !f.method && !f.request_body_contains;
}

std::string encode_marker(const sid_bytes& through, bool pending) {
  std::string value(reinterpret_cast<const char*>(through.data()), through.size());
  value.push_back(pending ? 'p' : 'r');
  return value;
}

std::optional<marker_value> decode_marker(std::string_view value) {
  marker_value m;
  if (value.size() != m.through.size() + 1) return std::nullopt;
  std::copy(value.begin(), value.begin() + m.through.size(), m.through.begin());
  m.pending = value.back() == 'p';
  return m;
}

purge_result trace_store::impl::purge_by_marker(const list_query& q) {
  const std::lock_guard one(purge_mu_);
  std::vector<std::pair<std::string, store::sid_bytes>> marks;
  purge_result out;
  {
    std::shared_lock db_lock(db_mu_);
    if (!db_.db) return {query_status::failed, 0};
    const snapshot_holder snap(db_.db.get());
    const auto ro = read_options(snap);
    const std::int64_t cutoff = clock_->cutoff();
    const std::int64_t hi = q.filter.created_before_ms.value_or(max_sid_ms + 1);
    rocksdb::WriteBatch batch;
    for (const auto& account : list_accounts(q, ro)) {
      if (std::chrono::steady_clock::now() > q.deadline) return {query_status::timed_out, 0};
      if (cutoff >= hi) break;
      // The marker covers the account's newest record in the list (the first key of its scan,
      // which an older marker already bounds) and everything before it.
      const merged_scan scan(db_.db.get(), db_[cf_by_account], ro, {account}, cutoff, hi, {},
                             purged_.get());
      if (!scan.status().ok()) return {query_status::failed, 0};
      if (!scan.valid()) continue;
      const store::sid_bytes through = codec::uninvert(scan.inv());
      out.deleted += count_unfiltered(ro, account, cutoff, hi);
      // Pending: its keys are to be removed.
      batch.Put(db_[cf_meta], purge_set::marker_key(account), encode_marker(through, true))
          .PermitUncheckedError();
      marks.emplace_back(account, through);
    }
    if (marks.empty()) return out;
    // One small write, synced: the purge is durable when it is answered.
    rocksdb::WriteOptions wo;
    wo.sync = true;
    if (const auto s = db_.db->Write(wo, &batch); !s.ok()) {
      log::error("store: purge marker write failed", {{"error", s.ToString()}});
      return {query_status::failed, 0};
    }
    for (const auto& [account, through] : marks) purged_->mark(account, through);
  }
  for (const auto& m : marks) queue_removal(m.first);
  return out;
}

void trace_store::impl::queue_removal(const std::string& account) {
  {
    const std::lock_guard lock(remove_mu_);
    // The first one may be under way with an older marker: queued again, it walks the rest.
    if (std::find(to_remove_.begin() + (to_remove_.empty() ? 0 : 1), to_remove_.end(), account) !=
        to_remove_.end()) {
      return;
    }
    to_remove_.push_back(account);
  }
  remove_cv_.notify_all();
}

void trace_store::impl::remover_loop() {
  // The removal only reclaims disk (the marker already hides the records): it runs on CPU time
  // no exchange wants, so that the proxy's latency does not feel it (docs/store.md, "Purge").
  if (!support::run_this_thread_when_idle()) log::warn("store: purge removal at normal priority");
  std::unique_lock lock(remove_mu_);
  for (;;) {
    remove_cv_.wait(lock, [&] { return remove_stop_ || !to_remove_.empty(); });
    if (remove_stop_) break;
    const std::string account = to_remove_.front();
    lock.unlock();
    bool done = false;
    try {
      done = remove_marked(account);
    } catch (const std::exception& e) {
      log::error("store: purge removal failed", {{"error", e.what()}});
    }
    lock.lock();
    if (remove_stop_) break;
    // Not done (a read or write error): the marker keeps hiding the records, and its 'p' state
    // makes the next open take the removal up again.
    if (!done)
      log::warn("store: purge removal stopped until the next start", {{"account", account}});
    to_remove_.pop_front();
    remove_cv_.notify_all();
  }
}

bool trace_store::impl::remove_marked(const std::string& account) {
  // Records in a removal batch: small enough that one batch's write (a MultiGet and about four
  // entries per record) is a short interruption for the writer's batches.
  constexpr std::size_t removal_batch = 256;
  const auto through = purged_->marker(account);
  if (!through) return true;                                // expired meanwhile
  std::string from = codec::id_sid_key(account, *through);  // the newest covered, then older
  const auto started = std::chrono::steady_clock::now();
  const std::uint64_t rate = opts_.purge_removal_rate;
  std::uint64_t removed = 0;
  std::vector<std::string> keys;
  for (;;) {
    keys.clear();
    {
      std::shared_lock db_lock(db_mu_);
      if (!db_.db) return false;
      // Keys of records not yet expired (older ones go with the expiry).
      std::string upper = codec::id_prefix(account);
      codec::append_inv_time(upper, clock_->cutoff() - 1);
      const rocksdb::Slice upper_slice = slice(upper);
      rocksdb::ReadOptions ro;
      ro.iterate_upper_bound = &upper_slice;
      std::unique_ptr<rocksdb::Iterator> it(db_.db->NewIterator(ro, db_[cf_by_account]));
      for (it->Seek(from); it->Valid() && keys.size() < removal_batch; it->Next()) {
        keys.emplace_back(view(it->key()));
      }
      if (!it->status().ok()) return false;
      if (keys.empty()) break;
      from = keys.back();
      from.push_back('\0');  // strictly after the last key taken
      const purge_handles h{db_.db.get(),       db_[cf_meta],       db_[cf_records],
                            db_[cf_by_account], db_[cf_by_session], db_[cf_counters]};
      std::uint64_t deleted = 0;
      if (const auto s = purge_records(h, nullptr, keys, deleted); !s.ok()) {
        log::error("store: purge removal write failed", {{"error", s.ToString()}});
        return false;
      }
      removed += keys.size();
      purge_removed_.inc(deleted);
    }
    if (rate > 0) {
      // Paced: batch n waits until n batches' worth of the rate has passed.
      const auto due = started + std::chrono::microseconds(removed * 1'000'000 / rate);
      std::unique_lock lock(remove_mu_);
      if (remove_cv_.wait_until(lock, due, [&] { return remove_stop_; })) return false;
    }
  }
  // Removed: the marker says so, unless a newer one came meanwhile (queued, it walks the rest).
  if (purged_->marker(account) != through) return true;
  std::shared_lock db_lock(db_mu_);
  if (!db_.db) return false;
  return db_.db
      ->Put({}, db_[cf_meta], purge_set::marker_key(account), encode_marker(*through, false))
      .ok();
}

purge_result trace_store::impl::purge_keys(const std::vector<std::string>& keys) {
  std::shared_lock db_lock(db_mu_);
  if (!db_.db) return {query_status::failed, 0};
  const purge_handles h{db_.db.get(),       db_[cf_meta],       db_[cf_records],
                        db_[cf_by_account], db_[cf_by_session], db_[cf_counters]};
  purge_result out;
  const auto s = purge_records(h, purged_.get(), keys, out.deleted);
  if (!s.ok()) {
    log::error("store: purge write failed", {{"error", s.ToString()}});
    out.status = query_status::failed;
  }
  return out;
}

void trace_store::impl::load_purged() {
  std::unique_ptr<rocksdb::Iterator> it(db_.db->NewIterator({}, db_[cf_meta]));
  const std::string_view prefix = purge_set::meta_prefix;
  for (it->Seek(slice(prefix)); it->Valid() && view(it->key()).starts_with(prefix); it->Next()) {
    const auto key = view(it->key()).substr(prefix.size());
    if (key.size() != 16) continue;
    store::sid_bytes sid{};
    std::copy(key.begin(), key.end(), sid.begin());
    purged_->add(sid);
  }
  // The markers; a removal not finished before the last close is taken up again.
  const std::string_view markers = purge_set::marker_prefix;
  for (it->Seek(slice(markers)); it->Valid() && view(it->key()).starts_with(markers); it->Next()) {
    const auto m = decode_marker(view(it->value()));
    if (!m) continue;
    const std::string account(view(it->key()).substr(markers.size()));
    purged_->mark(account, m->through);
    if (m->pending) queue_removal(account);
  }
}

void trace_store::impl::expire_purged() {
  // A purged sid older than the cutoff is hidden by expiry anyway; its chunk goes with it.
  // A marker is forgotten once its newest sid has expired: so has everything it covers.
  const auto gone = purged_->expire(clock_->cutoff());
  const auto markers = purged_->expire_markers(clock_->cutoff());
  if (gone.empty() && markers.empty()) return;
  rocksdb::WriteBatch batch;
  for (const auto& sid : gone)
    batch.Delete(db_[cf_meta], purge_set::meta_key(sid)).PermitUncheckedError();
  for (const auto& account : markers)
    batch.Delete(db_[cf_meta], purge_set::marker_key(account)).PermitUncheckedError();
  db_.db->Write({}, &batch).PermitUncheckedError();
}

}  // namespace sidecar::store
