#include "support/metrics.hpp"

#include <gtest/gtest.h>

namespace sidecar::metrics {
namespace {

TEST(metrics, CountersOfOneFamilyShareHelpAndType) {
  registry r;
  r.add_counter("sidecar_exchanges_total", "Exchanges", {{"direction", "api"}}).inc(3);
  r.add_gauge("sidecar_queue_bytes", "Bytes queued").set(42);
  r.add_counter("sidecar_exchanges_total", "Exchanges", {{"direction", "webhook"}}).inc();
  const std::string text = r.render();
  EXPECT_EQ(text,
            "# HELP sidecar_exchanges_total Exchanges\n"
            "# TYPE sidecar_exchanges_total counter\n"
            "sidecar_exchanges_total{direction=\"api\"} 3\n"
            "sidecar_exchanges_total{direction=\"webhook\"} 1\n"
            "# HELP sidecar_queue_bytes Bytes queued\n"
            "# TYPE sidecar_queue_bytes gauge\n"
            "sidecar_queue_bytes 42\n");
}

TEST(metrics, HistogramBucketsAreCumulativeWithInfSumAndCount) {
  registry r;
  histogram& h = r.add_histogram("sidecar_store_write_seconds", "Batch write latency");
  h.observe(0.0002);
  h.observe(0.003);
  h.observe(5.0);
  const std::string text = r.render();
  EXPECT_NE(text.find("sidecar_store_write_seconds_bucket{le=\"0.0001\"} 0\n"), std::string::npos);
  EXPECT_NE(text.find("sidecar_store_write_seconds_bucket{le=\"0.00025\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("sidecar_store_write_seconds_bucket{le=\"0.005\"} 2\n"), std::string::npos);
  EXPECT_NE(text.find("sidecar_store_write_seconds_bucket{le=\"+Inf\"} 3\n"), std::string::npos);
  EXPECT_NE(text.find("sidecar_store_write_seconds_count 3\n"), std::string::npos);
}

TEST(metrics, CallbackIsReadAtScrapeTime) {
  registry r;
  double v = 1;
  r.add_callback("sidecar_store_disk_bytes", "Disk", [&v] { return v; });
  v = 2048;
  EXPECT_NE(r.render().find("sidecar_store_disk_bytes 2048\n"), std::string::npos);
}

TEST(metrics, LabelValuesAreEscaped) {
  registry r;
  r.add_counter("c", "h", {{"kind", "a\"b\\c"}}).inc();
  EXPECT_NE(r.render().find("c{kind=\"a\\\"b\\\\c\"} 1\n"), std::string::npos);
}

}  // namespace
}  // namespace sidecar::metrics
