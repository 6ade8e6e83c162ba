// What is purged but may still be on disk (docs/store.md, "Purge"): the sids of records purged
// one by one (their own keys are deleted at once, their entries inside the body and index
// chunks stay until a compaction rewrites those values), and the purge markers (every record of
// an account up to a sid, hidden at once and removed behind it). Every read skips what this
// set holds, and the compaction filter strips it from chunk values (strip_chunk). Kept in
// memory and, for restarts, in the meta column family; a sid or a marker is forgotten once
// what it covers would have expired anyway.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "store/store_codec.hpp"

namespace sidecar::store {

class purge_set {
 public:
  void add(const store::sid_bytes& sid);
  /// Adds a purge batch's sids under one lock.
  void add(const std::vector<store::sid_bytes>& sids);
  /// Whether the record of these 16 inverted sid bytes (a chunk entry's key) was purged one by
  /// one (markers aside: see hidden()).
  [[nodiscard]] bool contains_inv(std::string_view inv) const;
  [[nodiscard]] std::size_t size() const;

  /// Marks every record of `account` whose sid is at or before `through` purged; an older
  /// marker of the account is replaced, a newer one kept.
  void mark(std::string_view account, const store::sid_bytes& through);
  /// The account's marker (the newest sid it covers), if any.
  [[nodiscard]] std::optional<store::sid_bytes> marker(std::string_view account) const;
  /// The earliest creation time (ms) at which a record of `account` can be visible: a scan
  /// starts no earlier (its marker hides everything before the millisecond of its sid; within
  /// that millisecond, hidden() decides). `lo` when the account has no marker.
  [[nodiscard]] std::int64_t visible_from(std::string_view account, std::int64_t lo) const;
  /// Whether some account's marker covers `sid` (a cheap first test before a record's account
  /// is read: the compaction filter of a blob value asks it from the key alone).
  [[nodiscard]] bool some_marker_covers(const store::sid_bytes& sid) const;
  /// Whether the record of `account` with these 16 inverted sid bytes is purged: covered by the
  /// account's marker or purged one by one. What every read path asks.
  [[nodiscard]] bool hidden(std::string_view account, std::string_view inv) const;
  [[nodiscard]] bool hidden(std::string_view account, const store::sid_bytes& sid) const;
  /// Forgets the markers that cover nothing created at or after `cutoff_ms` (all they cover
  /// has expired) and returns their accounts (to delete their meta keys).
  std::vector<std::string> expire_markers(std::int64_t cutoff_ms);
  /// Forgets the sids created before `cutoff_ms` and returns them (to delete their meta keys).
  /// Walks the set only when its oldest sid is older than the cutoff.
  std::vector<store::sid_bytes> expire(std::int64_t cutoff_ms);
  /// `chunk` (a value of `account`'s chunks) without the entries of purged records, into
  /// `out`; false when it has none (then `out` is untouched).
  bool strip_chunk(std::string_view account, std::string_view chunk, std::string& out) const;

  /// The meta column family's key of a purged sid: "purged/" + 16 sid bytes.
  [[nodiscard]] static std::string meta_key(const store::sid_bytes& sid);
  static constexpr std::string_view meta_prefix = "purged/";
  /// The meta column family's key of an account's marker: "purge_marker/" + account. Its value
  /// is the 16 bytes of the newest sid covered, then 'p' while its records' keys are being
  /// removed or 'r' once they are.
  [[nodiscard]] static std::string marker_key(std::string_view account);
  static constexpr std::string_view marker_prefix = "purge_marker/";

 private:
  struct hash {
    std::size_t operator()(const store::sid_bytes& s) const noexcept;
  };
  mutable std::shared_mutex mu_;
  std::unordered_set<store::sid_bytes, hash> sids_;
  std::atomic<std::size_t> count_{0};  // sids_.size(): lets lookups skip the lock when empty
  struct name_hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept {
      return std::hash<std::string_view>{}(s);
    }
  };
  // account -> newest sid covered; found by a string_view, without a copy (the compaction
  // filter asks once per key).
  std::unordered_map<std::string, store::sid_bytes, name_hash, std::equal_to<>> markers_;
  std::atomic<std::size_t> marker_count_{0};                   // markers_.size(), as count_
  std::int64_t oldest_ms_ = 0;  // the time of the oldest sid in sids_ (under mu_)
};

}  // namespace sidecar::store
