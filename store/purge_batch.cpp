// Writing a purge.
#include "store/purge_batch.hpp"

#include <rocksdb/write_batch.h>

#include <unordered_map>

#include "store/record_decode.hpp"
#include "store/rocks_support.hpp"
#include "store/store_db.hpp"

namespace sidecar::store {
namespace {

// Records per WriteBatch: a few MB of keys, and the purge_set grows batch by batch.
constexpr std::size_t batch_records = 4096;

/// The buffers of a purge, reused from batch to batch.
struct purge_scratch {
  std::string json;
  std::vector<store::sid_bytes> sids;   // the batch's records
  std::vector<store::sid_bytes> found;  // those still stored, deleted by the batch
  std::vector<std::size_t> at;          // index in `keys` of each sid
  std::vector<rocksdb::Slice> sid_keys;
  std::vector<rocksdb::PinnableSlice> values;
  std::vector<rocksdb::Status> statuses;
};

/// The records of keys[from, to), read with one MultiGet (their sessions): a batch reads its
/// blocks once instead of one Get per record.
void read_batch(const purge_handles& h, const std::vector<std::string>& keys, std::size_t from,
                std::size_t to, purge_scratch& s) {
  s.sids.clear();
  s.at.clear();
  for (std::size_t i = from; i < to; ++i) {
    std::string_view account, inv;
    if (!codec::split_id_key(keys[i], account, inv)) continue;
    s.sids.push_back(codec::uninvert(inv));
    s.at.push_back(i);
  }
  s.sid_keys.clear();
  for (const auto& sid : s.sids) {
    s.sid_keys.emplace_back(reinterpret_cast<const char*>(sid.data()), sid.size());
  }
  s.values.clear();
  s.values.resize(s.sids.size());
  s.statuses.assign(s.sids.size(), rocksdb::Status::OK());
  h.db->MultiGet({}, h.records, s.sid_keys.size(), s.sid_keys.data(), s.values.data(),
                 s.statuses.data());
}

/// The deletes of the batch's j-th record (its record, its index entries) and its purged mark,
/// and its minute and hour counted in `counts`.
void delete_record(const purge_handles& h, const std::vector<std::string>& keys, std::size_t j,
                   purge_scratch& s, rocksdb::WriteBatch& batch,
                   std::unordered_map<std::string, std::uint64_t>& counts) {
  const store::sid_bytes& sid = s.sids[j];
  const std::string& key = keys[s.at[j]];
  std::string_view account, inv, stored_account, spliced;
  (void)codec::split_id_key(key, account, inv);
  std::uint32_t part = 0;
  std::string session;
  s.json.clear();
  if (codec::split_record_value({s.values[j].data(), s.values[j].size()}, stored_account, part,
                                spliced) &&
      codec::assemble_json(s.json, stored_account, spliced, {})) {
    session = decode_session_sid(s.json);
  }
  batch.Delete(h.records, s.sid_keys[j]).PermitUncheckedError();
  if (!session.empty()) {
    batch.Delete(h.by_session, codec::id_sid_key(session, sid)).PermitUncheckedError();
  }
  const std::int64_t minute = store::sid_ms(sid) / codec::bucket_ms;  // a sid's time is >= 0
  ++counts[codec::counter_key(account, minute)];
  ++counts[codec::hour_counter_key(account, minute / codec::buckets_per_hour)];
  batch.Put(h.meta, purge_set::meta_key(sid), {}).PermitUncheckedError();
}

}  // namespace

rocksdb::Status purge_records(const purge_handles& h, purge_set& purged,
                              const std::vector<std::string>& keys, std::uint64_t& deleted) {
  purge_scratch s;
  for (std::size_t from = 0; from < keys.size(); from += batch_records) {
    rocksdb::WriteBatch batch;
    std::unordered_map<std::string, std::uint64_t> counts;  // counter key -> records purged
    read_batch(h, keys, from, std::min(keys.size(), from + batch_records), s);
    s.found.clear();
    for (std::size_t j = 0; j < s.sids.size(); ++j) {
      if (s.statuses[j].IsNotFound()) continue;  // purged or expired meanwhile
      if (!s.statuses[j].ok()) return s.statuses[j];
      delete_record(h, keys, j, s, batch, counts);
      s.found.push_back(s.sids[j]);
    }
    // Counters add little-endian uint64s with wrap-around: adding 2^64 - n takes n away.
    for (const auto& [key, n] : counts) {
      batch.Merge(h.counters, key, rocks::encode_count(0 - n)).PermitUncheckedError();
    }
    // In the set before the write: chunk scans skip these records from this moment on, and
    // their own keys go with the write.
    purged.add(s.found);
    const auto st = h.db->Write({}, &batch);
    if (!st.ok()) return st;
    deleted += s.found.size();
  }
  return rocksdb::Status::OK();
}

}  // namespace sidecar::store
