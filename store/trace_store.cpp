// The RocksDB trace store: opening the database, the maintenance thread (quota, reclaim,
// recovery), the readers (get, list) and purge; its writer (queue -> group-committed
// WriteBatches) is store/trace_writer.cpp. The key design is in docs/store.md.
#include "store/trace_store.hpp"

#include <rocksdb/cache.h>
#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>
#include <rocksdb/write_buffer_manager.h>
#include <sys/stat.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <condition_variable>
#include <cstring>
#include <filesystem>
#include <functional>
#include <limits>
#include <map>
#include <mutex>
#include <shared_mutex>
#include <thread>
#include <unordered_set>

#include "conf/config_error.hpp"
#include "store/outbox.hpp"
#include "store/purge_batch.hpp"
#include "store/record_filter.hpp"
#include "store/rocks_support.hpp"
#include "store/store_codec.hpp"
#include "store/store_db.hpp"
#include "store/trace_writer.hpp"
#include "support/json.hpp"
#include "support/log.hpp"
#include "support/thread_name.hpp"
#include "support/thread_priority.hpp"
#include "support/utc_time.hpp"

namespace sidecar::store {

namespace {

namespace fs = std::filesystem;

constexpr std::string_view meta_format_key = "format_version";
constexpr std::string_view meta_floor_key = "floor_ms";

/// A snapshot released when the last reader of it is gone.
struct snapshot_holder {
  rocksdb::DB* db;
  const rocksdb::Snapshot* snap;
  explicit snapshot_holder(rocksdb::DB* d) : db(d), snap(d->GetSnapshot()) {}
  snapshot_holder(const snapshot_holder&) = delete;
  snapshot_holder& operator=(const snapshot_holder&) = delete;
  ~snapshot_holder() { db->ReleaseSnapshot(snap); }
};

}  // namespace

struct trace_store::impl {
  impl(std::shared_ptr<const conf::config> c, metrics::registry& m, options o);
  ~impl();

  // -- open --
  void open();
  /// Closes and opens the database again (a WAL write error that Resume() cannot clear);
  /// waits for the pages being read and the batch being built. Committer thread only.
  bool reopen();

  // -- purge (store/purge_batch.hpp) --
  void load_purged();
  void expire_purged();
  purge_result purge_keys(const std::vector<std::string>& keys);
  /// Whether a purge of the list `f` filters may be a marker: nothing but DateCreatedBefore
  /// (and AccountSid, which picks the accounts).
  static bool markable(const trace_filter& f);
  /// The purge of a whole list by markers: one per account, written at once.
  purge_result purge_by_marker(const list_query& q);
  /// Queues the removal of the keys an account's marker covers (remover thread).
  void queue_removal(const std::string& account);
  void remover_loop();
  /// Removes the keys the account's marker covers, paced; false when it stopped early.
  bool remove_marked(const std::string& account);

  // -- maintenance --
  void maintenance_loop();
  void maintain_once();
  void enforce_quota();
  void flush_memtables();
  void compact_all();
  std::uint64_t measure_disk_bytes() const;

  // -- reads --
  rocksdb::ReadOptions read_options(const snapshot_holder& s) const {
    rocksdb::ReadOptions ro;
    ro.snapshot = s.snap;
    return ro;
  }
  std::vector<std::string> all_accounts(const rocksdb::ReadOptions& ro) const;
  /// The accounts a list reads: the query's, narrowed by AccountSid.
  std::vector<std::string> list_accounts(const list_query& q, const rocksdb::ReadOptions& ro) const;
  std::uint64_t count_keys(const rocksdb::ReadOptions& ro, std::string_view account,
                           std::int64_t lo, std::int64_t hi) const;
  std::uint64_t count_unfiltered(const rocksdb::ReadOptions& ro, std::string_view account,
                                 std::int64_t lo, std::int64_t hi) const;
  /// The sum of the counters with keys in [start, upper).
  std::uint64_t sum_counters(const rocksdb::ReadOptions& ro, const std::string& start,
                             const std::string& upper) const;
  /// `every_match`: the page is every match (Page, PageSize and AfterSid ignored), for a purge.
  list_result list(const list_query& q, bool every_match = false);
  trace_lookup get(std::string_view sid);

  std::shared_ptr<const conf::config> cfg_;
  options opts_;
  std::shared_ptr<rocks::expiry_clock> clock_;
  // Purged records whose chunk entries are still on disk (store/purge_set.hpp).
  std::shared_ptr<purge_set> purged_ = std::make_shared<purge_set>();
  fs::path db_path_;
  std::int64_t reclaim_period_ms_ = 0;

  // metrics
  metrics::gauge& stall_;
  metrics::counter& quota_trims_;
  metrics::counter& purge_removed_;
  std::shared_ptr<std::atomic<std::uint64_t>> disk_bytes_ =
      std::make_shared<std::atomic<std::uint64_t>>(0);

  std::shared_ptr<rocks::listener> listener_;
  std::shared_ptr<rocksdb::Cache> cache_;
  // Readers (and maintenance, the writer's encoder while it builds a batch, and its
  // committer's Write) hold db_mu_ shared; reopen() holds it alone. Only the committer thread
  // changes db_, so it reads db_ without the lock.
  mutable std::shared_mutex db_mu_;
  database db_;

  // The shipping outbox when the database opened: whether records get an entry, and the
  // next entry's sequence (the writer numbers them from there).
  bool ship_ = false;
  std::uint64_t outbox_first_seq_ = 0;
  void open_outbox();

