// The trace store's on-disk encodings: see store_codec.hpp and docs/store.md.
#include "store/store_codec.hpp"

#include <algorithm>
#include <array>
#include <utility>

#include "store/record_pack.hpp"
#include "support/ascii.hpp"
#include "support/json.hpp"

namespace sidecar::store::codec {

bool read_varint(std::string_view in, std::size_t& pos, std::uint64_t& v) {
  v = 0;
  for (unsigned shift = 0; shift < 64 && pos < in.size(); shift += 7) {
    const auto byte = static_cast<std::uint8_t>(in[pos++]);
    v |= std::uint64_t{byte & 0x7fu} << shift;
    if ((byte & 0x80) == 0) return true;
  }
  return false;
}

bool read_id(std::string_view in, std::size_t& pos, std::string_view& id) {
  std::uint64_t n = 0;
  if (!read_varint(in, pos, n) || n > in.size() - pos) return false;
  id = in.substr(pos, n);
  pos += n;
  return true;
}

std::string id_prefix(std::string_view id) {
  std::string k;
  k.reserve(id.size() + 24);
  append_id(k, id);
  return k;
}

void assign_id_sid_key(std::string& out, std::string_view id, const sid_bytes& sid) {
  out.clear();
  append_id(out, id);
  append_inv_sid(out, sid);
}

void append_inv_sid(std::string& out, const sid_bytes& sid) {
  // Built aside and appended once: a push_back per byte checks the capacity each time (these
  // keys are built for every record).
  std::array<char, sizeof(sid_bytes)> inv{};
  for (std::size_t i = 0; i < inv.size(); ++i) inv[i] = static_cast<char>(~sid[i]);
  out.append(inv.data(), inv.size());
}

std::string id_sid_key(std::string_view id, const sid_bytes& sid) {
  std::string k;
  k.reserve(id.size() + 24);
  assign_id_sid_key(k, id, sid);
  return k;
}

void append_inv_time(std::string& out, std::int64_t ms) {
  append_be(out, ~static_cast<std::uint64_t>(clamp_sid_ms(ms)), 6);
}

namespace {

constexpr std::uint64_t hour_flag = std::uint64_t{1} << 63;

void assign_raw_counter_key(std::string& out, std::string_view id, std::uint64_t b) {
  out.clear();
  append_id(out, id);
  append_be(out, b, 8);
}

std::string raw_counter_key(std::string_view id, std::uint64_t b) {
  std::string k;
  k.reserve(id.size() + 24);
  assign_raw_counter_key(k, id, b);
  return k;
}

}  // namespace

void assign_counter_key(std::string& out, std::string_view id, std::int64_t bucket) {
  assign_raw_counter_key(out, id, static_cast<std::uint64_t>(std::max<std::int64_t>(bucket, 0)));
}

std::string counter_key(std::string_view id, std::int64_t bucket) {
  return raw_counter_key(id, static_cast<std::uint64_t>(std::max<std::int64_t>(bucket, 0)));
}

std::string hour_counter_key(std::string_view id, std::int64_t hour) {
  return raw_counter_key(id,
                         static_cast<std::uint64_t>(std::max<std::int64_t>(hour, 0)) | hour_flag);
}

void assign_chunk_key(std::string& out, std::string_view id, std::int64_t chunk,
                      std::uint32_t part) {
  out.clear();
  append_id(out, id);
  append_inv_time(out, chunk * chunk_ms);
  append_be(out, part, 2);
}

std::string chunk_key(std::string_view id, std::int64_t chunk, std::uint32_t part) {
  std::string k;
  k.reserve(id.size() + 24);
  assign_chunk_key(k, id, chunk, part);
  return k;
}

bool split_chunk_key(std::string_view key, std::string_view& id, std::int64_t& chunk,
                     std::uint32_t& part) {
  std::size_t pos = 0;
  if (!read_id(key, pos, id) || key.size() - pos != 8) return false;
  chunk = inv_ms(key.substr(pos)) / chunk_ms;
  part = static_cast<std::uint32_t>(read_be(key.substr(pos + 6), 2));
  return true;
}

void append_chunk_entry(std::string& out, std::string_view inv, std::string_view body) {
  out.append(inv);
  append_varint(out, body.size());
  out.append(body);
}

bool next_chunk_entry(std::string_view chunk, std::size_t& pos, std::string_view& inv,
                      std::string_view& body) {
  if (chunk.size() - pos < 17) return false;
  inv = chunk.substr(pos, 16);
  pos += 16;
  return read_id(chunk, pos, body);
}

std::optional<std::string_view> find_in_chunk(std::string_view chunk, std::string_view inv) {
  std::size_t pos = 0;
  std::string_view at, body;
  while (next_chunk_entry(chunk, pos, at, body)) {
    if (at == inv) return body;
  }
  return std::nullopt;
}

bool split_record_value(std::string_view in, std::string_view& account, std::uint32_t& part,
                        std::string_view& spliced) {
  std::size_t pos = 0;
  std::uint64_t p = 0;
  if (!read_id(in, pos, account) || !read_varint(in, pos, p)) return false;
  part = static_cast<std::uint32_t>(p);
  spliced = in.substr(pos);
  return true;
}

bool split_id_key(std::string_view key, std::string_view& id, std::string_view& inv) {
  std::size_t pos = 0;
  if (!read_id(key, pos, id) || key.size() - pos != 16) return false;
  inv = key.substr(pos);
  return true;
}

sid_bytes uninvert(std::string_view inv) {
  sid_bytes b{};
  for (std::size_t i = 0; i < 16 && i < inv.size(); ++i) {
    b[i] = static_cast<std::uint8_t>(~static_cast<std::uint8_t>(inv[i]));
  }
  return b;
}

std::int64_t inv_ms(std::string_view inv) {
  return static_cast<std::int64_t>(~read_be(inv, 6) & static_cast<std::uint64_t>(max_sid_ms));
}

bool split_counter_key(std::string_view key, std::string_view& id, std::int64_t& bucket,
                       std::int64_t& width_ms) {
  std::size_t pos = 0;
  if (!read_id(key, pos, id) || key.size() - pos != 8) return false;
  const std::uint64_t b = read_be(key.substr(pos), 8);
  width_ms = (b & hour_flag) != 0 ? hour_ms : bucket_ms;
  bucket = static_cast<std::int64_t>(b & ~hour_flag);
  return true;
}

bool covering::path_or_url_starts_with(std::string_view p) const {
  if (path.starts_with(p)) return true;
  if (!url_has_path) return url_head.starts_with(p);
  if (p.size() <= url_head.size()) return url_head.starts_with(p);
  return p.starts_with(url_head) && path.starts_with(p.substr(url_head.size()));
}

std::uint8_t method_code(std::string_view method) {
  static constexpr std::array<std::string_view, 6> known{"GET",    "POST",  "PUT",
                                                         "DELETE", "PATCH", "HEAD"};
  for (std::size_t i = 0; i < known.size(); ++i) {
    if (ascii::iequals(method, known[i])) return static_cast<std::uint8_t>(i + 1);
  }
  return method_other;
}

url_parts split_url(const recorded_request& q) {
  const std::string_view url = q.url;
  const std::string_view path = q.path;
  if (path.empty() || !url.ends_with(path)) return {url, false};
  return {url.substr(0, url.size() - path.size()), true};
}

void encode_covering(std::string& out, const trace_record& r, std::uint32_t body_part) {
  const url_parts url = split_url(r.request);
  std::uint8_t flags = 0;
  if (r.completed) flags |= 1;
  if (r.direction == conf::direction::api) flags |= 2;
  if (url.has_path) flags |= 4;
  flags |= static_cast<std::uint8_t>(method_code(r.request.method) << 3);
  out.push_back(static_cast<char>(flags));
  append_varint(out, static_cast<std::uint64_t>(std::max<std::int64_t>(r.latency_ms, 0)));
  append_id(out, r.response.code);
  append_id(out, r.org_sid);
  append_id(out, r.request.path);
  append_id(out, url.head);
  append_varint(out, body_part);
}

void encode_session_entry(std::string& out, std::string_view account, std::uint32_t body_part) {
  append_id(out, account);
  append_varint(out, body_part);
}

bool decode_covering(std::string_view in, covering& c) {
  if (in.empty()) return false;
  const auto flags = static_cast<std::uint8_t>(in[0]);
  c.completed = flags & 1;
  c.api = flags & 2;
  c.url_has_path = flags & 4;
  c.method = static_cast<std::uint8_t>((flags >> 3) & 7);
  std::size_t pos = 1;
  std::uint64_t latency = 0;
  if (!read_varint(in, pos, latency)) return false;
  c.latency_ms = static_cast<std::int64_t>(latency);
  std::uint64_t part = 0;
  if (!read_id(in, pos, c.code) || !read_id(in, pos, c.org_sid) || !read_id(in, pos, c.path) ||
      !read_id(in, pos, c.url_head) || !read_varint(in, pos, part)) {
    return false;
  }
  c.body_part = static_cast<std::uint32_t>(part);
  return true;
}

bool decode_session_entry(std::string_view in, std::string_view& account,
                          std::uint32_t& body_part) {
  std::size_t pos = 0;
  std::uint64_t part = 0;
  if (!read_id(in, pos, account) || !read_varint(in, pos, part)) return false;
  body_part = static_cast<std::uint32_t>(part);
  return true;
}

void encode_record_value(const trace_record& r, const sid_bytes& sid, std::uint32_t body_part,
                         std::string& value) {
  value.clear();
  append_id(value, r.account_sid);
  append_varint(value, body_part);
  value.append(packed_mark);
  pack_record(value, r, sid);
}

void encode_record_value(const trace_record& r, std::uint32_t body_part, std::string& value) {
  encode_record_value(r, parse_sid(r.sid).value_or(sid_bytes{}), body_part, value);
}

bool assemble_json(std::string& out, std::string_view account, std::string_view spliced,
                   std::string_view body) {
  if (spliced.starts_with(packed_mark)) {
    // Rendered in buffers each thread keeps: a list page renders fifty records.
    static thread_local trace_record r;
    static thread_local std::string json;
    if (!unpack_record(spliced.substr(packed_mark.size()), account, r)) return false;
    json.clear();
    const std::size_t at = append_json_without_response_body(json, r);
    out.append(json, 0, at);
    json::append_string(out, body);
    out.append(json, at);
    // What they keep is bounded: the buffers a large record grew are freed (moved out: an
    // assignment would keep them).
    constexpr std::size_t kept = 64 << 10;
    if (json.capacity() > kept) (void)std::exchange(json, {});
    if (r.request.body.body.capacity() > kept) (void)std::exchange(r, {});
    return true;
  }
  // Format version 3: the JSON itself, split around its response body.
  std::size_t pos = 0;
  std::uint64_t splice = 0;
  if (!read_varint(spliced, pos, splice)) return false;
  const std::string_view json_text = spliced.substr(pos);
  if (splice == 0) {
    out.append(json_text);
    return true;
  }
  if (splice - 1 > json_text.size()) return false;
  out.append(json_text.substr(0, splice - 1));
  json::append_string(out, body);
  out.append(json_text.substr(splice - 1));
  return true;
}

std::size_t memory_size(const trace_record& r) {
  std::size_t n = sizeof(trace_record) + r.sid.size() + r.account_sid.size() +
                  r.account_friendly_name.size() + r.org_sid.size() + r.org_name.size() +
                  r.session_sid.size() + r.error.size() + r.replay_of.size() + r.request.path.size() +
                  r.request.url.size() + r.request.method.size() + r.request.body.body.size() +
                  r.response.code.size() + r.response.phrase.size() + r.response.body.body.size();
  for (const auto& [k, v] : r.request.headers) n += k.size() + v.size() + 64;
  for (const auto& [k, v] : r.response.headers) n += k.size() + v.size() + 64;
  return n;
}

}  // namespace sidecar::store::codec
