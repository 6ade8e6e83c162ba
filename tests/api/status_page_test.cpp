// GET /status's body (api/status_page.hpp, docs/operations.md "Probes"): ok only when every
// enabled part is, the phase, and each part with its state, reason and since.
#include "api/status_page.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <chrono>
#include <string>
#include <vector>

namespace sidecar::api {
namespace {

using sys_clock = std::chrono::system_clock;

health::part_report part(std::string name, bool ok, std::string reason = "", bool enabled = true) {
  return {std::move(name), health::state{ok, std::move(reason), enabled},
          sys_clock::time_point(std::chrono::milliseconds(1'796'000'000'000))};
}

TEST(status_page, EveryPartOkIsOkWithEachPartsSince) {
  const auto doc = boost::json::parse(
      status_json({part("proxy", true), part("store", true)}, health::phase::serving));
  EXPECT_EQ(doc.at("status").as_string(), "ok");
  EXPECT_EQ(doc.at("phase").as_string(), "serving");
  const auto& store = doc.at("parts").at("store");
  EXPECT_EQ(store.at("state").as_string(), "ok");
  EXPECT_TRUE(store.at("enabled").as_bool());
  EXPECT_EQ(store.at("since").as_string(), "2026-11-30T00:53:20Z");
  EXPECT_FALSE(store.as_object().contains("reason")) << "no reason for an ok part without a note";
}

TEST(status_page, OneFailingPartMakesTheWholeFailingAndSaysWhy) {
  const auto doc = boost::json::parse(status_json(
      {part("proxy", true), part("store", false, "disk full: \"/var\"\n"), part("cache", true)},
      health::phase::serving));
  EXPECT_EQ(doc.at("status").as_string(), "failing");
  EXPECT_EQ(doc.at("parts").at("store").at("state").as_string(), "failing");
  EXPECT_EQ(doc.at("parts").at("store").at("reason").as_string(), "disk full: \"/var\"\n");
  EXPECT_EQ(doc.at("parts").at("cache").at("state").as_string(), "ok");
}

TEST(status_page, ADisabledPartIsListedAsSuchAndTheDrainingPhaseNamed) {
  const auto doc = boost::json::parse(
      status_json({part("proxy", false, "draining"), part("fleet", true, "disabled", false)},
                  health::phase::draining));
  EXPECT_EQ(doc.at("phase").as_string(), "draining");
  EXPECT_FALSE(doc.at("parts").at("fleet").at("enabled").as_bool());
  EXPECT_EQ(doc.at("parts").at("fleet").at("reason").as_string(), "disabled");
  EXPECT_EQ(doc.at("status").as_string(), "failing") << "a draining proxy is not ok";
}

}  // namespace
}  // namespace sidecar::api
