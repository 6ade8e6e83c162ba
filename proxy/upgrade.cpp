// Upgrade filtering: see upgrade.hpp for why h2c is never forwarded.
#include "proxy/upgrade.hpp"

#include <algorithm>

#include "support/ascii.hpp"
#include "support/http_fields.hpp"

namespace sidecar::proxy {

namespace {

// Calls `each` with every element of a comma-separated list (RFC 9110 5.6.1), trimmed, empty
// elements skipped. Upgrade tokens hold a '/', which http::token_list does not accept.
template <class F>
void for_each_element(std::string_view list, F&& each) {
  while (!list.empty()) {
    const auto comma = list.find(',');
    const std::string_view element = ascii::trim(list.substr(0, comma));
    if (!element.empty()) each(element);
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
}

// A token character of RFC 9110 5.6.2.
bool is_tchar(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

// protocol-name ["/" protocol-version] (RFC 9110 7.8), both tokens: anything else (spaces,
// other bytes, a second '/') is not forwarded, so that no upstream reads a protocol out of
// bytes the sidecar did not recognise.
bool well_formed_upgrade(std::string_view token) {
  const auto slash = token.find('/');
  const std::string_view name = token.substr(0, slash);
  const std::string_view version =
      slash == std::string_view::npos ? std::string_view("v") : token.substr(slash + 1);
  const auto all_tchar = [](std::string_view t) {
    return !t.empty() && std::all_of(t.begin(), t.end(), is_tchar);
  };
  return all_tchar(name) && all_tchar(version);
}

}  // namespace

std::string_view upgrade_protocol(std::string_view token) {
  return ascii::trim(token.substr(0, token.find('/')));
}

bool keep_enabled_upgrades(head_fields& req, bool connection_upgrade,
                           const std::vector<std::string>& enabled) {
  // Always: an HTTP/2 upgrade's settings have no meaning to anyone but an h2c server.
  req.erase(http::field::http2_settings);
  std::string kept;
  bool offered = false;
  http_fields::for_each_value(req, http::field::upgrade, [&](std::string_view value) {
    offered = true;
    for_each_element(value, [&](std::string_view token) {
      if (!well_formed_upgrade(token)) return;
      const std::string protocol = ascii::to_lower(upgrade_protocol(token));
      if (std::find(enabled.begin(), enabled.end(), protocol) == enabled.end()) return;
      if (!kept.empty()) kept += ", ";
      kept.append(token);
    });
  });
  if (!offered) return false;
  req.erase(http::field::upgrade);
  if (kept.empty()) return false;
  req.set(http::field::upgrade, kept);
  return connection_upgrade;
}

bool upgrade_was_offered(std::string_view request_upgrade, std::string_view response_upgrade) {
  bool found = false;
  for_each_element(response_upgrade, [&](std::string_view answered) {
    for_each_element(request_upgrade, [&](std::string_view offered) {
      if (ascii::iequals(upgrade_protocol(answered), upgrade_protocol(offered))) found = true;
    });
  });
  return found;
}

}  // namespace sidecar::proxy
