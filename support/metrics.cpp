// Process metrics: see metrics.hpp.
#include "support/metrics.hpp"

#include <algorithm>
#include <cstdio>

namespace sidecar::metrics {

void histogram::observe(double seconds) noexcept {
  const auto it = std::lower_bound(bounds.begin(), bounds.end(), seconds);
  buckets_[static_cast<std::size_t>(it - bounds.begin())].fetch_add(1, std::memory_order_relaxed);
  const double micros = seconds > 0 ? seconds * 1e6 : 0;
  sum_micros_.fetch_add(static_cast<std::uint64_t>(micros), std::memory_order_relaxed);
}

histogram::snapshot histogram::read() const noexcept {
  snapshot s;
  std::uint64_t running = 0;
  for (std::size_t i = 0; i < buckets_.size(); ++i) {
    running += buckets_[i].load(std::memory_order_relaxed);
    s.cumulative[i] = running;
  }
  s.sum = static_cast<double>(sum_micros_.load(std::memory_order_relaxed)) / 1e6;
  return s;
}

counter& registry::add_counter(std::string_view name, std::string_view help, labels l) {
  std::lock_guard lock(mu_);
  counters_.emplace_back();
  entries_.push_back({std::string(name), std::string(help), std::move(l), kind::counter,
                      counters_.size() - 1});
  return counters_.back();
}

gauge& registry::add_gauge(std::string_view name, std::string_view help, labels l) {
  std::lock_guard lock(mu_);
  gauges_.emplace_back();
  entries_.push_back(
      {std::string(name), std::string(help), std::move(l), kind::gauge, gauges_.size() - 1});
  return gauges_.back();
}

histogram& registry::add_histogram(std::string_view name, std::string_view help, labels l) {
  std::lock_guard lock(mu_);
  histograms_.emplace_back();
  entries_.push_back({std::string(name), std::string(help), std::move(l), kind::histogram,
                      histograms_.size() - 1});
  return histograms_.back();
}

void registry::add_callback(std::string_view name, std::string_view help,
                            std::function<double()> read, labels l, bool monotonic) {
  std::lock_guard lock(mu_);
  callbacks_.push_back(std::move(read));
  entries_.push_back({std::string(name), std::string(help), std::move(l),
                      monotonic ? kind::counter_callback : kind::callback, callbacks_.size() - 1});
}

namespace {

void append_labels(std::string& out, const labels& l, std::string_view extra_key = {},
                   std::string_view extra_value = {}) {
  if (l.empty() && extra_key.empty()) return;
  out.push_back('{');
  bool first = true;
  auto one = [&](std::string_view k, std::string_view v) {
    if (!first) out.push_back(',');
    first = false;
    out.append(k);
    out.append("=\"");
    for (char c : v) {
      if (c == '\\' || c == '"') out.push_back('\\');
      if (c == '\n') {
        out.append("\\n");
        continue;
      }
      out.push_back(c);
    }
    out.push_back('"');
  };
  for (const auto& [k, v] : l) one(k, v);
  if (!extra_key.empty()) one(extra_key, extra_value);
  out.push_back('}');
}

void append_number(std::string& out, double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  out.append(buf);
}

}  // namespace

std::string registry::render() const {
  std::lock_guard lock(mu_);
  std::string out;
  out.reserve(entries_.size() * 96);
  std::vector<const entry*> sorted;
  sorted.reserve(entries_.size());
  for (const auto& e : entries_) sorted.push_back(&e);
  // Samples of one metric family must be adjacent, under one HELP and TYPE.
  std::stable_sort(sorted.begin(), sorted.end(),
                   [](const entry* a, const entry* b) { return a->name < b->name; });
  std::string_view last;
  for (const entry* e : sorted) {
    if (e->name != last) {
      last = e->name;
      out.append("# HELP ").append(e->name).append(" ").append(e->help).append("\n");
      const char* type = e->k == kind::counter || e->k == kind::counter_callback ? "counter"
                         : e->k == kind::histogram                               ? "histogram"
                                                                                 : "gauge";
      out.append("# TYPE ").append(e->name).append(" ").append(type).append("\n");
    }
    switch (e->k) {
      case kind::counter:
        out.append(e->name);
        append_labels(out, e->lbls);
        out.push_back(' ');
        out.append(std::to_string(counters_[e->index].value()));
        out.push_back('\n');
        break;
      case kind::gauge:
        out.append(e->name);
        append_labels(out, e->lbls);
        out.push_back(' ');
        out.append(std::to_string(gauges_[e->index].value()));
        out.push_back('\n');
        break;
      case kind::callback:
      case kind::counter_callback:
        out.append(e->name);
        append_labels(out, e->lbls);
        out.push_back(' ');
        append_number(out, callbacks_[e->index]());
        out.push_back('\n');
        break;
      case kind::histogram: {
        const auto snap = histograms_[e->index].read();
        for (std::size_t i = 0; i < snap.cumulative.size(); ++i) {
          char le[32];
          if (i < histogram::bounds.size()) {
            std::snprintf(le, sizeof le, "%g", histogram::bounds[i]);
          } else {
            std::snprintf(le, sizeof le, "+Inf");
          }
          out.append(e->name).append("_bucket");
          append_labels(out, e->lbls, "le", le);
          out.push_back(' ');
          out.append(std::to_string(snap.cumulative[i]));
          out.push_back('\n');
        }
        out.append(e->name).append("_sum");
        append_labels(out, e->lbls);
        out.push_back(' ');
        append_number(out, snap.sum);
        out.push_back('\n');
        out.append(e->name).append("_count");
        append_labels(out, e->lbls);
        out.push_back(' ');
        out.append(std::to_string(snap.cumulative.back()));
        out.push_back('\n');
        break;
      }
    }
  }
  return out;
}

}  // namespace sidecar::metrics
