// The command line (README, `trace-sidecar --help`): flags parsed into cli_options, which the
// loader applies over the file or the embedded default (load.hpp).
#pragma once

#include <optional>
#include <string>

namespace sidecar::conf {

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

/// Where a flag's problem is said to come from in a config_error line.
inline constexpr std::string_view command_line_source = "command line";

/// Parses argv (without running anything). Throws config_error on an unknown flag or a
/// flag without its value.
[[nodiscard]] cli_options parse_command_line(int argc, const char* const* argv);

/// The text of --help.
[[nodiscard]] std::string usage();

}  // namespace sidecar::conf
