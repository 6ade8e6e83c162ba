// Purge by markers (store/purge_markers.cpp; docs/store.md, "Purge"): which list purges may be
// a marker, and a marker's value in the meta column family. The purge itself and its remover
// thread are members of the store's impl (store/trace_store_impl.hpp).
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

/// A marker's value: the newest sid it covers, and whether the removal of the keys it covers
/// is still to do (taken up again at the next open when it is).
struct marker_value {
  sid_bytes through{};
  bool pending = false;
};

/// The 17 bytes of a marker's value: its sid, then 'p' (removal pending) or 'r' (removed).
[[nodiscard]] std::string encode_marker(const sid_bytes& through, bool pending);
/// nullopt for a value that is not a marker's.
[[nodiscard]] std::optional<marker_value> decode_marker(std::string_view value);

}  // namespace sidecar::store
