// Matching request targets to the API's resources.
#include "api/routing.hpp"

#include <array>

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

}  // namespace

target_match match_target(std::string_view target) {
  target_match m;
  const auto qmark = target.find('?');
  m.path = target.substr(0, qmark);
  if (qmark != std::string_view::npos) m.query = target.substr(qmark + 1);
  if (m.path.empty() || m.path.front() != '/') return m;

  if (m.path == "/healthz") {
    m.kind = resource::healthz;
    return m;
  }
  if (m.path == "/ready") {
    m.kind = resource::ready;
    return m;
  }
  if (m.path == "/status") {
    m.kind = resource::status;
    return m;
  }
  if (m.path == "/metrics") {
    m.kind = resource::metrics;
    return m;
  }

  // Up to six segments: [restcomm|api] 2012-04-24 Accounts {sid} Traces[.json] [{sid}[.json]]
  std::array<std::string_view, 7> segs{};
  std::size_t n = 0;
  std::string_view rest = m.path.substr(1);
  bool more = true;
  while (more) {
    if (n == segs.size()) return m;
    more = rest.find('/') != std::string_view::npos;
    segs[n++] = next_segment(rest);
  }
  std::size_t i = 0;
  if (segs[0] == "restcomm" || segs[0] == "api") i = 1;
  const std::size_t left = n - i;
  if (left == 2 && segs[i] == api_version &&
      (segs[i + 1] == "Accounts" || segs[i + 1] == "Accounts.json")) {
    m.kind = resource::accounts;
    return m;
  }
  if (left == 6) {
    // .../Traces/{TraceSid}/Replay
    if (segs[i] != api_version || segs[i + 1] != "Accounts" || segs[i + 2].empty() ||
        segs[i + 3] != "Traces" || !is_sid_segment(segs[i + 4]) || segs[i + 5] != "Replay") {
      return m;
    }
    m.kind = resource::replay;
    m.account_sid = segs[i + 2];
    m.trace_sid = segs[i + 4];
    return m;
  }
  if (left != 4 && left != 5) return m;
  if (segs[i] != api_version || segs[i + 1] != "Accounts" || segs[i + 2].empty()) return m;
  const std::string_view account = segs[i + 2];
  if (left == 4) {
    if (segs[i + 3] == "Traces" || segs[i + 3] == "Traces.json") {
      m.kind = resource::list;
    } else if (segs[i + 3] == "Traces.har") {
      m.kind = resource::list_har;
    } else {
      return m;
    }
    m.account_sid = account;
    return m;
  }
  if (segs[i + 3] != "Traces") return m;
  if (segs[i + 4] == "Stream") {  // text/event-stream: no .json form
    m.kind = resource::stream;
    m.account_sid = account;
    return m;
  }
  std::string_view sid = segs[i + 4];
  resource kind = resource::item;
  if (strip_suffix(sid, har_suffix)) {
    kind = resource::item_har;
  } else if (strip_suffix(sid, curl_suffix)) {
    kind = resource::item_curl;
  } else {
    sid = strip_json(sid);
  }
  if (sid.empty() || sid.ends_with(json_suffix)) return m;
  m.kind = kind;
  m.account_sid = account;
  m.trace_sid = sid;
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
