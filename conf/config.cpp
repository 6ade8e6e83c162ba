// The small lookups on a loaded configuration: accounts, who may read whom, and names.
#include "conf/config.hpp"

#include <algorithm>

namespace sidecar::conf {

std::string_view to_string(direction d) {
  switch (d) {
    case direction::webhook: return "webhook";
    case direction::api: return "api";
  }
  return "webhook";
}

std::string endpoint::to_string() const {
  const std::string host = address.to_string();
  return (address.is_v6() ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

const account* config::find_account(std::string_view sid) const {
  const auto it = std::find_if(accounts.begin(), accounts.end(),
                               [&](const account& a) { return a.sid == sid; });
  return it == accounts.end() ? nullptr : &*it;
}

bool config::may_read(const account& reader, std::string_view target) const {
  if (reader.administrator || reader.sid == target) return true;
  // Walk up from the target; the bound guards against a parent cycle in a hand-built config.
  const account* a = find_account(target);
  for (std::size_t steps = 0; a != nullptr && steps <= accounts.size(); ++steps) {
    if (a->parent.empty()) return false;
    if (a->parent == reader.sid) return true;
    a = find_account(a->parent);
  }
  return false;
}

std::vector<std::string> config::subtree(std::string_view root) const {
  std::vector<std::string> out{std::string(root)};
  // Breadth-first over the parent links; `out` doubles as the queue.
  for (std::size_t i = 0; i < out.size() && out.size() <= accounts.size() + 1; ++i) {
    for (const account& a : accounts) {
      if (a.parent == out[i] && std::find(out.begin(), out.end(), a.sid) == out.end()) {
        out.push_back(a.sid);
      }
    }
  }
  return out;
}

}  // namespace sidecar::conf
