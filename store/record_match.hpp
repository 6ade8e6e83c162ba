// Whether one trace record passes the list filters: the meaning of each filter of
// store::trace_filter (docs/api.md) applied to a record in memory, for readers that see
// records one at a time (the live stream) rather than through the store's indexes.
#pragma once

#include "store/trace_query.hpp"
#include "store/trace_record.hpp"

namespace sidecar::store {

/// True when `r` passes every filter set in `f` (an unset filter matches everything). The
/// same answers as trace_reader::list() gives for a stored record.
[[nodiscard]] bool matches(const trace_filter& f, const trace_record& r);

}  // namespace sidecar::store
