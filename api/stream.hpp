// The live stream (docs/api.md, "Live stream"): `…/Traces/Stream` as Server-Sent Events. Each
// stream subscribes to the store's commit feed, so a reader sees a record exactly when a query
// could return it; it resumes from the store after Last-Event-ID or AfterSid, then goes live,
// in sid order behind a short hold. Streams wait on timers, never on an API thread, and a
// reader that does not keep up is cut without slowing the writer or anyone else.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string_view>
#include <variant>

#include "api/handler.hpp"
#include "api/stream_connection.hpp"
#include "conf/config.hpp"
#include "store/commit_feed.hpp"
#include "store/trace_query.hpp"
#include "support/metrics.hpp"
#include "support/net.hpp"

namespace sidecar::api {

/// How streams run; the defaults are the product's, tests shorten the times.
struct stream_options {
  /// A record is sent once its sid's time is this far in the past, so that one committed a
  /// little after a later one still goes out in sid order.
  std::chrono::milliseconds hold{20};
  /// Held records go out at multiples of this on the steady clock, the same instants for every
  /// stream: a stream with records held sleeps until such an instant and is not woken by each
  /// commit meanwhile, so that at a steady rate each reader makes one write per tick, all of
  /// them together, instead of one per commit (docs/api.md, "Live stream").
  std::chrono::milliseconds tick{60};
  /// A comment line goes out after this long without a write.
  std::chrono::milliseconds heartbeat{10'000};
  /// What may wait for one reader in the commit feed (JSON bytes); past it the reader is cut.
  std::size_t queue_bytes = 8u << 20;
  /// Stored records sent on resume, at most; then `event: truncated`.
  std::size_t max_resume = 10'000;
  /// Streams one caller may hold at once.
  unsigned per_account = 8;
  /// A write (a batch of events, a heartbeat) must complete within this.
  std::chrono::milliseconds write_timeout{10'000};
};

/// The streams of one API server: admission and limits, running them, ending them.
class stream_hub {
 public:
  class ticket;
  struct ticket_deleter {
    void operator()(ticket* t) const;
  };
  /// An admitted stream (its slot, subscription and planned resume); opaque to the server.
  using ticket_ptr = std::unique_ptr<ticket, ticket_deleter>;

  stream_hub(std::shared_ptr<const conf::config> cfg, const handler& access,
             store::trace_reader& reader, store::commit_feed& feed, metrics::registry& metrics,
             stream_options opts = {});
  ~stream_hub();
  stream_hub(const stream_hub&) = delete;
  stream_hub& operator=(const stream_hub&) = delete;

  /// Decides a request for …/Traces/Stream on the connection's strand `strand`: a refusal
  /// (405, 401, 403, 404, 400, 503 as a JSON error), or a ticket that holds the stream's slot,
  /// its subscription and its planned resume. `last_event_id` is the header's value ("" when
  /// absent).
  [[nodiscard]] std::variant<answer, ticket_ptr> admit(const request_view& req,
                                                       std::string_view last_event_id,
                                                       net::any_io_executor strand);

  /// Runs an admitted stream after its head has been written, until the client leaves, it is
  /// cut (a reader that does not keep up), or it is ended (reauthorise(), stop()). Completes
  /// with the connection finished (nothing pending on it).
  net::awaitable<void> run(ticket_ptr t, stream_connection& conn);

  /// Ends the streams whose caller `cfg` no longer lets read what it streams (its token
  /// changed or its account went, the path account is no longer visible to it, or its traces
  /// are off). Returns how many it ended. Thread-safe; for a configuration reload.
  std::size_t reauthorise(const conf::config& cfg);

  /// Ends every stream; from now on no feed wake-up is posted to an API strand. The server
  /// calls it before stopping its io_context.
  void stop();

  /// Streams open now.
  [[nodiscard]] std::size_t active() const;

 private:
  struct impl;
  class stream_run;  // one run(): its resume and live phases (api/stream.cpp)
  std::unique_ptr<impl> impl_;
};

}  // namespace sidecar::api