  log_limiter reopen_log_{std::chrono::seconds(10)};

  std::mutex maint_mu_;
  std::condition_variable maint_cv_;
  bool maint_stop_ = false;
  std::chrono::steady_clock::time_point last_flush_{};
  std::chrono::steady_clock::time_point last_reclaim_{};
  std::uint64_t compactions_at_reclaim_ = 0;
  std::mutex maint_run_mu_;  // one maintenance pass at a time

  // The queue, the encoder and the committer (store/trace_writer.hpp); started once the
  // database is open, stopped before it closes.
  std::unique_ptr<trace_writer> writer_;

  // The removal behind purge markers: accounts waiting, the first one being removed.
  std::mutex purge_mu_;  // one marker purge at a time: a marker's meta value only grows
  std::mutex remove_mu_;
  std::condition_variable remove_cv_;
  std::deque<std::string> to_remove_;
  bool remove_stop_ = false;
  std::thread remover_;

  std::thread maintainer_;
};

// ---------------------------------------------------------------------------------------
// open

trace_store::impl::impl(std::shared_ptr<const conf::config> c, metrics::registry& m, options o)
    : cfg_(std::move(c)),
      opts_(std::move(o)),
      clock_(std::make_shared<rocks::expiry_clock>()),
      stall_(m.add_gauge("sidecar_store_write_stall",
                         "RocksDB write stall: 0 normal, 1 delayed, 2 stopped")),
      quota_trims_(m.add_counter("sidecar_store_quota_trims_total",
                                 "Times the disk quota removed the oldest records")),
      purge_removed_(m.add_counter("sidecar_store_purge_removed_total",
                                   "Records whose keys the removal behind a purge marker "
                                   "deleted")) {
  m.add_callback("sidecar_store_disk_bytes", "Bytes the trace store takes on disk",
                 [bytes = disk_bytes_] { return static_cast<double>(bytes->load()); });
  clock_->now_ms = opts_.now_ms ? opts_.now_ms : utc::now_ms;
  clock_->retention_ms = cfg_->store.retention.count();
  // Reclaim period P (docs/store.md): expired data is physically gone within 2P of expiry.
  reclaim_period_ms_ = std::clamp<std::int64_t>(clock_->retention_ms / 8, 60'000, 6 * 3'600'000);
  listener_ = std::make_shared<rocks::listener>(stall_);
  open();
  open_outbox();
  disk_bytes_->store(measure_disk_bytes());
  last_flush_ = last_reclaim_ = std::chrono::steady_clock::now();
  writer_ = std::make_unique<trace_writer>(
      cfg_, opts_, m, trace_writer::store_side{db_, db_mu_, [this] { return reopen(); }}, ship_,
      outbox_first_seq_);
  maintainer_ = std::thread([this] {
    support::name_this_thread("store-maintain");
    maintenance_loop();
  });
  remover_ = std::thread([this] {
    support::name_this_thread("store-purge");
    remover_loop();
  });
}

void trace_store::impl::open() {
  const fs::path dir = cfg_->store.path;
  std::error_code ec;
  if (!fs::exists(dir, ec)) {
    fs::create_directories(dir, ec);
    if (ec) {
      throw conf::config_error("[store] path: cannot create " + dir.string() + ": " + ec.message());
    }
    fs::permissions(dir, fs::perms::owner_all, fs::perm_options::replace, ec);
  }
  if (!fs::is_directory(dir, ec)) {
    throw conf::config_error("[store] path: " + dir.string() + " is not a directory");
  }
  db_path_ = dir / "db";
  // Created here, owner-only, rather than by RocksDB (which logs an error for a missing one).
  if (fs::create_directory(db_path_, ec)) ::chmod(db_path_.c_str(), 0700);

  rocksdb::DBOptions dbo;
  dbo.create_if_missing = true;
  dbo.create_missing_column_families = true;
  dbo.max_background_jobs = 2;
  dbo.bytes_per_sync = 1 << 20;
  dbo.max_total_wal_size = 256ull << 20;  // small column families must not pin old WALs
  dbo.info_log = rocks::make_logger();    // no LOG file: warnings and errors go to our log
  dbo.info_log_level = rocksdb::InfoLogLevel::WARN_LEVEL;
  dbo.listeners.push_back(listener_);
  // One thread writes (the committer): concurrent memtable inserts buy nothing, and they
  // would disable the per-prefix insert hints.
  dbo.allow_concurrent_memtable_write = false;

  // [store] memory bounds RocksDB's memtables and block cache together (docs/store.md,
  // "Memory"): the cache holds the whole budget, and the write buffer manager charges every
  // memtable to it, flushing once the memtables take half of it; index and filter blocks are
  // cached too rather than held beside it by each open file.
  const std::size_t memory = cfg_->store.memory;
  const std::size_t memtables = memory / 2;
  cache_ = rocksdb::NewLRUCache(memory);
  dbo.write_buffer_manager = std::make_shared<rocksdb::WriteBufferManager>(memtables, cache_);
  auto table = [&](std::size_t block_size, bool bloom) {
    rocksdb::BlockBasedTableOptions t;
    t.block_cache = cache_;
    t.block_size = block_size;
    t.format_version = 5;
    t.cache_index_and_filter_blocks = true;
    t.pin_l0_filter_and_index_blocks_in_cache = true;
    if (bloom) t.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
    return rocksdb::NewBlockBasedTableFactory(t);
  };
  const auto period_s = static_cast<std::uint64_t>(reclaim_period_ms_ / 1000);
  auto cf_options = [&](rocks::key_kind kind, std::size_t block_size, bool bloom,
                        std::size_t write_buffer) {
    rocksdb::ColumnFamilyOptions o;
    o.compaction_filter_factory = rocks::make_expiry_filter_factory(
        clock_, kind, kind == rocks::key_kind::chunk ? purged_ : nullptr);
    o.table_factory.reset(table(block_size, bloom));
    o.compression = rocksdb::kLZ4Compression;
    o.bottommost_compression = rocksdb::kLZ4Compression;
    o.write_buffer_size = write_buffer;
    o.max_write_buffer_number = 4;
    o.level_compaction_dynamic_level_bytes = true;
    o.periodic_compaction_seconds = period_s;
    o.ttl = period_s;
    if (kind != rocks::key_kind::keep) {
      o.memtable_insert_with_hint_prefix_extractor = rocks::make_insert_hint_prefix(kind);
    }
    return o;
  };
  // Each family's memtable is a share of the budget (records and bodies a quarter each, the
  // indexes an eighth, the small families 2 MiB at most), so that most flushes are a family
  // filling its own memtable rather than the manager flushing the oldest one early.
  const std::size_t small_buffer = std::min<std::size_t>(2 << 20, memtables / 16);
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (std::size_t i = 0; i < cf_count; ++i) {
    rocksdb::ColumnFamilyOptions o;
    switch (static_cast<cf>(i)) {
      case cf_default:
      case cf_meta:
      case cf_outbox:  // settled by the shipper, never expired by key (docs/fleet.md)
        o = cf_options(rocks::key_kind::keep, 4096, false, small_buffer);
        break;
      case cf_records:
        // Keyed by sid, so in time order: each flush writes a key range after the last one
        // (compaction can move such files down without rewriting them), and the memtable
        // inserts are appends. Bloom filter: get(sid) and a page's records are point lookups.
        o = cf_options(rocks::key_kind::sid, 16 << 10, true, memtables / 4);
        break;
      case cf_chunks:
        // Uncompressed: the ResponseBody filter searches the chunks as they are read.
        o = cf_options(rocks::key_kind::chunk, 64 << 10, false, memtables / 4);
        o.compression = rocksdb::kNoCompression;
        o.bottommost_compression = rocksdb::kNoCompression;
        o.merge_operator = rocks::make_append_merge_operator();
        break;
      case cf_by_account:
      case cf_by_session:
        o = cf_options(rocks::key_kind::id_inverted_sid, 16 << 10, false, memtables / 8);
        break;
      case cf_counters:
        o = cf_options(rocks::key_kind::counter, 4096, false, small_buffer);
        o.merge_operator = rocks::make_count_merge_operator();
        break;
      case cf_index_chunks:
        // The covering entries again, in chunks: the filtered scans read large values
        // instead of stepping an iterator once per record. Uncompressed, like body_chunks.
        o = cf_options(rocks::key_kind::chunk, 64 << 10, false, memtables / 8);
        o.compression = rocksdb::kNoCompression;
        o.bottommost_compression = rocksdb::kNoCompression;
        o.merge_operator = rocks::make_append_merge_operator();
        break;
      case cf_count:
        break;
    }
    if (i == cf_records) {
      // Large records (request bodies of up to 100 KB) go to blob files so that they never
      // slow key scans; blob files are time-ordered, so expired ones are dropped whole.
      o.enable_blob_files = true;
      o.min_blob_size = 4096;
      o.blob_compression_type = rocksdb::kLZ4Compression;
      o.enable_blob_garbage_collection = true;
      o.blob_garbage_collection_age_cutoff = 0.5;
    }
    descriptors.emplace_back(cf_names[i], o);
  }

  std::vector<std::string> existing;
  const bool exists =
      fs::exists(db_path_ / "CURRENT", ec) &&
      rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), db_path_.string(), &existing).ok();
  if (exists) {
    if (std::find(existing.begin(), existing.end(), "meta") == existing.end()) {
      throw conf::config_error("[store] path: " + db_path_.string() +
                               " holds a database that is not a trace-sidecar store");
    }
    for (const auto& name : existing) {
      if (std::find(cf_names.begin(), cf_names.end(), name) == cf_names.end()) {
        descriptors.emplace_back(name, rocksdb::ColumnFamilyOptions());
      }
    }
  }

