// Process metrics from /proc: see process_metrics.hpp.
#include "support/process_metrics.hpp"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <string>

namespace sidecar::metrics {
namespace {

double cpu_seconds() {
  rusage u{};
  if (getrusage(RUSAGE_SELF, &u) != 0) return 0;
  auto secs = [](const timeval& t) { return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6; };
  return secs(u.ru_utime) + secs(u.ru_stime);
}

double resident_bytes() {
  std::ifstream statm("/proc/self/statm");
  long pages_total = 0, pages_resident = 0;
  if (!(statm >> pages_total >> pages_resident)) return 0;
  return static_cast<double>(pages_resident) * static_cast<double>(sysconf(_SC_PAGESIZE));
}

double open_fds() {
  DIR* d = opendir("/proc/self/fd");
  if (d == nullptr) return 0;
  long n = 0;
  while (const dirent* e = readdir(d)) {
    if (e->d_name[0] != '.') ++n;
  }
  closedir(d);
  return static_cast<double>(n - 1);  // not the descriptor of the listing itself
}

// The process's start in seconds since the epoch: its start in clock ticks after boot
// (field 22 of /proc/self/stat) plus the boot time (btime of /proc/stat).
double start_time() {
  std::ifstream stat("/proc/self/stat");
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  const auto close = text.rfind(')');  // the command name may hold spaces
  std::ifstream system_stat("/proc/stat");
  std::string key;
  double boot = 0;
  while (system_stat >> key) {
    if (key == "btime") {
      system_stat >> boot;
      break;
    }
  }
  if (close == std::string::npos || boot == 0) {
    return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
  // `at` is the space before field `next`; field 3 follows ')'.
  std::size_t next = 3;
  std::size_t at = close + 1;
  while (next < 22 && at != std::string::npos) {
    at = text.find(' ', at + 1);
    ++next;
  }
  const double ticks = at == std::string::npos ? 0 : std::stod(text.substr(at + 1));
  return boot + ticks / static_cast<double>(sysconf(_SC_CLK_TCK));
}

}  // namespace

void add_process_metrics(registry& r, std::string_view version) {
  r.add_gauge("sidecar_build_info", "The running build; the value is always 1",
              {{"version", std::string(version)}})
      .set(1);
  r.add_callback("process_cpu_seconds_total", "User and system CPU time spent, in seconds",
                 cpu_seconds, {}, true);
  r.add_callback("process_resident_memory_bytes", "Resident memory size in bytes", resident_bytes);
  r.add_callback("process_open_fds", "Open file descriptors", open_fds);
  const double started = start_time();
  r.add_callback("process_start_time_seconds",
                 "Start time of the process since the epoch, in seconds",
                 [started] { return started; });
}

}  // namespace sidecar::metrics
