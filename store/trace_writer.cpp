// The writer of the trace store: queue, encoder, committer (docs/store.md, "Write path").
#include "store/trace_writer.hpp"

#include <rocksdb/perf_level.h>

#include <algorithm>
#include <cstring>
#include <type_traits>
#include <utility>

#include "store/access_line.hpp"
#include "store/outbox.hpp"
#include "store/rocks_support.hpp"
#include "store/store_codec.hpp"
#include "support/log.hpp"
#include "support/thread_name.hpp"

namespace sidecar::store {

trace_writer::trace_writer(std::shared_ptr<const conf::config> cfg, const trace_store_options& opts,
                           metrics::registry& m, store_side store, bool ship,
                           std::uint64_t outbox_seq)
    : cfg_(std::move(cfg)),
      opts_(opts),
      db_(store.db),
      db_mu_(store.db_mu),
      reopen_(std::move(store.reopen)),
      written_(m.add_counter("sidecar_records_written_total", "Trace records written")),
      dropped_full_(m.add_counter("sidecar_records_dropped_total", "Trace records lost",
                                  {{"reason", "queue_full"}})),
      dropped_error_(m.add_counter("sidecar_records_dropped_total", "Trace records lost",
                                   {{"reason", "write_error"}})),
      dropped_invalid_(m.add_counter("sidecar_records_dropped_total", "Trace records lost",
                                     {{"reason", "invalid"}})),
      write_seconds_(
          m.add_histogram("sidecar_store_write_seconds", "Latency of one store batch write")),
      queue_gauge_(m.add_gauge("sidecar_store_queue_bytes", "Bytes waiting for the store writer")),
      ship_(ship),
      outbox_seq_(outbox_seq) {
  static constexpr std::array<const char*, 3> skip_names{"no_account", "unknown_account",
                                                         "traces_not_enabled"};
  for (std::size_t i = 0; i < skip_names.size(); ++i) {
    skipped_[i] = &m.add_counter("sidecar_records_skipped_total",
                                 "Exchanges not recorded, by reason", {{"reason", skip_names[i]}});
  }
  committer_ = std::thread([this] {
    support::name_this_thread("store-commit");
    committer_loop();
  });
  encoder_ = std::thread([this] {
    support::name_this_thread("store-encode");
    encoder_loop();
  });
}

trace_writer::~trace_writer() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  work_cv_.notify_all();
  if (encoder_.joinable()) encoder_.join();  // drains the queue first
  {
    std::lock_guard lock(job_mu_);
    encoder_done_ = true;
  }
  job_cv_.notify_all();
  if (committer_.joinable()) committer_.join();  // writes the last batches first
  feed_.close();
}

bool trace_writer::submit(capture&& c) noexcept {
  std::size_t bytes = 0;
  try {
    bytes = c.memory_size();
  } catch (...) {
    bytes = sizeof(capture);
  }
  return enqueue(c, bytes);
}

bool trace_writer::submit(trace_record&& r) noexcept {
  const std::size_t bytes = codec::memory_size(r);
  return enqueue(r, bytes);
}

void trace_writer::flush() {
  std::unique_lock lock(mu_);
  const std::uint64_t target = submitted_;
  ++flush_waiters_;
  work_cv_.notify_one();
  done_cv_.wait(lock, [&] { return processed_ >= target; });
  --flush_waiters_;
}

store_health trace_writer::health() const {
  std::lock_guard lock(health_mu_);
  return health_;
}

void trace_writer::set_health(bool ok, std::string reason) {
  std::lock_guard lock(health_mu_);
  health_.ok = ok;
  health_.reason = std::move(reason);
}

void trace_writer::add_stats(trace_store::stats& s) const {
  s.written = written_.value();
  s.dropped_queue_full = dropped_full_.value();
  s.dropped_write_error = dropped_error_.value();
  s.dropped_invalid = dropped_invalid_.value();
  for (auto* c : skipped_) s.skipped += c->value();
  std::lock_guard lock(mu_);
  s.queue_bytes = queued_bytes_;
}

