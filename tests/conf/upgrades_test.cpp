// [proxy] upgrades: the Upgrade protocols the proxy forwards (docs/configuration.md).
#include <gtest/gtest.h>

#include "conf/load.hpp"

namespace sidecar::conf {
namespace {

TEST(upgrades, DefaultIsWebsocketOnly) {
  EXPECT_EQ(parse("[proxy]\n", "t.toml")->proxy.upgrades, std::vector<std::string>{"websocket"});
}

TEST(upgrades, TheListReplacesTheDefaultLowerCased) {
  EXPECT_EQ(parse("[proxy]\nupgrades = [\"WebSocket\", \"foo\"]\n", "t.toml")->proxy.upgrades,
            (std::vector<std::string>{"websocket", "foo"}));
  EXPECT_TRUE(parse("[proxy]\nupgrades = []\n", "t.toml")->proxy.upgrades.empty());
}

TEST(upgrades, H2cAndNonTokensAreConfigErrors) {
  try {
    (void)parse("[proxy]\nupgrades = [\"websocket\", \"H2C\"]\n", "t.toml");
    FAIL() << "h2c accepted";
  } catch (const config_error& e) {
    EXPECT_STREQ(e.what(), "t.toml: [proxy] upgrades: \"h2c\" is never forwarded (docs/proxy.md)");
  }
  EXPECT_THROW((void)parse("[proxy]\nupgrades = [\"web socket\"]\n", "t.toml"), config_error);
  EXPECT_THROW((void)parse("[proxy]\nupgrades = \"websocket\"\n", "t.toml"), config_error);
}

}  // namespace
}  // namespace sidecar::conf
