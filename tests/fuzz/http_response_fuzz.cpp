// Fuzzes the proxy's reading of an upstream's response as proxy/exchange.cpp does it: its
// response_parser (Beast's parser into head_fields, support/head_parser.hpp) with header_limit =
// max_header_bytes and no body limit (skip() for HEAD), fed in arbitrary pieces, the body drained
// through a fixed buffer. A response the parser completes must never yield more body than its
// Content-Length says.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "support/head_parser.hpp"
#include "support/net.hpp"

namespace {

using namespace sidecar;

[[noreturn]] void fail(const char* what, std::string_view detail) {
  std::fprintf(stderr, "http_response_fuzz: %s\n%.*s\n", what, static_cast<int>(detail.size()),
               detail.data());
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider in(data, size);
  const std::uint32_t max_header_bytes = in.ConsumeIntegralInRange<std::uint32_t>(64, 65536);
  const std::size_t body_chunk = in.ConsumeIntegralInRange<std::size_t>(1, 4096);
  const std::size_t piece = in.ConsumeIntegralInRange<std::size_t>(1, 512);
  const bool head_request = in.ConsumeBool();
  const std::string bytes = in.ConsumeRemainingBytesAsString();

  response_parser parser;
  parser.header_limit(max_header_bytes);
  parser.body_limit(boost::none);
  if (head_request) parser.skip(true);
  std::string body_buf(body_chunk, '\0');
  std::string pending;  // bytes given to the parser but not used yet (Beast's buffer)
  std::string_view rest = bytes;
  std::uint64_t body_bytes = 0;
  beast::error_code ec;
  while (!parser.is_done()) {
    const std::size_t take = std::min(piece, rest.size());
    pending.append(rest.substr(0, take));
    rest.remove_prefix(take);
    auto& res = parser.get();
    res.body().data = body_buf.data();
    res.body().size = body_buf.size();
    const std::size_t used = parser.put(net::buffer(pending.data(), pending.size()), ec);
    if (ec == http::error::need_buffer || ec == http::error::need_more) ec = {};
    if (ec) return 0;  // 502: a bad response
    if (used > pending.size()) fail("parser used more than it was given", pending);
    pending.erase(0, used);
    body_bytes += body_buf.size() - res.body().size;
    if (take == 0 && used == 0 && body_buf.size() == res.body().size) {
      // The upstream closed. As Beast's read does: before any byte it is end_of_stream (a
      // 502); after some, put_eof ends a close-delimited body (put_eof asserts got_some()).
      if (parser.got_some()) parser.put_eof(ec);
      break;
    }
  }
  if (parser.is_done() && parser.is_header_done()) {
    const auto& res = parser.get();
    // 1xx, 204 and 304 answers and HEAD responses carry no body whatever Content-Length says.
    const int code = res.result_int();
    const bool bodyless = head_request || code / 100 == 1 || code == 204 || code == 304;
    if (const auto cl = parser.content_length_remaining(); !bodyless && cl && *cl != 0) {
      fail("done with Content-Length left", bytes);
    }
    if (head_request && body_bytes != 0) fail("a HEAD response produced a body", bytes);
    (void)res;
  }
  return 0;
}
