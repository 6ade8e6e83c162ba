// The JSON of GET /status (docs/operations.md): the phase, and each part's state with the
// reason when failing and since when.
#pragma once

#include <string>
#include <vector>

#include "support/health.hpp"

namespace sidecar::api {

/// {"status":"ok"|"failing","phase":"serving","parts":{"proxy":{"state":"ok","enabled":true,
/// "since":"2026-12-02T08:00:00Z"},"store":{"state":"failing","enabled":true,"reason":"disk
/// full: ...","since":"..."},...}}
[[nodiscard]] std::string status_json(const std::vector<health::part_report>& parts,
                                      health::phase p);

}  // namespace sidecar::api
