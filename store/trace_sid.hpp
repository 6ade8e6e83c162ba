// The trace sid: "TR" + 12 hex digits of the creation time in ms + 20 hex digits (80 random
// bits), lower case (docs/records.md). Sids sort by creation time as text and as bytes; the
// one home of their form, parsing and time.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <string_view>

namespace sidecar::store {

/// The latest creation time a sid can carry: what its 12 hex digits hold.
inline constexpr std::int64_t max_sid_ms = (std::int64_t{1} << 48) - 1;
/// The length of a sid's text.
inline constexpr std::size_t sid_length = 34;

/// `ms` clamped to what a sid can carry (0 .. max_sid_ms).
[[nodiscard]] std::int64_t clamp_sid_ms(std::int64_t ms);

/// "TR" + 12 hex digits of `created_ms` (clamped) + 20 hex digits of `random`.
[[nodiscard]] std::string make_trace_sid(std::int64_t created_ms,
                                         std::span<const std::uint8_t, 10> random);
/// The same into `out`, whose capacity is reused.
void assign_trace_sid(std::string& out, std::int64_t created_ms,
                      std::span<const std::uint8_t, 10> random);
/// The same with bits from `rng`: for tests and benchmarks, which want reproducible sids.
[[nodiscard]] std::string make_trace_sid(std::int64_t created_ms, std::mt19937_64& rng);

/// The creation time carried by a sid; nullopt when `sid` is not a well-formed trace sid.
[[nodiscard]] std::optional<std::int64_t> sid_time_ms(std::string_view sid);

/// The smallest sid of time `ms` (clamped): "TR" + its 12 hex digits. Every sid created at or
/// after `ms` sorts at or after it, every sid created before sorts before it.
[[nodiscard]] std::string sid_floor(std::int64_t ms);

/// A sid as 16 bytes: 6 bytes of big-endian creation ms, then the 10 random bytes. Byte
/// order equals the order of the text, so it sorts by time.
using sid_bytes = std::array<std::uint8_t, 16>;

/// Parses a well-formed sid; nullopt otherwise.
[[nodiscard]] std::optional<sid_bytes> parse_sid(std::string_view sid);
/// Back to its text.
[[nodiscard]] std::string format_sid(const sid_bytes& b);
/// The creation time carried by the first 6 bytes.
[[nodiscard]] std::int64_t sid_ms(const sid_bytes& b);

}  // namespace sidecar::store
