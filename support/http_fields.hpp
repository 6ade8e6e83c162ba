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

/// Content-Length and Transfer-Encoding: how a message's body is delimited on one connection,
/// set by whoever sends it.
[[nodiscard]] constexpr bool is_framing(std::string_view name) {
  return ascii::iequals(name, "content-length") || ascii::iequals(name, "transfer-encoding");
}

/// Whether the Connection fields of `head` name `name` (which makes it hop-by-hop too).
[[nodiscard]] inline bool named_by_connection(const boost::beast::http::fields& head,
                                              std::string_view name) {
  namespace http = boost::beast::http;
  for (auto it = head.find(http::field::connection);
       it != head.end() && it->name() == http::field::connection; ++it) {
    for (const auto token : http::token_list{it->value()}) {
      if (ascii::iequals(token, name)) return true;
    }
  }
  return false;
}

}  // namespace sidecar::http_fields
