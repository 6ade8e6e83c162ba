// Serving a media cache hit (hit_writer.hpp): the head's text, body reads, sendfile(2).
#include "cache/hit_writer.hpp"

#include <sys/sendfile.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

namespace sidecar::cache {

http::response<http::empty_body> cache_hit::head() const {
  http::response<http::empty_body> h;
  h.version(11);
  h.result(static_cast<unsigned>(meta_->status));
  if (!meta_->reason.empty()) h.reason(meta_->reason);
  for (const auto& [name, value] : meta_->headers) h.insert(name, value);
  h.set(http::field::content_length, std::to_string(meta_->body_size));
  h.set(http::field::age, std::to_string(age_.count()));
  h.set("X-Cache", "HIT");
  return h;
}

std::string cache_hit::head_text(unsigned version, bool keep_alive) const {
  const std::string age = std::to_string(age_.count());
  const std::string length = std::to_string(meta_->body_size);
  const std::string_view reason =
      meta_->reason.empty()
          ? std::string_view(http::obsolete_reason(static_cast<http::status>(meta_->status)))
          : std::string_view(meta_->reason);
  // What Beast's keep_alive() adds to a message without a Connection field (stored heads
  // never have one: it is hop-by-hop), and where: last.
  const std::string_view connection =
      version == 10 ? (keep_alive ? "keep-alive" : "") : (keep_alive ? "" : "close");
  std::size_t size = 64 + reason.size() + age.size() + length.size() + connection.size();
  for (const auto& [name, value] : meta_->headers) size += name.size() + value.size() + 4;
  std::string out;
  out.reserve(size);
  out.append(version == 10 ? "HTTP/1.0 " : "HTTP/1.1 ");
  out.append(std::to_string(meta_->status)).append(" ").append(reason).append("\r\n");
  const auto field = [&out](std::string_view name, std::string_view value) {
    out.append(name).append(": ").append(value).append("\r\n");
  };
  for (const auto& [name, value] : meta_->headers) field(name, value);
  field("Content-Length", length);
  field("Age", age);
  field("X-Cache", "HIT");
  if (!connection.empty()) field("Connection", connection);
  out.append("\r\n");
  return out;
}

std::size_t cache_hit::read(std::uint64_t offset, net::mutable_buffer buffer,
                            beast::error_code& ec) const {
  ec = {};
  if (offset >= meta_->body_size) return 0;
  const std::size_t want =
      static_cast<std::size_t>(std::min<std::uint64_t>(buffer.size(), meta_->body_size - offset));
  for (;;) {
    const ssize_t r =
        ::pread(file_->get(), buffer.data(), want, static_cast<off_t>(meta_->body_offset + offset));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) {
      ec = beast::error_code(errno, boost::system::system_category());
      return 0;
    }
    if (r == 0) {
      // The file is shorter than its header says: it changed under us.
      ec = net::error::make_error_code(net::error::misc_errors::eof);
      return 0;
    }
    return static_cast<std::size_t>(r);
  }
}

// --- writing a hit ----------------------------------------------------------------------------

std::string serialize_head(const http::response_header<>& head) {
  std::string out;
  out.reserve(512);
  out.append(head.version() == 10 ? "HTTP/1.0 " : "HTTP/1.1 ");
  out.append(std::to_string(head.result_int()));
  out.push_back(' ');
  const std::string_view reason = head.reason();
  out.append(reason.empty() ? std::string_view(http::obsolete_reason(head.result())) : reason);
  out.append("\r\n");
  for (const auto& f : head) {
    out.append(f.name_string()).append(": ").append(f.value()).append("\r\n");
  }
  out.append("\r\n");
  return out;
}

namespace {

constexpr auto tuple_awaitable = net::as_tuple(net::use_awaitable);

// The head with MSG_MORE, so that it leaves in one packet with the start of the body.
net::awaitable<beast::error_code> send_head(tcp::socket& socket, const std::string& head_text,
                                            const std::function<void()>& before_write) {
  std::size_t sent = 0;
  while (sent < head_text.size()) {
    before_write();
    auto [ec, n] = co_await socket.async_send(
        net::buffer(head_text.data() + sent, head_text.size() - sent), MSG_MORE, tuple_awaitable);
    if (ec) co_return ec;
    sent += n;
  }
  co_return beast::error_code{};
}

// A file system without sendfile support: the body copied through a buffer instead.
net::awaitable<beast::error_code> copy_body(tcp::socket& socket, const cache_hit& hit,
                                            const std::function<void()>& before_write) {
  std::vector<char> buffer(
      static_cast<std::size_t>(std::min<std::uint64_t>(hit.size(), 64 * 1024)));
  beast::error_code ec;
  for (std::uint64_t at = 0; at < hit.size();) {
    const std::size_t got = hit.read(at, net::buffer(buffer), ec);
    if (ec) co_return ec;
    before_write();
    auto [wec, written] =
        co_await net::async_write(socket, net::buffer(buffer.data(), got), tuple_awaitable);
    if (wec) co_return wec;
    at += got;
  }
  co_return beast::error_code{};
}

}  // namespace

net::awaitable<beast::error_code> write_hit_sendfile(tcp::socket& socket,
                                                     const std::string& head_text,
                                                     const cache_hit& hit,
                                                     std::function<void()> before_write) {
  if (auto ec = co_await send_head(socket, head_text, before_write)) co_return ec;
  beast::error_code ec;
  // Asio has usually made the descriptor non-blocking already (its async operations need it):
  // then there is no system call to make.
  if (!socket.native_non_blocking()) socket.native_non_blocking(true, ec);
  if (ec) co_return ec;
  off_t offset = static_cast<off_t>(hit.body_offset());
  std::uint64_t left = hit.size();
  while (left > 0) {
    before_write();
    // At most 1 MiB per call: the socket buffer takes less than that anyway.
    const ssize_t n = ::sendfile(socket.native_handle(), hit.native_handle(), &offset,
                                 static_cast<std::size_t>(std::min<std::uint64_t>(left, 1 << 20)));
    if (n > 0) {
      left -= static_cast<std::uint64_t>(n);
      continue;
    }
    if (n == 0) co_return net::error::make_error_code(net::error::misc_errors::eof);  // shrank
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      auto [wec] = co_await socket.async_wait(tcp::socket::wait_write, tuple_awaitable);
      if (wec) co_return wec;
      continue;
    }
    const bool unsupported = errno == EINVAL || errno == ENOSYS;
    if (unsupported && left == hit.size()) co_return co_await copy_body(socket, hit, before_write);
    co_return beast::error_code(errno, boost::system::system_category());
  }
  co_return beast::error_code{};
}

}  // namespace sidecar::cache
