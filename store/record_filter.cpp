// Method and RequestBody: the covering entry first, the record when it must.
#include "store/record_filter.hpp"

#include "store/record_decode.hpp"
#include "support/ascii.hpp"

namespace sidecar::store {

record_filter::record_filter(const trace_filter& f)
    : f_(f),
      method_(f.method && !f.method->empty()),
      body_(f.request_body_contains && !f.request_body_contains->empty()) {
  if (method_) method_code_ = codec::method_code(*f.method);
}

record_filter::verdict record_filter::on_covering(const codec::covering& c) const {
  bool read = body_;
  if (method_) {
    if (c.method == codec::method_unknown) {
      read = true;  // an entry written before methods were indexed
    } else if (c.method != method_code_) {
      return verdict::no;
    } else if (c.method == codec::method_other) {
      read = true;  // both unusual methods: the names decide
    }
  }
  return read ? verdict::read : verdict::yes;
}

bool record_filter::on_record(std::string_view json) const {
  std::string method, body;
  if (!decode_request_parts(json, method, body)) return false;
  if (method_ && !ascii::iequals(method, *f_.method)) return false;
  if (body_ && body.find(*f_.request_body_contains) == std::string::npos) return false;
  return true;
}

}  // namespace sidecar::store
