// The on-disk encodings of the trace store (store/store_codec.hpp, docs/store.md): the one
// piece whose bugs outlive a restart. Round trips, the orders the scans rely on, and malformed
// input refused rather than misread.
#include "store/store_codec.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "store/record_builder.hpp"
#include "store/record_pack.hpp"
#include "tests/store/record_fixtures.hpp"

namespace sidecar::store {
namespace {

using namespace std::string_view_literals;

constexpr std::string_view sid_text = "TR018f3a2b4c5d0d2c6e0b5a1f4c3e9b8a";

store::sid_bytes sid_at(std::int64_t ms, std::uint8_t fill) {
  std::mt19937_64 rng(fill);
  return *store::parse_sid(make_trace_sid(ms, rng));
}

std::string inv_of(const store::sid_bytes& sid) {
  std::string key = codec::id_sid_key("", sid);
  return key.substr(key.size() - 16);
}

TEST(store_codec, SidParsesAndFormatsBackToTheSameText) {
  const auto bytes = store::parse_sid(sid_text);
  ASSERT_TRUE(bytes.has_value());
  EXPECT_EQ(store::format_sid(*bytes), sid_text);
  EXPECT_EQ(store::sid_ms(*bytes), 0x018f3a2b4c5d);
  EXPECT_EQ(store::sid_ms(*bytes), sid_time_ms(sid_text));
}

TEST(store_codec, MalformedSidsAreRefused) {
  for (const std::string_view bad :
       {""sv, "TR"sv, "tr018f3a2b4c5d0d2c6e0b5a1f4c3e9b8a"sv,
        "TR018F3A2B4C5D0D2C6E0B5A1F4C3E9B8A"sv, "TR018f3a2b4c5d0d2c6e0b5a1f4c3e9b8"sv,
        "TR018f3a2b4c5d0d2c6e0b5a1f4c3e9b8aa"sv, "TR018f3a2b4c5d0d2c6e0b5a1f4c3e9b8g"sv,
        "AC018f3a2b4c5d0d2c6e0b5a1f4c3e9b8a"sv}) {
    EXPECT_FALSE(store::parse_sid(bad).has_value()) << bad;
  }
}

TEST(store_codec, VarintsRoundTripAtEveryWidth) {
  for (const std::uint64_t v :
       {std::uint64_t{0}, std::uint64_t{1}, std::uint64_t{127}, std::uint64_t{128},
        std::uint64_t{16383}, std::uint64_t{16384}, std::uint64_t{1} << 35,
        std::numeric_limits<std::uint64_t>::max()}) {
    std::string out;
    codec::append_varint(out, v);
    std::size_t pos = 0;
    std::uint64_t back = 0;
    ASSERT_TRUE(codec::read_varint(out, pos, back)) << v;
    EXPECT_EQ(back, v);
    EXPECT_EQ(pos, out.size());
  }
}

TEST(store_codec, TruncatedOrOverlongVarintsAreMalformed) {
  std::string out;
  codec::append_varint(out, std::uint64_t{1} << 40);
  std::size_t pos = 0;
  std::uint64_t v = 0;
  EXPECT_FALSE(codec::read_varint(std::string_view(out).substr(0, out.size() - 1), pos, v));
  const std::string eleven(11, '\x80');
  pos = 0;
  EXPECT_FALSE(codec::read_varint(eleven, pos, v));
  pos = 0;
  EXPECT_FALSE(codec::read_varint("", pos, v));
}

TEST(store_codec, OneIdsKeysNeverShareAPrefixWithAnothers) {
  // "AC1" must not be a prefix of the keys of "AC12": the length comes first.
  const auto sid = sid_at(1'700'000'000'000, 1);
  const std::string short_key = codec::id_sid_key("AC1", sid);
  const std::string long_prefix = codec::id_prefix("AC12");
  EXPECT_NE(short_key.compare(0, long_prefix.size(), long_prefix), 0);
  std::string_view id;
  std::string_view inv;
  ASSERT_TRUE(codec::split_id_key(short_key, id, inv));
  EXPECT_EQ(id, "AC1");
  EXPECT_EQ(codec::uninvert(inv), sid);
  EXPECT_EQ(codec::inv_ms(inv), 1'700'000'000'000);
}

TEST(store_codec, FixedWidthFieldsAreBigEndianAndReadBackAsWritten) {
  std::string out = "x";
  codec::append_be(out, 0x0102030405060708, 8);
  EXPECT_EQ(out, std::string("x\x01\x02\x03\x04\x05\x06\x07\x08", 9));
  out.clear();
  codec::append_be(out, 0xabcdef, 2);  // only the low bytes
  EXPECT_EQ(out, "\xcd\xef");
  for (const std::size_t width : {1u, 2u, 6u, 8u}) {
    const std::uint64_t mask =
        width == 8 ? ~std::uint64_t{0} : (std::uint64_t{1} << (8 * width)) - 1;
    for (const std::uint64_t v : {std::uint64_t{0}, std::uint64_t{1}, std::uint64_t{0x80},
                                  std::uint64_t{0xfedcba9876543210}, ~std::uint64_t{0}}) {
      out.clear();
      codec::append_be(out, v, width);
      ASSERT_EQ(out.size(), width);
      EXPECT_EQ(codec::read_be(out, width), v & mask) << width << " " << v;
    }
  }
}

TEST(store_codec, KeysOfOneIdSortNewestFirstThenSidDescending) {
  std::vector<store::sid_bytes> sids;
  for (std::uint8_t i = 0; i < 20; ++i) sids.push_back(sid_at(1'700'000'000'000 + (i % 5), i));
  std::vector<std::string> keys;
  for (const auto& s : sids) keys.push_back(codec::id_sid_key("ACx", s));
  std::sort(keys.begin(), keys.end());
  for (std::size_t i = 1; i < keys.size(); ++i) {
    std::string_view id;
    std::string_view a;
    std::string_view b;
    ASSERT_TRUE(codec::split_id_key(keys[i - 1], id, a));
    ASSERT_TRUE(codec::split_id_key(keys[i], id, b));
    EXPECT_GT(store::format_sid(codec::uninvert(a)), store::format_sid(codec::uninvert(b)));
  }
}

TEST(store_codec, InvTimeIsTheSmallestKeyAtOrBeforeThatTime) {
  // A scan seeking prefix + inv_time(ms) starts at the newest record created at or before ms.
  const auto at = sid_at(5'000, 7);
  const auto after = sid_at(5'001, 7);
  std::string seek = codec::id_prefix("ACx");
  codec::append_inv_time(seek, 5'000);
  EXPECT_LE(seek, codec::id_sid_key("ACx", at));
  EXPECT_GT(seek, codec::id_sid_key("ACx", after));
}

TEST(store_codec, CounterKeysSplitBackAndHoursSortAfterMinutes) {
  std::string_view id;
  std::int64_t bucket = 0;
  std::int64_t width = 0;
  const std::string minute = codec::counter_key("ACx", 28'333'333);
  ASSERT_TRUE(codec::split_counter_key(minute, id, bucket, width));
  EXPECT_EQ(id, "ACx");
  EXPECT_EQ(bucket, 28'333'333);
  EXPECT_EQ(width, codec::bucket_ms);
  const std::string hour = codec::hour_counter_key("ACx", 472'222);
  ASSERT_TRUE(codec::split_counter_key(hour, id, bucket, width));
  EXPECT_EQ(bucket, 472'222);
  EXPECT_EQ(width, codec::hour_ms);
  EXPECT_GT(hour, minute);
  EXPECT_GT(codec::hour_counter_key("ACx", 0), codec::counter_key("ACx", 1LL << 40));
}

TEST(store_codec, ChunkKeysAndEntriesRoundTrip) {
  std::string_view id;
  std::int64_t chunk = 0;
  std::uint32_t part = 0;
  const std::string key = codec::chunk_key("ACx", 170'000'000, 3);
  ASSERT_TRUE(codec::split_chunk_key(key, id, chunk, part));
  EXPECT_EQ(id, "ACx");
  EXPECT_EQ(chunk, 170'000'000);
  EXPECT_EQ(part, 3U);

  const auto a = inv_of(sid_at(1, 1));
  const auto b = inv_of(sid_at(2, 2));
  const auto c = inv_of(sid_at(3, 3));
  std::string chunk_bytes;
  codec::append_chunk_entry(chunk_bytes, a, "first body");
  codec::append_chunk_entry(chunk_bytes, b, "");
  codec::append_chunk_entry(chunk_bytes, c, std::string("bin\0ary", 7));
  EXPECT_EQ(codec::find_in_chunk(chunk_bytes, a), "first body");
  EXPECT_EQ(codec::find_in_chunk(chunk_bytes, b), "");
  EXPECT_EQ(codec::find_in_chunk(chunk_bytes, c), std::string_view("bin\0ary", 7));
  EXPECT_FALSE(codec::find_in_chunk(chunk_bytes, inv_of(sid_at(4, 4))).has_value());

  std::size_t pos = 0;
  std::string_view inv;
  std::string_view body;
  int entries = 0;
  while (codec::next_chunk_entry(chunk_bytes, pos, inv, body)) ++entries;
  EXPECT_EQ(entries, 3);
  // A chunk cut in the middle of an entry yields the whole entries before the cut only.
  pos = 0;
  entries = 0;
  const std::string_view cut = std::string_view(chunk_bytes).substr(0, chunk_bytes.size() - 2);
  while (codec::next_chunk_entry(cut, pos, inv, body)) ++entries;
  EXPECT_EQ(entries, 2);
}

trace_record built_record(conf::direction dir, const std::string& fixture) {
  record_builder builder(testing::make_config());
  auto built = builder.build(testing::capture_from(fixture, dir));
  EXPECT_TRUE(built.record.has_value()) << fixture;
  return std::move(*built.record);
}

TEST(store_codec, CoveringEntryHoldsWhatTheFiltersRead) {
  auto r = built_record(conf::direction::webhook, "voice-rcml-request.http");
  std::string value;
  codec::encode_covering(value, r, 5);
  codec::covering c;
  ASSERT_TRUE(codec::decode_covering(value, c));
  EXPECT_EQ(c.completed, r.completed);
  EXPECT_FALSE(c.api);
  EXPECT_EQ(c.latency_ms, r.latency_ms);
  EXPECT_EQ(c.code, r.response.code);
  EXPECT_EQ(c.org_sid, r.org_sid);
  EXPECT_EQ(c.path, r.request.path);
  EXPECT_EQ(c.body_part, 5U);
  EXPECT_TRUE(c.path_or_url_starts_with(r.request.path.substr(0, 3)));
  EXPECT_TRUE(c.path_or_url_starts_with(r.request.url));
  EXPECT_FALSE(c.path_or_url_starts_with("/nowhere"));
  // Every strict prefix of a covering entry is malformed, never a shorter valid entry.
  for (std::size_t n = 0; n < value.size(); ++n) {
    codec::covering partial;
    EXPECT_FALSE(codec::decode_covering(std::string_view(value).substr(0, n), partial)) << n;
  }
}

TEST(store_codec, SessionEntryRoundTrips) {
  std::string value;
  codec::encode_session_entry(value, testing::acme, 9);
  std::string_view account;
  std::uint32_t part = 0;
  ASSERT_TRUE(codec::decode_session_entry(value, account, part));
  EXPECT_EQ(account, testing::acme);
  EXPECT_EQ(part, 9U);
  EXPECT_FALSE(codec::decode_session_entry(std::string_view(value).substr(0, 3), account, part));
}

/// The JSON a records value gives back with `body` as its response body.
std::string reassembled(const std::string& value, std::string_view body) {
  std::string_view account;
  std::uint32_t part = 0;
  std::string_view spliced;
  std::string json;
  EXPECT_TRUE(codec::split_record_value(value, account, part, spliced));
  EXPECT_TRUE(codec::assemble_json(json, account, spliced, body));
  return json;
}

TEST(store_codec, RecordValueReassemblesTheExactJson) {
  for (const auto& [dir, fixture] : {std::pair{conf::direction::webhook, "voice-rcml-request.http"},
                                     std::pair{conf::direction::api, "api-create-call.http"}}) {
    auto r = built_record(dir, fixture);
    ASSERT_FALSE(r.response.body.body.empty());
    const std::string expected = to_json(r);
    std::string value;
    codec::encode_record_value(r, 2, value);
    EXPECT_EQ(to_json(r), expected) << "the record is left as it came";

    std::string_view account;
    std::uint32_t part = 0;
    std::string_view spliced;
    ASSERT_TRUE(codec::split_record_value(value, account, part, spliced));
    EXPECT_EQ(account, r.account_sid);
    EXPECT_EQ(part, 2U);
    EXPECT_TRUE(spliced.starts_with(codec::packed_mark));
    EXPECT_EQ(reassembled(value, r.response.body.body), expected);
    // The body is stored once, in its chunk: the value does not repeat it.
    EXPECT_EQ(value.find(r.response.body.body), std::string::npos);
    // What format version 4 is for: far fewer bytes than the JSON for every write to carry.
    EXPECT_LT(value.size(), (expected.size() - r.response.body.body.size()) * 2 / 3) << fixture;
  }
}

TEST(store_codec, RecordValueWithAnEmptyBodyAndEscapesReassembles) {
  auto r = built_record(conf::direction::webhook, "voice-rcml-request.http");
  r.response.body.body = "quote \" backslash \\ newline \n tab \t";
  r.response.headers.emplace_back("x-odd", "\"{}\"");
  std::string value;
  codec::encode_record_value(r, 0, value);
  EXPECT_EQ(reassembled(value, r.response.body.body), to_json(r));

  r.response.body.body.clear();
  codec::encode_record_value(r, 0, value);
  EXPECT_EQ(reassembled(value, ""), to_json(r));
}

TEST(store_codec, PackedRecordKeepsEveryField) {
  // Every field away from its usual value, so that none can be dropped or swapped unseen.
  auto r = built_record(conf::direction::api, "api-create-call.http");
  r.created_ms = *sid_time_ms(r.sid) + 3;  // a record built a little after its sid's time
  r.completed = !r.completed;
  r.latency_ms = -1;
  r.error = "upstream closed the connection";
  r.node = "node-7";
  r.replay_of = std::string(sid_text);
  r.account_friendly_name = "Acme \xC3\xA9t\xC3\xA9";
  r.request.url = "https://upstream.example/elsewhere";  // not ending with the path
  r.request.method = "PROPFIND";
  r.request.headers.emplace_back("x-custom-name", "bad utf-8 \xFF kept as it came");
  r.request.headers.emplace_back("host", "");
  r.request.body = {"AAEC", true, true, 123'456};
  r.response.code = "";
  r.response.phrase = "";
  r.response.headers.clear();
  r.response.body = {"", true, true, 99};
  std::string value;
  codec::encode_record_value(r, 7, value);
  EXPECT_EQ(reassembled(value, ""), to_json(r));

  std::string_view account;
  std::uint32_t part = 0;
  std::string_view spliced;
  ASSERT_TRUE(codec::split_record_value(value, account, part, spliced));
  trace_record back;
  ASSERT_TRUE(unpack_record(spliced.substr(codec::packed_mark.size()), account, back));
  testing::expect_same_record(back, r);
}

TEST(store_codec, Version3RecordValuesAreStillRead) {
  // A version 3 value, as that version's writer made it: the JSON split around the body.
  auto r = built_record(conf::direction::webhook, "voice-rcml-request.http");
  std::string json;
  const std::size_t at = append_json_without_response_body(json, r);
  std::string value = codec::id_prefix(r.account_sid);
  codec::append_varint(value, 3);
  codec::append_varint(value, at + 1);
  value += json;
  EXPECT_EQ(reassembled(value, r.response.body.body), to_json(r));
  // And a whole one (splice 0), written before the splice was always made.
  value = codec::id_prefix(r.account_sid);
  codec::append_varint(value, 0);
  codec::append_varint(value, 0);
  value += to_json(r);
  EXPECT_EQ(reassembled(value, "ignored"), to_json(r));
}

TEST(store_codec, TruncatedRecordValuesAreMalformed) {
  auto r = built_record(conf::direction::webhook, "voice-rcml-request.http");
  std::string value;
  codec::encode_record_value(r, 1, value);
  std::string_view account;
  std::uint32_t part = 0;
  std::string_view spliced;
  for (std::size_t n = 0; n < 4 && n < value.size(); ++n) {
    EXPECT_FALSE(
        codec::split_record_value(std::string_view(value).substr(0, n), account, part, spliced))
        << n;
  }
  // Every strict prefix of a packed record, and one with a byte too many, is refused.
  ASSERT_TRUE(codec::split_record_value(value, account, part, spliced));
  std::string json;
  for (std::size_t n = codec::packed_mark.size(); n < spliced.size(); ++n) {
    EXPECT_FALSE(codec::assemble_json(json, account, spliced.substr(0, n), "")) << n;
  }
  const std::string longer = std::string(spliced) + "x";
  EXPECT_FALSE(codec::assemble_json(json, account, longer, ""));
}

TEST(store_codec, PackedRecordWithAnImpossibleHeaderCountIsMalformed) {
  auto r = built_record(conf::direction::webhook, "voice-rcml-request.http");
  r.request.headers.clear();
  r.response.headers.clear();
  std::string packed;
  pack_record(packed, r, *parse_sid(r.sid));
  // The request's header count sits after its path, url head and method: make it huge.
  const std::string count_of_none(1, '\0');
  std::string needle;
  codec::append_varint(needle, r.request.method.size());
  needle += r.request.method;
  needle += count_of_none;
  const auto at = packed.find(needle);
  ASSERT_NE(at, std::string::npos);
  std::string huge;
  codec::append_varint(huge, std::uint64_t{1} << 40);
  packed.replace(at + needle.size() - 1, 1, huge);
  trace_record back;
  EXPECT_FALSE(unpack_record(packed, r.account_sid, back));
}

TEST(store_codec, MemorySizeCountsTheBodies) {
  auto r = built_record(conf::direction::webhook, "voice-rcml-request.http");
  const std::size_t before = codec::memory_size(r);
  r.response.body.body.append(10'000, 'x');
  EXPECT_GE(codec::memory_size(r), before + 10'000);
}

}  // namespace
}  // namespace sidecar::store
