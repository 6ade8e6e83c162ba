// The packed record of store format version 4: see record_pack.hpp and docs/store.md.
#include "store/record_pack.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <span>

#include "store/store_codec.hpp"

namespace sidecar::store {

namespace {

// Header names common in webhooks and API calls, packed as one byte (their index + 1; 0 is a
// name written out). Part of the format: entries are only ever appended.
// clang-format off
constexpr std::array<std::string_view, 40> known_names = {
    "host", "user-agent", "accept", "accept-encoding", "accept-language", "content-type",
    "content-length", "connection", "authorization", "x-forwarded-for", "x-forwarded-proto",
    "x-forwarded-host", "x-forwarded-port", "forwarded", "via", "x-request-id", "cookie",
    "origin", "referer", "cache-control", "transfer-encoding", "date", "server", "keep-alive",
    "set-cookie", "location", "etag", "last-modified", "vary", "expires", "pragma",
    "x-powered-by", "access-control-allow-origin", "content-encoding",
    "strict-transport-security", "x-content-type-options", "x-frame-options",
    "www-authenticate", "upgrade", "te"};
// clang-format on

enum flag : std::uint8_t {
  completed = 1,
  api = 2,
  url_has_path = 4,
  request_base64 = 8,
  request_truncated = 16,
  response_base64 = 32,
  response_truncated = 64,
};

std::uint64_t zigzag(std::int64_t v) {
  return (static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63);
}

std::int64_t unzigzag(std::uint64_t v) {
  return static_cast<std::int64_t>(v >> 1) ^ -static_cast<std::int64_t>(v & 1);
}

/// The byte that stands for `name`: its index in known_names + 1, or 0. Only the names of its
/// length are compared (eight at most share one).
std::uint8_t known_name_code(std::string_view name) {
  constexpr std::size_t longest = 32, same_length = 8;
  static constexpr auto by_length = [] {
    std::array<std::array<std::uint8_t, same_length>, longest> t{};
    for (std::size_t i = 0; i < known_names.size(); ++i) {
      auto& row = t[known_names[i].size()];
      *std::find(row.begin(), row.end(), 0) = static_cast<std::uint8_t>(i + 1);
    }
    return t;
  }();
  if (name.size() >= longest) return 0;
  for (const std::uint8_t code : by_length[name.size()]) {
    if (code == 0) break;
    if (known_names[code - 1] == name) return code;
  }
  return 0;
}

void put_headers(std::string& out, const header_list& headers) {
  codec::append_varint(out, headers.size());
  for (const auto& [name, value] : headers) {
    if (const std::uint8_t code = known_name_code(name); code != 0) {
      out.push_back(static_cast<char>(code));
    } else {
      out.push_back('\0');
      codec::append_id(out, name);
    }
    codec::append_id(out, value);
  }
}

/// Reads what pack_record wrote, in order; every read is bounded by the input.
class reader {
 public:
  explicit reader(std::string_view in) : in_(in) {}

  bool varint(std::uint64_t& v) { return codec::read_varint(in_, pos_, v); }
  bool signed_varint(std::int64_t& v) {
    std::uint64_t u = 0;
    if (!varint(u)) return false;
    v = unzigzag(u);
    return true;
  }
  bool bytes(std::size_t n, std::string_view& s) {
    if (n > in_.size() - pos_) return false;
    s = in_.substr(pos_, n);
    pos_ += n;
    return true;
  }
  bool text(std::string_view& s) { return codec::read_id(in_, pos_, s); }
  bool text(std::string& s) {
    std::string_view v;
    if (!text(v)) return false;
    s.assign(v);
    return true;
  }
  bool headers(header_list& h) {
    std::uint64_t n = 0;
    // Each header takes two bytes at least: a count beyond that is malformed, not a reason
    // to allocate.
    if (!varint(n) || n > (in_.size() - pos_) / 2) return false;
    h.resize(n);
    for (auto& [name, value] : h) {
      std::string_view code;
      if (!bytes(1, code)) return false;
      const auto k = static_cast<std::uint8_t>(code[0]);
      if (k == 0) {
        if (!text(name)) return false;
      } else if (k <= known_names.size()) {
        name.assign(known_names[k - 1]);
      } else {
        return false;
      }
      if (!text(value)) return false;
    }
    return true;
  }
  [[nodiscard]] bool at_end() const { return pos_ == in_.size(); }

