// The planning of one list page (docs/store.md, "Queries"): which records match, how many, and
// which of them the page holds, found from one snapshot before the page is streamed. One
// planner per list; impl::list (store/list_planner.cpp) picks the plan the filters allow.
#pragma once

#include <rocksdb/db.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "store/purge_set.hpp"
#include "store/record_filter.hpp"
#include "store/record_read.hpp"
#include "store/scanners.hpp"
#include "store/store_codec.hpp"
#include "store/store_db.hpp"
#include "store/trace_query.hpp"

namespace sidecar::store {

class page_planner {
 public:
  /// `after_inv`: the cursor's record (AfterSid), inverted; `every_match`: the page is every
  /// match (a purge). The planner reads `db` through `ro` and keeps references to `q` and `ro`:
  /// both must outlive it.
  page_planner(const database& db, const purge_set& purged, const list_query& q,
               const rocksdb::ReadOptions& ro, std::optional<std::string> after_inv,
               bool every_match);

  /// Which plan the filters allow.
  [[nodiscard]] bool unfiltered() const {
    return !covering_filter_ && !body_filter_ && !q_.filter.session_sid && !rfilter_.active();
  }
  /// Unfiltered: the page from a merge of the accounts' index chunks; `total` is the sum of
  /// their counters.
  [[nodiscard]] query_status plan_unfiltered(const std::vector<std::string>& accounts,
                                             std::int64_t lo, std::int64_t hi, std::uint64_t total);
  /// SessionSid: its own index, small; covering entries (from the index chunks) and bodies
  /// looked up per candidate.
  [[nodiscard]] query_status plan_session(const std::vector<std::string>& accounts, std::int64_t lo,
                                          std::int64_t hi);
  /// ResponseBody, or covering filters: the chunks of each account (body chunks when there is a
  /// ResponseBody, else index chunks), their matches merged newest first.
  [[nodiscard]] query_status plan_chunks(const std::vector<std::string>& accounts, std::int64_t lo,
                                         std::int64_t hi);

  [[nodiscard]] std::uint64_t total() const { return total_; }
  [[nodiscard]] std::vector<page_item> take_items() { return std::move(items_); }

 private:
  enum class covered { yes, no, failed };

  [[nodiscard]] bool timed_out();
  /// Whether the covering filters pass; `read` is then set when the record must decide.
  [[nodiscard]] bool covering_match(const codec::covering& c, bool& read) const;
  /// The covering filters on the covering entry of `account`'s record `inv`.
  [[nodiscard]] covered covering_of(const std::string& account, std::string_view inv, bool& read);
  /// Method and RequestBody from the record (its JSON without the response body, which they
  /// never look at).
  [[nodiscard]] bool record_passes(std::string_view inv);
  /// One match, in list order: counted, and kept when it falls on the page. `read`: the record
  /// filter needs the record itself.
  void take(std::string_view account, std::string_view inv, std::uint32_t part, bool read);
  /// One account's chunk scan: the body chunks searched for `needle` when there is one, else
  /// the index chunks through the covering filters.
  [[nodiscard]] std::unique_ptr<chunk_matches> chunk_source(const std::string& account,
                                                            std::int64_t lo, std::int64_t hi,
                                                            const std::shared_ptr<finder>& needle);
  /// Each source's end: timed out, or a read error.
  [[nodiscard]] static query_status sources_status(
      const std::vector<std::unique_ptr<chunk_matches>>& sources);

  const database& db_;
  const purge_set& purged_;
  const list_query& q_;
  const rocksdb::ReadOptions& ro_;
  std::optional<std::string> after_inv_;
  std::uint64_t skip_ = 0;
  std::uint64_t want_ = 0;
  const record_filter rfilter_;
  bool body_filter_ = false;
  bool path_filter_ = false;
  bool covering_filter_ = false;
  std::string record_json_;
  std::unordered_map<std::string, covering_lookup> lookups_;  // by account
  std::vector<page_item> items_;
  std::uint64_t total_ = 0;
  std::uint64_t pos_ = 0;  // matches after the cursor so far
  std::size_t checked_ = 0;
};

}  // namespace sidecar::store
