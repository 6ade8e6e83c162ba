// DELETE of one trace and of a filtered list (docs/api.md, "Purge"): who may purge what, the
// All=true rule, and the audit trail (audit.jsonl in the data directory, and a log line).
#pragma once

#include <filesystem>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "api/handler.hpp"
#include "store/trace_purge.hpp"

namespace sidecar::api {

/// Appends one JSON line per purge to a file (opened for each line, O_APPEND), and logs it.
class purge_audit {
 public:
  explicit purge_audit(std::filesystem::path file) : file_(std::move(file)) {}
  /// {"time","caller","account","sid" or "filters","deleted"}; `what` is the encoded
  /// "sid" or "filters" member (key and value).
  void append(std::string_view caller, std::string_view account, std::string_view what,
              std::uint64_t deleted);

 private:
  std::filesystem::path file_;
  std::mutex mu_;
};

/// What a purge needs from the request already decided by the handler.
struct purge_context {
  const conf::config& cfg;
  const conf::account& caller;
  std::string_view path_account;
  const std::vector<std::string>& scope;  // the path account's subtree
  store::trace_reader& reader;
  store::trace_purger& purger;
  purge_audit& audit;
};

/// DELETE .../Traces/{TraceSid}: 204, 404 as for GET, 403 for a record of another account
/// (unless the caller is an administrator).
[[nodiscard]] answer purge_trace(const purge_context& c, std::string_view sid);

/// DELETE .../Traces with the list's filters: 200 {"deleted": N}; no filter needs All=true.
[[nodiscard]] answer purge_list(const purge_context& c, std::string_view raw_query);

}  // namespace sidecar::api
