// Byte-level text helpers shared by the JSON encoder and the record builder: UTF-8 validation
// with U+FFFD replacement (maximal subparts, as Unicode recommends).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace sidecar::text {

/// Length of the well-formed UTF-8 sequence at the start of `s` (1..4), or 0 when `s` does
/// not start with one. `*invalid_len` (when given) receives, for an ill-formed start, the
/// length of its maximal subpart: the bytes one U+FFFD stands for (at least 1).
[[nodiscard]] std::size_t utf8_sequence(std::string_view s, std::size_t* invalid_len = nullptr);

/// The index of the first byte at or after `from` that is not ASCII (s.size() when none);
/// eight bytes at a time.
[[nodiscard]] std::size_t ascii_run(std::string_view s, std::size_t from);

/// Whether all of `s` is well-formed UTF-8.
[[nodiscard]] bool is_valid_utf8(std::string_view s);

/// Whether `s` is well-formed UTF-8 except for an incomplete but so-far valid sequence at its
/// very end (what a body cut at an arbitrary byte looks like).
[[nodiscard]] bool is_valid_utf8_prefix(std::string_view s);

/// How many bytes at the end of `s` are the start of a UTF-8 sequence that `s` cuts off
/// (0..3): what to drop so that a body cut at a byte limit ends on a character boundary.
[[nodiscard]] std::size_t incomplete_tail(std::string_view s);

/// Appends `s` with every ill-formed sequence replaced by U+FFFD.
void append_utf8(std::string& out, std::string_view s);

}  // namespace sidecar::text
