// Reading a stored record's JSON (the encoding of store/trace_record.hpp) back into a
// trace_record: for the resources that render a record in another form (HAR, curl) and for
// the filters that look inside the record (Method on old entries, RequestBody).
#pragma once

#include <optional>
#include <string_view>

#include "store/trace_record.hpp"

namespace sidecar::store {

/// The record `json` encodes (the output of to_json), or nullopt when it is not one. Fields a
/// record may lack (error, body_encoding, ...) take their defaults; created_ms comes from the
/// sid. A body that was not cut gets `size` from its recorded bytes (decoded from base64 when
/// it is base64).
[[nodiscard]] std::optional<trace_record> decode_record(std::string_view json);

/// Only request.method and request.body of `json` (what the record filters read), into
/// `method` and `body`; false when `json` is not a record.
[[nodiscard]] bool decode_request_parts(std::string_view json, std::string& method,
                                        std::string& body);

/// The session_sid of a record's JSON; empty when it has none or the JSON cannot be read up
/// to it. It stops at the field (a purge reads one per record it deletes): what follows is not
/// checked.
[[nodiscard]] std::string decode_session_sid(std::string_view json);

}  // namespace sidecar::store
