// Dot-segment removal (RFC 3986 5.2.4 after percent-decoding) and the paths refused because a
// server behind the sidecar could read them another way.
#include "proxy/path_normalise.hpp"

#include <gtest/gtest.h>

namespace sidecar::proxy {
namespace {

std::string ok(std::string_view target) {
  const auto n = normalise_path(target);
  EXPECT_EQ(n.problem, path_problem::none) << target;
  return n.target;
}

path_problem problem(std::string_view target) { return normalise_path(target).problem; }

TEST(path_normalise, PathsWithoutDotSegmentsAreUnchanged) {
  EXPECT_EQ(ok("/"), "/");
  EXPECT_EQ(ok("/2012-04-24/Accounts/AC1/Calls.json?Page=1"),
            "/2012-04-24/Accounts/AC1/Calls.json?Page=1");
  EXPECT_EQ(ok("/a//b/"), "/a//b/");
  EXPECT_EQ(ok("/a%20b/.hidden/..x/x..?q=/../"), "/a%20b/.hidden/..x/x..?q=/../");
}

TEST(path_normalise, DotSegmentsAreResolvedAsRfc3986Says) {
  EXPECT_EQ(ok("/pub/./a"), "/pub/a");
  EXPECT_EQ(ok("/pub/a/../b"), "/pub/b");
  EXPECT_EQ(ok("/pub/a/.."), "/pub/");
  EXPECT_EQ(ok("/pub/."), "/pub/");
  EXPECT_EQ(ok("/pub/.."), "/");
  EXPECT_EQ(ok("/a//../b"), "/a/b");
  EXPECT_EQ(ok("/a/b/../../c?x=/../y"), "/c?x=/../y");
}

TEST(path_normalise, EncodedDotsAreDotsAfterDecoding) {
  EXPECT_EQ(ok("/pub/%2e%2e/x"), "/x");
  EXPECT_EQ(ok("/pub/.%2E/x"), "/x");
  EXPECT_EQ(ok("/pub/%2E./x"), "/x");
  EXPECT_EQ(ok("/pub/a/%2e/b"), "/pub/a/b");
}

TEST(path_normalise, ClimbingAboveTheRootIsRefused) {
  EXPECT_EQ(problem("/.."), path_problem::climbs_above_root);
  EXPECT_EQ(problem("/a/../../b"), path_problem::climbs_above_root);
  EXPECT_EQ(problem("/%2e%2e/etc/passwd"), path_problem::climbs_above_root);
}

TEST(path_normalise, PathsWithTwoReadingsAreRefused) {
  EXPECT_EQ(problem("/pub/..%2fret200"), path_problem::ambiguous);
  EXPECT_EQ(problem("/pub/..%2Fret200"), path_problem::ambiguous);
  EXPECT_EQ(problem("/pub/a%2fb"), path_problem::ambiguous);
  EXPECT_EQ(problem("/pub/..%5cret200"), path_problem::ambiguous);
  EXPECT_EQ(problem("/pub/..\\ret200"), path_problem::ambiguous);
  EXPECT_EQ(problem("/pub/%252e%252e/x"), path_problem::ambiguous);
  EXPECT_EQ(problem("/pub/%252f"), path_problem::ambiguous);
}

TEST(path_normalise, BrokenPercentEscapesAreMalformed) {
  EXPECT_EQ(problem("/pub/%zz"), path_problem::malformed);
  EXPECT_EQ(problem("/pub/%2"), path_problem::malformed);
  EXPECT_EQ(problem("/pub/%"), path_problem::malformed);
}

TEST(path_normalise, TheQueryIsNeverLookedAt) { EXPECT_EQ(ok("/a?%zz=..%2f\\"), "/a?%zz=..%2f\\"); }

}  // namespace
}  // namespace sidecar::proxy
