// The data directory's lock: created owner-only, and one sidecar per data directory.
#include "conf/data_dir.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "conf/load.hpp"
#include "tests/common/temp_dir.hpp"

namespace sidecar::conf {
namespace {

using testing_support::temp_dir;

std::string lock_error(const std::filesystem::path& dir) {
  try {
    const data_dir_lock lock(dir);
    return "locked";
  } catch (const config_error& e) {
    return e.what();
  }
}

TEST(data_dir_lock, CreatesTheDirectoryForItsOwnerOnly) {
  const temp_dir tmp;
  const auto dir = tmp / "a" / "b" / "data";
  const data_dir_lock lock(dir);
  struct stat st {};
  ASSERT_EQ(::stat(dir.c_str(), &st), 0);
  EXPECT_TRUE(S_ISDIR(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  EXPECT_EQ(testing_support::read_file(dir / "sidecar.lock"), std::to_string(::getpid()) + "\n");
}

TEST(data_dir_lock, SecondHolderInTheSameProcessIsRefused) {
  const temp_dir tmp;
  const data_dir_lock first(tmp.path());
  EXPECT_EQ(lock_error(tmp.path()), "data directory \"" + tmp.path().string() +
                                        "\" is in use by another trace-sidecar (pid " +
                                        std::to_string(::getpid()) +
                                        "): run one sidecar per data directory");
}

TEST(data_dir_lock, ReleasedWhenDestroyed) {
  const temp_dir tmp;
  { const data_dir_lock first(tmp.path()); }
  EXPECT_EQ(lock_error(tmp.path()), "locked");
}

TEST(data_dir_lock, AnotherProcessHoldingItIsNamedByPid) {
  const temp_dir tmp;
  int to_child[2];
  int from_child[2];
  ASSERT_EQ(::pipe(to_child), 0);
  ASSERT_EQ(::pipe(from_child), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // The child takes the lock, says so, and holds it until the parent writes (or exits).
    char c = 0;
    try {
      const data_dir_lock lock(tmp.path());
      c = 'L';
      (void)!::write(from_child[1], &c, 1);
      (void)!::read(to_child[0], &c, 1);
    } catch (...) {
      c = 'E';
      (void)!::write(from_child[1], &c, 1);
    }
    ::_exit(0);
  }
  char c = 0;
  ASSERT_EQ(::read(from_child[0], &c, 1), 1);
  ASSERT_EQ(c, 'L');
  EXPECT_EQ(lock_error(tmp.path()), "data directory \"" + tmp.path().string() +
                                        "\" is in use by another trace-sidecar (pid " +
                                        std::to_string(child) +
                                        "): run one sidecar per data directory");
  (void)!::write(to_child[1], &c, 1);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFEXITED(status));
  // The child is gone, and so is its lock.
  EXPECT_EQ(lock_error(tmp.path()), "locked");
  for (int fd : {to_child[0], to_child[1], from_child[0], from_child[1]}) ::close(fd);
}

TEST(data_dir_lock, PathThatIsAFileIsAnError) {
  const temp_dir tmp;
  const auto file = tmp.write("file", "x");
  EXPECT_EQ(lock_error(file), "data directory \"" + file.string() + "\": is not a directory");
}

}  // namespace
}  // namespace sidecar::conf
