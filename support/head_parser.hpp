// Beast's HTTP/1 parser with the head kept in head_fields (support/head_fields.hpp) and the
// body read into a caller's buffer (buffer_body), as http::parser<isRequest, buffer_body> does
// with basic_fields. Beast's parser checks the syntax and frames the body; only where a field
// goes differs, and a plain head's fields are split without it (head_fields::split_plain), Beast
// reading only the lines it frames the body by.
#pragma once

#include <boost/beast/http/basic_parser.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/message.hpp>
#include <optional>
#include <string_view>

#include "support/head_fields.hpp"
#include "support/net.hpp"

namespace sidecar {

template <bool isRequest>
class head_parser final : public http::basic_parser<isRequest> {
  using base = http::basic_parser<isRequest>;

 public:
  using message_type = http::message<isRequest, http::buffer_body, head_fields>;

  head_parser() : reader_(message_, message_.body()) {}
  /// A parser whose head reuses `spare`'s buffers (a connection's previous head).
  explicit head_parser(head_fields&& spare) : head_parser() {
    static_cast<head_fields&>(message_).recycle(std::move(spare));
  }
  head_parser(const head_parser&) = delete;
  head_parser& operator=(const head_parser&) = delete;
  ~head_parser() override = default;

  [[nodiscard]] message_type& get() { return message_; }
  [[nodiscard]] const message_type& get() const { return message_; }

  /// basic_parser::header_limit (which it hides), remembered: a head within it may be split
  /// without Beast (put_head).
  void header_limit(std::uint32_t bytes) {
    header_limit_ = bytes;
    base::header_limit(bytes);
  }

  /// Parses a whole head (its bytes up to and including the blank line) from a copy held in
  /// the message's head (head_fields::hold), so that no field is copied again. A plain head
  /// within the limit is split by head_fields::split_plain, and Beast reads only its first
  /// line and the fields it frames the body by; any other head, Beast reads whole
  /// (docs/proxy.md, "Heads"). Either way, the bytes used are the whole head's.
  std::size_t put_head(std::string_view head, beast::error_code& ec) {
    head_fields& fields = message_;
    const std::string_view held = fields.hold(head);
    if (!start_taken_ && held.size() <= header_limit_) {
      if (const auto for_beast = fields.split_plain(held, isRequest)) {
        split_ = true;
        const std::size_t used = base::put(net::buffer(for_beast->data(), for_beast->size()), ec);
        split_ = false;
        return used == for_beast->size() ? held.size() : used;
      }
    }
    return base::put(net::buffer(held.data(), held.size()), ec);
  }

  /// basic_parser::put (which it hides), except that a head whose end is in `buffer` is parsed
  /// as put_head() parses it. Beast parses a head only once its blank line has arrived, and
  /// stops after it (the parser is not eager), so the bytes after it are the next call's.
  std::size_t put(net::const_buffer buffer, beast::error_code& ec) {
    if (this->is_header_done()) return base::put(buffer, ec);
    const std::string_view bytes(static_cast<const char*>(buffer.data()), buffer.size());
    if (const auto end = bytes.find("\r\n\r\n"); end != std::string_view::npos) {
      return put_head(bytes.substr(0, end + 4), ec);
    }
    const std::size_t used = base::put(buffer, ec);
    start_taken_ = start_taken_ || used != 0;
    return used;
  }

  /// A new parser in `p` (a parser serves one message) whose head reuses the buffers of the one
  /// it replaces: a connection's heads allocate nothing once the first has grown them.
  static head_parser& renew(std::optional<head_parser>& p) {
    head_fields spare;
    if (p) spare.recycle(std::move(p->message_));
    return p.emplace(std::move(spare));
  }

 private:
  void on_request_impl(http::verb method, beast::string_view method_string,
                       beast::string_view target, int version, beast::error_code& /*ec*/) override {
    if constexpr (isRequest) {
      message_.target(target);
      if (method != http::verb::unknown) {
        message_.method(method);
      } else {
        message_.method_string(method_string);
      }
      message_.version(static_cast<unsigned>(version));
    }
  }
  void on_response_impl(int code, beast::string_view reason, int version,
                        beast::error_code& /*ec*/) override {
    if constexpr (!isRequest) {
      message_.result(static_cast<unsigned>(code));
      message_.version(static_cast<unsigned>(version));
      message_.reason(reason);
    }
  }
  void on_field_impl(http::field name, beast::string_view name_string, beast::string_view value,
                     beast::error_code& /*ec*/) override {
    if (split_) return;  // added already, by head_fields::split_plain
    message_.insert(name, std::string_view(name_string.data(), name_string.size()),
                    std::string_view(value.data(), value.size()));
  }
  void on_header_impl(beast::error_code& ec) override { ec = {}; }
  void on_body_init_impl(const boost::optional<std::uint64_t>& content_length,
                         beast::error_code& ec) override {
    reader_.init(content_length, ec);
  }
  std::size_t on_body_impl(beast::string_view body, beast::error_code& ec) override {
    return reader_.put(net::buffer(body.data(), body.size()), ec);
  }
  void on_chunk_header_impl(std::uint64_t /*size*/, beast::string_view /*extensions*/,
                            beast::error_code& /*ec*/) override {}
  std::size_t on_chunk_body_impl(std::uint64_t /*remain*/, beast::string_view body,
                                 beast::error_code& ec) override {
    return reader_.put(net::buffer(body.data(), body.size()), ec);
  }
  void on_finish_impl(beast::error_code& ec) override { reader_.finish(ec); }

  message_type message_;
  http::buffer_body::reader reader_;
  std::uint32_t header_limit_ = 8192;  // Beast's default
  bool split_ = false;                 // Beast is reading a split head's lines (put_head)
  bool start_taken_ = false;           // Beast took a first line before the head was whole
};

using request_parser = head_parser<true>;
using response_parser = head_parser<false>;
/// A proxied request or response: its head, and its body piece by piece.
using proxied_request = request_parser::message_type;
using proxied_response = response_parser::message_type;

}  // namespace sidecar
