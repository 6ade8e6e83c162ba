// The example configurations in examples/ stay valid: each loads as it is documented.
#include <gtest/gtest.h>

#include "conf/load.hpp"
#include "tests/common/temp_dir.hpp"

namespace sidecar::conf {
namespace {

std::string example(std::string_view name) {
  return testing_support::read_file(std::filesystem::path(SIDECAR_SOURCE_DIR) / "examples" / name);
}

TEST(examples, TheCommentedExampleSetsEveryKeyItDocuments) {
  const auto c = parse(example("trace-sidecar.toml"), "trace-sidecar.toml");
  EXPECT_EQ(c->proxy.listen.to_string(), "127.0.0.1:8080");
  EXPECT_EQ(c->api.listen.to_string(), "127.0.0.1:8081");
  EXPECT_EQ(c->store.retention, std::chrono::hours(48));
  EXPECT_EQ(c->store.body_limit, 100u * 1024);
  EXPECT_EQ(c->proxy.upgrades, std::vector<std::string>{"websocket"});
  ASSERT_EQ(c->accounts.size(), 2u);
  EXPECT_TRUE(c->accounts[0].administrator);
  EXPECT_EQ(c->accounts[1].parent, c->accounts[0].sid);
  ASSERT_EQ(c->routes.size(), 2u);
  EXPECT_EQ(c->routes[1].dir, direction::api);
}

TEST(examples, TheDockerConfigListensEverywhereWithAllowInsecure) {
  const testing_support::temp_dir dir;
  std::string text = example("docker.toml");
  // Keep the data out of /var/lib while testing.
  const auto at = text.find("/var/lib/trace-sidecar\"");
  ASSERT_NE(at, std::string::npos);
  text.replace(at, std::string_view("/var/lib/trace-sidecar").size(), (dir / "data").string());
  const auto file = dir.write("docker.toml", text);
  cli_options o;
  o.config_file = file.string();
  o.upstream = "http://app:9000/";
  const auto c = load(o);
  EXPECT_EQ(c->proxy.listen.to_string(), "0.0.0.0:8080");
  EXPECT_EQ(c->api.listen.to_string(), "0.0.0.0:8081");
  EXPECT_TRUE(c->api.allow_insecure);
  ASSERT_EQ(c->routes.size(), 1u);
  EXPECT_EQ(c->routes[0].upstream.host, "app");
  ASSERT_EQ(c->accounts.size(), 1u);
  EXPECT_EQ(c->routes[0].account, c->accounts[0].sid);
}

}  // namespace
}  // namespace sidecar::conf
