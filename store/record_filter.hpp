// The list filters that look inside the record (Method, RequestBody; docs/store.md): Method is
// decided by the covering entry's method code when it has one, RequestBody (and Method on an
// entry without a code, or of an unusual method) by reading the record itself.
#pragma once

#include <string_view>

#include "store/store_codec.hpp"
#include "store/trace_query.hpp"

namespace sidecar::store {

class record_filter {
 public:
  explicit record_filter(const trace_filter& f);

  /// Whether Method or RequestBody is set.
  [[nodiscard]] bool active() const { return method_ || body_; }
  /// Whether Method is set (a covering filter: it needs the covering entries).
  [[nodiscard]] bool has_method() const { return method_; }

  enum class verdict { no, yes, read };
  /// What a covering entry decides for these filters: no, yes, or read (the record decides).
  [[nodiscard]] verdict on_covering(const codec::covering& c) const;
  /// What the record decides (`json`: the record, its response body possibly left out).
  [[nodiscard]] bool on_record(std::string_view json) const;

 private:
  const trace_filter& f_;
  bool method_ = false;
  bool body_ = false;
  std::uint8_t method_code_ = codec::method_unknown;
};

}  // namespace sidecar::store
