// The command line (command_line.hpp): each flag with its value, and --help's text.
#include "conf/command_line.hpp"

#include <algorithm>
#include <array>
#include <string_view>

#include "conf/detail.hpp"
#include "conf/values.hpp"

namespace sidecar::conf {

using detail::fail;

cli_options parse_command_line(int argc, const char* const* argv) {
  cli_options o;
  struct flag {
    std::string_view name;
    std::optional<std::string> cli_options::*field;
  };
  static const std::array<flag, 6> flags{{{"--config", &cli_options::config_file},
                                          {"--proxy-listen", &cli_options::proxy_listen},
                                          {"--api-listen", &cli_options::api_listen},
                                          {"--data-dir", &cli_options::data_dir},
                                          {"--upstream", &cli_options::upstream},
                                          {"--log-level", &cli_options::log_level}}};
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      o.help = true;
      continue;
    }
    if (arg == "--check-config") {
      o.check_config = true;
      continue;
    }
    if (arg == "--version" || arg == "-V") {
      o.version = true;
      continue;
    }
    const auto eq = arg.find('=');
    const std::string_view name = arg.substr(0, eq);
    const auto* const f =
        std::find_if(flags.begin(), flags.end(), [&](const flag& x) { return x.name == name; });
    if (f == flags.end() || !arg.starts_with("--")) {
      fail(command_line_source, "",
           (arg.starts_with("-") ? "unknown option " : "unexpected argument ") + quote(arg) +
               " (see --help)");
    }
    if (eq != std::string_view::npos) {
      o.*(f->field) = std::string(arg.substr(eq + 1));
    } else if (i + 1 < argc) {
      o.*(f->field) = std::string(argv[++i]);
    } else {
      fail(command_line_source, name, "needs a value (see --help)");
    }
  }
  return o;
}

std::string usage() {
  return R"(Usage: trace-sidecar [options]

A recording HTTP proxy between a CPaaS platform and its apps, with the Restcomm Traces API.

Options (each also as --option=value; they override the config file):
  --config FILE         run with this TOML file (see examples/trace-sidecar.toml);
                        without it, the embedded default runs
  --proxy-listen ADDR   proxy listener, e.g. 127.0.0.1:8080 or [::1]:8080 (port 0: any free)
  --api-listen ADDR     Traces API listener, e.g. 127.0.0.1:8081
  --data-dir DIR        trace store directory ([store] path; default ./trace-data)
  --upstream URL        upstream of the embedded default's route "/"
                        (default http://127.0.0.1:9000/); not with a file that has routes
  --log-level LEVEL     debug, info, warn or error
  --check-config        check the configuration (the file, or the embedded default, with
                        these flags) as startup would, without binding the listeners or
                        touching the data directory; prints "config ok" and exits 0, or
                        prints the one error line and exits 2
  -h, --help            this text
  -V, --version         the version

Embedded default: proxy on 127.0.0.1:8080, API on 127.0.0.1:8081, data in ./trace-data,
route "/" -> http://127.0.0.1:9000/ (webhook), recorded for a local account whose SID and
token are generated on first start and kept in <data dir>/local-account.toml.

Signals: SIGHUP reloads the configuration file (docs/operations.md lists what reloads);
SIGTERM and SIGINT drain in-flight exchanges and stop.

Exit codes: 0 stopped cleanly (SIGINT/SIGTERM), 1 failure while running,
2 configuration error (one line on stderr naming the file, the key and the problem).
)";
}

}  // namespace sidecar::conf
