// Fuzzes the store's on-disk decoders (store/store_codec.hpp): a value or key read back from
// RocksDB after a crash, a bad disk or an older binary is arbitrary bytes. Each decoder must
// refuse or decode without reading out of bounds, and what decodes must encode back to the
// same meaning.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "store/record_pack.hpp"
#include "store/store_codec.hpp"

namespace {

using namespace sidecar::store;

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "store_codec_fuzz: %s\n", what);
  std::abort();
}

void sids(std::string_view in) {
  const auto bytes = parse_sid(in);
  if (bytes && format_sid(*bytes) != in) fail("a parsed sid formats to other text");
}

void varints(std::string_view in) {
  std::size_t pos = 0;
  std::uint64_t v = 0;
  while (pos < in.size() && codec::read_varint(in, pos, v)) {
    std::string again;
    codec::append_varint(again, v);
    std::size_t back_pos = 0;
    std::uint64_t back = 0;
    if (!codec::read_varint(again, back_pos, back) || back != v) fail("varint round trip");
  }
  if (pos > in.size()) fail("varint read past the end");
}

void keys(std::string_view in) {
  std::string_view id;
  std::string_view inv;
  // Keys are written with the shortest varints; a reader may accept a longer one, but what it
  // reads must encode back to a key that reads the same.
  if (codec::split_id_key(in, id, inv)) {
    if (inv.size() != 16) fail("inverted sid is not 16 bytes");
    const std::string again = codec::id_sid_key(id, codec::uninvert(inv));
    std::string_view id2;
    std::string_view inv2;
    if (!codec::split_id_key(again, id2, inv2) || id2 != id || inv2 != inv) {
      fail("id key round trip");
    }
  }
  std::int64_t bucket = 0;
  std::int64_t width = 0;
  if (codec::split_counter_key(in, id, bucket, width)) {
    const std::string again = width == codec::hour_ms ? codec::hour_counter_key(id, bucket)
                                                      : codec::counter_key(id, bucket);
    std::string_view id2;
    std::int64_t bucket2 = 0;
    std::int64_t width2 = 0;
    if (!codec::split_counter_key(again, id2, bucket2, width2) || id2 != id || bucket2 != bucket ||
        width2 != width) {
      fail("counter key round trip");
    }
  }
  std::int64_t chunk = 0;
  std::uint32_t part = 0;
  if (codec::split_chunk_key(in, id, chunk, part)) {
    std::string_view id2;
    std::int64_t chunk2 = 0;
    std::uint32_t part2 = 0;
    if (!codec::split_chunk_key(codec::chunk_key(id, chunk, part), id2, chunk2, part2) ||
        id2 != id || chunk2 != chunk || part2 != part) {
      fail("chunk key round trip");
    }
  }
}

/// A packed record that unpacks packs again to a value that reads as the same JSON.
void packed_records(std::string_view account, std::uint32_t part, std::string_view spliced,
                    std::string_view body) {
  trace_record r;
  if (!spliced.starts_with(codec::packed_mark) ||
      !unpack_record(spliced.substr(codec::packed_mark.size()), account, r)) {
    return;
  }
  std::string json;
  if (!codec::assemble_json(json, account, spliced, body)) fail("an unpacked record not read");
  std::string again;
  codec::encode_record_value(r, part, again);
  std::string_view again_account, again_spliced;
  std::uint32_t again_part = 0;
  std::string json_again;
  if (!codec::split_record_value(again, again_account, again_part, again_spliced) ||
      !codec::assemble_json(json_again, again_account, again_spliced, body) ||
      json_again != json) {
    fail("a packed record packed again reads differently");
  }
}

void values(std::string_view in, std::string_view body) {
  codec::covering c;
  (void)codec::decode_covering(in, c);
  std::string_view account;
  std::uint32_t part = 0;
  (void)codec::decode_session_entry(in, account, part);
  std::string_view spliced;
  if (codec::split_record_value(in, account, part, spliced)) {
    std::string json;
    (void)codec::assemble_json(json, account, spliced, body);
    packed_records(account, part, spliced, body);
  }
  std::size_t pos = 0;
  std::string_view inv;
  std::string_view entry;
  while (codec::next_chunk_entry(in, pos, inv, entry)) {
    if (inv.size() != 16) fail("chunk entry without a 16-byte sid");
    if (entry.data() < in.data() || entry.data() + entry.size() > in.data() + in.size()) {
      fail("chunk entry outside its chunk");
    }
  }
  if (in.size() >= 16) (void)codec::find_in_chunk(in, in.substr(0, 16));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider provider(data, size);
  const std::string body = provider.ConsumeRandomLengthString(64);
  const std::string rest = provider.ConsumeRemainingBytesAsString();
  sids(rest);
  varints(rest);
  keys(rest);
  values(rest, body);
  return 0;
}
