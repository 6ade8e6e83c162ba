// Names threads so that `top -H`, `ps -L`, gdb and profilers show who works: "proxy-1",
// "api-2", "store-writer"... (docs/operations.md lists them).
#pragma once

#include <string>

namespace sidecar::support {

/// Names the calling thread; Linux keeps the first 15 bytes.
void name_this_thread(const std::string& name) noexcept;

}  // namespace sidecar::support
