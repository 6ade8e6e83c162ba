// The process metrics (support/process_metrics.hpp, docs/operations.md "Metrics"), read from
// /proc when scraped: present with the names every Prometheus exporter uses, and plausible
// for this very process.
#include "support/process_metrics.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <string>

#include "support/metrics.hpp"

namespace sidecar::metrics {
namespace {

/// The value of the sample line that starts with `name` (followed by a space), or -1.
double sample(const std::string& text, const std::string& name) {
  for (std::size_t at = 0; at < text.size();) {
    const auto eol = text.find('\n', at);
    const std::string line = text.substr(at, eol - at);
    at = eol == std::string::npos ? text.size() : eol + 1;
    if (line.rfind(name + " ", 0) == 0) return std::stod(line.substr(name.size() + 1));
  }
  return -1;
}

TEST(process_metrics, EveryExportersNamesArePresentAndPlausible) {
  registry r;
  add_process_metrics(r, "1.2.3-test");
  // Some CPU to count.
  const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(30);
  volatile unsigned spin = 0;
  while (std::chrono::steady_clock::now() < until) spin = spin + 1;
  const std::string text = r.render();

  EXPECT_GT(sample(text, "process_cpu_seconds_total"), 0.0) << text;
  const double rss = sample(text, "process_resident_memory_bytes");
  EXPECT_GT(rss, 1 << 20) << "a C++ test program holds more than a MiB";
  EXPECT_LT(rss, 4.0 * (1u << 30));
  EXPECT_GE(sample(text, "process_open_fds"), 3) << "stdin, stdout, stderr at least";
  const double start = sample(text, "process_start_time_seconds");
  const double now = static_cast<double>(std::chrono::duration_cast<std::chrono::seconds>(
                                             std::chrono::system_clock::now().time_since_epoch())
                                             .count());
  EXPECT_LE(start, now + 1);
  EXPECT_GT(start, now - 24 * 3600) << "this process started within the day";
  EXPECT_NE(text.find("sidecar_build_info{version=\"1.2.3-test\"} 1"), std::string::npos) << text;
}

TEST(process_metrics, OpenFdsFollowTheProcessAtEachScrape) {
  registry r;
  add_process_metrics(r, "x");
  const double before = sample(r.render(), "process_open_fds");
  const int fds[] = {::open("/dev/null", O_RDONLY | O_CLOEXEC),
                     ::open("/dev/null", O_RDONLY | O_CLOEXEC)};
  const double during = sample(r.render(), "process_open_fds");
  for (const int fd : fds) ::close(fd);
  EXPECT_EQ(during, before + 2);
  EXPECT_EQ(sample(r.render(), "process_open_fds"), before);
}

}  // namespace
}  // namespace sidecar::metrics
