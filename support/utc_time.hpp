// Instants as UTC text: the one home of the calendar arithmetic and of the date forms the
// sidecar writes (RFC 2822 in records, ISO 8601 in logs, HAR and /status, IMF-fixdate in HTTP).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sidecar::utc {

inline constexpr std::array<std::string_view, 7> day_names = {"Sun", "Mon", "Tue", "Wed",
                                                              "Thu", "Fri", "Sat"};
inline constexpr std::array<std::string_view, 12> month_names = {
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

/// An instant's calendar fields (proleptic Gregorian, UTC).
struct civil_time {
  int year = 1970;
  unsigned month = 1;    // 1..12
  unsigned day = 1;      // 1..31
  unsigned weekday = 4;  // 0 = Sunday
  int hour = 0;
  int minute = 0;
  int second = 0;
  int millis = 0;
};

/// The calendar fields of `epoch_ms` (ms since 1970-01-01T00:00:00Z; negative is before).
[[nodiscard]] civil_time split(std::int64_t epoch_ms);

/// Days since 1970-01-01 of a calendar date; nullopt for a date that does not exist.
[[nodiscard]] std::optional<std::int64_t> days_from_civil(int year, unsigned month, unsigned day);

/// The system clock now, in ms since the epoch.
[[nodiscard]] std::int64_t now_ms();

/// "2021-06-30T16:41:09Z", or with `with_millis` "2021-06-30T16:41:09.456Z".
void append_iso8601(std::string& out, std::int64_t epoch_ms, bool with_millis);
[[nodiscard]] std::string iso8601(std::int64_t epoch_ms, bool with_millis);

/// A date's text in a buffer of its own: the record's two dates are written for every exchange,
/// without a heap allocation.
struct date_text {
  std::array<char, 48> chars{};
  std::size_t size = 0;
  [[nodiscard]] std::string_view view() const { return {chars.data(), size}; }
};

/// "Wed, 30 Jun 2021 16:41:09 +0000", or with `with_millis` "Wed, 30 Jun 2021 16:41:09.456 +0000".
[[nodiscard]] date_text rfc2822(std::int64_t epoch_ms, bool with_millis);
/// An rfc2822 text with milliseconds, to the second: the same text without its ".456" (a
/// record has both forms of one time; formatting it once is half the work).
[[nodiscard]] date_text without_millis(const date_text& with_millis);

/// HTTP's IMF-fixdate: "Wed, 30 Jun 2021 16:41:09 GMT" (RFC 9110 section 5.6.7).
[[nodiscard]] std::string http_date(std::int64_t epoch_ms);

}  // namespace sidecar::utc
