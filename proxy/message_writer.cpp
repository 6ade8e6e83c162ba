// The relay's message writer: see message_writer.hpp.
#include "proxy/message_writer.hpp"

#include <cstring>

#include "support/hex.hpp"

namespace sidecar::proxy {

namespace {

using namespace std::literals;

constexpr std::string_view crlf = "\r\n";
constexpr std::string_view crlf_last_chunk = "\r\n0\r\n\r\n";
constexpr std::string_view last_chunk = "0\r\n\r\n";

void add_version(std::string& out, unsigned version) {
  out += "HTTP/";
  out += static_cast<char>('0' + version / 10);
  out += '.';
  out += static_cast<char>('0' + version % 10);
}

}  // namespace

void message_writer::add_fields(const head_fields& fields) {
  const std::size_t at = head_.size();
  head_.resize(at + fields.lines_size() + crlf.size());
  char* end = fields.write_lines(head_.data() + at);
  end[0] = '\r';
  end[1] = '\n';
}

// The request line as Beast writes it: the method, the target, the version.
void message_writer::start(const proxied_request& head) {
  head_.clear();
  head_.append(head.method_string()).append(" ").append(head.target()).append(" ");
  add_version(head_, head.version());
  head_.append(crlf);
  add_fields(head);
  chunked_ = head.chunked();
  has_body_ = true;
  head_sent_ = last_pending_ = done_ = false;
}

// The status line as Beast writes it: without a reason, the status's usual one.
void message_writer::start(const proxied_response& head, bool has_body) {
  head_.clear();
  add_version(head_, head.version());
  const unsigned code = head.result_int();
  const char digits[] = {' ', static_cast<char>('0' + code / 100 % 10),
                         static_cast<char>('0' + code / 10 % 10),
                         static_cast<char>('0' + code % 10), ' '};
  head_.append(digits, sizeof digits);
  const std::string_view reason = head.reason();
  head_.append(reason.empty() ? std::string_view(http::obsolete_reason(head.result())) : reason)
      .append(crlf);
  add_fields(head);
  chunked_ = head.chunked();
  has_body_ = has_body;
  head_sent_ = last_pending_ = done_ = false;
}

message_writer::buffers message_writer::head_only() {
  buffers out{};
  if (!head_sent_) out[0] = net::buffer(head_);
  last_pending_ = false;
  return out;
}

message_writer::buffers message_writer::next(std::string_view piece, bool last) {
  buffers out = head_only();
  last_pending_ = last;
  if (!has_body_) return out;
  if (!chunked_) {
    out[2] = net::buffer(piece.data(), piece.size());
    return out;
  }
  if (!piece.empty()) {
    // The size without leading zeros, lower case, as Beast writes it.
    std::size_t at = size_buf_.size() - 2;
    size_buf_[at] = '\r';
    size_buf_[at + 1] = '\n';
    for (std::size_t n = piece.size(); n != 0; n >>= 4) {
      size_buf_[--at] = hex::lower_digits[n & 0xf];
    }
    size_line_ = std::string_view(size_buf_.data() + at, size_buf_.size() - at);
    chunk_end_ = last ? crlf_last_chunk : crlf;
    out[1] = net::buffer(size_line_.data(), size_line_.size());
    out[2] = net::buffer(piece.data(), piece.size());
  } else {
    chunk_end_ = last ? last_chunk : ""sv;
  }
  out[3] = net::buffer(chunk_end_.data(), chunk_end_.size());
  return out;
}

void message_writer::sent() {
  head_sent_ = true;
  if (last_pending_) done_ = true;
  last_pending_ = false;
}

}  // namespace sidecar::proxy
