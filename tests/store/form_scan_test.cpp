// The streaming form scanner: attribution parameters found in a form body of any size, fed
// in pieces of any size, without trusting a pair the body was cut in.
#include "store/form_scan.hpp"

#include <gtest/gtest.h>

#include <random>
#include <string>

#include "support/percent.hpp"

namespace sidecar::store {
namespace {

form_attribution scan(std::string_view body, std::size_t piece, bool complete = true) {
  form_scanner s;
  for (std::size_t at = 0; at < body.size(); at += piece) s.feed(body.substr(at, piece));
  if (complete) s.finish();
  return s.found();
}

TEST(form_scan, FindsEachParameterWhateverThePieceSize) {
  const std::string body =
      "From=%2B15550001&AccountSid=AC00000000000000000000000000000001&CallSid=CA1"
      "&MessageSid=MM2&SmsSid=SM3&To=%2B15550002";
  for (const std::size_t piece : {1u, 2u, 7u, 64u, 1000u}) {
    const auto f = scan(body, piece);
    EXPECT_EQ(f.account_sid, "AC00000000000000000000000000000001") << piece;
    EXPECT_EQ(f.call_sid, "CA1") << piece;
    EXPECT_EQ(f.message_sid, "MM2") << piece;
    EXPECT_EQ(f.sms_sid, "SM3") << piece;
  }
}

TEST(form_scan, NamesAndValuesArePercentDecodedAndTheFirstOccurrenceWins) {
  const auto f = scan("%41ccount%53id=AC%30%31&AccountSid=ACsecond&CallSid=a+b", 3);
  EXPECT_EQ(f.account_sid, "AC01");
  EXPECT_EQ(f.call_sid, "a b");
}

TEST(form_scan, FarIntoAHugeBody) {
  form_scanner s;
  const std::string pad(64 * 1024, 'p');
  s.feed("Pad=");
  for (int i = 0; i < 64; ++i) s.feed(pad);  // 4 MiB of one value: skipped, never kept
  s.feed("&CallSid=CAfar");
  s.finish();
  EXPECT_EQ(s.found().call_sid, "CAfar");
  EXPECT_FALSE(s.found().account_sid);
}

TEST(form_scan, ACutBodyDoesNotTrustItsLastPair) {
  // "CallSid=CA12" may be the start of "CallSid=CA1234...": unfinished, it is not used.
  const auto cut = scan("AccountSid=AC1&CallSid=CA12", 5, false);
  EXPECT_EQ(cut.account_sid, "AC1");
  EXPECT_FALSE(cut.call_sid);
  EXPECT_EQ(scan("AccountSid=AC1&CallSid=CA12", 5, true).call_sid, "CA12");
}

TEST(form_scan, OverlongPairsAndPairsWithoutValuesAreSkipped) {
  const std::string long_value(300, 'v');
  const auto f = scan("AccountSid=" + long_value + "&CallSid&AccountSid=ACshort&SmsSid=", 9);
  EXPECT_EQ(f.account_sid, "ACshort");
  EXPECT_FALSE(f.call_sid);    // no '=': no value
  EXPECT_EQ(f.sms_sid, "");    // present, empty
}

TEST(form_scan, OtherPairsAreSkippedWhateverTheirValuesHold) {
  // A pair of no interest is passed over to its '&': '=' in its value, a huge value, an empty
  // name; an escaped or '+'-holding name is still decoded before it is judged.
  const std::string body = "Body=a=b=c&=x&Text=" + std::string(5000, 'z') +
                           "&Account%53id=AC2&CallSid=CA1&Sms+Sid=no&SmsSid=SM1";
  for (const std::size_t piece : {1U, 3U, 7U, 64U, 100000U}) {
    form_scanner s;
    for (std::size_t at = 0; at < body.size(); at += piece)
      s.feed(std::string_view(body).substr(at, piece));
    s.finish();
    EXPECT_EQ(s.found().account_sid, "AC2") << piece;
    EXPECT_EQ(s.found().call_sid, "CA1") << piece;
    EXPECT_EQ(s.found().sms_sid, "SM1") << piece;
    EXPECT_FALSE(s.found().message_sid) << piece;
  }
}

TEST(form_scan, AFormBodyIsAFormContentTypeWithoutEncoding) {
  constexpr std::string_view form = "application/x-www-form-urlencoded";
  EXPECT_TRUE(is_form_body(form, ""));
  EXPECT_TRUE(is_form_body(" Application/X-WWW-Form-Urlencoded ; charset=UTF-8", ""));
  EXPECT_TRUE(is_form_body(form, "identity"));
  EXPECT_TRUE(is_form_body(form, " Identity "));
  EXPECT_FALSE(is_form_body(form, "gzip"));
  EXPECT_FALSE(is_form_body(form, "identity, gzip"));
  EXPECT_FALSE(is_form_body("application/json", ""));
  EXPECT_FALSE(is_form_body("multipart/form-data; boundary=x", ""));
  EXPECT_FALSE(is_form_body("", ""));
}

TEST(form_scan, AWholeBodyAtHandIsScannedToItsLastPair) {
  const form_attribution f = scan_form("From=%2B1&CallSid=CA1&AccountSid=AC%31");
  EXPECT_EQ(f.call_sid, "CA1");
  EXPECT_EQ(f.account_sid, "AC1");
  EXPECT_FALSE(f.message_sid);
}

// The rule written plainly over a whole body: pairs split at '&', a pair's name at its first
// '=', a pair without '=' or longer than the bounds (64 bytes of name, 256 of value, raw)
// skipped, names and values decoded leniently, the first occurrence of a name winning.
form_attribution by_the_rule(std::string_view body) {
  form_attribution f;
  while (true) {
    const auto amp = body.find('&');
    const std::string_view pair = body.substr(0, amp);
    if (const auto eq = pair.find('=');
        eq != std::string_view::npos && eq <= 64 && pair.size() - eq - 1 <= 256) {
      auto* slot = f.find(percent::decode_lenient(pair.substr(0, eq), true));
      if (slot != nullptr && !*slot) *slot = percent::decode_lenient(pair.substr(eq + 1), true);
    }
    if (amp == std::string_view::npos) break;
    body.remove_prefix(amp + 1);
  }
  return f;
}

TEST(form_scan, RandomBodiesFollowTheRuleWhateverThePieces) {
  // Bodies made of the bytes that matter: the names (plain, escaped, with '+'), '=', '&',
  // escapes and runs long enough to cross the bounds.
  const std::vector<std::string> parts = {"AccountSid",
                                          "CallSid",
                                          "MessageSid",
                                          "SmsSid",
                                          "%41ccountSid",
                                          "Call%53id",
                                          "Sms+Sid",
                                          "=",
                                          "=",
                                          "&",
                                          "&",
                                          "%",
                                          "%2",
                                          "+",
                                          "AC1",
                                          "x",
                                          std::string(60, 'n'),
                                          std::string(250, 'v')};
  std::mt19937 rng(13);  // fixed: the same bodies every run
  for (int round = 0; round < 3000; ++round) {
    std::string body;
    const int n = static_cast<int>(rng() % 24);
    for (int i = 0; i < n; ++i) body += parts[rng() % parts.size()];
    const form_attribution want = by_the_rule(body);
    for (const std::size_t piece : {1U, 2U, 5U, 61U, 100000U}) {
      const form_attribution got = scan(body, piece);
      ASSERT_EQ(got.account_sid, want.account_sid) << body << " / " << piece;
      ASSERT_EQ(got.call_sid, want.call_sid) << body << " / " << piece;
      ASSERT_EQ(got.message_sid, want.message_sid) << body << " / " << piece;
      ASSERT_EQ(got.sms_sid, want.sms_sid) << body << " / " << piece;
    }
  }
}

}  // namespace
}  // namespace sidecar::store
