// The access line of one exchange ([log] access = true, docs/operations.md): written where its
// fate is known (the record built, or why none), never with a query string or a credential.
//
//   level=info msg=exchange trace=TR… account=AC… route=/apps/acme/ direction=webhook
//     method=POST path=/voice status=200 latency_ms=12
#pragma once

#include <string_view>

#include "store/capture.hpp"

namespace sidecar::store {

/// Writes the line. `trace_sid` empty: `why_none` says why no record was made (no_account,
/// unknown_account, traces_not_enabled, queue_full, ...).
void log_access(const capture& c, std::string_view trace_sid, std::string_view account,
                std::string_view why_none);

}  // namespace sidecar::store
