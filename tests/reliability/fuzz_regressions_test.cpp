// Regression tests for what the fuzz targets found, through the real binary: each input that
// crashed is also kept as a seed in tests/fuzz/corpus/<target>/regression-*.seed.
#include <gtest/gtest.h>

#include "tests/reliability/reliability.hpp"

namespace sidecar::testing_support {
namespace {

// fuzz_config: an account whose parent exists but whose grandparent does not made the cycle
// check walk into a missing account (a null dereference) before the missing parent was
// reported. It must be the usual one-line configuration error, exit 2.
TEST(fuzz_regressions, AccountWithAMissingGrandparentIsAConfigErrorNotACrash) {
  const temp_dir dir;
  const auto file = dir.write("sidecar.toml", R"([[account]]
sid = "AC00000000000000000000000000000000"
auth_token = "a"
parent = "AC00000000000000000000000000000002"

[[account]]
sid = "AC00000000000000000000000000000002"
auth_token = "b"
parent = "AC00000000000000000000000000000001"
)");
  process p({SIDECAR_BINARY, "--config", file.string()});
  EXPECT_EQ(p.wait_exit(), 2) << p.err();
  EXPECT_EQ(p.err(), "trace-sidecar: " + file.string() +
                         ": [[account]] #2 parent: \"AC00000000000000000000000000000001\" is not "
                         "a configured account\n");
}

}  // namespace
}  // namespace sidecar::testing_support
