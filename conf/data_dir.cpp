// The data directory's own files: its creation (owner-only), the local account of the
// embedded default (generated once, then read back), and the lock that keeps a second
// sidecar out.
#include "conf/data_dir.hpp"

#include <fcntl.h>
#include <openssl/rand.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

#include "conf/config_error.hpp"
#include "conf/detail.hpp"
#include "conf/values.hpp"
#include "support/hex.hpp"
#include "support/log.hpp"

namespace sidecar::conf {
namespace detail {
namespace {

std::string random_hex(std::size_t bytes) {
  std::vector<unsigned char> raw(bytes);
  if (RAND_bytes(raw.data(), static_cast<int>(raw.size())) != 1) {
    throw config_error("cannot generate the local account: the system's random generator failed");
  }
  std::string out;
  hex::append_bytes(out, raw);
  return out;
}

/// The local account file's text, validated.
account parse_local_account(std::string_view text, const std::string& source) {
  const toml::table t = parse_toml(text, source);
  for (const auto& [k, v] : t) {
    if (k.str() != "sid" && k.str() != "auth_token") fail(source, k.str(), "unknown key");
  }
  auto string_key = [&](std::string_view key) {
    const toml::node* n = t.get(key);
    if (n == nullptr) fail(source, key, "missing");
    if (!n->is_string()) {
      fail(source, key, "must be a string, not " + std::string(type_name(n->type())));
    }
    return n->as_string()->get();
  };
  account a;
  a.sid = string_key("sid");
  if (!is_sid(a.sid, "AC")) {
    fail(source, "sid",
         quote(a.sid) + " is not an account SID (AC followed by 32 lower-case hex digits)");
  }
  const std::string token = string_key("auth_token");
  if (token.size() < 32 || token.find_first_of(" \t") != std::string::npos || has_control(token)) {
    fail(source, "auth_token", "must be at least 32 characters without spaces (128 random bits)");
  }
  a.auth_token = token;
  a.friendly_name = "local";
  a.traces = true;
  return a;
}

}  // namespace

void ensure_data_dir(const std::filesystem::path& dir) {
  std::error_code ec;
  const auto parent = dir.parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    const int err = errno;
    throw config_error("data directory " + quote(dir.string()) +
                       ": cannot create it: " + errno_text(err));
  }
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    throw config_error("data directory " + quote(dir.string()) + ": is not a directory");
  }
  if ((st.st_mode & 077) != 0) {
    log::warn("data directory is readable by others; chmod 700 it", {{"path", dir.string()}});
  }
}

account local_account(const std::filesystem::path& file) {
  const std::string source = file.string();
  std::string why;
  struct stat st {};
  std::optional<std::string> text;
  if (::stat(file.c_str(), &st) == 0 || errno != ENOENT) {
    text = read_small_file(file, 64 << 10, why);
    if (!text) fail(source, "", why);
  } else {
    // First start: write a temporary file and link it into place. link() never replaces an
    // existing file, so two first starts racing cannot both win: the loser reads the file.
    const std::string content =
        "# The local account of trace-sidecar's embedded default, generated on first start.\n"
        "# Keep it secret: the token reads every trace of this account.\n"
        "sid = \"AC" +
        random_hex(16) + "\"\n" + "auth_token = \"" + random_hex(16) + "\"\n";
    const std::filesystem::path tmp = file.string() + ".tmp." + std::to_string(::getpid());
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) fail(source, "", "cannot create it: " + errno_text(errno));
    const bool written =
        ::write(fd, content.data(), content.size()) == static_cast<ssize_t>(content.size()) &&
        ::fsync(fd) == 0;
    const int write_errno = errno;
    ::close(fd);
    if (!written) {
      ::unlink(tmp.c_str());
      fail(source, "", "cannot write it: " + errno_text(write_errno));
    }
    const int linked = ::link(tmp.c_str(), file.c_str());
    const int link_errno = errno;
    ::unlink(tmp.c_str());
    if (linked != 0 && link_errno != EEXIST) {
      fail(source, "", "cannot create it: " + errno_text(link_errno));
    }
    text = read_small_file(file, 64 << 10, why);
    if (!text) fail(source, "", why);
  }
  account a = parse_local_account(*text, source);
  if (::stat(file.c_str(), &st) == 0 && (st.st_mode & 077) != 0) {
    log::warn("the local account file is readable by others; chmod 600 it", {{"path", source}});
  }
  return a;
}

void check_data_dir(const std::filesystem::path& dir) {
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0) {
    const int err = errno;
    if (err != ENOENT) {
      throw config_error("data directory " + quote(dir.string()) + ": " + errno_text(err));
    }
    return;  // created at startup (with its parents)
  }
  if (!S_ISDIR(st.st_mode)) {
    throw config_error("data directory " + quote(dir.string()) + ": is not a directory");
  }
  if (::access(dir.c_str(), R_OK | W_OK | X_OK) != 0) {
    const int err = errno;
    throw config_error("data directory " + quote(dir.string()) +
                       ": cannot use it: " + errno_text(err));
  }
}

account read_local_account(const std::filesystem::path& file) {
  struct stat st {};
  if (::stat(file.c_str(), &st) != 0 && errno == ENOENT) {
    account a;  // what startup will generate; its values are never used
    a.sid = "AC00000000000000000000000000000000";
    a.friendly_name = "local";
    a.traces = true;
    return a;
  }
  std::string why;
  const auto text = read_small_file(file, 64 << 10, why);
  if (!text) fail(file.string(), "", why);
  return parse_local_account(*text, file.string());
}

}  // namespace detail

data_dir_lock::data_dir_lock(const std::filesystem::path& dir) {
  detail::ensure_data_dir(dir);
  const std::filesystem::path file = dir / "sidecar.lock";
  fd_ = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd_ < 0) {
    const int err = errno;
    throw config_error("data directory " + quote(dir.string()) + ": cannot open " +
                       quote(file.string()) + ": " + detail::errno_text(err));
  }
  if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    char buf[32] = {};
    const ssize_t n = ::pread(fd_, buf, sizeof buf - 1, 0);
    ::close(fd_);
    fd_ = -1;
    if (err != EWOULDBLOCK) {
      throw config_error("data directory " + quote(dir.string()) + ": cannot lock " +
                         quote(file.string()) + ": " + detail::errno_text(err));
    }
    std::string pid = n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : "";
    while (!pid.empty() && (pid.back() == '\n' || pid.back() == ' ')) pid.pop_back();
    if (pid.empty() || pid.find_first_not_of("0123456789") != std::string::npos) pid = "unknown";
    throw config_error("data directory " + quote(dir.string()) +
                       " is in use by another trace-sidecar (pid " + pid +
                       "): run one sidecar per data directory");
  }
  // Ours now: leave our pid for the next one to name. The file stays (removing a lock file
  // races with a process that has just opened it).
  const std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd_, 0) != 0 ||
      ::pwrite(fd_, pid.data(), pid.size(), 0) != static_cast<ssize_t>(pid.size())) {
    log::warn("cannot write the pid into the lock file", {{"path", file.string()}});
  }
}

data_dir_lock::~data_dir_lock() {
  if (fd_ >= 0) ::close(fd_);
}

}  // namespace sidecar::conf