  rocksdb::DB* raw = nullptr;
  auto s = rocksdb::DB::Open(dbo, db_path_.string(), descriptors, &db_.handles, &raw);
  if (!s.ok()) {
    throw conf::config_error("[store] path: cannot open " + db_path_.string() + ": " +
                             s.ToString());
  }
  db_.db.reset(raw);

  std::string version;
  s = db_.db->Get({}, db_[cf_meta], slice(meta_format_key), &version);
  if (s.IsNotFound()) {
    version = std::to_string(codec::format_version);
    rocksdb::WriteOptions wo;
    wo.sync = true;
    s = db_.db->Put(wo, db_[cf_meta], slice(meta_format_key), version);
  }
  if (!s.ok()) {
    throw conf::config_error("[store] path: cannot read " + db_path_.string() + ": " +
                             s.ToString());
  }
  if (version != std::to_string(codec::format_version)) {
    throw conf::config_error(
        "[store] path: " + db_path_.string() + " holds trace store format version " + version +
        "; this trace-sidecar reads version " + std::to_string(codec::format_version) +
        " (use a matching binary or another data directory)");
  }
  std::string floor;
  if (db_.db->Get({}, db_[cf_meta], slice(meta_floor_key), &floor).ok()) {
    clock_->floor_ms.store(std::strtoll(floor.c_str(), nullptr, 10));
  }
  load_purged();
}