// The item is moved only once accepted: a refused one is left to the caller.
template <class Item>
bool trace_writer::enqueue(Item& item, std::size_t bytes) noexcept {
  try {
    bool wake = false;
    {
      std::lock_guard lock(mu_);
      if (stopping_ || queued_bytes_ + bytes > cfg_->store.queue_bytes) {
        dropped_full_.inc();
        full_log_.add();
        return false;
      }
      queue_.emplace_back(std::move(item), bytes);  // moved once, into its place
      if constexpr (std::is_same_v<Item, capture>) {
        // The caller builds its next capture into the buffers of one already written.
        if (!spare_captures_.empty()) {
          item = std::move(spare_captures_.back());
          spare_captures_.pop_back();
        }
      }
      // The writer sleeps until the first record, then lingers until a batch's worth is
      // queued: only those two moments need a wake-up (a futex call), not every record.
      const std::size_t batch = batch_threshold();
      wake = queue_.size() == 1 || (queued_bytes_ < batch && queued_bytes_ + bytes >= batch);
      queued_bytes_ += bytes;
      ++submitted_;
      queue_gauge_.set(static_cast<std::int64_t>(queued_bytes_));
    }
    if (wake) work_cv_.notify_one();
    return true;
  } catch (...) {  // allocation failure: dropped like a full queue, never thrown at the proxy
    dropped_full_.inc();
    return false;
  }
}

void trace_writer::encoder_loop() {
  record_builder builder(cfg_);
  item_queue items(kept_segments);
  for (;;) {
    {
      std::unique_lock lock(mu_);
      work_cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, and everything is written
      // Group commit: let the batch gather (see trace_store_options::linger).
      work_cv_.wait_for(lock, opts_.linger, [&] {
        return stopping_ || flush_waiters_ > 0 || queued_bytes_ >= batch_threshold();
      });
      items.swap(queue_);
    }
    process(items, builder);
    give_back_captures(items);
  }
}

void trace_writer::give_back_captures(item_queue& items) {
  // Bounded (docs/store.md, "Captures are recycled"): no buffer over 16 KiB is kept, and the
  // captures kept hold 4 MiB at most.
  constexpr std::size_t max_buffer = 16 << 10;
  constexpr std::size_t max_bytes = 4 << 20;
  items.for_each([&](queued& q) {
    auto* c = std::get_if<capture>(&q.item);
    if (c == nullptr || returned_bytes_ >= max_bytes) return;
    c->trim(max_buffer);
    returned_bytes_ += c->memory_size();
    returned_.push_back(std::move(*c));
  });
  items.clear();  // what was not kept is freed here, on this thread
  if (returned_.empty()) return;
  std::lock_guard lock(mu_);
  // Given all at once, when the proxy threads have taken every spare: one lock per batch.
  if (spare_captures_.empty()) {
    spare_captures_.swap(returned_);
    returned_bytes_ = 0;
  }
}

void trace_writer::process(item_queue& items, record_builder& builder) {
  write_job job = new_job();
  // The encoder reads db_ (the column family handles) under the shared lock, since the
  // committer may reopen the database; it never holds it while waiting for the committer.
  std::shared_lock db_lock(db_mu_);
  auto finish = [&] {
    add_pending_chunks(*job.batch);
    db_lock.unlock();
    hand_off(std::move(job));
    job = new_job();
    db_lock.lock();
  };
  items.for_each([&](queued& q) {
    ++job.done;
    job.bytes += q.bytes;
    encode(q, builder, job);
    if (job.batch->GetDataSize() + pending_bytes_ >= opts_.max_batch_bytes) finish();
  });
  add_pending_chunks(*job.batch);
  db_lock.unlock();
  if (job.done > 0) hand_off(std::move(job));
}

void trace_writer::encode(queued& q, record_builder& builder, write_job& job) {
  try {
    if (auto* c = std::get_if<capture>(&q.item)) {
      encode_capture(*c, builder, job);
    } else if (auto& r = std::get<trace_record>(q.item); append(*job.batch, r, job.counts)) {
      ++job.records;
      job.next_record() = std::move(r);
      keep_for_feed(job);
    }
  } catch (const std::exception& e) {
    dropped_invalid_.inc();
    std::uint64_t held = 0;
    if (invalid_log_.allow(held)) {
      log::error("store: record not built",
                 {{"error", e.what()}, {"held_back", std::to_string(held)}});
    }
  }
}

