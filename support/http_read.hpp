// Reading an HTTP message piece by piece as Beast's http::async_read_some does, with one
// difference both listeners need: a chunked body whose next line ends in a bare LF
// ("5\nhello\n0\n\n") fails at once with http::error::bad_chunk. Beast looks for the CRLF that
// ends a chunk line and, not finding one, waits for more bytes that a client which has sent
// its whole message never sends: the connection would hang until a timeout.
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>
#include <tuple>

#include "support/net.hpp"

namespace sidecar::http_read {

/// Whether the bytes a parser left unconsumed when it asked for more hold a bare LF inside a
/// chunked body. Chunk data is always consumed as it arrives, so what is left there is a chunk
/// line, the CRLF after a chunk's data, or the trailer: lines that only CRLF may end.
template <bool isRequest>
[[nodiscard]] bool chunk_line_has_bare_lf(const http::basic_parser<isRequest>& p,
                                          std::string_view unconsumed) {
  if (!p.is_header_done() || !p.chunked() || p.is_done()) return false;
  for (std::size_t i = 0; i < unconsumed.size(); ++i) {
    if (unconsumed[i] == '\n' && (i == 0 || unconsumed[i - 1] != '\r')) return true;
  }
  return false;
}

/// The bytes `buffer` already holds, given to `parser` (those it takes are consumed): the
/// result of the read when they settle it (success, need_buffer, an error, a bare LF in a chunk
/// line), or nullopt when the parser needs more bytes than are there. async_read_some's first
/// step, for callers that try the buffer before they start a read.
template <class FlatBuffer, class Parser>
[[nodiscard]] std::optional<beast::error_code> parse_buffered(FlatBuffer& buffer, Parser& parser,
                                                              std::size_t& used_total) {
  beast::error_code ec;
  const std::size_t used = parser.put(buffer.data(), ec);
  used_total += used;
  buffer.consume(used);
  if (ec != http::error::need_more) return ec;
  const net::const_buffer left = buffer.data();
  if (chunk_line_has_bare_lf(
          parser, std::string_view(static_cast<const char*>(left.data()), left.size()))) {
    return beast::error_code(http::error::bad_chunk);
  }
  return std::nullopt;
}

template <class FlatBuffer, class Parser>
[[nodiscard]] std::optional<beast::error_code> parse_buffered(FlatBuffer& buffer, Parser& parser) {
  std::size_t used = 0;
  return parse_buffered(buffer, parser, used);
}

/// http::async_read_some (same results and errors) over a flat buffer, plus the bare-LF check.
/// `parser` is a Beast parser, or the proxy's head_parser, whose own put() is the one called.
template <class Stream, class FlatBuffer, class Parser>
net::awaitable<std::tuple<beast::error_code, std::size_t>> async_read_some(Stream& stream,
                                                                           FlatBuffer& buffer,
                                                                           Parser& parser) {
  std::size_t used_total = 0;
  bool parse = buffer.size() != 0;
  for (;;) {
    if (parse) {
      if (const auto settled = parse_buffered(buffer, parser, used_total)) {
        co_return std::tuple{*settled, used_total};
      }
    }
    parse = true;
    const std::size_t size = beast::read_size(buffer, 65536);
    if (size == 0)
      co_return std::tuple{beast::error_code(http::error::buffer_overflow), used_total};
    auto [ec, n] = co_await in_place(
        [&](auto handler) { stream.async_read_some(buffer.prepare(size), std::move(handler)); });
    buffer.commit(n);
    if (ec == net::error::eof) {
      if (!parser.got_some()) {
        co_return std::tuple{beast::error_code(http::error::end_of_stream), used_total};
      }
      beast::error_code eof_ec;
      parser.put_eof(eof_ec);
      co_return std::tuple{eof_ec, used_total};
    }
    if (ec) co_return std::tuple{ec, used_total};
  }
}

/// async_read_header's result when the bytes at hand settle it (the whole head, or an error),
/// without a read; nullopt when more must be read.
template <class FlatBuffer, class Parser>
[[nodiscard]] std::optional<beast::error_code> header_at_hand(FlatBuffer& buffer, Parser& parser) {
  if (parser.is_header_done()) return beast::error_code{};
  if (buffer.size() == 0) return std::nullopt;
  return parse_buffered(buffer, parser);
}

/// http::async_read_header (same results and errors): reads until the parser has the whole
/// head, leaving the body's bytes in the buffer. A coroutine rather than Beast's composed
/// operation, whose layers each copy the handler's executor and post their completion
/// (bench/README.md, session 15).
template <class Stream, class FlatBuffer, class Parser>
net::awaitable<beast::error_code> async_read_header(Stream& stream, FlatBuffer& buffer,
                                                    Parser& parser) {
  while (!parser.is_header_done()) {
    auto [ec, n] = co_await async_read_some(stream, buffer, parser);
    if (ec) co_return ec;
  }
  co_return beast::error_code{};
}

/// http::async_read (a whole message), built on async_read_some above.
template <class Stream, class FlatBuffer, class Parser>
net::awaitable<beast::error_code> async_read(Stream& stream, FlatBuffer& buffer, Parser& parser) {
  while (!parser.is_done()) {
    auto [ec, n] = co_await async_read_some(stream, buffer, parser);
    if (ec) co_return ec;
  }
  co_return beast::error_code{};
}

}  // namespace sidecar::http_read