void trace_store::impl::open_outbox() {
  ship_ = cfg_->fleet && cfg_->fleet->ship;
  outbox_first_seq_ = outbox::next_seq(*db_.db, db_[cf_outbox]);
  if (ship_) return;
  // Shipping is off now: entries left from a run that shipped would wait forever.
  if (const auto left = outbox::count(*db_.db, db_[cf_outbox]); left > 0) {
    if (!outbox::settle(*db_.db, db_[cf_outbox], 0,
                        std::numeric_limits<std::uint64_t>::max() - 1)) {
      return;
    }
    log::warn(
        "store: [fleet] does not ship now; records that were waiting to be shipped are "
        "no longer waiting",
        {{"records", std::to_string(left)}});
  }
}

bool trace_store::impl::reopen() {
  std::unique_lock lock(db_mu_);
  db_.reset();
  try {
    open();
    log::info("store: database reopened after a write error");
    return true;
  } catch (const std::exception& e) {
    db_.reset();
    std::uint64_t held = 0;
    if (reopen_log_.allow(held)) log::error("store: reopening failed", {{"error", e.what()}});
    return false;
  }
}

trace_store::impl::~impl() {
  {
    std::lock_guard lock(remove_mu_);
    remove_stop_ = true;  // a removal left unfinished resumes at the next open
  }
  remove_cv_.notify_all();
  if (remover_.joinable()) remover_.join();
  {
    std::lock_guard lock(maint_mu_);
    maint_stop_ = true;
  }
  maint_cv_.notify_all();
  if (maintainer_.joinable()) maintainer_.join();
  writer_.reset();  // writes the queue and every batch in the pipeline, closes the feed
}

// ---------------------------------------------------------------------------------------
// maintenance

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
  // Remove the oldest ~25% more than the excess, so that the next records do not trigger
  // another trim at once. Records are counted per bucket, oldest first, across accounts;
  // the new floor is the end of the bucket where enough records have been passed.
  const double share =
      std::min(1.0, (static_cast<double>(disk - max) + 0.25 * static_cast<double>(max)) /
                        static_cast<double>(disk));
  const std::int64_t cutoff = clock_->cutoff();
  std::map<std::int64_t, std::uint64_t> per_bucket;
  std::uint64_t total = 0;
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
      const auto n = rocks::decode_count(view(it->value()));
      per_bucket[bucket] += n;
      total += n;
    }
  }
  if (total == 0) return;
  const auto need = static_cast<std::uint64_t>(share * static_cast<double>(total));
  std::int64_t new_floor = cutoff;
  std::uint64_t passed = 0;
  for (const auto& [bucket, n] : per_bucket) {
    passed += n;
    new_floor = (bucket + 1) * codec::bucket_ms;
    if (passed >= need) break;
  }
  new_floor = std::min(new_floor, clock_->now_ms() + 1);
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

// ---------------------------------------------------------------------------------------
// reads

namespace {

/// Reads body chunks for records, keeping the last chunk read (a page's records mostly
/// share a few chunks).
class chunk_reader {
 public:
  chunk_reader(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* chunks) : db_(db), chunks_(chunks) {}
  /// The response body of the record under `key` (id + inv sid) whose body is in `part`;
  /// "" when it has none. False on a read error.
  bool body(const rocksdb::ReadOptions& ro, std::string_view key, std::uint32_t part,
            std::string_view& out) {
    std::string_view id, inv;
    out = {};
    if (!codec::split_id_key(key, id, inv)) return false;
    std::string ck = codec::chunk_key(id, floor_div(codec::inv_ms(inv), codec::chunk_ms), part);
    if (ck != cached_key_) {
      cached_.Reset();
      cached_key_.clear();  // nothing cached until this Get succeeds
      entries_.clear();
      const auto s = db_->Get(ro, chunks_, slice(ck), &cached_);
      if (!s.ok() && !s.IsNotFound()) return false;
      cached_key_ = std::move(ck);
      if (auto b = codec::find_in_chunk(view(cached_), inv)) out = *b;  // one lookup: a walk
      return true;
    }
    // A page's records mostly share a chunk, and the newest are at its end: from the second
    // lookup on, the chunk is walked once into a sorted index rather than once per record.
    if (entries_.empty()) {
      std::size_t pos = 0;
      std::string_view at, body;
      while (codec::next_chunk_entry(view(cached_), pos, at, body)) entries_.emplace_back(at, body);
      std::sort(entries_.begin(), entries_.end());
    }
    const auto it = std::lower_bound(entries_.begin(), entries_.end(), inv,
                                     [](const auto& e, std::string_view k) { return e.first < k; });
    if (it != entries_.end() && it->first == inv) out = it->second;
    return true;
  }

