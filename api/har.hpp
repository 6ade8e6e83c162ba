// HAR 1.2 (docs/api.md): a trace record rendered as a HAR entry, and the log around entries.
// Rendered straight from the stored record's JSON (store/record_view.hpp); what HAR requires
// and a record does not hold takes HAR's defaults (httpVersion "HTTP/1.1", cookies [],
// headersSize -1).
//
//   std::string out;
//   append_har_head(out);
//   (void)append_har_entry(out, record_json, true);   // first entry; then false for the others
//   append_har_tail(out);
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sidecar::api {

/// {"log":{"version":"1.2","creator":{"name":"trace-sidecar","version":...},"entries":[
void append_har_head(std::string& out);
/// ]}}
void append_har_tail(std::string& out);

/// The entry of a stored record's JSON (the output of store::to_json); `first` false puts a
/// comma before it. False (nothing appended) when it is not a record.
[[nodiscard]] bool append_har_entry(std::string& out, std::string_view record_json, bool first);

/// A whole log of one stored record; nullopt when it is not a record.
[[nodiscard]] std::optional<std::string> har_of(std::string_view record_json);

}  // namespace sidecar::api
