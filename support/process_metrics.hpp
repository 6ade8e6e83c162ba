// The process metrics every Prometheus exporter has (process_cpu_seconds_total,
// process_resident_memory_bytes, process_open_fds, process_start_time_seconds) and
// sidecar_build_info, read from /proc when scraped.
#pragma once

#include <string_view>

#include "support/metrics.hpp"

namespace sidecar::metrics {

/// Registers them; call once, at startup (process_start_time_seconds is read then).
void add_process_metrics(registry& r, std::string_view version);

}  // namespace sidecar::metrics