void trace_writer::encode_capture(const capture& c, record_builder& builder, write_job& job) {
  trace_record& r = job.next_record();  // built in place: the record is never moved
  if (const auto skipped = builder.build_into(c, r)) {
    const std::size_t reason = static_cast<std::size_t>(*skipped) % skipped_.size();
    skipped_[reason]->inc();
    skipped_log_[reason].add();
    if (log::access_enabled()) log_access(c, {}, {}, to_string(*skipped));
    return;
  }
  if (log::access_enabled()) log_access(c, r.sid, r.account_sid, {});
  if (append(*job.batch, r, job.counts)) {
    ++job.records;
    keep_for_feed(job);
  }
}

void trace_writer::keep_for_feed(write_job& job) {
  committed_record& c = job.published[job.kept++];
  // What get() will answer: the stored record renders to the JSON of the record in hand, byte
  // for byte, so it is written from that (into the buffer the slot keeps).
  c.json.clear();
  if (feed_.has_subscribers()) append_json(c.json, c.record);
}

void trace_writer::recycle_records(write_job& job) {
  // Bounded, so that recycling keeps little memory (docs/store.md): at most 1 024 records per
  // job, none that holds a large body (a burst of big records would stay allocated).
  constexpr std::size_t max_records = 1024;
  constexpr std::size_t max_body = 16 << 10;
  auto& records = job.published;
  if (records.size() > max_records) records.resize(max_records);
  for (auto& c : records) {
    if (c.record.request.body.body.capacity() > max_body ||
        c.record.response.body.body.capacity() > max_body) {
      std::exchange(c, committed_record{});  // moved out, so freed (an assignment keeps them)
    }
    c.json.clear();
  }
  job.kept = 0;
}

void trace_writer::publish(write_job& job) {
  // A subscriber that came after the encoder saw none still gets every batch written after
  // it subscribed: the JSON missing then is built here.
  if (!feed_.has_subscribers()) return;
  job.published.resize(job.kept);
  for (auto& c : job.published) {
    if (c.json.empty()) c.json = to_json(c.record);
  }
  feed_.publish(std::move(job.published));
  job.published.clear();  // moved from: the next batch's records are allocated afresh
  job.kept = 0;
}

trace_writer::write_job trace_writer::new_job() {
  write_job job;
  {
    std::lock_guard lock(job_mu_);
    if (!spare_jobs_.empty()) {
      job = std::move(spare_jobs_.back());
      spare_jobs_.pop_back();
    }
  }
  // A batch's buffer keeps its capacity across Clear(), so reused batches never allocate
  // (and fault in) megabytes afresh.
  if (!job.batch) {
    job.batch = std::make_unique<rocksdb::WriteBatch>(opts_.max_batch_bytes + (1u << 20));
  }
  return job;
}

void trace_writer::hand_off(write_job&& job) {
  {
    std::unique_lock lock(job_mu_);
    job_cv_.wait(lock, [&] { return !job_.has_value(); });
    job_ = std::move(job);
  }
  job_cv_.notify_all();
}

void trace_writer::committer_loop() {
  // RocksDB counts each write's steps in thread-local counters (perf level kEnableCount by
  // default) that nothing here reads: a thread-local access per step, per record.
  rocksdb::SetPerfLevel(rocksdb::PerfLevel::kDisable);
  for (;;) {
    write_job job;
    {
      std::unique_lock lock(job_mu_);
      job_cv_.wait(lock, [&] { return job_.has_value() || encoder_done_; });
      if (!job_) return;  // the encoder has stopped and everything is written
      job = std::move(*job_);
      job_.reset();
    }
    job_cv_.notify_all();  // the encoder may wait for the slot
    // Only this thread changes db_, so it reads it without the lock.
    if (!db_.db && std::chrono::steady_clock::now() >= retry_at_ && !reopen_()) {
      retry_at_ = std::chrono::steady_clock::now() + std::chrono::seconds(1);
    }
    if (job.records > 0 && commit(*job.batch, job.counts, job.records)) publish(job);
    recycle_records(job);
    {
      std::lock_guard lock(mu_);
      processed_ += job.done;
      queued_bytes_ -= job.bytes;
      queue_gauge_.set(static_cast<std::int64_t>(queued_bytes_));
    }
    done_cv_.notify_all();
    job.batch->Clear();
    job.counts.clear();
    job.records = job.done = 0;
    job.bytes = 0;
    std::lock_guard lock(job_mu_);
    if (spare_jobs_.size() < 2) spare_jobs_.push_back(std::move(job));
  }
}

