// The one error of configuration: what every module throws when the configuration it was given
// cannot be used (a port that cannot be bound, a directory that cannot be created), and what the
// loader throws for a bad file or flag. main prints its one line and exits 2.
#pragma once

#include <stdexcept>

namespace sidecar::conf {

/// A configuration problem. what() is one line naming the file, the key (with its table,
/// e.g. "[proxy] connect_timeout" or "[[route]] #2 upstream") and the problem.
class config_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace sidecar::conf
