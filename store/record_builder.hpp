// Turns a capture into a trace record by the rules of docs/records.md: attribution of the
// account and the session, status, dates, redaction of credentials and secret fields, and
// text-or-base64 bodies cut to body_limit.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>

#include "conf/config.hpp"
#include "store/capture.hpp"
#include "store/trace_record.hpp"

namespace sidecar::store {

/// Why a capture produced no record.
enum class skip_reason : std::uint8_t {
  no_account,          // no AccountSid anywhere and no route account
  unknown_account,     // an AccountSid that is not in the config
  traces_not_enabled,  // the account exists but has traces = false
};
[[nodiscard]] std::string_view to_string(skip_reason r);

struct build_result {
  std::optional<trace_record> record;  // set, or
  skip_reason skipped{};               // why not
};

/// Builds records for one configuration. Not thread-safe (it owns a buffer of random bytes
/// for sids); the store's writer thread owns one.
class record_builder {
 public:
  explicit record_builder(std::shared_ptr<const conf::config> cfg);

  /// Builds with the capture's configuration (the one its exchange ran under), or this
  /// builder's when the capture carries none.
  [[nodiscard]] build_result build(const capture& c);
  /// The same into `r`, which may hold an earlier record: every field is assigned, and its
  /// strings and lists keep their capacity (the store's writer recycles its records, so that
  /// a record in steady state allocates almost nothing). Nullopt when built, else why not
  /// (`r` is then unspecified).
  [[nodiscard]] std::optional<skip_reason> build_into(const capture& c, trace_record& r);

 private:
  /// The next 10 random bytes of a sid, from OpenSSL's CSPRNG, drawn 4 KiB at a time.
  std::span<const std::uint8_t, 10> sid_random();
  /// A new sid of time `ms`: its first 16 bits after the time are its place among this
  /// builder's sids of that millisecond, the other 64 random (docs/records.md).
  void next_sid(std::int64_t ms, std::string& out);

  std::shared_ptr<const conf::config> cfg_;
  std::string account_;  // the attributed account sid of the capture being built
  std::array<std::uint8_t, 4100> random_{};  // a multiple of 10
  std::size_t random_at_ = sizeof random_;   // empty: drawn at the first sid
  std::int64_t place_ms_ = -1;               // the millisecond of the last sid
  std::uint32_t next_place_ = 0;             // the place of the next sid of place_ms_
};

}  // namespace sidecar::store