 private:
  std::string_view in_;
  std::size_t pos_ = 0;
};

}  // namespace

void pack_record(std::string& out, const trace_record& r, const sid_bytes& bytes) {
  out.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  // Wrapping arithmetic: the difference of any two times is packed and unpacked exactly.
  codec::append_varint(
      out, zigzag(static_cast<std::int64_t>(static_cast<std::uint64_t>(r.created_ms) -
                                            static_cast<std::uint64_t>(sid_ms(bytes)))));
  const codec::url_parts url = codec::split_url(r.request);
  std::uint8_t flags = 0;
  if (r.completed) flags |= completed;
  if (r.direction == conf::direction::api) flags |= api;
  if (url.has_path) flags |= url_has_path;
  if (r.request.body.base64) flags |= request_base64;
  if (r.request.body.truncated) flags |= request_truncated;
  if (r.response.body.base64) flags |= response_base64;
  if (r.response.body.truncated) flags |= response_truncated;
  out.push_back(static_cast<char>(flags));
  codec::append_varint(out, zigzag(r.latency_ms));
  for (const std::string* s : {&r.account_friendly_name, &r.org_sid, &r.org_name, &r.session_sid,
                               &r.error, &r.node, &r.replay_of}) {
    codec::append_id(out, *s);
  }
  codec::append_id(out, r.request.path);
  codec::append_id(out, url.head);
  codec::append_id(out, r.request.method);
  put_headers(out, r.request.headers);
  codec::append_id(out, r.request.body.body);
  codec::append_varint(out, r.request.body.size);
  codec::append_id(out, r.response.code);
  codec::append_id(out, r.response.phrase);
  put_headers(out, r.response.headers);
  codec::append_varint(out, r.response.body.size);
}

bool unpack_record(std::string_view packed, std::string_view account, trace_record& r) {
  reader in(packed);
  std::string_view sid_text;
  if (!in.bytes(sizeof(sid_bytes), sid_text)) return false;
  sid_bytes sid{};
  std::copy(sid_text.begin(), sid_text.end(), reinterpret_cast<char*>(sid.data()));
  std::int64_t created_delta = 0;
  std::string_view flag_byte;
  if (!in.signed_varint(created_delta) || !in.bytes(1, flag_byte) ||
      !in.signed_varint(r.latency_ms)) {
    return false;
  }
  assign_trace_sid(r.sid, sid_ms(sid), std::span<const std::uint8_t, 10>(sid.data() + 6, 10));
  r.account_sid.assign(account);
  r.created_ms = static_cast<std::int64_t>(static_cast<std::uint64_t>(sid_ms(sid)) +
                                           static_cast<std::uint64_t>(created_delta));
  const auto flags = static_cast<std::uint8_t>(flag_byte[0]);
  r.completed = (flags & completed) != 0;
  r.direction = (flags & api) != 0 ? conf::direction::api : conf::direction::webhook;
  for (std::string* s : {&r.account_friendly_name, &r.org_sid, &r.org_name, &r.session_sid,
                         &r.error, &r.node, &r.replay_of}) {
    if (!in.text(*s)) return false;
  }
  auto& q = r.request;
  std::string_view url_head;
  if (!in.text(q.path) || !in.text(url_head) || !in.text(q.method) || !in.headers(q.headers) ||
      !in.text(q.body.body)) {
    return false;
  }
  q.url.assign(url_head);
  if ((flags & url_has_path) != 0) q.url.append(q.path);
  q.body.base64 = (flags & request_base64) != 0;
  q.body.truncated = (flags & request_truncated) != 0;
  auto& p = r.response;
  if (!in.varint(q.body.size) || !in.text(p.code) || !in.text(p.phrase) || !in.headers(p.headers) ||
      !in.varint(p.body.size)) {
    return false;
  }
  p.body.body.clear();
  p.body.base64 = (flags & response_base64) != 0;
  p.body.truncated = (flags & response_truncated) != 0;
  return in.at_end();
}

}  // namespace sidecar::store
