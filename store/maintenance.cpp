// The trace store's maintenance (docs/store.md, "Expiry" and "Disk quota"): the thread that
// measures the disk, applies the quota, forgets expired purges, flushes memtables so that the
// expiry filter reaches them, and compacts when RocksDB would not.
#include "store/maintenance.hpp"

#include <rocksdb/db.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <string>

#include "store/rocks_support.hpp"
#include "store/store_codec.hpp"
#include "store/trace_store_impl.hpp"
#include "support/log.hpp"

namespace sidecar::store {

namespace fs = std::filesystem;

std::optional<std::int64_t> quota_floor(const std::map<std::int64_t, std::uint64_t>& per_bucket,
                                        std::uint64_t disk, std::uint64_t max, std::int64_t cutoff,
                                        std::int64_t now_ms) {
  std::uint64_t total = 0;
  for (const auto& [bucket, n] : per_bucket) total += n;
  if (total == 0) return std::nullopt;
  // Remove the oldest ~25% more than the excess, so that the next records do not trigger
  // another trim at once: the new floor is the end of the bucket where enough records have
  // been passed.
  const double share =
      std::min(1.0, (static_cast<double>(disk - max) + 0.25 * static_cast<double>(max)) /
                        static_cast<double>(disk));
  const auto need = static_cast<std::uint64_t>(share * static_cast<double>(total));
  std::int64_t new_floor = cutoff;
  std::uint64_t passed = 0;
  for (const auto& [bucket, n] : per_bucket) {
    passed += n;
    new_floor = (bucket + 1) * codec::bucket_ms;
    if (passed >= need) break;
  }
  return std::min(new_floor, now_ms + 1);
}

void trace_store::impl::maintenance_loop() {
  std::unique_lock lock(maint_mu_);
  while (!maint_stop_) {
    maint_cv_.wait_for(lock, opts_.maintenance_interval);
    if (maint_stop_) break;
    lock.unlock();
    try {
      maintain_once();
    } catch (const std::exception& e) {
      log::error("store: maintenance failed", {{"error", e.what()}});
    }
    lock.lock();
  }
}

void trace_store::impl::maintain_once() {
  std::lock_guard run(maint_run_mu_);
  disk_bytes_->store(measure_disk_bytes());
  std::shared_lock db_lock(db_mu_);
  if (!db_.db) return;
  enforce_quota();
  expire_purged();
  const auto now = std::chrono::steady_clock::now();
  const auto period = std::chrono::milliseconds(reclaim_period_ms_);
  // Data in memtables is not compacted: flush it so the filter reaches it (docs/store.md).
  if (now - last_flush_ >= period / 2) {
    flush_memtables();
    last_flush_ = now;
  }
  // periodic_compaction_seconds rewrites old files, but RocksDB only looks at it when the
  // database changes; when no compaction at all ran during a period, compact everything.
  if (now - last_reclaim_ >= period) {
    if (listener_->compactions() == compactions_at_reclaim_) compact_all();
    compactions_at_reclaim_ = listener_->compactions();
    last_reclaim_ = now;
  }
  if (!writer_->health().ok) db_.db->Resume().PermitUncheckedError();
}

void trace_store::impl::flush_memtables() {
  rocksdb::FlushOptions fo;
  fo.allow_write_stall = true;
  db_.db
      ->Flush(fo, std::vector<rocksdb::ColumnFamilyHandle*>(db_.handles.begin(),
                                                            db_.handles.begin() + cf_count))
      .PermitUncheckedError();
}

void trace_store::impl::compact_all() {
  flush_memtables();
  rocksdb::CompactRangeOptions co;
  co.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
  // Every blob file too: the live blobs of each are moved to new files and the old file goes,
  // with the bytes of the large records that expired or were purged in it.
  co.blob_garbage_collection_policy = rocksdb::BlobGarbageCollectionPolicy::kForce;
  co.blob_garbage_collection_age_cutoff = 1.0;
  for (std::size_t i = 0; i < cf_count; ++i) {
    db_.db->CompactRange(co, db_.handles[i], nullptr, nullptr).PermitUncheckedError();
  }
  disk_bytes_->store(measure_disk_bytes());
}

std::uint64_t trace_store::impl::measure_disk_bytes() const {
  std::uint64_t total = 0;
  std::error_code ec;
  for (fs::recursive_directory_iterator it(db_path_, ec), end; !ec && it != end; it.increment(ec)) {
    std::error_code fec;
    if (it->is_regular_file(fec)) {
      const auto n = it->file_size(fec);
      if (!fec) total += n;
    }
  }
  return total;
}

void trace_store::impl::enforce_quota() {
  if (!cfg_->store.max_bytes) return;
  const std::uint64_t max = *cfg_->store.max_bytes;
  const std::uint64_t disk = disk_bytes_->load();
  if (disk <= max) return;
  // Records are counted per bucket, oldest first, across accounts (quota_floor).
  const std::int64_t cutoff = clock_->cutoff();
  std::map<std::int64_t, std::uint64_t> per_bucket;
  {
    // No snapshot may live during the compaction below: RocksDB keeps the merge operands
    // (body chunks, counters) that a snapshot can see.
    std::unique_ptr<rocksdb::Iterator> it(db_.db->NewIterator({}, db_[cf_counters]));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      std::string_view id;
      std::int64_t bucket = 0, width = 0;
      if (!codec::split_counter_key(view(it->key()), id, bucket, width)) continue;
      if (width != codec::bucket_ms) continue;  // hour counters repeat the minutes
      if ((bucket + 1) * codec::bucket_ms <= cutoff) continue;
      per_bucket[bucket] += rocks::decode_count(view(it->value()));
    }
  }
  const auto floor = quota_floor(per_bucket, disk, max, cutoff, clock_->now_ms());
  if (!floor) return;
  const std::int64_t new_floor = *floor;
  if (new_floor <= clock_->floor_ms.load()) return;
  rocksdb::WriteOptions wo;
  wo.sync = true;
  const auto s = db_.db->Put(wo, db_[cf_meta], slice(meta_floor_key), std::to_string(new_floor));
  if (!s.ok()) return;
  clock_->floor_ms.store(new_floor, std::memory_order_release);
  quota_trims_.inc();
  log::warn("store: disk quota exceeded, oldest records removed",
            {{"disk_bytes", std::to_string(disk)},
             {"max_bytes", std::to_string(max)},
             {"removed_before_ms", std::to_string(new_floor)}});
  compact_all();  // the filter drops everything under the new floor
}

}  // namespace sidecar::store
