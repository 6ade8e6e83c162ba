// Which header fields belong to one connection rather than to the message (RFC 9110 section
// 7.6.1), the one list the proxy, the media cache and the curl command share.
#pragma once

#include <boost/beast/http/fields.hpp>
#include <boost/beast/http/rfc7230.hpp>
#include <string_view>

#include "support/ascii.hpp"

namespace sidecar::http_fields {

/// Connection, Keep-Alive, TE, Trailer, Upgrade and every Proxy-* field.
[[nodiscard]] constexpr bool is_hop_by_hop(std::string_view name) {
  for (const std::string_view hop : {"connection", "keep-alive", "te", "trailer", "upgrade"}) {
    if (ascii::iequals(name, hop)) return true;
  }
  return ascii::istarts_with(name, "proxy-");
}

/// The same for a field as a parser names it: by Beast's enum when Beast knows the name (the
/// rule above applied once to every name it knows), else by the name itself.
[[nodiscard]] bool is_hop_by_hop(boost::beast::http::field name, std::string_view name_string);

/// Content-Length and Transfer-Encoding: how a message's body is delimited on one connection,
/// set by whoever sends it.
[[nodiscard]] constexpr bool is_framing(std::string_view name) {
  return ascii::iequals(name, "content-length") || ascii::iequals(name, "transfer-encoding");
}

/// Calls f(value) for each field named `name` (case-insensitive), in wire order, of Beast's
/// basic_fields or the proxy's head_fields (support/head_fields.hpp). Not Beast's
/// equal_range: in Boost 1.81 its range runs in wire order from the first such field to the
/// last, so with two non-adjacent ones it also yields every field between them; nor find() and
/// ++, which stop at the first field of another name.
template <class Fields, class F>
void for_each_value(const Fields& head, std::string_view name, F&& f) {
  for (const auto& field : head) {
    if (ascii::iequals(field.name_string(), name)) f(field.value());
  }
}

/// The same for a field Beast knows by name (compared as an enum).
template <class Fields, class F>
void for_each_value(const Fields& head, boost::beast::http::field name, F&& f) {
  for (const auto& field : head) {
    if (field.name() == name) f(field.value());
  }
}

/// Whether the Connection fields of `head` (all of them, adjacent or not) name `name` (which
/// makes it hop-by-hop too).
template <class Fields>
[[nodiscard]] bool named_by_connection(const Fields& head, std::string_view name) {
  namespace http = boost::beast::http;
  bool named = false;
  for_each_value(head, http::field::connection, [&](std::string_view value) {
    for (const auto token : http::token_list{value}) {
      if (ascii::iequals(token, name)) named = true;
    }
  });
  return named;
}

}  // namespace sidecar::http_fields
