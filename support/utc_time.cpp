// UTC calendar fields and date forms on <chrono> (see utc_time.hpp).
#include "support/utc_time.hpp"

#include <charconv>
#include <chrono>

namespace sidecar::utc {
namespace {

void append_digits(std::string& out, int v, int width) {
  char buf[16];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  for (int pad = width - static_cast<int>(end - buf); pad > 0; --pad) out += '0';
  out.append(buf, end);
}

void append_clock(std::string& out, const civil_time& t, bool with_millis) {
  append_digits(out, t.hour, 2);
  out += ':';
  append_digits(out, t.minute, 2);
  out += ':';
  append_digits(out, t.second, 2);
  if (with_millis) {
    out += '.';
    append_digits(out, t.millis, 3);
  }
}

/// "Wed, 30 Jun 2021 16:41:09": the part RFC 2822 and IMF-fixdate share.
void append_day_and_clock(std::string& out, const civil_time& t, bool with_millis) {
  out += day_names[t.weekday];
  out += ", ";
  append_digits(out, static_cast<int>(t.day), 2);
  out += ' ';
  out += month_names[t.month - 1];
  out += ' ';
  append_digits(out, t.year, 4);
  out += ' ';
  append_clock(out, t, with_millis);
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
  append_digits(out, t.year, 4);
  out += '-';
  append_digits(out, static_cast<int>(t.month), 2);
  out += '-';
  append_digits(out, static_cast<int>(t.day), 2);
  out += 'T';
  append_clock(out, t, with_millis);
  out += 'Z';
}

std::string iso8601(std::int64_t epoch_ms, bool with_millis) {
  std::string out;
  append_iso8601(out, epoch_ms, with_millis);
  return out;
}

std::string rfc2822(std::int64_t epoch_ms, bool with_millis) {
  std::string out;
  out.reserve(36);
  append_day_and_clock(out, split(epoch_ms), with_millis);
  out += " +0000";
  return out;
}

std::string http_date(std::int64_t epoch_ms) {
  std::string out;
  out.reserve(29);
  append_day_and_clock(out, split(epoch_ms), false);
  out += " GMT";
  return out;
}

}  // namespace sidecar::utc
