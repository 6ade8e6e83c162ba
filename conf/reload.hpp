// What a reload (SIGHUP) may change in the running configuration, and what needs a restart
// (docs/operations.md has the table). The loaded file is checked whole by conf::load() first;
// this only decides which of its values take effect.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "conf/config.hpp"

namespace sidecar::conf {

struct reload_plan {
  /// The snapshot to install: the loaded file, with every setting that needs a restart kept
  /// at its running value (so the snapshot says what actually runs).
  std::shared_ptr<const config> next;
  /// The settings the file changed but that need a restart ("[proxy] listen", ...), in the
  /// file's order of tables.
  std::vector<std::string> ignored;
};

/// Decides what a reload of `loaded` over `running` changes.
[[nodiscard]] reload_plan plan_reload(const config& running, const config& loaded);

}  // namespace sidecar::conf