 private:
  rocksdb::DB* db_;
  rocksdb::ColumnFamilyHandle* chunks_;
  std::string cached_key_;
  rocksdb::PinnableSlice cached_;
  std::vector<std::pair<std::string_view, std::string_view>> entries_;  // (inv sid, body)
};

rocksdb::Slice sid_slice(const store::sid_bytes& sid) {
  return {reinterpret_cast<const char*>(sid.data()), sid.size()};
}

/// What reading one record of a planned page found.
enum class read_outcome : std::uint8_t { found, gone, failed };

/// A record's JSON from its two halves (records and its body chunk). `gone` when it was
/// removed since the page was planned (expired, trimmed); `failed` on a read error or a value
/// that does not decode, which the reader reports as a failed query, never as a missing record.
/// `key` is its id-keyed key (account + inv sid), `part` its body's chunk part.
read_outcome read_record(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* records,
                         chunk_reader& chunks, const rocksdb::ReadOptions& ro, std::string_view key,
                         std::uint32_t part, std::string& json) {
  std::string_view id, inv;
  if (!codec::split_id_key(key, id, inv)) return read_outcome::failed;
  rocksdb::PinnableSlice value;
  const auto s = db->Get(ro, records, sid_slice(codec::uninvert(inv)), &value);
  if (s.IsNotFound()) return read_outcome::gone;
  if (!s.ok()) return read_outcome::failed;
  std::string_view account, spliced;
  std::uint32_t stored_part = 0;
  if (!codec::split_record_value(view(value), account, stored_part, spliced)) {
    return read_outcome::failed;
  }
  std::string_view body;
  if (!chunks.body(ro, key, part, body) || !codec::assemble_json(json, spliced, body)) {
    return read_outcome::failed;
  }
  return read_outcome::found;
}

/// One record of a page: its key (id + inv sid) and the part of its body chunk.
struct page_item {
  std::string key;
  std::uint32_t part = 0;
};

/// The page's records, read one at a time from the snapshot they were found in. The query's
/// deadline bounded the planning; the stream itself (at most PageSize point reads) runs to its
/// end, because the API has answered 200 by the time it reads: stopping it would cut the answer.
class keyed_stream final : public record_stream {
 public:
  keyed_stream(std::shared_lock<std::shared_mutex> lock, rocksdb::DB* db,
               rocksdb::ColumnFamilyHandle* records, rocksdb::ColumnFamilyHandle* chunks,
               std::shared_ptr<snapshot_holder> snap, std::vector<page_item> items,
               std::shared_ptr<const purge_set> purged)
      : lock_(std::move(lock)),
        purged_(std::move(purged)),
        db_(db),
        records_(records),
        chunks_(db, chunks),
        snap_(std::move(snap)),
        items_(std::move(items)) {}

  bool next(std::string& json) override;
  [[nodiscard]] query_status status() const override { return status_; }
  /// The page's by_account keys (a purge takes them instead of reading the records).
  [[nodiscard]] std::vector<std::string> keys() const {
    std::vector<std::string> out;
    out.reserve(items_.size());
    for (const auto& item : items_) out.push_back(item.key);
    return out;
  }

  /// The page was planned whole from one snapshot: its size and last sid are known before
  /// streaming, so the API's next_page_uri names the record the page really ends with.
  [[nodiscard]] extent page_extent() const override {
    extent e;
    e.count = items_.size();
    if (!items_.empty()) {
      // A key ends with the bitwise complement of the record's 16 sid bytes.
      const std::string& key = items_.back().key;
      store::sid_bytes sid{};
      const std::size_t at = key.size() - sid.size();
      for (std::size_t i = 0; i < sid.size(); ++i) {
        sid[i] = static_cast<std::uint8_t>(~static_cast<std::uint8_t>(key[at + i]));
      }
      e.last_sid = store::format_sid(sid);
    }
    return e;
  }

 private:
  std::shared_lock<std::shared_mutex> lock_;  // first: released last, after the snapshot
  std::shared_ptr<const purge_set> purged_;
  rocksdb::DB* db_;
  rocksdb::ColumnFamilyHandle* records_;
  chunk_reader chunks_;
  std::shared_ptr<snapshot_holder> snap_;
  std::vector<page_item> items_;
  std::size_t at_ = 0;
  query_status status_ = query_status::ok;
};

/// Newest-first iteration of one index column family over several ids (k-way merge on the
/// inverted sid that ends every key).
class merged_scan {
 public:
  struct source {
    std::unique_ptr<rocksdb::Iterator> it;
    std::string upper;
    rocksdb::Slice upper_slice;
    std::size_t prefix_len = 0;
  };

  /// `markers`: the ids are accounts, and each account's scan stops before the records its
  /// purge marker covers (null for the session index).
  merged_scan(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* cfh, rocksdb::ReadOptions ro,
              const std::vector<std::string>& ids, std::int64_t lo, std::int64_t hi,
              const std::optional<std::string>& after_inv, const purge_set* markers) {
    for (const auto& id : ids) {
      auto s = std::make_unique<source>();
      const std::string prefix = codec::id_prefix(id);
      s->prefix_len = prefix.size();
      // created >= lo: keys below prefix + inv(lo - 1); created < hi: from prefix + inv(hi - 1).
      s->upper = prefix;
      if (lo > 0) {
        codec::append_inv_time(s->upper, lo - 1);
      } else {
        s->upper.append(17, '\xff');
      }
      if (const auto m = markers ? markers->marker(id) : std::nullopt) {
        // Keys run newest first: the covered records (sid <= the marker's) start at its key.
        std::string covered = codec::id_sid_key(id, *m);
        if (covered < s->upper) s->upper = std::move(covered);
      }
      s->upper_slice = slice(s->upper);
      auto opts = ro;
      opts.iterate_upper_bound = &s->upper_slice;
      s->it.reset(db->NewIterator(opts, cfh));
      std::string start = prefix;
      if (hi <= max_sid_ms) codec::append_inv_time(start, hi - 1);
      if (after_inv) {
        std::string after = prefix + *after_inv;
        after.push_back('\0');  // strictly after the cursor's record
        if (after > start) start = std::move(after);
      }
      s->it->Seek(start);
      if (s->it->Valid()) {
        sources_.push_back(std::move(s));
        heap_.push_back(sources_.size() - 1);
      } else {
        status_ = s->it->status();
      }
    }
    std::make_heap(heap_.begin(), heap_.end(), greater_);
  }

