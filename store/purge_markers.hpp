// Purge by markers (store/purge_markers.cpp; docs/store.md, "Purge"): which list purges may be
// a marker, and a marker's value in the meta column family. The purge itself is a member of
// the store's impl (store/trace_store_impl.hpp).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "store/trace_query.hpp"
#include "store/trace_sid.hpp"

namespace sidecar::store {

/// Whether a purge of the list `f` filters may be a marker: nothing but DateCreatedBefore (and
/// AccountSid, which picks the accounts).
[[nodiscard]] bool markable(const trace_filter& f);

/// The byte after a marker's sid. Until December 2026 a removal thread deleted a marker's keys
/// and wrote 'p' (pending) or 'r' (removed) there; the compaction filters remove them now, and
/// every marker is written 'r', which is also what a store written before means to this one.
inline constexpr char marker_state = 'r';

/// The 17 bytes of a marker's value: the newest sid it covers, then marker_state.
[[nodiscard]] std::string encode_marker(const sid_bytes& through);
/// The newest sid a marker's value covers; nullopt for a value that is not a marker's.
[[nodiscard]] std::optional<sid_bytes> decode_marker(std::string_view value);

}  // namespace sidecar::store
