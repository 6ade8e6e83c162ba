// GET /2012-04-24/Accounts.json (docs/api.md): the accounts a caller may read, so that a page
// can offer a choice of path account.
#pragma once

#include <string>

#include "conf/config.hpp"

namespace sidecar::api {

/// {"accounts":[{"sid","friendly_name","parent_sid","traces"}, ...]}: the caller first, then
/// every other account of the configuration it may read, in the configuration's order.
/// parent_sid is null for a top-level account.
[[nodiscard]] std::string accounts_json(const conf::config& cfg, const conf::account& caller);

}  // namespace sidecar::api
