// The trace store's on-disk encodings (docs/store.md): keys of every column family, the
// covering index entry, and the record value with its response body spliced out.
#pragma once

#include <array>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "store/trace_record.hpp"

namespace sidecar::store::codec {

/// Bumped whenever an encoding below changes; kept in the `meta` column family.
/// 2: hour counters beside the minute counters.
/// 3: records keyed by sid (with the account and body part in the value); no sids family;
///    by_session values without the covering entry.
/// 4: records values hold the packed record, not its JSON (version 3's are still read, so a
///    version 3 database is opened and becomes version 4).
/// 5: no per-record key in by_account: lists and purges read the index chunks, which every
///    version since 3 writes (so versions 3 and 4 are opened and become version 5; their
///    by_account keys are left to expire).
inline constexpr std::uint32_t format_version = 5;
/// The oldest version a database may hold and still be opened (then marked format_version).
inline constexpr std::uint32_t oldest_read_version = 3;

/// Width of a per-account counter bucket.
inline constexpr std::int64_t bucket_ms = 60'000;
/// Hour counters (the sums of 60 minute counters) let an unfiltered total over days read a
/// few dozen counters instead of thousands. Their keys carry the hour with the top bit of
/// the be64 set, so they sort after every minute counter of the account.
inline constexpr std::int64_t hour_ms = 3'600'000;
inline constexpr std::int64_t buckets_per_hour = hour_ms / bucket_ms;

/// Response bodies are kept in chunks: per account, per 10 s of creation time, cut into
/// parts of about 256 KiB, so that the ResponseBody filter searches large contiguous buffers
/// (as grep does) instead of one small value per record.
inline constexpr std::int64_t chunk_ms = 10'000;
inline constexpr std::size_t chunk_part_bytes = 256 * 1024;

// ---- keys ---------------------------------------------------------------------------------
// Identifiers (account, session) are written varint(length) + bytes, so that one id is never
// a prefix of another's keys. "inv" is the bitwise complement of the 16 sid bytes: ascending
// keys then run newest first (created desc, then sid desc), so listing is a forward scan.

/// Seven bits a byte, low first, the high bit set on all but the last. Inline, with one append:
/// a packed record writes dozens (every string's length), and a call and a push_back per byte
/// took a tenth of the store benchmark's encoder instructions.
inline void append_varint(std::string& out, std::uint64_t v) {
  if (v < 0x80) {
    out.push_back(static_cast<char>(v));
    return;
  }
  std::array<char, 10> bytes{};
  std::size_t n = 0;
  for (; v >= 0x80; v >>= 7) bytes[n++] = static_cast<char>(v | 0x80);
  bytes[n++] = static_cast<char>(v);
  out.append(bytes.data(), n);
}
/// The low `width` bytes of `v` (at most 8), most significant first, in one append: the keys'
/// fixed-width fields (times, counter buckets, parts), whose byte order is their sort order.
inline void append_be(std::string& out, std::uint64_t v, std::size_t width) {
  assert(width <= 8);
  std::array<char, 8> bytes{};
  for (std::size_t i = 0; i < width; ++i) bytes[i] = static_cast<char>(v >> (8 * (width - 1 - i)));
  out.append(bytes.data(), width);
}
/// The first `width` bytes of `in` (at most 8, all present) as a big-endian number: what
/// append_be wrote.
[[nodiscard]] inline std::uint64_t read_be(std::string_view in, std::size_t width) {
  assert(width <= 8 && in.size() >= width);
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < width; ++i) v = v << 8 | static_cast<std::uint8_t>(in[i]);
  return v;
}
/// Reads a varint at `pos`, advancing it; false when malformed.
[[nodiscard]] bool read_varint(std::string_view in, std::size_t& pos, std::uint64_t& v);
/// varint(length) + bytes: how every id, and every string of a value, is written.
inline void append_id(std::string& out, std::string_view id) {
  append_varint(out, id.size());
  out.append(id);
}
/// Reads what append_id wrote at `pos`, advancing it; false when malformed.
[[nodiscard]] bool read_id(std::string_view in, std::size_t& pos, std::string_view& id);

/// varint(len) + id: the prefix of an id's keys in records, bodies, by_account, by_session
/// and counters.
[[nodiscard]] std::string id_prefix(std::string_view id);
/// prefix + inv(sid): the key of one record in records, bodies, by_account and by_session.
[[nodiscard]] std::string id_sid_key(std::string_view id, const sid_bytes& sid);
/// The same key, written into `out` (cleared first): the writer's buffers, reused per record.
void assign_id_sid_key(std::string& out, std::string_view id, const sid_bytes& sid);
/// prefix + inv(time ms, random 0xff..): the smallest key of `id` with created <= ms.
void append_inv_time(std::string& out, std::int64_t ms);
/// prefix + be64(bucket): one minute counter.
[[nodiscard]] std::string counter_key(std::string_view id, std::int64_t bucket);
void assign_counter_key(std::string& out, std::string_view id, std::int64_t bucket);
/// prefix + be64(hour | 1 << 63): one hour counter.
[[nodiscard]] std::string hour_counter_key(std::string_view id, std::int64_t hour);

/// prefix + inv(chunk start ms) + be16(part): one body chunk.
[[nodiscard]] std::string chunk_key(std::string_view id, std::int64_t chunk, std::uint32_t part);
void assign_chunk_key(std::string& out, std::string_view id, std::int64_t chunk,
                      std::uint32_t part);
