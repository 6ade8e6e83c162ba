// Writing a purge.
#include "store/purge_batch.hpp"

#include <rocksdb/write_batch.h>

#include <unordered_map>

#include "store/record_decode.hpp"
#include "store/rocks_support.hpp"

namespace sidecar::store {
namespace {

// Records per WriteBatch: a few MB of keys, and the purge_set grows batch by batch.
constexpr std::size_t batch_records = 4096;

rocksdb::Slice slice(std::string_view s) { return {s.data(), s.size()}; }

}  // namespace

rocksdb::Status purge_records(const purge_handles& h, purge_set* purged,
                              const std::vector<std::string>& keys, std::uint64_t& deleted) {
  std::string json;
  std::vector<store::sid_bytes> sids;   // the batch's records
  std::vector<store::sid_bytes> found;  // those still stored, deleted by the batch
  std::vector<std::size_t> at;          // index in `keys` of each sid
  std::vector<rocksdb::Slice> sid_keys;
  std::vector<rocksdb::PinnableSlice> values;
  std::vector<rocksdb::Status> statuses;
  for (std::size_t from = 0; from < keys.size(); from += batch_records) {
    rocksdb::WriteBatch batch;
    std::unordered_map<std::string, std::uint64_t> counts;  // counter key -> records purged
    const std::size_t to = std::min(keys.size(), from + batch_records);
    sids.clear();
    at.clear();
    for (std::size_t i = from; i < to; ++i) {
      std::string_view account, inv;
      if (!codec::split_id_key(keys[i], account, inv)) continue;
      sids.push_back(codec::uninvert(inv));
      at.push_back(i);
    }
    // One MultiGet for the batch's records (their sessions): a batch reads its blocks once
    // instead of one Get per record.
    sid_keys.clear();
    for (const auto& sid : sids) {
      sid_keys.emplace_back(reinterpret_cast<const char*>(sid.data()), sid.size());
    }
    values.clear();
    values.resize(sids.size());
    statuses.assign(sids.size(), rocksdb::Status::OK());
    h.db->MultiGet({}, h.records, sid_keys.size(), sid_keys.data(), values.data(), statuses.data());
    found.clear();
    for (std::size_t j = 0; j < sids.size(); ++j) {
      if (statuses[j].IsNotFound()) continue;  // purged or expired meanwhile
      if (!statuses[j].ok()) return statuses[j];
      const store::sid_bytes& sid = sids[j];
      const std::string& key = keys[at[j]];
      std::string_view account, inv, stored_account, spliced;
      (void)codec::split_id_key(key, account, inv);
      std::uint32_t part = 0;
      std::string session;
      json.clear();
      if (codec::split_record_value({values[j].data(), values[j].size()}, stored_account, part,
                                    spliced) &&
          codec::assemble_json(json, spliced, {})) {
        session = decode_session_sid(json);
      }
      batch.Delete(h.records, sid_keys[j]).PermitUncheckedError();
      batch.Delete(h.by_account, slice(key)).PermitUncheckedError();
      if (!session.empty()) {
        batch.Delete(h.by_session, codec::id_sid_key(session, sid)).PermitUncheckedError();
      }
      const std::int64_t minute = store::sid_ms(sid) / codec::bucket_ms;  // a sid's time is >= 0
      ++counts[codec::counter_key(account, minute)];
      ++counts[codec::hour_counter_key(account, minute / codec::buckets_per_hour)];
      if (purged != nullptr) batch.Put(h.meta, purge_set::meta_key(sid), {}).PermitUncheckedError();
      found.push_back(sid);
    }
    // Counters add little-endian uint64s with wrap-around: adding 2^64 - n takes n away.
    for (const auto& [key, n] : counts) {
      batch.Merge(h.counters, key, rocks::encode_count(0 - n)).PermitUncheckedError();
    }
    // In the set before the write: chunk scans skip these records from this moment on, and
    // their own keys go with the write.
    if (purged != nullptr) purged->add(found);
    const auto s = h.db->Write({}, &batch);
    if (!s.ok()) return s;
    deleted += found.size();
  }
  return rocksdb::Status::OK();
}

}  // namespace sidecar::store
