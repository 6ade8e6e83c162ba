// Loading the configuration: command-line flags over a TOML file (or the embedded default),
// every key validated. Any problem throws config_error with the one line to print.
#pragma once

#include <memory>
#include <string_view>

#include "conf/command_line.hpp"
#include "conf/config.hpp"
#include "conf/config_error.hpp"

namespace sidecar::conf {

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

}  // namespace sidecar::conf