  [[nodiscard]] bool valid() const { return !heap_.empty(); }
  [[nodiscard]] const source& top() const { return *sources_[heap_.front()]; }
  [[nodiscard]] std::string_view key() const { return view(top().it->key()); }
  [[nodiscard]] std::string_view inv() const { return key().substr(top().prefix_len); }
  [[nodiscard]] std::string_view value() const { return view(top().it->value()); }
  [[nodiscard]] std::size_t source_index() const { return heap_.front(); }
  [[nodiscard]] const rocksdb::Status& status() const { return status_; }

  void next() {
    std::pop_heap(heap_.begin(), heap_.end(), greater_);
    auto& s = *sources_[heap_.back()];
    s.it->Next();
    if (s.it->Valid()) {
      std::push_heap(heap_.begin(), heap_.end(), greater_);
    } else {
      if (!s.it->status().ok()) status_ = s.it->status();
      heap_.pop_back();
    }
  }

 private:
  struct inv_greater {
    const std::vector<std::unique_ptr<source>>* sources;
    bool operator()(std::size_t a, std::size_t b) const {
      const auto& sa = *(*sources)[a];
      const auto& sb = *(*sources)[b];
      const auto ka = view(sa.it->key()).substr(sa.prefix_len);
      const auto kb = view(sb.it->key()).substr(sb.prefix_len);
      return ka > kb;  // min-heap on the inverted sid: newest first
    }
  };
  std::vector<std::unique_ptr<source>> sources_;
  std::vector<std::size_t> heap_;
  inv_greater greater_{&sources_};
  rocksdb::Status status_;
};

bool contains(std::string_view hay, std::string_view needle) {
  if (needle.empty()) return true;
  if (hay.size() < needle.size()) return false;  // also keeps a null data() away from memmem
  return ::memmem(hay.data(), hay.size(), needle.data(), needle.size()) != nullptr;
}

/// Substring search for one needle over many buffers, as grep and ripgrep do it: memchr
/// (vectorised) for the needle's rarest byte, then a compare. Which byte is rarest is learnt
/// from the first buffer searched.
class finder {
 public:
  explicit finder(std::string_view needle) : needle_(needle) {}

  [[nodiscard]] bool in(std::string_view hay) {
    const std::size_t m = needle_.size();
    if (m == 0) return true;
    if (hay.size() < m) return false;
    if (!chosen_) choose(hay);
    const char* p = hay.data();
    const char* q = p + rare_at_;
    const char* stop = p + hay.size() - (m - 1 - rare_at_);  // rare byte positions end here
    while (q < stop) {
      q = static_cast<const char*>(std::memchr(q, rare_, static_cast<std::size_t>(stop - q)));
      if (!q) return false;
      const char* start = q - rare_at_;
      // A second rare byte rules out most false candidates before the full compare.
      if (start[rare2_at_] == rare2_ && std::memcmp(start, needle_.data(), m) == 0) return true;
      ++q;
    }
    return false;
  }

 private:
  void choose(std::string_view sample) {
    std::array<std::uint32_t, 256> freq{};
    for (unsigned char c : sample.substr(0, 64 * 1024)) ++freq[c];
    rare_at_ = 0;
    for (std::size_t i = 1; i < needle_.size(); ++i) {
      if (freq[static_cast<unsigned char>(needle_[i])] <=
          freq[static_cast<unsigned char>(needle_[rare_at_])]) {
        rare_at_ = i;
      }
    }
    rare_ = needle_[rare_at_];
    rare2_at_ = rare_at_ == 0 ? needle_.size() - 1 : 0;
    for (std::size_t i = 0; i < needle_.size(); ++i) {
      if (i != rare_at_ && freq[static_cast<unsigned char>(needle_[i])] <
                               freq[static_cast<unsigned char>(needle_[rare2_at_])]) {
        rare2_at_ = i;
      }
    }
    rare2_ = needle_[rare2_at_];
    chosen_ = true;
  }

  std::string needle_;
  bool chosen_ = false;
  std::size_t rare_at_ = 0;
  char rare_ = 0;
  std::size_t rare2_at_ = 0;
  char rare2_ = 0;
};

/// The entries of one account's chunks (body_chunks or index_chunks) that a predicate
/// accepts, newest first: reads the chunks in time order, lets `whole` rule out a whole chunk
/// at once (the ResponseBody search: most chunks hold no match), and sorts each chunk's
/// matches. `accept(entry, chunk part)` gives the part of the record's body (and whether the
/// record must be read to decide), or nullopt.
class chunk_matches {
 public:
  struct match {
    std::string inv;  // 16 bytes
    std::uint32_t part = 0;
    bool read = false;  // the record itself decides (record_filter)
  };
  struct accepted {
    std::uint32_t part = 0;
    bool read = false;
  };
  using whole_fn = std::function<bool(std::string_view chunk)>;
  using accept_fn =
      std::function<std::optional<accepted>(std::string_view entry, std::uint32_t part)>;

