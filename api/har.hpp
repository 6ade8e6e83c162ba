// HAR 1.2 (docs/api.md): a trace record rendered as a HAR entry, and the log around entries.
// Built from the stored record (store/record_decode.hpp); what HAR requires and a record does
// not hold takes HAR's defaults (httpVersion "HTTP/1.1", cookies [], headersSize -1).
//
//   std::string out;
//   append_har_head(out);
//   append_har_entry(out, record, true);   // first entry; then false for the others
//   append_har_tail(out);
#pragma once

#include <string>
#include <string_view>

#include "store/trace_record.hpp"

namespace sidecar::api {

/// {"log":{"version":"1.2","creator":{"name":"trace-sidecar","version":...},"entries":[
void append_har_head(std::string& out);
/// One entry; `first` false puts a comma before it.
void append_har_entry(std::string& out, const store::trace_record& r, bool first);
/// ]}}
void append_har_tail(std::string& out);

/// The entry of a stored record's JSON; false (nothing appended) when it is not a record.
[[nodiscard]] bool append_har_entry(std::string& out, std::string_view record_json, bool first);

/// A whole log of one record.
[[nodiscard]] std::string har_of(const store::trace_record& r);

}  // namespace sidecar::api
