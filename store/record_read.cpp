// Reading one stored record (store/record_read.hpp): the body chunk reader, a record's JSON
// from its two halves, and the store's get(sid).
#include "store/record_read.hpp"

#include <algorithm>

#include "store/store_codec.hpp"
#include "store/store_db.hpp"
#include "store/trace_store_impl.hpp"
#include "support/log.hpp"

namespace sidecar::store {

bool chunk_reader::body(const rocksdb::ReadOptions& ro, std::string_view key, std::uint32_t part,
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
  if (!chunks.body(ro, key, part, body) || !codec::assemble_json(json, account, spliced, body)) {
    return read_outcome::failed;
  }
  return read_outcome::found;
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
        !codec::assemble_json(out.json, account, spliced, body)) {
      log::error("store: get failed", {{"error", "unreadable body chunk"}});
      return trace_lookup::failed();
    }
    return {query_status::ok, std::move(out)};
  } catch (const std::exception& e) {
    log::error("store: get failed", {{"error", e.what()}});
    return trace_lookup::failed();
  }
}

}  // namespace sidecar::store