bool trace_writer::append(rocksdb::WriteBatch& batch, trace_record& r,
                          std::unordered_map<std::string, std::uint64_t>& counts) {
  if (!db_.db) {  // closed after a failed reopen: dropped like a failed write
    dropped_error_.inc();
    return false;
  }
  const auto sid = store::parse_sid(r.sid);
  if (!sid || r.account_sid.empty()) {
    dropped_invalid_.inc();
    std::uint64_t held = 0;
    if (invalid_log_.allow(held)) {
      log::error("store: record without a valid sid or account",
                 {{"held_back", std::to_string(held)}});
    }
    return false;
  }
  const std::int64_t created = store::sid_ms(*sid);  // the key's time is the sid's
  // Keys are written into the writer's buffers, which keep their capacity: no allocation per
  // key, and a map lookup with a key already there copies nothing.
  inv_buf_.clear();  // the sid inverted: chunk entries are keyed by it
  codec::append_inv_sid(inv_buf_, *sid);
  const std::string_view inv = inv_buf_;
  const std::string_view body = r.response.body.body;
  const std::int64_t chunk = floor_div(created, codec::chunk_ms);
  auto add_to_chunk = [&](std::unordered_map<std::string, std::string>& pending,
                          std::uint32_t chunk_part, std::string_view data) {
    codec::assign_chunk_key(scratch_key_, r.account_sid, chunk, chunk_part);
    auto& operand = pending[scratch_key_];
    const std::size_t before = operand.size();
    codec::append_chunk_entry(operand, inv, data);
    pending_bytes_ += operand.size() - before;
  };
  chunk_parts& parts = parts_of(r.account_sid, chunk);
  std::uint32_t part = 0;
  if (!body.empty()) {
    part = next_part(parts.bodies, body.size());
    add_to_chunk(pending_bodies_, part, body);
  }
  codec::encode_record_value(r, *sid, part, value_buf_);
  batch
      .Put(db_[cf_records], rocksdb::Slice(reinterpret_cast<const char*>(sid->data()), 16),
           value_buf_)
      .PermitUncheckedError();
  std::string& entry = entry_buf_;
  entry.clear();
  codec::encode_covering(entry, r, part);
  add_to_chunk(pending_index_, next_part(parts.index, entry.size()), entry);
  if (!r.session_sid.empty()) {
    entry.clear();
    codec::encode_session_entry(entry, r.account_sid, part);
    codec::assign_id_sid_key(scratch_key_, r.session_sid, *sid);
    batch.Put(db_[cf_by_session], scratch_key_, entry).PermitUncheckedError();
  }
  if (ship_) {
    outbox::add(batch, db_[cf_outbox], outbox_seq_.fetch_add(1, std::memory_order_relaxed),
                std::string_view(reinterpret_cast<const char*>(sid->data()), 16));
  }
  codec::assign_counter_key(scratch_key_, r.account_sid, floor_div(created, codec::bucket_ms));
  ++counts[scratch_key_];
  return true;
}

void trace_writer::add_pending_chunks(rocksdb::WriteBatch& batch) {
  for (auto* pending : {&pending_bodies_, &pending_index_}) {
    const cf family = pending == &pending_bodies_ ? cf_chunks : cf_index_chunks;
    // A chunk's operand is emptied, not erased, so that the next batch's (most often the
    // same chunk's) grows in the buffer this one grew: an entry that stayed empty for a whole
    // batch (its chunk is past) goes.
    for (auto it = pending->begin(); it != pending->end();) {
      auto& [key, operand] = *it;
      if (operand.empty()) {
        it = pending->erase(it);
        continue;
      }
      if (db_.db) batch.Merge(db_[family], key, operand).PermitUncheckedError();
      operand.clear();
      ++it;
    }
  }
  pending_bytes_ = 0;
}

