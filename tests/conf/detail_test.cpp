// The loader's shared helpers (conf/detail.hpp): one-line errors, small files read with a
// bound, control characters, TOML syntax errors with their position, and the data directory
// created owner-only or refused with a reason.
#include "conf/detail.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <string>

#include "conf/config_error.hpp"

namespace sidecar::conf::detail {
namespace {

namespace fs = std::filesystem;

class detail_test : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("conf-detail-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path write(const std::string& name, const std::string& bytes) {
    std::ofstream(dir_ / name, std::ios::binary) << bytes;
    return dir_ / name;
  }
  static unsigned mode_of(const fs::path& p) {
    struct stat st {};
    ::stat(p.c_str(), &st);
    return st.st_mode & 0777;
  }
  fs::path dir_;
};

TEST_F(detail_test, FailIsOneLineWithSourceWhereAndProblem) {
  try {
    fail("sidecar.toml", "[proxy] listen", "not an address:\n\"x\"\x1b[31m");
    FAIL();
  } catch (const config_error& e) {
    const std::string what = e.what();
    EXPECT_EQ(what.rfind("sidecar.toml: [proxy] listen: not an address:", 0), 0u) << what;
    EXPECT_FALSE(has_control(what)) << "control characters replaced: " << what;
  }
  try {
    fail("command line", "", "unknown option");
    FAIL();
  } catch (const config_error& e) {
    EXPECT_STREQ(e.what(), "command line: unknown option");
  }
}

TEST_F(detail_test, ErrnoTextIsStrerror) {
  EXPECT_EQ(errno_text(ENOENT), "No such file or directory");
  EXPECT_EQ(errno_text(EACCES), "Permission denied");
}

TEST_F(detail_test, ASmallFileIsReadWholeAndABigOneRefusedUnread) {
  std::string why;
  const std::string bytes("a\0b\nc", 5);
  EXPECT_EQ(read_small_file(write("small", bytes), 5, why), bytes);
  EXPECT_FALSE(read_small_file(write("big", std::string(6, 'x')), 5, why));
  EXPECT_FALSE(why.empty());
  why.clear();
  EXPECT_FALSE(read_small_file(dir_ / "missing", 100, why));
  EXPECT_NE(why.find("No such file or directory"), std::string::npos) << why;
  why.clear();
  EXPECT_FALSE(read_small_file(dir_, 100, why)) << "a directory is not a file";
  EXPECT_FALSE(why.empty());
}

TEST_F(detail_test, ControlCharactersAreBelowSpaceAndDelete) {
  EXPECT_FALSE(has_control("plain text, with ünïcode"));
  EXPECT_TRUE(has_control("tab\there"));
  EXPECT_TRUE(has_control("nl\n"));
  EXPECT_TRUE(has_control(std::string_view("nul\0", 4)));
  EXPECT_TRUE(has_control("del\x7f"));
  EXPECT_FALSE(has_control(""));
}

TEST_F(detail_test, TomlSyntaxErrorsSayWhere) {
  const auto ok = parse_toml("[proxy]\nlisten = \"127.0.0.1:8080\"\n", "sidecar.toml");
  EXPECT_EQ(ok["proxy"]["listen"].value_or(std::string()), "127.0.0.1:8080");
  try {
    (void)parse_toml("[proxy]\nlisten = \n", "sidecar.toml");
    FAIL();
  } catch (const config_error& e) {
    EXPECT_EQ(std::string(e.what()).rfind("sidecar.toml:2:", 0), 0u) << e.what();
  }
  EXPECT_EQ(type_name(toml::node_type::string), "a string");
  EXPECT_EQ(type_name(toml::node_type::integer), "an integer");
}

TEST_F(detail_test, TheDataDirectoryIsCreatedOwnerOnlyWithItsParents) {
  const fs::path data = dir_ / "a" / "b" / "data";
  check_data_dir(data);  // a missing one with a parent that can be created
  EXPECT_FALSE(fs::exists(data)) << "the check changes nothing";
  ensure_data_dir(data);
  ASSERT_TRUE(fs::is_directory(data));
  EXPECT_EQ(mode_of(data), 0700u);
  ensure_data_dir(data);  // an existing one is kept
  check_data_dir(data);
}

TEST_F(detail_test, ADataDirectoryThatIsAFileIsRefused) {
  const fs::path file = write("not-a-dir", "x");
  EXPECT_THROW(ensure_data_dir(file), config_error);
  EXPECT_THROW(check_data_dir(file), config_error);
  EXPECT_THROW(ensure_data_dir(file / "below"), config_error);
}

TEST_F(detail_test, TheLocalAccountIsGeneratedOnceAndReadBackTheSame) {
  const fs::path file = dir_ / "local-account.toml";
  const account stand_in = read_local_account(file);
  EXPECT_FALSE(fs::exists(file)) << "reading writes nothing";
  EXPECT_EQ(stand_in.sid.rfind("AC", 0), 0u);
  const account made = local_account(file);
  ASSERT_TRUE(fs::exists(file));
  EXPECT_EQ(mode_of(file), 0600u);
  EXPECT_EQ(made.sid.size(), 34u);
  const account again = local_account(file);
  EXPECT_EQ(again.sid, made.sid);
  EXPECT_EQ(read_local_account(file).sid, made.sid);
  write("local-account.toml", "sid = 42\n");
  EXPECT_THROW((void)local_account(file), config_error) << "a damaged file is not replaced";
}

}  // namespace
}  // namespace sidecar::conf::detail
