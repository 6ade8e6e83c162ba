// Fuzzes the proxy's reading of a client's request exactly as proxy/session.cpp does it: the
// strict head scan (proxy/framing.hpp), then the proxy's request_parser (Beast's parser into
// head_fields) on the head (header_limit = head + 1, no body limit), normalise_request_framing,
// then the body streamed through a fixed buffer. Beyond "no crash": a head the proxy accepts
// must frame its body unambiguously, and the head it would forward must be read the same way by
// a second parser (what the upstream sees is what the proxy saw: no smuggling).
#include <fuzzer/FuzzedDataProvider.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "proxy/framing.hpp"
#include "proxy/path_normalise.hpp"
#include "proxy/upgrade.hpp"
#include "support/ascii.hpp"
#include "support/head_parser.hpp"

namespace {

using namespace sidecar;

[[noreturn]] void fail(const char* what, std::string_view detail) {
  std::fprintf(stderr, "http_request_fuzz: %s\n%.*s\n", what, static_cast<int>(detail.size()),
               detail.data());
  std::abort();
}

struct framing {
  bool chunked = false;
  std::optional<std::uint64_t> length;
  bool operator==(const framing&) const = default;
};

/// The head as the proxy forwards it (fields in order, after normalisation).
std::string forwarded_head(const proxied_request& req) {
  std::string h = std::string(req.method_string()) + " " + std::string(req.target()) +
                  (req.version() == 10 ? " HTTP/1.0\r\n" : " HTTP/1.1\r\n");
  for (const auto& f : req) {
    h += std::string(f.name_string()) + ": " + std::string(f.value()) + "\r\n";
  }
  return h + "\r\n";
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider in(data, size);
  const std::size_t max_header_bytes = in.ConsumeIntegralInRange<std::size_t>(64, 8192);
  const std::size_t body_chunk = in.ConsumeIntegralInRange<std::size_t>(1, 4096);
  const std::string bytes = in.ConsumeRemainingBytesAsString();

  const auto scan = proxy::scan_request_head(bytes, max_header_bytes);
  if (scan.skip > bytes.size()) fail("skip beyond the input", bytes);
  if (scan.result != proxy::head_scan_result::complete) return 0;
  if (scan.head_size == 0 || scan.skip + scan.head_size > bytes.size())
    fail("bad head size", bytes);
  if (scan.head_size > max_header_bytes) fail("complete head over the limit", bytes);
  const std::string_view head = std::string_view(bytes).substr(scan.skip, scan.head_size);
  if (!head.ends_with("\r\n\r\n")) fail("complete head without its blank line", head);

  request_parser parser;
  parser.header_limit(static_cast<std::uint32_t>(scan.head_size + 1));
  parser.body_limit(boost::none);
  beast::error_code ec;
  parser.put(net::buffer(head.data(), head.size()), ec);
  if (ec || !parser.is_header_done()) return 0;  // 400
  auto& req = parser.get();
  if (!proxy::normalise_request_framing(req, req.version())) return 0;  // 400

  // Accepted: the framing is one of none, chunked or one Content-Length.
  const auto te = req.count(http::field::transfer_encoding);
  const auto cl = req.count(http::field::content_length);
  if (te > 0 && cl > 0) fail("both Transfer-Encoding and Content-Length accepted", head);
  if (te > 1 || cl > 1) fail("repeated framing header accepted", head);
  const framing seen{parser.chunked(), parser.content_length()
                                           ? std::optional(*parser.content_length())
                                           : std::nullopt};

  // The path as routed and forwarded: no dot-segment left, and normalising again changes
  // nothing (what the upstream resolves is what the sidecar routed).
  if (req.target().starts_with('/')) {
    const auto path = proxy::normalise_path(req.target());
    if (path.problem == proxy::path_problem::none) {
      const std::string_view p = std::string_view(path.target).substr(0, path.target.find('?'));
      if (!p.starts_with('/')) fail("normalised path without its slash", path.target);
      if (p.find("/./") != std::string_view::npos || p.find("/../") != std::string_view::npos ||
          p.ends_with("/.") || p.ends_with("/..")) {
        fail("dot-segment left in a normalised path", path.target);
      }
      const auto again = proxy::normalise_path(path.target);
      if (again.problem != proxy::path_problem::none || again.target != path.target) {
        fail("normalising twice changes the path", path.target);
      }
    }
  }
  // The upgrade as forwarded: never h2c, never HTTP2-Settings.
  {
    head_fields upgraded;
    for (const auto& f : req) upgraded.insert(f.name_string(), f.value());
    const bool upgrading = proxy::keep_enabled_upgrades(upgraded, parser.upgrade(), {"websocket"});
    if (upgraded.count("HTTP2-Settings") != 0) fail("HTTP2-Settings forwarded", head);
    // Each token kept names an enabled protocol, so never h2c: its version may hold any token
    // characters, "h2c" among them (`websocket/1..h2c`), but the protocol is what an upstream
    // would switch to.
    const std::string kept(upgraded[http::field::upgrade]);
    for (std::string_view rest = kept; !rest.empty();) {
      const auto comma = rest.find(',');
      const std::string_view protocol = proxy::upgrade_protocol(ascii::trim(rest.substr(0, comma)));
      if (!ascii::iequals(protocol, "websocket")) fail("a protocol not enabled forwarded", head);
      rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
    }
    if (upgrading && kept.empty()) fail("an upgrade without its Upgrade field", head);
  }

  // A second parser reads the forwarded head the same way.
  const std::string out = forwarded_head(req);
  http::request_parser<http::empty_body> again;
  again.header_limit(static_cast<std::uint32_t>(out.size() + 1));
  again.body_limit(boost::none);
  beast::error_code ec2;
  again.put(net::buffer(out), ec2);
  if (ec2 || !again.is_header_done()) fail("the forwarded head does not parse", out);
  const framing reread{again.chunked(), again.content_length()
                                            ? std::optional(*again.content_length())
                                            : std::nullopt};
  if (!(seen == reread)) fail("the forwarded head frames the body differently", out);

  // The body, streamed through a fixed buffer as the proxy does.
  std::string body_buf(body_chunk, '\0');
  std::string_view rest = std::string_view(bytes).substr(scan.skip + scan.head_size);
  std::uint64_t body_bytes = 0;
  while (!parser.is_done()) {
    req.body().data = body_buf.data();
    req.body().size = body_buf.size();
    const std::size_t used = parser.put(net::buffer(rest.data(), rest.size()), ec);
    if (ec == http::error::need_buffer) ec = {};
    if (ec) return 0;  // bad chunk framing: the proxy aborts the exchange
    if (used > rest.size()) fail("parser used more than it was given", rest);
    rest.remove_prefix(used);
    const std::size_t got = body_buf.size() - req.body().size;
    body_bytes += got;
    if (used == 0 && got == 0) break;  // needs more input
  }
  if (seen.length && parser.is_done() && body_bytes != *seen.length) {
    fail("body length differs from Content-Length", bytes);
  }
  return 0;
}
