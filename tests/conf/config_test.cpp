// What the modules ask of a loaded config: accounts by SID, who may read whose traces, and
// an account's sub-accounts.
#include "conf/config.hpp"

#include <gtest/gtest.h>

#include <set>

#include "conf/load.hpp"

namespace sidecar::conf {
namespace {

// A tree: root -> (child -> grandchild), (other); plus an unrelated top-level account and an
// administrator.
const std::string root = "AC00000000000000000000000000000001";
const std::string child = "AC00000000000000000000000000000002";
const std::string grandchild = "AC00000000000000000000000000000003";
const std::string other = "AC00000000000000000000000000000004";
const std::string stranger = "AC00000000000000000000000000000005";
const std::string admin = "AC00000000000000000000000000000006";

std::shared_ptr<const config> tree() {
  auto acct = [](const std::string& sid, const std::string& parent, bool administrator = false) {
    std::string s = "[[account]]\nsid = \"" + sid + "\"\nauth_token = \"t\"\n";
    if (!parent.empty()) s += "parent = \"" + parent + "\"\n";
    if (administrator) s += "role = \"administrator\"\n";
    return s;
  };
  // Written child-first on purpose: a parent may come later in the file.
  return parse(acct(grandchild, child) + acct(child, root) + acct(root, "") + acct(other, root) +
                   acct(stranger, "") + acct(admin, "", true),
               "tree.toml");
}

TEST(accounts, FindBySid) {
  const auto c = tree();
  ASSERT_NE(c->find_account(child), nullptr);
  EXPECT_EQ(c->find_account(child)->parent, root);
  EXPECT_EQ(c->find_account("AC0000000000000000000000000000000f"), nullptr);
  EXPECT_EQ(c->find_account(""), nullptr);
}

TEST(accounts, AnAccountReadsItselfAndItsSubAccountsTransitively) {
  const auto c = tree();
  const account& r = *c->find_account(root);
  EXPECT_TRUE(c->may_read(r, root));
  EXPECT_TRUE(c->may_read(r, child));
  EXPECT_TRUE(c->may_read(r, grandchild));
  EXPECT_TRUE(c->may_read(r, other));
  EXPECT_FALSE(c->may_read(r, stranger));
  EXPECT_FALSE(c->may_read(r, admin));
}

TEST(accounts, ASubAccountReadsNeitherItsParentNorItsSiblings) {
  const auto c = tree();
  const account& ch = *c->find_account(child);
  EXPECT_TRUE(c->may_read(ch, grandchild));
  EXPECT_FALSE(c->may_read(ch, root));
  EXPECT_FALSE(c->may_read(ch, other));
  EXPECT_FALSE(c->may_read(*c->find_account(grandchild), child));
  EXPECT_FALSE(c->may_read(ch, "AC0000000000000000000000000000000f"));
}

TEST(accounts, AnAdministratorReadsEveryAccount) {
  const auto c = tree();
  const account& a = *c->find_account(admin);
  for (const auto& sid : {root, child, grandchild, other, stranger, admin}) {
    EXPECT_TRUE(c->may_read(a, sid)) << sid;
  }
}

TEST(accounts, SubtreeIsTheRootFirstThenEveryDescendant) {
  const auto c = tree();
  const auto s = c->subtree(root);
  ASSERT_EQ(s.size(), 4u);
  EXPECT_EQ(s[0], root);
  EXPECT_EQ(std::set<std::string>(s.begin(), s.end()),
            (std::set<std::string>{root, child, grandchild, other}));
  EXPECT_EQ(c->subtree(grandchild), std::vector<std::string>{grandchild});
  EXPECT_EQ(c->subtree(stranger), std::vector<std::string>{stranger});
}

TEST(accounts, HandBuiltConfigWithACycleDoesNotLoop) {
  config c;
  account a;
  a.sid = root;
  a.parent = child;
  account b;
  b.sid = child;
  b.parent = root;
  c.accounts = {a, b};
  account reader;
  reader.sid = stranger;
  EXPECT_FALSE(c.may_read(reader, root));
  EXPECT_EQ(c.subtree(root).size(), 2u);
}

TEST(directions, HaveTheirDocumentedNames) {
  EXPECT_EQ(to_string(direction::webhook), "webhook");
  EXPECT_EQ(to_string(direction::api), "api");
}

}  // namespace
}  // namespace sidecar::conf
