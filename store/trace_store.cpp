// The RocksDB trace store's façade: the impl's wiring (its threads, their start and stop) and
// the public face of store/trace_store.hpp. Each job is its own file (docs/store.md, "Files"):
// store_open, maintenance, record_read (get), scanners, list_planner, purge_markers, and the
// writer, store/trace_writer.cpp.
#include "store/trace_store.hpp"

#include <algorithm>
#include <mutex>
#include <shared_mutex>

#include "store/outbox.hpp"
#include "store/purge_markers.hpp"
#include "store/scanners.hpp"
#include "store/store_codec.hpp"
#include "store/trace_store_impl.hpp"
#include "support/log.hpp"
#include "support/thread_name.hpp"
#include "support/utc_time.hpp"

namespace sidecar::store {

trace_store::impl::impl(std::shared_ptr<const conf::config> c, metrics::registry& m, options o)
    : cfg_(std::move(c)),
      opts_(std::move(o)),
      clock_(std::make_shared<rocks::expiry_clock>()),
      stall_(m.add_gauge("sidecar_store_write_stall",
                         "RocksDB write stall: 0 normal, 1 delayed, 2 stopped")),
      quota_trims_(m.add_counter("sidecar_store_quota_trims_total",
                                 "Times the disk quota removed the oldest records")),
      purge_removed_(m.add_counter("sidecar_store_purge_removed_total",
                                   "Records a purge marker covers that compaction removed "
                                   "from disk")) {
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
}

trace_store::impl::~impl() {
  {
    std::lock_guard lock(maint_mu_);
    maint_stop_ = true;
  }
  maint_cv_.notify_all();
  if (maintainer_.joinable()) maintainer_.join();
  writer_.reset();  // writes the queue and every batch in the pipeline, closes the feed
}

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
    if (markable(q.filter)) return impl_->purge_by_marker(q);
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
