// UTC calendar fields and date forms on <chrono> (see utc_time.hpp).
#include "support/utc_time.hpp"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstring>

namespace sidecar::utc {
namespace {

// The forms are written into a date_text's buffer, then appended once where a string is
// wanted: a piece at a time into a std::string costs a call each.

/// `v` in decimal, zeros first to `width` digits.
char* put_digits(char* p, int v, int width) {
  char buf[16];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  for (int pad = width - static_cast<int>(end - buf); pad > 0; --pad) *p++ = '0';
  return std::copy(buf, end, p);
}

char* put(char* p, std::string_view s) {
  std::memcpy(p, s.data(), s.size());
  return p + s.size();
}

char* put_clock(char* p, const civil_time& t, bool with_millis) {
  p = put_digits(p, t.hour, 2);
  *p++ = ':';
  p = put_digits(p, t.minute, 2);
  *p++ = ':';
  p = put_digits(p, t.second, 2);
  if (with_millis) {
    *p++ = '.';
    p = put_digits(p, t.millis, 3);
  }
  return p;
}

/// "Wed, 30 Jun 2021 16:41:09" and then `zone`: RFC 2822 and IMF-fixdate differ in the zone.
/// At most 3 + 2 + 2 + 1 + 3 + 1 + 11 (an int's year) + 1 + 12 + 6 = 42 characters.
date_text day_and_clock(const civil_time& t, bool with_millis, std::string_view zone) {
  date_text d;
  char* p = d.chars.data();
  p = put(p, day_names[t.weekday]);
  p = put(p, ", ");
  p = put_digits(p, static_cast<int>(t.day), 2);
  *p++ = ' ';
  p = put(p, month_names[t.month - 1]);
  *p++ = ' ';
  p = put_digits(p, t.year, 4);
  *p++ = ' ';
  p = put_clock(p, t, with_millis);
  p = put(p, zone);
  d.size = static_cast<std::size_t>(p - d.chars.data());
  return d;
}

}  // namespace

civil_time split(std::int64_t epoch_ms) {
  using namespace std::chrono;
  const sys_time<milliseconds> t{milliseconds{epoch_ms}};
  const auto day = floor<days>(t);
  const year_month_day ymd{day};
  const hh_mm_ss clock{t - day};
  return {static_cast<int>(ymd.year()),
          static_cast<unsigned>(ymd.month()),
          static_cast<unsigned>(ymd.day()),
          weekday{day}.c_encoding(),
          static_cast<int>(clock.hours().count()),
          static_cast<int>(clock.minutes().count()),
          static_cast<int>(clock.seconds().count()),
          static_cast<int>(clock.subseconds().count())};
}

std::optional<std::int64_t> days_from_civil(int year, unsigned month, unsigned day) {
  using namespace std::chrono;
  const year_month_day ymd{std::chrono::year{year}, std::chrono::month{month},
                           std::chrono::day{day}};
  if (!ymd.ok()) return std::nullopt;
  return sys_days{ymd}.time_since_epoch().count();
}

std::int64_t now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

void append_iso8601(std::string& out, std::int64_t epoch_ms, bool with_millis) {
  const civil_time t = split(epoch_ms);
  std::array<char, 48> buf;
  char* p = put_digits(buf.data(), t.year, 4);
  *p++ = '-';
  p = put_digits(p, static_cast<int>(t.month), 2);
  *p++ = '-';
  p = put_digits(p, static_cast<int>(t.day), 2);
  *p++ = 'T';
  p = put_clock(p, t, with_millis);
  *p++ = 'Z';
  out.append(buf.data(), p);
}

std::string iso8601(std::int64_t epoch_ms, bool with_millis) {
  std::string out;
  append_iso8601(out, epoch_ms, with_millis);
  return out;
}

date_text rfc2822(std::int64_t epoch_ms, bool with_millis) {
  return day_and_clock(split(epoch_ms), with_millis, " +0000");
}

date_text without_millis(const date_text& with_millis) {
  const std::string_view text = with_millis.view();
  const std::size_t dot = text.find('.');
  if (dot == std::string_view::npos) return with_millis;
  date_text d;
  char* p = put(d.chars.data(), text.substr(0, dot));
  p = put(p, text.substr(std::min(dot + 4, text.size())));
  d.size = static_cast<std::size_t>(p - d.chars.data());
  return d;
}

std::string http_date(std::int64_t epoch_ms) {
  return std::string(day_and_clock(split(epoch_ms), false, " GMT").view());
}

}  // namespace sidecar::utc
