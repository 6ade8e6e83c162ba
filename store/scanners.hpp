// The store's scans (docs/store.md, "Queries"): the page stream a list answers with, the
// newest-first merge of an index over several ids, the body search, and the chunk scan that
// filtered lists read instead of stepping an iterator once per record.
#pragma once

#include <rocksdb/db.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "store/purge_set.hpp"
#include "store/record_read.hpp"
#include "store/store_db.hpp"
#include "store/trace_query.hpp"

namespace sidecar::store {

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
  /// The page's keys, account + inverted sid (a purge takes them instead of reading the
  /// records).
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

/// Newest-first iteration of an id-keyed index (by_session) over several ids (k-way merge on
/// the inverted sid that ends every key).
class merged_scan {
 public:
  struct source {
    std::unique_ptr<rocksdb::Iterator> it;
    std::string upper;
    rocksdb::Slice upper_slice;
    std::size_t prefix_len = 0;
  };

  merged_scan(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* cfh, rocksdb::ReadOptions ro,
              const std::vector<std::string>& ids, std::int64_t lo, std::int64_t hi);

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

/// Whether `needle` occurs in `hay` (memmem; "" occurs everywhere).
[[nodiscard]] bool contains(std::string_view hay, std::string_view needle);

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
  void choose(std::string_view sample);

  std::string needle_;
  bool chosen_ = false;
  std::size_t rare_at_ = 0;
  char rare_ = 0;
  std::size_t rare2_at_ = 0;
  char rare2_ = 0;
};

/// The covering entries of one account's records, found in its index chunks: the plans that
/// meet records one at a time (SessionSid, and ResponseBody with covering filters) ask for
/// them in newest-first order, so the chunk holding a record is read whole (all its parts)
/// once and the next records of that chunk are found in it.
class covering_lookup {
 public:
  covering_lookup(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* index_chunks,
                  const rocksdb::ReadOptions& ro, std::string_view account);

  /// The covering entry of the record whose inverted sid is `inv`, or nullopt when its chunk
  /// holds none (or could not be read: see status()).
  [[nodiscard]] std::optional<std::string_view> entry(std::string_view inv);
  [[nodiscard]] const rocksdb::Status& status() const { return status_; }

 private:
  void load(std::int64_t chunk);

  rocksdb::DB* db_;
  rocksdb::ColumnFamilyHandle* index_chunks_;
  const rocksdb::ReadOptions& ro_;
  std::string prefix_;
  std::optional<std::int64_t> loaded_;  // the chunk (start ms / chunk_ms) in entries_
  std::unordered_map<std::string, std::string> entries_;  // inverted sid -> covering entry
  rocksdb::Status status_;
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
                accept_fn accept, std::chrono::steady_clock::time_point deadline);

  [[nodiscard]] bool valid() const { return at_ < matches_.size(); }
  [[nodiscard]] const match& top() const { return matches_[at_]; }
  void next() {
    if (++at_ == matches_.size()) fill();
  }
  [[nodiscard]] const rocksdb::Status& status() const { return status_; }
  [[nodiscard]] bool timed_out() const { return timed_out_; }

 private:
  // Loads the matches of the next chunk (all its parts) that has any.
  void fill();
  // The entries of one part of a chunk (its value) that fall in [lo, hi) and are accepted.
  void match_part(std::string_view value, std::uint32_t part);

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

/// Every index entry of `account` created in [lo, hi), newest first, with its body part: what
/// the unfiltered page, the counts of partial minutes and a purge marker read (the store keeps
/// no per-record key by account: docs/store.md, "Column families and keys"). Purged records
/// are among them: the caller asks purge_set::hidden().
[[nodiscard]] std::unique_ptr<chunk_matches> index_entries(
    rocksdb::DB* db, rocksdb::ColumnFamilyHandle* index_chunks, const rocksdb::ReadOptions& ro,
    const std::string& account, std::int64_t lo, std::int64_t hi,
    std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max());

}  // namespace sidecar::store
