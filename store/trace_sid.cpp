// Trace sids (see trace_sid.hpp and docs/records.md).
#include "store/trace_sid.hpp"

#include <algorithm>
#include <cstring>

#include "support/hex.hpp"

namespace sidecar::store {

namespace {

constexpr std::string_view prefix = "TR";
constexpr int time_digits = 12;

/// "TR" and the time's 12 hex digits: the sid_floor() of `ms`, appended.
void append_floor(std::string& out, std::int64_t ms) {
  out += prefix;
  hex::append_fixed(out, static_cast<std::uint64_t>(clamp_sid_ms(ms)), time_digits);
}

}  // namespace

std::int64_t clamp_sid_ms(std::int64_t ms) { return std::clamp<std::int64_t>(ms, 0, max_sid_ms); }

std::string make_trace_sid(std::int64_t created_ms, std::span<const std::uint8_t, 10> random) {
  std::string sid;
  assign_trace_sid(sid, created_ms, random);
  return sid;
}

void assign_trace_sid(std::string& out, std::int64_t created_ms,
                      std::span<const std::uint8_t, 10> random) {
  out.clear();
  out.reserve(sid_length);
  append_floor(out, created_ms);
  hex::append_bytes(out, random);
}

std::string make_trace_sid(std::int64_t created_ms, std::mt19937_64& rng) {
  std::array<std::uint8_t, 10> random{};
  const std::uint64_t a = rng(), b = rng();
  std::memcpy(random.data(), &a, 8);
  std::memcpy(random.data() + 8, &b, 2);
  return make_trace_sid(created_ms, std::span<const std::uint8_t, 10>(random));
}

std::string sid_floor(std::int64_t ms) {
  std::string s;
  append_floor(s, ms);
  return s;
}

std::optional<sid_bytes> parse_sid(std::string_view sid) {
  if (sid.size() != sid_length || !sid.starts_with(prefix)) return std::nullopt;
  sid_bytes b{};
  if (!hex::decode(sid.substr(prefix.size()), b, /*lower_only=*/true)) return std::nullopt;
  return b;
}

std::string format_sid(const sid_bytes& b) {
  std::string s(prefix);
  hex::append_bytes(s, b);
  return s;
}

std::int64_t sid_ms(const sid_bytes& b) {
  std::int64_t ms = 0;
  for (std::size_t i = 0; i < 6; ++i) ms = ms << 8 | b[i];
  return ms;
}

std::optional<std::int64_t> sid_time_ms(std::string_view sid) {
  const auto b = parse_sid(sid);
  if (!b) return std::nullopt;
  return sid_ms(*b);
}

}  // namespace sidecar::store
