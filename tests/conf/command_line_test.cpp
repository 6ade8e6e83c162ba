// The command line: every flag in both forms, --help and --version, the one-line errors of an
// unknown flag, a flag without its value and a stray argument.
#include "conf/command_line.hpp"

#include <gtest/gtest.h>

#include <vector>

#include "conf/config_error.hpp"

namespace sidecar::conf {
namespace {

std::string command_line_error(std::vector<const char*> args) {
  args.insert(args.begin(), "trace-sidecar");
  try {
    (void)parse_command_line(static_cast<int>(args.size()), args.data());
    return "accepted";
  } catch (const config_error& e) {
    return e.what();
  }
}

TEST(command_line, EveryFlagInBothForms) {
  const std::vector<const char*> args{
      "trace-sidecar",        "--config",      "a.toml",     "--proxy-listen", "127.0.0.1:1",
      "--api-listen=[::1]:2", "--data-dir=/d", "--upstream", "http://h/",      "--log-level=debug"};
  const cli_options o = parse_command_line(static_cast<int>(args.size()), args.data());
  EXPECT_EQ(o.config_file, "a.toml");
  EXPECT_EQ(o.proxy_listen, "127.0.0.1:1");
  EXPECT_EQ(o.api_listen, "[::1]:2");
  EXPECT_EQ(o.data_dir, "/d");
  EXPECT_EQ(o.upstream, "http://h/");
  EXPECT_EQ(o.log_level, "debug");
  EXPECT_FALSE(o.help);
  EXPECT_FALSE(o.version);
}

TEST(command_line, HelpAndVersion) {
  const std::vector<const char*> args{"trace-sidecar", "--help", "--version"};
  const cli_options o = parse_command_line(3, args.data());
  EXPECT_TRUE(o.help);
  EXPECT_TRUE(o.version);
  for (const char* flag : {"--config", "--proxy-listen", "--api-listen", "--data-dir", "--upstream",
                           "--log-level", "--help", "--version"}) {
    EXPECT_NE(usage().find(flag), std::string::npos) << flag;
  }
}

TEST(command_line, RefusesUnknownFlagsMissingValuesAndArguments) {
  EXPECT_EQ(command_line_error({"--confg", "x"}),
            "command line: unknown option \"--confg\" (see --help)");
  EXPECT_EQ(command_line_error({"--config"}), "command line: --config: needs a value (see --help)");
  EXPECT_EQ(command_line_error({"file.toml"}),
            "command line: unexpected argument \"file.toml\" (see --help)");
  EXPECT_EQ(command_line_error({"-c", "x"}), "command line: unknown option \"-c\" (see --help)");
}

TEST(command_line, TheLastOfARepeatedFlagWins) {
  const std::vector<const char*> args{"trace-sidecar", "--data-dir", "a", "--data-dir=b"};
  EXPECT_EQ(parse_command_line(4, args.data()).data_dir, "b");
}

}  // namespace
}  // namespace sidecar::conf