  chunk_matches(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* chunks, rocksdb::ReadOptions ro,
                const std::string& account, std::int64_t lo, std::int64_t hi, whole_fn whole,
                accept_fn accept, std::chrono::steady_clock::time_point deadline)
      : lo_(lo),
        hi_(hi),
        whole_(std::move(whole)),
        accept_(std::move(accept)),
        deadline_(deadline) {
    const std::string prefix = codec::id_prefix(account);
    prefix_len_ = prefix.size();
    const std::int64_t lo_start = floor_div(lo, codec::chunk_ms) * codec::chunk_ms;
    upper_ = prefix;
    if (lo_start > 0) {
      codec::append_inv_time(upper_, lo_start - 1);
    } else {
      upper_.append(9, '\xff');
    }
    upper_slice_ = slice(upper_);
    ro.iterate_upper_bound = &upper_slice_;
    ro.readahead_size = 4u << 20;
    it_.reset(db->NewIterator(ro, chunks));
    std::string start = prefix;
    if (hi <= max_sid_ms)
      codec::append_inv_time(start, floor_div(hi - 1, codec::chunk_ms) * codec::chunk_ms);
    it_->Seek(start);
    fill();
  }

  [[nodiscard]] bool valid() const { return at_ < matches_.size(); }
  [[nodiscard]] const match& top() const { return matches_[at_]; }
  void next() {
    if (++at_ == matches_.size()) fill();
  }
  [[nodiscard]] const rocksdb::Status& status() const { return status_; }
  [[nodiscard]] bool timed_out() const { return timed_out_; }

 private:
  // Loads the matches of the next chunk (all its parts) that has any.
  void fill() {
    matches_.clear();
    at_ = 0;
    while (matches_.empty() && it_->Valid()) {
      if ((chunks_++ & 15) == 0 && std::chrono::steady_clock::now() > deadline_) {
        timed_out_ = true;
        return;
      }
      const std::string chunk_inv(view(it_->key()).substr(prefix_len_, 6));
      for (; it_->Valid() && view(it_->key()).substr(prefix_len_, 6) == chunk_inv; it_->Next()) {
        const std::string_view value = view(it_->value());
        if (whole_ && !whole_(value)) continue;
        const auto k = view(it_->key());
        const auto part =
            static_cast<std::uint32_t>(static_cast<std::uint8_t>(k[prefix_len_ + 6]) << 8 |
                                       static_cast<std::uint8_t>(k[prefix_len_ + 7]));
        std::size_t pos = 0;
        std::string_view inv, entry;
        while (codec::next_chunk_entry(value, pos, inv, entry)) {
          const std::int64_t ms = codec::inv_ms(inv);
          if (ms < lo_ || ms >= hi_) continue;
          if (const auto a = accept_(entry, part)) {
            matches_.push_back({std::string(inv), a->part, a->read});
          }
        }
      }
      std::sort(matches_.begin(), matches_.end(),
                [](const match& a, const match& b) { return a.inv < b.inv; });
    }
    if (matches_.empty() && !it_->status().ok()) status_ = it_->status();
  }

  std::int64_t lo_, hi_;
  whole_fn whole_;
  accept_fn accept_;
  std::chrono::steady_clock::time_point deadline_;
  std::uint64_t chunks_ = 0;
  bool timed_out_ = false;
  std::size_t prefix_len_ = 0;
  std::string upper_;
  rocksdb::Slice upper_slice_;
  std::unique_ptr<rocksdb::Iterator> it_;
  std::vector<match> matches_;
  std::size_t at_ = 0;
  rocksdb::Status status_;
};

}  // namespace

bool keyed_stream::next(std::string& json) {
  json.clear();
  if (status_ != query_status::ok) return false;
  while (at_ < items_.size()) {
    const auto& item = items_[at_++];
    std::string_view account, inv;
    // Purged since the page was planned: gone, as a record deleted meanwhile is.
    if (codec::split_id_key(item.key, account, inv) && purged_->hidden(account, inv)) continue;
    try {
      rocksdb::ReadOptions ro;
      ro.snapshot = snap_->snap;
      switch (read_record(db_, records_, chunks_, ro, item.key, item.part, json)) {
        case read_outcome::found:
          return true;
        case read_outcome::gone:
          continue;
        case read_outcome::failed:
          status_ = query_status::failed;
          return false;
      }
    } catch (...) {
      status_ = query_status::failed;
      return false;
    }
  }
  return false;
}

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

trace_lookup trace_store::impl::get(std::string_view sid_text) {
  try {
    const auto sid = store::parse_sid(sid_text);
    if (!sid || store::sid_ms(*sid) < clock_->cutoff()) return {};
    std::shared_lock db_lock(db_mu_);
    if (!db_.db) return trace_lookup::failed();
    snapshot_holder snap(db_.db.get());
    const auto ro = read_options(snap);
    // One lookup gives the account, the body's chunk part and the JSON around the body.
    rocksdb::PinnableSlice value;
    const auto s = db_.db->Get(ro, db_[cf_records], sid_slice(*sid), &value);
    if (s.IsNotFound()) return {};
    std::string_view account, spliced;
    std::uint32_t part = 0;
    if (!s.ok() || !codec::split_record_value(view(value), account, part, spliced)) {
      log::error("store: get failed", {{"error", s.ok() ? "undecodable record" : s.ToString()}});
      return trace_lookup::failed();
    }
    if (purged_->hidden(account, *sid)) return {};  // covered by a purge marker
    stored_trace out;
    out.account_sid = account;
    chunk_reader chunks(db_.db.get(), db_[cf_chunks]);
    std::string_view body;
    if (!chunks.body(ro, codec::id_sid_key(account, *sid), part, body) ||
        !codec::assemble_json(out.json, spliced, body)) {
      log::error("store: get failed", {{"error", "unreadable body chunk"}});
      return trace_lookup::failed();
    }
    return {query_status::ok, std::move(out)};
  } catch (const std::exception& e) {
    log::error("store: get failed", {{"error", e.what()}});
    return trace_lookup::failed();
  }
}

