// What the API checks of a record before replaying it, and the replay's request body
// (docs/api.md, "Replay").
#include <simdjson.h>

#include <algorithm>
#include <cctype>

#include "store/redact.hpp"
#include "store/replayer.hpp"
#include "support/ascii.hpp"

namespace sidecar::store {
namespace {

constexpr std::string_view replacement = "\xEF\xBF\xBD";  // U+FFFD in UTF-8

bool supplied_has(const header_list& supplied, std::string_view name) {
  return std::any_of(supplied.begin(), supplied.end(),
                     [&](const auto& h) { return ascii::iequals(h.first, name); });
}

}  // namespace

std::string replay_refusal(const trace_record& r, const header_list& supplied) {
  const recorded_body& body = r.request.body;
  if (body.truncated) {
    return "The recorded request body was cut (" + std::to_string(body.body.size()) + " of " +
           std::to_string(body.size) + " bytes kept): it cannot be sent again as it was";
  }
  if (!body.base64 && body.body.find(replacement) != std::string::npos) {
    return "The recorded request body had bytes that are not UTF-8, recorded as U+FFFD: it "
           "cannot be sent again as it was";
  }
  if (!body.base64 && body.body.find(redact::marker) != std::string::npos) {
    return "The recorded request body has a redacted field ([REDACTED]): it cannot be sent "
           "again as it was";
  }
  const auto query = r.request.url.find('?');
  if (query != std::string::npos &&
      std::string_view(r.request.url).substr(query).find(redact::marker) != std::string::npos) {
    return "The recorded request URL has a redacted field ([REDACTED]): it cannot be sent "
           "again as it was";
  }
  for (const auto& [name, value] : r.request.headers) {
    if (value.find(redact::marker) == std::string::npos || supplied_has(supplied, name)) continue;
    return "The recorded request header " + name +
           " was redacted: supply its value in the replay's body, {\"headers\": {\"" + name +
           "\": \"...\"}}";
  }
  return {};
}

std::optional<header_list> decode_replay_body(std::string_view body, std::string& error) {
  header_list out;
  if (std::all_of(body.begin(), body.end(),
                  [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; })) {
    return out;
  }
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  simdjson::dom::object o;
  if (parser.parse(body.data(), body.size()).get(doc) != simdjson::SUCCESS ||
      doc.get_object().get(o) != simdjson::SUCCESS) {
    error = "The replay's body must be a JSON object: {\"headers\": {\"name\": \"value\"}}";
    return std::nullopt;
  }
  for (const auto member : o) {
    if (member.key != "headers") {
      error = "Unknown member \"" + std::string(member.key).substr(0, 64) +
              "\" in the replay's body: only \"headers\" is accepted";
      return std::nullopt;
    }
    simdjson::dom::object headers;
    if (member.value.get_object().get(headers) != simdjson::SUCCESS) {
      error = "\"headers\" must be an object of header names to string values";
      return std::nullopt;
    }
    for (const auto field : headers) {
      std::string_view value;
      const std::string_view name = field.key;
      const bool token = !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) != 0 ||
               std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
      });
      if (!token || field.value.get_string().get(value) != simdjson::SUCCESS ||
          value.find_first_of("\r\n", 0) != std::string_view::npos ||
          value.find('\0') != std::string_view::npos) {
        error =
            "\"headers\" must map header names (tokens) to string values without line "
            "breaks";
        return std::nullopt;
      }
      out.emplace_back(ascii::to_lower(name), std::string(value));
    }
  }
  return out;
}

}  // namespace sidecar::store
