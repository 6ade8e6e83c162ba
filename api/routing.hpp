// Which resource of the API listener a request target names (docs/api.md): the Traces
// list and item under no prefix, /restcomm or /api, with or without .json; /healthz, /ready,
// /status; /metrics.
#pragma once

#include <string>
#include <string_view>

namespace sidecar::api {

enum class resource {
  not_found,
  list,
  item,
  healthz,
  ready,
  status,
  metrics,
  // docs/api.md, the inspector's resources
  accounts,   // /2012-04-24/Accounts.json
  list_har,   // .../Traces.har
  item_har,   // .../Traces/{TraceSid}.har
  item_curl,  // .../Traces/{TraceSid}.curl
  stream,     // .../Traces/Stream: the live stream
  replay,     // .../Traces/{TraceSid}/Replay
};

/// The methods a resource answers, as its 405's Allow header lists them.
[[nodiscard]] std::string_view allowed_methods(resource r);
/// Whether `method` is one of allowed_methods(r).
[[nodiscard]] bool method_allowed(resource r, std::string_view method);

/// A request target split and matched. Views point into the target given to match_target().
struct target_match {
  resource kind = resource::not_found;
  std::string_view path;         // the path as sent (prefix and .json included), for page URIs
  std::string_view query;        // after '?', raw; empty when none
  std::string_view account_sid;  // {AccountSid} (list and item)
  std::string_view trace_sid;    // {TraceSid} without its suffix (items, replay)
};

/// Matches an origin-form target ("/path?query"). Path segments are compared as sent (SIDs
/// and the fixed names need no percent-encoding); anything else is resource::not_found.
[[nodiscard]] target_match match_target(std::string_view target);

}  // namespace sidecar::api
