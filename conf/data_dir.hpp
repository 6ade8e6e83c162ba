// The data directory held by this process (docs/operations.md): created with owner-only
// permissions and locked, so that two sidecars never share one store.
#pragma once

#include <filesystem>

namespace sidecar::conf {

/// Holds the data directory for this process: created with owner-only permissions and
/// locked (flock) so that a second sidecar on it is refused. Throws config_error.
class data_dir_lock {
 public:
  explicit data_dir_lock(const std::filesystem::path& dir);
  ~data_dir_lock();
  data_dir_lock(const data_dir_lock&) = delete;
  data_dir_lock& operator=(const data_dir_lock&) = delete;

 private:
  int fd_ = -1;
};

}  // namespace sidecar::conf
