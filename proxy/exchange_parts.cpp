// The sidecar's own answers, the body and header helpers of an exchange, and its retry rules.
#include "proxy/exchange_parts.hpp"

#include <algorithm>
#include <boost/container/small_vector.hpp>

#include "support/http_fields.hpp"
#include "support/json.hpp"

namespace sidecar::proxy {

// The error body of docs/api.md, {"message": "...", "status": N}, by the one JSON encoder.
std::string json_error(int status, std::string_view message) {
  std::string body;
  json::writer w(body);
  w.begin_object().key("message").value(message).key("status").value(std::int64_t{status});
  w.end_object();
  return body;
}

std::string_view local_message(int status) {
  switch (status) {
    case 400:
      return "bad request";
    case 403:
      return "forbidden";
    case 404:
      return "no route for this request";
    case 405:
      return "method not allowed";
    case 414:
      return "request target too long";
    case 431:
      return "request header fields too large";
    case 503:
      return "too many connections";
    default:
      return "error";
  }
}

/// An answer of the sidecar's own (docs/proxy.md): {"message": ..., "status": N}, the
/// message of a local answer unless one is given (a 502/504 names its exchange error).
http::response<http::string_body> local_response(int status, bool keep_alive, unsigned version,
                                                 std::string_view message) {
  http::response<http::string_body> res{static_cast<http::status>(status),
                                        version < 10 ? 11 : version};
  res.set(http::field::content_type, "application/json");
  res.body() = json_error(status, message.empty() ? local_message(status) : message);
  // Every method but CONNECT is forwarded; HTTP requires a 405 to say which are allowed.
  if (status == 405) {
    res.set(http::field::allow, "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS, TRACE");
  }
  res.keep_alive(keep_alive);
  res.prepare_payload();
  return res;
}

namespace {

// Removes the fields that Connection names (the hop-by-hop fields go in hop_by_hop_dropped's
// pass). No copy: the names are read in place, which holds because a Connection field is
// erased only in that second pass (a hop-by-hop name is never erased as a listed one), and
// because erasing a field keeps every other field's bytes where they are (basic_fields frees
// only that field; head_fields keeps all bytes).
template <class Fields>
void strip_listed(Fields& f) {
  // Every Connection field, adjacent or not. The values are listed before any field goes:
  // head_fields' walk is by position, which an erase shifts.
  boost::container::small_vector<std::string_view, 4> listed;
  http_fields::for_each_value(f, http::field::connection,
                              [&](std::string_view value) { listed.push_back(value); });
  for (const std::string_view value : listed) {
    // An upstream's usual keep-alive names a hop-by-hop field only: no list to read.
    if (ascii::iequals(value, "keep-alive")) continue;
    for (const auto token : http::token_list{value}) {
      // Framing and Host are the proxy's to set, never a client's to remove.
      if (http_fields::is_hop_by_hop(token) || http_fields::is_framing(token) ||
          beast::iequals(token, "host")) {
        continue;
      }
      f.erase(std::string_view(token.data(), token.size()));
    }
  }
}

// A hop-by-hop field, which goes; Upgrade stays when `keep_upgrade`.
bool hop_by_hop_dropped(http::field name, std::string_view name_string, bool keep_upgrade) {
  return http_fields::is_hop_by_hop(name, name_string) &&
         !(keep_upgrade && name == http::field::upgrade);
}

}  // namespace

void strip_hop_by_hop(head_fields& f, bool keep_upgrade) {
  strip_listed(f);
  f.erase_fields([&](http::field name, std::string_view name_string) {
    return hop_by_hop_dropped(name, name_string, keep_upgrade);
  });
}

void strip_hop_by_hop(http::fields& f, bool keep_upgrade) {
  strip_listed(f);
  for (auto it = f.begin(); it != f.end();) {
    const bool hop = hop_by_hop_dropped(it->name(), it->name_string(), keep_upgrade);
    it = hop ? f.erase(it) : std::next(it);
  }
}

store::field_list to_field_list(const head_fields& f) { return store::field_list::of(f); }
store::field_list to_field_list(const http::fields& f) { return store::field_list::of(f); }

void keep_head(store::captured_body& body, const char* data, std::size_t n, std::size_t limit,
               bool keep) {
  body.size += n;
  if (keep && body.head.size() < limit) {
    body.head.append(data, std::min(n, limit - body.head.size()));
  }
}

bool is_idempotent(std::string_view method) noexcept {
  return method == "GET" || method == "HEAD" || method == "OPTIONS" || method == "TRACE" ||
         method == "PUT" || method == "DELETE";
}

bool is_closed(const beast::error_code& ec) {
  return ec == http::error::end_of_stream || ec == net::error::eof ||
         ec == net::error::connection_reset || ec == http::error::partial_message ||
         ec == net::ssl::error::stream_truncated;
}

}  // namespace sidecar::proxy
