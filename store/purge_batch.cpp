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

rocksdb::Status purge_records(const purge_handles& h, purge_set& purged,
                              const std::vector<std::string>& keys, std::uint64_t& deleted) {
  std::string json;
  for (std::size_t from = 0; from < keys.size(); from += batch_records) {
    rocksdb::WriteBatch batch;
    std::unordered_map<std::string, std::uint64_t> counts;  // counter key -> records purged
    std::vector<store::sid_bytes> sids;
    const std::size_t to = std::min(keys.size(), from + batch_records);
    for (std::size_t i = from; i < to; ++i) {
      std::string_view account, inv;
      if (!codec::split_id_key(keys[i], account, inv)) continue;
      const store::sid_bytes sid = codec::uninvert(inv);
      const rocksdb::Slice sid_key(reinterpret_cast<const char*>(sid.data()), sid.size());
      rocksdb::PinnableSlice value;
      const auto s = h.db->Get({}, h.records, sid_key, &value);
      if (s.IsNotFound()) continue;  // purged or expired meanwhile
      if (!s.ok()) return s;
      std::string_view stored_account, spliced;
      std::uint32_t part = 0;
      json.clear();
      std::string session;
      if (codec::split_record_value({value.data(), value.size()}, stored_account, part, spliced) &&
          codec::assemble_json(json, spliced, {})) {
        session = decode_session_sid(json);
      }
      batch.Delete(h.records, sid_key).PermitUncheckedError();
      batch.Delete(h.by_account, slice(keys[i])).PermitUncheckedError();
      if (!session.empty()) {
        batch.Delete(h.by_session, codec::id_sid_key(session, sid)).PermitUncheckedError();
      }
      const std::int64_t minute = store::sid_ms(sid) / codec::bucket_ms;  // a sid's time is >= 0
      ++counts[codec::counter_key(account, minute)];
      ++counts[codec::hour_counter_key(account, minute / codec::buckets_per_hour)];
      batch.Put(h.meta, purge_set::meta_key(sid), {}).PermitUncheckedError();
      sids.push_back(sid);
    }
    // Counters add little-endian uint64s with wrap-around: adding 2^64 - n takes n away.
    for (const auto& [key, n] : counts) {
      batch.Merge(h.counters, key, rocks::encode_count(0 - n)).PermitUncheckedError();
    }
    // In the set before the write: chunk scans skip these records from this moment on, and
    // their own keys go with the write.
    for (const auto& sid : sids) purged.add(sid);
    const auto s = h.db->Write({}, &batch);
    if (!s.ok()) return s;
    deleted += sids.size();
  }
  return rocksdb::Status::OK();
}

}  // namespace sidecar::store
