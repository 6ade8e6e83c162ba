// Loading the configuration: command-line flags over a TOML file (or the embedded default),
// every key validated. Any problem throws config_error with the one line to print.
#pragma once

#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "conf/config.hpp"

namespace sidecar::conf {

/// A configuration problem. what() is one line naming the file, the key (with its table,
/// e.g. "[proxy] connect_timeout" or "[[route]] #2 upstream") and the problem. Startup prints
/// it and exits with code 2.
class config_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// The command line, parsed.
struct cli_options {
  std::optional<std::string> config_file;
  std::optional<std::string> proxy_listen;
  std::optional<std::string> api_listen;
  std::optional<std::string> data_dir;
  std::optional<std::string> upstream;
  std::optional<std::string> log_level;
  bool help = false;
  bool version = false;
  bool check_config = false;  // --check-config: load and check everything, bind nothing, exit
};

/// Parses argv (without running anything). Throws config_error on an unknown flag or a
/// flag without its value.
[[nodiscard]] cli_options parse_command_line(int argc, const char* const* argv);

/// The text of --help.
[[nodiscard]] std::string usage();

/// What load() may do to the data directory.
enum class data_dir_access {
  create,     // startup: create the directory and the embedded default's local account file
  read_only,  // --check-config: look only (a running sidecar may hold it); a local account
              // file not written yet is checked as the one that startup would generate
};

/// Reads and validates the file (or the embedded default), applies the flags, and for the
/// embedded default creates the data directory and the local account file (unless
/// `access` is read_only). Throws config_error.
[[nodiscard]] std::shared_ptr<const config> load(const cli_options& options,
                                                 data_dir_access access = data_dir_access::create);

/// Parses TOML text as if read from `source_name` (tests and fuzzing); no file system
/// side effects. Throws config_error.
[[nodiscard]] std::shared_ptr<const config> parse(std::string_view toml_text,
                                                  std::string_view source_name,
                                                  const cli_options& overrides = {});

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
