// What the trace store's writer (store/trace_writer.hpp) and its readers, purge and maintenance
// (store/trace_store_impl.hpp and the files it names) share: the open database with its column
// families, and the small helpers both sides use. Internal to store/; the design is in
// docs/store.md.
#pragma once

#include <rocksdb/db.h>

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string_view>
#include <vector>

#include "store/outbox.hpp"

namespace sidecar::store {

enum cf : std::size_t {
  cf_default,
  cf_meta,
  cf_records,       // sid bytes -> account, body part, record JSON without its response body
  cf_chunks,        // account + chunk + part -> response bodies of that chunk (body_chunks)
  cf_by_account,    // id_sid key -> covering entry
  cf_by_session,    // id_sid key (id = session) -> account + body part
  cf_counters,      // account + bucket -> count
  cf_index_chunks,  // account + chunk + part -> covering entries of that chunk
  cf_outbox,        // commit sequence -> sid, while [fleet] ships (store/outbox.hpp)
  cf_count
};
inline constexpr std::array<const char*, cf_count> cf_names{
    "default",    "meta",     "records",      "body_chunks",        "by_account",
    "by_session", "counters", "index_chunks", outbox::column_family};

inline rocksdb::Slice slice(std::string_view s) { return {s.data(), s.size()}; }
inline std::string_view view(const rocksdb::Slice& s) { return {s.data(), s.size()}; }

/// a / b rounded towards minus infinity (times before the epoch stay in their bucket).
inline std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  return a >= 0 ? a / b : -((-a + b - 1) / b);
}

/// At most one log line per interval for a recurring problem; counts what it held back.
class log_limiter {
 public:
  explicit log_limiter(std::chrono::seconds interval) : interval_(interval) {}
  /// True when a line may be written now; `held` is how many were held back since the last.
  bool allow(std::uint64_t& held) {
    std::lock_guard lock(mu_);
    const auto now = std::chrono::steady_clock::now();
    if (last_ && now - *last_ < interval_) {
      ++held_;
      return false;
    }
    last_ = now;
    held = held_;
    held_ = 0;
    return true;
  }

 private:
  std::mutex mu_;
  std::chrono::seconds interval_;
  std::optional<std::chrono::steady_clock::time_point> last_;
  std::uint64_t held_ = 0;
};

/// The database and its column family handles; handles go before the database. Readers, the
/// maintenance and the writer hold the store's shared mutex (shared) while they use it; only
/// the committer reopens it, holding that mutex alone.
struct database {
  std::unique_ptr<rocksdb::DB> db;
  std::vector<rocksdb::ColumnFamilyHandle*> handles;  // opened order: cf_names, then extras
  database() = default;
  database(const database&) = delete;
  database& operator=(const database&) = delete;
  ~database() { reset(); }
  void reset() {
    if (!db) return;
    for (auto* h : handles) db->DestroyColumnFamilyHandle(h);
    handles.clear();
    db->Close().PermitUncheckedError();
    db.reset();
  }
  rocksdb::ColumnFamilyHandle* operator[](cf c) const { return handles[c]; }
};

}  // namespace sidecar::store
