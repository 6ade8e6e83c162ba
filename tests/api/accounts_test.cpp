// GET /2012-04-24/Accounts.json's body (api/accounts.hpp, docs/api.md "Accounts"): the caller
// first, then every account it may read in the configuration's order, each with its parent and
// whether its traces are on; never an account it may not read.
#include "api/accounts.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <string>
#include <vector>

#include "tests/api/test_support.hpp"

namespace sidecar::api {
namespace {

using testing::accounts;

std::vector<std::string> sids_in(const boost::json::value& doc) {
  std::vector<std::string> out;
  for (const auto& a : doc.at("accounts").as_array()) {
    out.emplace_back(a.at("sid").as_string());
  }
  return out;
}

boost::json::value answer_for(const conf::config& cfg, const std::string& caller) {
  const conf::account* a = cfg.find_account(caller);
  EXPECT_NE(a, nullptr);
  return boost::json::parse(accounts_json(cfg, *a));
}

TEST(accounts, AParentSeesItselfThenItsWholeSubtree) {
  const auto cfg = testing::make_config();
  const auto doc = answer_for(*cfg, accounts::parent);
  EXPECT_EQ(sids_in(doc), (std::vector<std::string>{accounts::parent, accounts::child,
                                                    accounts::grandchild, accounts::sibling}));
  const auto& first = doc.at("accounts").as_array()[0];
  EXPECT_TRUE(first.at("parent_sid").is_null()) << "a top-level account";
  EXPECT_EQ(first.at("friendly_name").as_string(),
            cfg->find_account(accounts::parent)->friendly_name);
  EXPECT_TRUE(first.at("traces").as_bool());
  EXPECT_EQ(doc.at("accounts").as_array()[1].at("parent_sid").as_string(), accounts::parent);
}

TEST(accounts, AChildSeesItsOwnSubtreeNeverItsParentOrSibling) {
  const auto cfg = testing::make_config();
  EXPECT_EQ(sids_in(answer_for(*cfg, accounts::child)),
            (std::vector<std::string>{accounts::child, accounts::grandchild}));
  EXPECT_EQ(sids_in(answer_for(*cfg, accounts::grandchild)),
            (std::vector<std::string>{accounts::grandchild}));
  EXPECT_EQ(sids_in(answer_for(*cfg, accounts::other)),
            (std::vector<std::string>{accounts::other}));
}

TEST(accounts, AnAdministratorSeesEveryAccountItselfFirst) {
  const auto cfg = testing::make_config();
  const auto sids = sids_in(answer_for(*cfg, accounts::admin));
  ASSERT_EQ(sids.size(), cfg->accounts.size());
  EXPECT_EQ(sids.front(), accounts::admin);
  const auto off = std::find(sids.begin(), sids.end(), accounts::off);
  ASSERT_NE(off, sids.end()) << "an account with traces off is listed, marked so";
  const auto doc = answer_for(*cfg, accounts::admin);
  for (const auto& a : doc.at("accounts").as_array()) {
    if (a.at("sid").as_string() == accounts::off) {
      EXPECT_FALSE(a.at("traces").as_bool());
    }
  }
}

TEST(accounts, NamesWithQuotesAndControlCharactersStayValidJson) {
  auto cfg = testing::make_config();
  for (auto& a : cfg->accounts) {
    if (a.sid == accounts::other) a.friendly_name = "Acme \"Voice\"\n\x01 \\ é";
  }
  const auto doc = answer_for(*cfg, accounts::other);
  EXPECT_EQ(doc.at("accounts").as_array()[0].at("friendly_name").as_string(),
            "Acme \"Voice\"\n\x01 \\ é");
}

}  // namespace
}  // namespace sidecar::api
