// Matching request targets to the API's resources.
#include "api/routing.hpp"

#include <array>
#include <optional>
#include <span>

namespace sidecar::api {
namespace {

constexpr std::string_view api_version = "2012-04-24";
constexpr std::string_view json_suffix = ".json";

/// Splits the next '/'-separated segment off `rest` (which starts after a '/').
std::string_view next_segment(std::string_view& rest) {
  const auto slash = rest.find('/');
  const std::string_view seg = rest.substr(0, slash);
  rest = slash == std::string_view::npos ? std::string_view{} : rest.substr(slash + 1);
  return seg;
}

constexpr std::string_view har_suffix = ".har";
constexpr std::string_view curl_suffix = ".curl";

/// Removes `suffix` from a longer `seg`; false when `seg` does not end with it.
bool strip_suffix(std::string_view& seg, std::string_view suffix) {
  if (seg.size() <= suffix.size() || !seg.ends_with(suffix)) return false;
  seg.remove_suffix(suffix.size());
  return true;
}

std::string_view strip_json(std::string_view seg) {
  if (seg.size() > json_suffix.size() && seg.ends_with(json_suffix)) {
    seg.remove_suffix(json_suffix.size());
  }
  return seg;
}

bool is_sid_segment(std::string_view seg) {
  return !seg.empty() && seg.find('.') == std::string_view::npos;
}

/// The probes and the status page: fixed paths outside the versioned API.
std::optional<resource> match_fixed_path(std::string_view path) {
  if (path == "/healthz") return resource::healthz;
  if (path == "/ready") return resource::ready;
  if (path == "/status") return resource::status;
  if (path == "/metrics") return resource::metrics;
  return std::nullopt;
}

/// The '/'-separated segments of a path after its leading '/'; none (count 0) when the path
/// has more segments than any resource.
struct path_segments {
  std::array<std::string_view, 7> seg{};
  std::size_t count = 0;  // 0: too many segments

  [[nodiscard]] std::span<const std::string_view> all() const { return {seg.data(), count}; }
};

path_segments split_path(std::string_view path) {
  path_segments out;
  std::size_t n = 0;
  std::string_view rest = path.substr(1);
  bool more = true;
  while (more) {
    if (n == out.seg.size()) return {};
    more = rest.find('/') != std::string_view::npos;
    out.seg[n++] = next_segment(rest);
  }
  out.count = n;
  return out;
}

/// "2012-04-24/Accounts/{sid}" at the start of `s`, the prefix of every account resource.
bool is_account_prefix(std::span<const std::string_view> s) {
  return s.size() >= 3 && s[0] == api_version && s[1] == "Accounts" && !s[2].empty();
}

/// 2012-04-24/Accounts[.json]
void match_accounts(std::span<const std::string_view> s, target_match& m) {
  if (s[0] == api_version && (s[1] == "Accounts" || s[1] == "Accounts.json")) {
    m.kind = resource::accounts;
  }
}

/// .../Accounts/{sid}/Traces[.json|.har]
void match_list(std::span<const std::string_view> s, target_match& m) {
  if (s[3] == "Traces" || s[3] == "Traces.json") {
    m.kind = resource::list;
  } else if (s[3] == "Traces.har") {
    m.kind = resource::list_har;
  } else {
    return;
  }
  m.account_sid = s[2];
}

/// .../Accounts/{sid}/Traces/Stream or .../Traces/{TraceSid}[.json|.har|.curl]
void match_item(std::span<const std::string_view> s, target_match& m) {
  if (s[3] != "Traces") return;
  if (s[4] == "Stream") {  // text/event-stream: no .json form
    m.kind = resource::stream;
    m.account_sid = s[2];
    return;
  }
  std::string_view sid = s[4];
  resource kind = resource::item;
  if (strip_suffix(sid, har_suffix)) {
    kind = resource::item_har;
  } else if (strip_suffix(sid, curl_suffix)) {
    kind = resource::item_curl;
  } else {
    sid = strip_json(sid);
  }
  if (sid.empty() || sid.ends_with(json_suffix)) return;
  m.kind = kind;
  m.account_sid = s[2];
  m.trace_sid = sid;
}

/// .../Accounts/{sid}/Traces/{TraceSid}/Replay
void match_replay(std::span<const std::string_view> s, target_match& m) {
  if (s[3] != "Traces" || !is_sid_segment(s[4]) || s[5] != "Replay") return;
  m.kind = resource::replay;
  m.account_sid = s[2];
  m.trace_sid = s[4];
}

}  // namespace

target_match match_target(std::string_view target) {
  target_match m;
  const auto qmark = target.find('?');
  m.path = target.substr(0, qmark);
  if (qmark != std::string_view::npos) m.query = target.substr(qmark + 1);
  if (m.path.empty() || m.path.front() != '/') return m;
  if (const auto fixed = match_fixed_path(m.path)) {
    m.kind = *fixed;
    return m;
  }

  // Up to six segments: [restcomm|api] 2012-04-24 Accounts {sid} Traces[.json] [{sid}[.json]]
  const path_segments split = split_path(m.path);
  std::span<const std::string_view> s = split.all();
  if (s.empty()) return m;
  if (s[0] == "restcomm" || s[0] == "api") s = s.subspan(1);
  if (s.size() == 2) {
    match_accounts(s, m);
  } else if (s.size() >= 4 && s.size() <= 6 && is_account_prefix(s)) {
    if (s.size() == 4) match_list(s, m);
    if (s.size() == 5) match_item(s, m);
    if (s.size() == 6) match_replay(s, m);
  }
  return m;
}

std::string_view allowed_methods(resource r) {
  if (r == resource::replay) return "POST";
  return r == resource::list || r == resource::item ? "GET, HEAD, DELETE" : "GET, HEAD";
}

bool method_allowed(resource r, std::string_view method) {
  if (r == resource::replay) return method == "POST";
  if (method == "GET" || method == "HEAD") return true;
  return method == "DELETE" && (r == resource::list || r == resource::item);
}

}  // namespace sidecar::api
