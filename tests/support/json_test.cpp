// The JSON encoder: escaping, UTF-8 repair, the writer's commas, and valid JSON for any bytes
// (checked by parsing the output with simdjson).
#include "support/json.hpp"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <random>
#include <string>

namespace sidecar {
namespace {

std::string encoded(std::string_view s) {
  std::string out;
  json::append_string(out, s);
  return out;
}

// Parses `doc` and returns the string it holds; fails the test when it is not valid JSON.
std::string parse_string(const std::string& doc) {
  simdjson::dom::parser parser;
  simdjson::dom::element e;
  const auto err = parser.parse(doc).get(e);
  EXPECT_EQ(err, simdjson::SUCCESS) << "not valid JSON: " << doc;
  if (err) return {};
  std::string_view s;
  EXPECT_EQ(e.get(s), simdjson::SUCCESS);
  return std::string(s);
}

TEST(json_string, PlainAsciiIsCopiedInQuotes) { EXPECT_EQ(encoded("hello"), "\"hello\""); }

TEST(json_string, QuotesAndBackslashesAreEscaped) {
  EXPECT_EQ(encoded(R"(a"b\c)"), R"("a\"b\\c")");
}

TEST(json_string, ControlCharactersUseShortOrUnicodeEscapes) {
  EXPECT_EQ(encoded("\b\f\n\r\t"), R"("\b\f\n\r\t")");
  EXPECT_EQ(encoded(std::string("\x01\x1f", 2)), R"("\u0001\u001f")");
}

TEST(json_string, NulIsEscapedNotDropped) {
  EXPECT_EQ(encoded(std::string("a\0b", 3)), R"("a\u0000b")");
  EXPECT_EQ(parse_string(encoded(std::string("a\0b", 3))), std::string("a\0b", 3));
}

TEST(json_string, DeleteIsKeptAsIs) { EXPECT_EQ(encoded("\x7f"), "\"\x7f\""); }

TEST(json_string, ValidNonAsciiIsKeptAsUtf8) {
  const std::string s = "caf\xC3\xA9 \xF0\x9F\x93\x9E \xE2\x82\xAC";  // café 📞 €
  EXPECT_EQ(encoded(s), "\"" + s + "\"");
}

TEST(json_string, InvalidUtf8BecomesReplacementCharacter) {
  EXPECT_EQ(encoded("a\xFF"
                    "b"),
            "\"a\xEF\xBF\xBD"
            "b\"");
  EXPECT_EQ(encoded("\xC0\xAF"), "\"\xEF\xBF\xBD\xEF\xBF\xBD\"");                  // overlong '/'
  EXPECT_EQ(encoded("\xED\xA0\x80"), "\"\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\"");  // surrogate
  EXPECT_EQ(encoded("\xF4\x90\x80\x80"),                                           // above U+10FFFF
            "\"\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\"");
}

TEST(json_string, TruncatedSequenceIsOneReplacementCharacter) {
  // The maximal subpart E2 82 of a cut euro sign stands for one U+FFFD.
  EXPECT_EQ(encoded("x\xE2\x82"), "\"x\xEF\xBF\xBD\"");
  EXPECT_EQ(encoded("\xF0\x9F\x93"
                    "a"),
            "\"\xEF\xBF\xBD"
            "a\"");
}

TEST(json_string, LineAndParagraphSeparatorsAreEscaped) {
  EXPECT_EQ(encoded("\xE2\x80\xA8\xE2\x80\xA9"), R"("\u2028\u2029")");
  EXPECT_EQ(parse_string(encoded("\xE2\x80\xA8")), "\xE2\x80\xA8");
}

TEST(json_string, SpecialByteAtEveryOffsetOfAWordIsEscaped) {
  // The encoder looks at sixteen plain bytes at a time (eight without SSE2): a special byte
  // anywhere in a block or in the bytes after the last whole one must stop it.
  for (const char special : {'"', '\\', '\n', '\x01', '\x1f'}) {
    for (std::size_t at = 0; at < 40; ++at) {
      std::string s(40, 'a');
      s[at] = special;
      const std::string got = parse_string(encoded(s));
      EXPECT_EQ(got, s) << int(special) << " at " << at;
      EXPECT_EQ(encoded(s).size(), s.size() + 2 + (special < 0x20 && special != '\n' ? 5 : 1));
    }
  }
  for (std::size_t at = 0; at + 1 < 40; ++at) {
    std::string s(40, 'a');
    s[at] = '\xC3';
    s[at + 1] = '\xA9';
    EXPECT_EQ(encoded(s), "\"" + s + "\"") << "at " << at;
    s[at + 1] = 'b';
    EXPECT_EQ(encoded(s), "\"" + s.substr(0, at) + "\xEF\xBF\xBD" + s.substr(at + 1) + "\"")
        << "at " << at;
    // DEL and space, the edges of the plain range, are copied as they are.
    s = std::string(40, 'a');
    s[at] = '\x7f';
    s[at + 1] = ' ';
    EXPECT_EQ(encoded(s), "\"" + s + "\"") << "at " << at;
  }
}

TEST(json_string, EveryByteValueAloneGivesValidJson) {
  for (int b = 0; b < 256; ++b) {
    const std::string s(1, static_cast<char>(b));
    const std::string got = parse_string(encoded(s));
    if (b < 0x80) {
      EXPECT_EQ(got, s) << "byte " << b;
    } else {
      EXPECT_EQ(got, "\xEF\xBF\xBD") << "byte " << b;
    }
  }
}

TEST(json_string, EveryBytePairGivesValidJson) {
  for (int a = 0; a < 256; ++a) {
    for (int b = 0; b < 256; ++b) {
      const char s[3] = {static_cast<char>(a), static_cast<char>(b), 'z'};
      const std::string doc = encoded(std::string_view(s, 3));
      simdjson::dom::parser parser;
      simdjson::dom::element e;
      ASSERT_EQ(parser.parse(doc).get(e), simdjson::SUCCESS) << a << "," << b;
    }
  }
}

TEST(json_string, RandomBytesRoundTripWhenValidAndAlwaysParse) {
  std::mt19937 rng(42);
  for (int round = 0; round < 2000; ++round) {
    std::string s(rng() % 64, '\0');
    for (auto& c : s) c = static_cast<char>(rng());
    const std::string got = parse_string(encoded(s));
    EXPECT_FALSE(got.empty() && !s.empty());
  }
}

TEST(json_int, WritesSignedIntegers) {
  std::string out;
  json::append_int(out, 0);
  out += ' ';
  json::append_int(out, -42);
  out += ' ';
  json::append_int(out, INT64_MAX);
  EXPECT_EQ(out, "0 -42 9223372036854775807");
}

TEST(json_writer, PutsCommasBetweenMembersAndElements) {
  std::string out;
  json::writer w(out);
  w.begin_object();
  w.key("a").value(std::int64_t{1});
  w.key("b").begin_array().value("x").value(true).begin_object().end_object().end_array();
  w.key("c").begin_object().key("d").value(false).end_object();
  w.key("e").raw(R"({"z":1})");
  w.end_object();
  EXPECT_EQ(out, R"({"a":1,"b":["x",true,{}],"c":{"d":false},"e":{"z":1}})");
}

TEST(json_writer, EscapesValuesAndKeys) {
  std::string out;
  json::writer w(out);
  // A key literal that would need escaping does not compile (json::key_literal): this one
  // is a string, as a header name is.
  const std::string key = "k\"";
  w.begin_object().key(key).value("v\n").end_object();
  EXPECT_EQ(out, R"({"k\"":"v\n"})");
}

TEST(json_writer, AppendsToWhatIsAlreadyThere) {
  std::string out = "[";
  json::writer w(out);
  w.value("a").value("b");
  out += ']';
  EXPECT_EQ(out, R"(["a","b"])");
}

}  // namespace
}  // namespace sidecar