/// Splits a chunk key; `chunk` is the chunk index (start ms / chunk_ms).
[[nodiscard]] bool split_chunk_key(std::string_view key, std::string_view& id, std::int64_t& chunk,
                                   std::uint32_t& part);
/// One chunk entry: inv(sid) (16 bytes) + varint(length) + body.
void append_chunk_entry(std::string& out, std::string_view inv, std::string_view body);
/// Reads the chunk entry at `pos`, advancing it; false at the end or when malformed.
[[nodiscard]] bool next_chunk_entry(std::string_view chunk, std::size_t& pos, std::string_view& inv,
                                    std::string_view& body);
/// The body of the entry for `inv` in a chunk; nullopt when it has none.
[[nodiscard]] std::optional<std::string_view> find_in_chunk(std::string_view chunk,
                                                            std::string_view inv);

/// Splits an id-keyed key into its id and the 16 inverted sid bytes; false when malformed.
[[nodiscard]] bool split_id_key(std::string_view key, std::string_view& id, std::string_view& inv);
/// The 16 inverted bytes of `sid` (the form keys and chunk entries hold it in), appended.
void append_inv_sid(std::string& out, const sid_bytes& sid);
/// The sid of 16 inverted bytes.
[[nodiscard]] sid_bytes uninvert(std::string_view inv);
/// Creation ms from 16 (or at least 6) inverted bytes.
[[nodiscard]] std::int64_t inv_ms(std::string_view inv);
/// Splits a counter key into its id, its bucket (minute or hour index) and the bucket's
/// width (bucket_ms or hour_ms); false when malformed.
[[nodiscard]] bool split_counter_key(std::string_view key, std::string_view& id,
                                     std::int64_t& bucket, std::int64_t& width_ms);

// ---- values -------------------------------------------------------------------------------

/// The request method as three bits of a covering entry's flags, so that the Method filter
/// is decided without reading the record: 1-6 the usual methods, 7 another one, 0 an entry
/// written before methods were indexed (the format is the same: those bits were 0). With 0 or
/// 7 the record itself is read (store/record_filter.hpp).
inline constexpr std::uint8_t method_unknown = 0;
inline constexpr std::uint8_t method_other = 7;
/// The code of `method` (exact but for letter case).
[[nodiscard]] std::uint8_t method_code(std::string_view method);

/// What a list filter needs, besides account, session and time (which are in the keys).
struct covering {
  bool completed = false;
  bool api = false;                      // direction
  std::uint8_t method = method_unknown;  // method_code() of request.method
  std::int64_t latency_ms = 0;
  std::string_view code;  // "200", "" when none
  std::string_view org_sid;
  std::string_view path;
  // request.url = url_head, or url_head + path when url_has_path (the usual case, which
  // saves repeating the path).
  std::string_view url_head;
  bool url_has_path = false;
  std::uint32_t body_part = 0;  // which part of its body chunk holds the response body
  /// Whether request.path or request.url starts with `p` (the RequestPath filter).
  [[nodiscard]] bool path_or_url_starts_with(std::string_view p) const;
};
/// request.url as covering entries and packed records store it: the head before the path
/// when the URL ends with the path (the usual case, which saves repeating it), else the whole
/// URL.
struct url_parts {
  std::string_view head;
  bool has_path = false;
};
[[nodiscard]] url_parts split_url(const recorded_request& q);
/// by_account value.
void encode_covering(std::string& out, const trace_record& r, std::uint32_t body_part);
/// by_session value: varint(len) + account, varint(chunk part of the body). No covering
/// entry: a session holds a few records, and a SessionSid query with covering filters reads
/// theirs from by_account.
void encode_session_entry(std::string& out, std::string_view account, std::uint32_t body_part);
[[nodiscard]] bool decode_covering(std::string_view in, covering& c);
[[nodiscard]] bool decode_session_entry(std::string_view in, std::string_view& account,
                                        std::uint32_t& body_part);

/// The records value (the key is the sid's 16 bytes): varint(len) + account, varint(chunk
/// part of the response body), then the record: packed_mark + the packed record
/// (store/record_pack.hpp), its response body stored once, in a body chunk. Values of format
/// version 3 hold the record's JSON there instead, split around its response body:
/// varint(splice + 1) + the JSON without the body literal (splice 0: the JSON is whole); they
/// are still read. Writes the value into `value` (cleared first; the writer encodes every
/// record into the same buffer, which then never allocates once grown).
void encode_record_value(const trace_record& r, std::uint32_t body_part, std::string& value);
/// The same with `r.sid` already parsed (the writer has it).
void encode_record_value(const trace_record& r, const sid_bytes& sid, std::uint32_t body_part,
                         std::string& value);
/// What starts a packed record in a records value: a version 3 splice of 0 followed by a byte
/// no JSON starts with.
inline constexpr std::string_view packed_mark{"\x00\x04", 2};
/// Splits a records value into the account, the body's chunk part and the stored record (for
/// assemble_json); false when malformed.
[[nodiscard]] bool split_record_value(std::string_view in, std::string_view& account,
                                      std::uint32_t& part, std::string_view& spliced);
/// Appends the JSON (docs/records.md) of a stored record given its parts (the account and the
/// stored record of a records value, and the response body); false when malformed.
[[nodiscard]] bool assemble_json(std::string& out, std::string_view account,
                                 std::string_view spliced, std::string_view body);

/// Bytes a ready record holds in memory (the writer queue's bound).
[[nodiscard]] std::size_t memory_size(const trace_record& r);

}  // namespace sidecar::store::codec
