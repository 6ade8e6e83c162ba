// Replaying a trace through the API.
#include "api/replay.hpp"

#include <algorithm>

#include "api/routing.hpp"
#include "store/record_decode.hpp"
#include "support/log.hpp"

namespace sidecar::api {

std::optional<std::chrono::seconds> replay_limits::admit(
    const std::string& account, std::chrono::steady_clock::time_point now) {
  using namespace std::chrono;
  const std::lock_guard lock(mu_);
  usage& u = accounts_[account];
  while (!u.started.empty() && now - u.started.front() >= minutes(1)) u.started.pop_front();
  if (u.in_flight >= max_in_flight_) return seconds(1);  // a replay ends within its timeouts
  if (u.started.size() >= per_minute_) {
    // Until the oldest start of the minute leaves it, rounded up to whole seconds.
    const auto wait = minutes(1) - (now - u.started.front());
    return std::max(seconds(1), ceil<seconds>(wait));
  }
  ++u.in_flight;
  u.started.push_back(now);
  return std::nullopt;
}

void replay_limits::release(const std::string& account) {
  const std::lock_guard lock(mu_);
  const auto it = accounts_.find(account);
  if (it == accounts_.end()) return;
  if (it->second.in_flight > 0) --it->second.in_flight;
  if (it->second.in_flight == 0 && it->second.started.empty()) accounts_.erase(it);
}

replay_desk::replay_desk(const handler& h, store::trace_reader& reader,
                         store::trace_replayer& replayer)
    : handler_(h), reader_(reader), replayer_(replayer) {}

net::awaitable<answer> replay_desk::serve(request_view req, std::string body) {
  // `req`'s views point into the request, which the server keeps until this answer is written.
  const target_match& m = req.match;
  if (handler_.cross_site(req)) {
    co_return handler::error(403,
                             "Refused: a POST from another site's page (Origin or "
                             "Sec-Fetch-Site)");
  }
  auto access = handler_.check_access(req, m.account_sid);
  if (auto* refusal = std::get_if<answer>(&access)) co_return std::move(*refusal);
  const access_grant grant = std::move(std::get<access_grant>(access));

  const std::string sid(m.trace_sid);
  const std::string not_found = "Trace " + sid + " was not found";
  if (!is_trace_sid(sid)) co_return handler::error(404, not_found);
  auto stored = reader_.get(sid);
  if (stored.status != store::query_status::ok) {
    co_return handler::error(503, "The trace store could not read trace " + sid);
  }
  if (!stored ||
      std::find(grant.scope.begin(), grant.scope.end(), stored->account_sid) == grant.scope.end()) {
    co_return handler::error(404, not_found);
  }
  if (!grant.caller->administrator && grant.caller->sid != stored->account_sid) {
    co_return handler::error(403, "Account " + grant.caller->sid + " may not replay trace " + sid +
                                      " of account " + stored->account_sid +
                                      ": only the record's own account or an administrator may");
  }
  auto record = store::decode_record(stored->json);
  if (!record) co_return handler::error(500, "Trace " + sid + " could not be read");
  if (grant.cfg->fleet && grant.cfg->fleet->query) {
    // The records here come from ClickHouse; the exchange is sent from the node that holds
    // the record (docs/fleet.md).
    co_return handler::error(
        409, "Replay is not answered in query mode: trace " + sid + " is held by node " +
                 (record->node.empty() ? std::string("(unnamed)") : "\"" + record->node + "\"") +
                 "; replay it through that node's API");
  }
  std::string why;
  auto supplied = store::decode_replay_body(body, why);
  if (!supplied) co_return handler::error(400, why);
  why = store::replay_refusal(*record, *supplied);
  if (!why.empty()) co_return handler::error(409, why);

  const std::string account = record->account_sid;
  if (const auto wait = limits_.admit(account, std::chrono::steady_clock::now())) {
    answer a = handler::error(429, "Too many replays for account " + account +
                                       ": at most 10 at once and 60 a minute; retry in " +
                                       std::to_string(wait->count()) + " s");
    a.headers.emplace_back("Retry-After", std::to_string(wait->count()));
    co_return a;
  }
  struct release_on_exit {
    replay_limits& limits;
    const std::string& account;
    ~release_on_exit() { limits.release(account); }
  } release{limits_, account};

  store::replay_outcome out;
  try {
    // A named argument: GCC 12 mis-copies a braced temporary passed to a coroutine.
    store::replay_request request{std::move(*record), std::move(*supplied)};
    out = co_await replayer_.replay(std::move(request));
  } catch (const std::exception& e) {
    log::error("replay failed", {{"sid", sid}, {"error", e.what()}});
    co_return handler::error(500, "Internal error while replaying trace " + sid);
  }
  answer a;
  if (out.status == 201 && !out.json.empty()) {
    a.status = 201;
    a.body = std::move(out.json);
  } else {
    a = handler::error(out.status == 201 ? 503 : out.status, out.message);
  }
  if (!out.sid.empty() && a.status != 503) {
    a.headers.emplace_back("Location", "/2012-04-24/Accounts/" + account + "/Traces/" + out.sid);
  }
  log::info("trace replayed", {{"caller", grant.caller->sid},
                               {"sid", sid},
                               {"replay", out.sid},
                               {"status", std::to_string(a.status)}});
  co_return a;
}

}  // namespace sidecar::api
