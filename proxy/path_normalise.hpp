// The path of a request target as the sidecar routes, forwards and records it: dot-segments
// resolved (RFC 3986 5.2.4) after percent-decoding, so that "/pub/../x", "/pub/%2e%2e/x" and
// "/pub/.%2e/x" cannot reach an upstream that would resolve them out of a route's base path;
// and a path that the servers behind could read another way (an encoded slash or backslash,
// a literal backslash, a double-encoded dot or slash, a broken percent escape) refused.
#pragma once

#include <string>
#include <string_view>

namespace sidecar::proxy {

enum class path_problem {
  none,
  climbs_above_root,  // more ".." than segments before them
  ambiguous,          // %2F, %5C, '\', %252E, "//..": servers split or merge differently
  malformed,          // a '%' not followed by two hex digits
};

struct normalised_path {
  path_problem problem = path_problem::none;
  std::string target;  // the path with dot-segments removed, then the query as it was
};

/// Normalises an origin-form target ("/a/./b/../c?q=1" -> "/a/c?q=1"). Segments other than
/// dot-segments keep their bytes (their percent-encoding included); the query is untouched.
/// A path without dot-segments comes back unchanged.
[[nodiscard]] normalised_path normalise_path(std::string_view target);
/// The same into `out`, whose capacity is kept: a connection's next request reuses it. Returns
/// the problem (`out` is then unspecified).
[[nodiscard]] path_problem normalise_path(std::string_view target, std::string& out);

}  // namespace sidecar::proxy
