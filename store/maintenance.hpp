// The trace store's maintenance (store/maintenance.cpp; docs/store.md, "Disk quota"): what can
// be decided without the database, so that it is tested on its own. The thread and its passes
// are members of the store's impl (store/trace_store_impl.hpp).
#pragma once

#include <cstdint>
#include <map>
#include <optional>

namespace sidecar::store {

/// The quota's new floor when the disk holds `disk` bytes over `max`: the end of the minute
/// bucket where the oldest records passed reach the excess and a quarter of `max` more (so that
/// the next records do not trigger another trim at once), at most `now_ms + 1`.
/// `per_bucket`: records per minute bucket not yet expired, oldest first, across accounts;
/// nullopt when it counts none. The caller moves the floor only up.
[[nodiscard]] std::optional<std::int64_t> quota_floor(
    const std::map<std::int64_t, std::uint64_t>& per_bucket, std::uint64_t disk, std::uint64_t max,
    std::int64_t cutoff, std::int64_t now_ms);

}  // namespace sidecar::store
