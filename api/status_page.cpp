// The JSON of GET /status: see status_page.hpp.
#include "api/status_page.hpp"

#include <chrono>

#include "support/json.hpp"
#include "support/utc_time.hpp"

namespace sidecar::api {
namespace {

}  // namespace

std::string status_json(const std::vector<health::part_report>& parts, health::phase p) {
  bool all_ok = true;
  for (const auto& r : parts) all_ok = all_ok && r.now.ok;
  std::string out;
  json::writer w(out);
  w.begin_object().key("status").value(all_ok ? "ok" : "failing");
  w.key("phase").value(health::to_string(p));
  w.key("parts").begin_object();
  for (const auto& r : parts) {
    w.key(r.name).begin_object();
    w.key("state").value(r.now.ok ? "ok" : "failing");
    w.key("enabled").value(r.now.enabled);
    if (!r.now.reason.empty()) w.key("reason").value(r.now.reason);
    w.key("since").value(utc::iso8601(std::chrono::duration_cast<std::chrono::milliseconds>(r.since.time_since_epoch()).count(), false));
    w.end_object();
  }
  w.end_object().end_object();
  return out;
}

}  // namespace sidecar::api
