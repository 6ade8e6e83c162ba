// The seed's own Python sample client (http.client with Basic auth), pointed at a running
// API listener: what a Restcomm user's existing code gets.
#include <gtest/gtest.h>

#include <cstdio>
#include <sstream>
#include <string>

#include "api/server.hpp"
#include "tests/api/test_support.hpp"

namespace sidecar::api {
namespace {

using testing::accounts;

/// Runs the sample client and returns its output lines: status, reason, type, body.
std::vector<std::string> run_sample(std::uint16_t port, const std::string& sid,
                                    const std::string& token, const std::string& path) {
  const std::string cmd = "python3 " SIDECAR_SOURCE_DIR "/tests/api/sample_client.py 127.0.0.1 " +
                          std::to_string(port) + " " + sid + " " + token + " '" + path + "'";
  FILE* p = popen(cmd.c_str(), "r");
  EXPECT_NE(p, nullptr);
  std::string out;
  char buf[4096];
  while (p != nullptr) {
    const std::size_t n = std::fread(buf, 1, sizeof buf, p);
    if (n == 0) break;
    out.append(buf, n);
  }
  if (p != nullptr) {
    EXPECT_EQ(pclose(p), 0) << out;
  }
  std::vector<std::string> lines;
  std::istringstream in(out);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

class python_client : public ::testing::Test {
 protected:
  void SetUp() override {
    for (int i = 0; i < 3; ++i) {
      testing::fake_trace t;
      t.created_ms = 1625071269456 + i;
      t.sid = testing::make_sid(t.created_ms, static_cast<std::uint64_t>(i));
      t.account_sid = accounts::parent;
      sids_.push_back(t.sid);
      reader_.add(t);
    }
    port_ = server_.start().port();
  }
  void TearDown() override { server_.stop(); }

  testing::memory_reader reader_;
  metrics::registry registry_;
  server server_{testing::make_config(), reader_, registry_, {}};
  std::uint16_t port_ = 0;
  std::vector<std::string> sids_;
};

TEST_F(python_client, SeedSampleGetsOneTrace) {
  const auto lines =
      run_sample(port_, accounts::parent, testing::token_of(accounts::parent),
                 "/restcomm/2012-04-24/Accounts/" + accounts::parent + "/Traces/" + sids_[1]);
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[0], "200");
  EXPECT_EQ(lines[1], "OK");
  EXPECT_EQ(lines[2], "application/json");
  EXPECT_EQ(boost::json::parse(lines[3]).at("sid").as_string(), sids_[1]);
}

TEST_F(python_client, SeedSampleGetsTheList) {
  const auto lines = run_sample(port_, accounts::parent, testing::token_of(accounts::parent),
                                "/restcomm/2012-04-24/Accounts/" + accounts::parent + "/Traces");
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[0], "200");
  const auto v = boost::json::parse(lines[3]);
  EXPECT_EQ(v.at("total").as_int64(), 3);
  EXPECT_EQ(v.at("start").as_string(), "0");
  EXPECT_EQ(v.at("end").as_string(), "3");
  EXPECT_EQ(v.at("previous_page_uri").as_string(), "null");
  EXPECT_EQ(v.at("traces").as_array().size(), 3u);
  EXPECT_EQ(v.at("traces").as_array()[0].at("sid").as_string(), sids_[2]);
}

TEST_F(python_client, SeedSampleWithAWrongTokenGets401) {
  const auto lines = run_sample(port_, accounts::parent, "wrong",
                                "/restcomm/2012-04-24/Accounts/" + accounts::parent + "/Traces");
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[0], "401");
  EXPECT_EQ(boost::json::parse(lines[3]).at("status").as_int64(), 401);
}

}  // namespace
}  // namespace sidecar::api
