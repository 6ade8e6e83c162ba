// Purge (docs/store.md, "Purge"): the purge of a whole list by one marker per account (whose
// records the compaction filters remove from disk: store/rocks_support.cpp), the purge of
// single keys, and the purged sids and markers loaded at open and forgotten once expired.
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

namespace sidecar::store {

bool markable(const trace_filter& f) {
  return !f.completed && !f.created_from_ms && !f.session_sid && !f.min_latency_ms &&
         !f.direction && !f.response_code_prefix && !f.response_body_contains &&
         !f.request_path_prefix && !f.org_sid && !f.method && !f.request_body_contains;
}

std::string encode_marker(const sid_bytes& through) {
  std::string value(reinterpret_cast<const char*>(through.data()), through.size());
  value.push_back(marker_state);
  return value;
}

std::optional<sid_bytes> decode_marker(std::string_view value) {
  sid_bytes through{};
  if (value.size() != through.size() + 1) return std::nullopt;
  std::copy(value.begin(), value.begin() + through.size(), through.begin());
  return through;
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
      const auto entries = index_entries(db_.db.get(), db_[cf_index_chunks], ro, account,
                                         purged_->visible_from(account, cutoff), hi, q.deadline);
      while (entries->valid() && purged_->hidden(account, entries->top().inv)) entries->next();
      if (entries->timed_out()) return {query_status::timed_out, 0};
      if (!entries->status().ok()) return {query_status::failed, 0};
      if (!entries->valid()) continue;
      const store::sid_bytes through = codec::uninvert(entries->top().inv);
      out.deleted += count_unfiltered(ro, account, cutoff, hi);
      batch.Put(db_[cf_meta], purge_set::marker_key(account), encode_marker(through))
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
  return out;
}

purge_result trace_store::impl::purge_keys(const std::vector<std::string>& keys) {
  std::shared_lock db_lock(db_mu_);
  if (!db_.db) return {query_status::failed, 0};
  const purge_handles h{db_.db.get(), db_[cf_meta], db_[cf_records], db_[cf_by_session],
                        db_[cf_counters]};
  purge_result out;
  const auto s = purge_records(h, *purged_, keys, out.deleted);
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
  // The markers: the compaction filters go on removing what they cover.
  const std::string_view markers = purge_set::marker_prefix;
  for (it->Seek(slice(markers)); it->Valid() && view(it->key()).starts_with(markers); it->Next()) {
    const auto through = decode_marker(view(it->value()));
    if (!through) continue;
    purged_->mark(view(it->key()).substr(markers.size()), *through);
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
