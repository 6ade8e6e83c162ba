// Sending a recorded request again (docs/api.md, "Replay"): the seam the API's POST
// …/Traces/{TraceSid}/Replay goes through, declared here so that the API never includes the
// proxy, implemented by the proxy (proxy/replay.hpp) with its own upstream code and checks, and
// handed to the API by main.
//
//   store::replay_outcome out = co_await replayer.replay({record, supplied_headers});
//   if (out.status == 201) /* out.json is the new record, already readable */;
#pragma once

#include <string>
#include <string_view>

#include "store/capture.hpp"
#include "store/trace_record.hpp"
#include "support/net.hpp"

namespace sidecar::store {

struct replay_request {
  trace_record original;  // as decoded from the store
  header_list supplied;   // values for redacted headers, lower-case names, this replay only
};

struct replay_outcome {
  /// 201: sent and recorded (whatever the upstream answered); 409: refused before anything
  /// was sent (`message` says why); 502/504: the upstream could not be reached or did not
  /// answer, recorded like the proxy records such an exchange; 503: the store could not take
  /// the new record now.
  unsigned status = 201;
  std::string message;
  std::string sid;   // the new record's, when one was recorded
  std::string json;  // the new record as the API answers it, when it is readable
};

/// Why a record cannot be sent again as it was recorded, or "" when it can. `supplied` names
/// the headers given for this replay (lower-case). Checked before any network work: a cut
/// body, bytes replaced by U+FFFD in a text body, a redacted field ([REDACTED] in the body or
/// the URL's query), a redacted header without a supplied value.
[[nodiscard]] std::string replay_refusal(const trace_record& r, const header_list& supplied);

/// Reads the replay's JSON body ({"headers": {"name": "value"}}, or empty): the supplied
/// headers with lower-case names, or nullopt and `error` set when it is not such a body.
[[nodiscard]] std::optional<header_list> decode_replay_body(std::string_view body,
                                                            std::string& error);

class trace_replayer {
 public:
  virtual ~trace_replayer() = default;
  /// Sends `r.original`'s request again with `r.supplied` in place of its redacted headers and
  /// records the exchange as a new trace (replay_of = the original's sid). The caller has
  /// checked replay_refusal(); this checks the destination against the configuration of this
  /// moment (409 when no longer allowed). Completes on the caller's executor.
  [[nodiscard]] virtual net::awaitable<replay_outcome> replay(replay_request r) = 0;
};

}  // namespace sidecar::store