// ---------------------------------------------------------------------------------------
// the public face

trace_store::trace_store(std::shared_ptr<const conf::config> cfg, metrics::registry& metrics,
                         options opts)
    : impl_(std::make_unique<impl>(std::move(cfg), metrics, std::move(opts))) {}

trace_store::~trace_store() = default;

bool trace_store::submit(capture&& c) noexcept { return impl_->writer_->submit(std::move(c)); }

bool trace_store::submit(trace_record&& r) noexcept { return impl_->writer_->submit(std::move(r)); }

void trace_store::flush() { impl_->writer_->flush(); }

trace_lookup trace_store::get(std::string_view sid) { return impl_->get(sid); }

bool trace_store::outbox_read(std::uint64_t from, std::size_t max, std::vector<outbox_entry>& out) {
  std::shared_lock lock(impl_->db_mu_);
  if (!impl_->db_.db) return false;
  return outbox::read(*impl_->db_.db, impl_->db_[cf_outbox], from, max, out);
}

std::uint64_t trace_store::outbox_next_seq() const { return impl_->writer_->outbox_next_seq(); }

bool trace_store::outbox_settle(std::uint64_t from, std::uint64_t through) {
  std::shared_lock lock(impl_->db_mu_);
  if (!impl_->db_.db) return false;
  return outbox::settle(*impl_->db_.db, impl_->db_[cf_outbox], from, through);
}

list_result trace_store::list(const list_query& q) { return impl_->list(q); }

purge_result trace_store::purge(std::string_view sid_text) {
  try {
    const auto sid = store::parse_sid(sid_text);
    if (!sid) return {};
    const auto stored = impl_->get(sid_text);
    if (stored.status != query_status::ok) return {stored.status, 0};
    if (!stored) return {};
    return impl_->purge_keys({codec::id_sid_key(stored->account_sid, *sid)});
  } catch (const std::exception& e) {
    log::error("store: purge failed", {{"error", e.what()}});
    return {query_status::failed, 0};
  }
}

purge_result trace_store::purge(const list_query& q) {
  try {
    if (impl::markable(q.filter)) return impl_->purge_by_marker(q);
    std::vector<std::string> keys;
    {
      list_result r = impl_->list(q, true);
      if (r.status != query_status::ok || !r.records) return {r.status, 0};
      keys = static_cast<const keyed_stream&>(*r.records).keys();
    }  // the page's snapshot and lock go before the writes
    return impl_->purge_keys(keys);
  } catch (const std::exception& e) {
    log::error("store: purge failed", {{"error", e.what()}});
    return {query_status::failed, 0};
  }
}

void trace_store::settle_purges() {
  std::unique_lock lock(impl_->remove_mu_);
  impl_->remove_cv_.wait(lock, [&] { return impl_->to_remove_.empty() || impl_->remove_stop_; });
}

bool trace_store::impl::markable(const trace_filter& f) {
  return !f.completed && !f.created_from_ms && !f.session_sid && !f.min_latency_ms &&
         !f.direction && !f.response_code_prefix && !f.response_body_contains &&
         !f.request_path_prefix && !f.org_sid && !f.method && !f.request_body_contains;
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
      std::string value(reinterpret_cast<const char*>(through.data()), through.size());
      value.push_back('p');  // its keys are to be removed
      batch.Put(db_[cf_meta], purge_set::marker_key(account), value).PermitUncheckedError();
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
  std::string value(reinterpret_cast<const char*>(through->data()), through->size());
  value.push_back('r');
  return db_.db->Put({}, db_[cf_meta], purge_set::marker_key(account), value).ok();
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
    const auto value = view(it->value());
    if (value.size() != 17) continue;
    const std::string account(view(it->key()).substr(markers.size()));
    store::sid_bytes through{};
    std::copy(value.begin(), value.begin() + 16, through.begin());
    purged_->mark(account, through);
    if (value[16] == 'p') queue_removal(account);
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

commit_feed& trace_store::feed() { return impl_->writer_->feed(); }

store_health trace_store::health() const { return impl_->writer_->health(); }

void trace_store::compact() {
  std::lock_guard run(impl_->maint_run_mu_);
  std::shared_lock lock(impl_->db_mu_);
  if (!impl_->db_.db) return;
  impl_->compact_all();
}

void trace_store::maintain() { impl_->maintain_once(); }

std::uint64_t trace_store::disk_bytes() const { return impl_->measure_disk_bytes(); }

trace_store::stats trace_store::get_stats() const {
  stats s;
  impl_->writer_->add_stats(s);
  s.quota_trims = impl_->quota_trims_.value();
  return s;
}

}  // namespace sidecar::store
