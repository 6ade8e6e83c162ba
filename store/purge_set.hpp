// The purged records' sids (docs/store.md, "Purge"): a purge deletes a record's own keys at
// once, but its entries inside the body and index chunks (many records per value) stay until a
// compaction rewrites those values. Until then every chunk scan skips them through this set,
// and the compaction filter strips them (strip_chunk). Kept in memory and, for restarts, in
// the meta column family; a sid is forgotten once its record would have expired anyway.
#pragma once

#include <atomic>
#include <cstdint>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "store/store_codec.hpp"

namespace sidecar::store {

class purge_set {
 public:
  void add(const store::sid_bytes& sid);
  /// Adds a purge batch's sids under one lock.
  void add(const std::vector<store::sid_bytes>& sids);
  /// Whether the record of these 16 inverted sid bytes (a chunk entry's key) was purged.
  [[nodiscard]] bool contains_inv(std::string_view inv) const;
  [[nodiscard]] std::size_t size() const;
  /// Forgets the sids created before `cutoff_ms` and returns them (to delete their meta keys).
  /// Walks the set only when its oldest sid is older than the cutoff.
  std::vector<store::sid_bytes> expire(std::int64_t cutoff_ms);
  /// `chunk` without the entries of purged records, into `out`; false when it has none (then
  /// `out` is untouched).
  bool strip_chunk(std::string_view chunk, std::string& out) const;

  /// The meta column family's key of a purged sid: "purged/" + 16 sid bytes.
  [[nodiscard]] static std::string meta_key(const store::sid_bytes& sid);
  static constexpr std::string_view meta_prefix = "purged/";

 private:
  struct hash {
    std::size_t operator()(const store::sid_bytes& s) const noexcept;
  };
  mutable std::shared_mutex mu_;
  std::unordered_set<store::sid_bytes, hash> sids_;
  std::atomic<std::size_t> count_{0};  // sids_.size(): lets lookups skip the lock when empty
  std::int64_t oldest_ms_ = 0;         // the time of the oldest sid in sids_ (under mu_)
};

}  // namespace sidecar::store
