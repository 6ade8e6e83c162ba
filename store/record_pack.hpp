// The stored form of a record (store format version 4, docs/store.md "The record is packed"): its
// fields packed as bytes, without the JSON's names, quotes, escapes and what the sid already says.
// Every exchange is packed; the JSON of docs/records.md is rendered only when a record is read.
#pragma once

#include <string>
#include <string_view>

#include "store/trace_record.hpp"

namespace sidecar::store {

/// Appends `r` packed, all but its account sid (the records value holds it before) and its
/// response body's bytes (kept in a body chunk); `sid` is `r.sid` parsed.
void pack_record(std::string& out, const trace_record& r, const sid_bytes& sid);

/// The record `packed` holds, into `r` (whose buffers are reused), with `account` as its
/// account sid and an empty response body; false when `packed` is malformed.
[[nodiscard]] bool unpack_record(std::string_view packed, std::string_view account,
                                 trace_record& r);

}  // namespace sidecar::store