trace_writer::chunk_parts& trace_writer::parts_of(std::string_view account, std::int64_t chunk) {
  last_parts& last = last_parts_;
  if (last.parts != nullptr && last.chunk == chunk && last.account == account) return *last.parts;
  parts_key_.clear();
  codec::append_id(parts_key_, account);
  parts_key_.append(reinterpret_cast<const char*>(&chunk), sizeof chunk);
  if (parts_.size() > 100'000) {  // forget chunks an hour older than the newest
    std::erase_if(parts_, [&](const auto& e) {
      std::int64_t c = 0;
      std::memcpy(&c, e.first.data() + e.first.size() - sizeof c, sizeof c);
      return c < newest_chunk_ - 360;
    });
  }
  newest_chunk_ = std::max(newest_chunk_, chunk);
  last.account.assign(account);
  last.chunk = chunk;
  last.parts = &parts_[parts_key_];
  return *last.parts;
}

std::uint32_t trace_writer::next_part(part_state& st, std::size_t bytes) {
  if (st.bytes > 0 && st.bytes + bytes > codec::chunk_part_bytes && st.part < 0xffff) {
    ++st.part;
    st.bytes = 0;
  }
  st.bytes += bytes + 20;
  return st.part;
}

bool trace_writer::commit(rocksdb::WriteBatch& batch,
                          std::unordered_map<std::string, std::uint64_t>& counts,
                          std::uint64_t records) {
  // Each minute counter, and the hour counter it adds to.
  std::unordered_map<std::string, std::uint64_t> hours;
  for (const auto& [key, n] : counts) {
    batch.Merge(db_[cf_counters], key, rocks::encode_count(n)).PermitUncheckedError();
    std::string_view id;
    std::int64_t minute = 0, width = 0;
    if (codec::split_counter_key(key, id, minute, width)) {
      hours[codec::hour_counter_key(id, floor_div(minute, codec::buckets_per_hour))] += n;
    }
  }
  for (const auto& [key, n] : hours) {
    batch.Merge(db_[cf_counters], key, rocks::encode_count(n)).PermitUncheckedError();
  }
  if (opts_.before_write) opts_.before_write();
  const auto now = std::chrono::steady_clock::now();
  if (failing_ && now < retry_at_) {
    dropped_error_.inc(records);
    error_log_.add(records);
    return false;
  }
  rocksdb::WriteOptions wo;
  wo.sync = false;  // WAL on: a process crash loses only the queue (docs/store.md)
  rocksdb::Status s;
  {
    std::shared_lock lock(db_mu_);
    if (!db_.db) {
      s = rocksdb::Status::IOError("database closed after a write error");
    } else {
      // A hard error (disk full) stops writes until Resume().
      if (failing_) db_.db->Resume().PermitUncheckedError();
      s = db_.db->Write(wo, &batch);
    }
  }
  const auto elapsed = std::chrono::steady_clock::now() - now;
  write_seconds_.observe(std::chrono::duration<double>(elapsed).count());
  if (s.ok()) {
    written_.inc(records);
    if (failing_) {
      failing_ = false;
      set_health(true, {});
      log::info("store: writing again");
    }
    return true;
  }
  dropped_error_.inc(records);
  error_log_.add(records);
  const bool again = failing_;
  failing_ = true;
  set_health(false, (s.IsNoSpace() ? "disk full: " : "write error: ") + s.ToString());
  std::uint64_t held = 0;
  if (write_log_.allow(held)) {
    log::error("store: write failed, records dropped",
               {{"error", s.ToString()},
                {"records", std::to_string(records)},
                {"failures_held_back", std::to_string(held)}});
  }
  // Failing again after Resume(): some errors (a failed WAL append) stick to the open
  // database, so close it and open it again.
  if (again) reopen_();
  retry_at_ = std::chrono::steady_clock::now() + std::chrono::seconds(1);
  return false;
}

}  // namespace sidecar::store
