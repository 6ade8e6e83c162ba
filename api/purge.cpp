// Purging traces through the API.
#include "api/purge.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>

#include "api/har.hpp"
#include "api/list_params.hpp"
#include "support/json.hpp"
#include "support/log.hpp"
#include "support/utc_time.hpp"

namespace sidecar::api {
namespace {

bool may_purge(const conf::account& caller, std::string_view owner) {
  return caller.administrator || caller.sid == owner;
}

/// `why`: the reader's words for a failure a user may read (the fleet reader's "cannot
/// connect to ClickHouse"), empty when it has none.
answer failed(store::query_status s, const std::string& why = {}) {
  if (s == store::query_status::timed_out) {
    return handler::error(503,
                          "The purge's query took longer than the configured query_timeout; "
                          "narrow it with filters");
  }
  if (!why.empty()) return handler::error(503, "The traces could not be purged: " + why);
  return handler::error(503, "The trace store could not purge the records");
}

}  // namespace

void purge_audit::append(std::string_view caller, std::string_view account, std::string_view what,
                         std::uint64_t deleted) {
  std::string line;
  json::writer w(line);
  w.begin_object();
  w.key("time").value(utc::iso8601(utc::now_ms(), true));
  w.key("caller").value(caller);
  w.key("account").value(account);
  line += ',';
  line += what;
  w.key("deleted").value(static_cast<std::int64_t>(deleted));
  w.end_object();
  line += '\n';
  {
    const std::lock_guard lock(mu_);
    const int fd = ::open(file_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    bool ok = fd >= 0;
    if (ok) {
      ok = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size());
      ::close(fd);
    }
    if (!ok) log::error("api: cannot append to the purge audit", {{"file", file_.string()}});
  }
  line.pop_back();
  log::info("traces purged", {{"caller", std::string(caller)},
                              {"account", std::string(account)},
                              {"deleted", std::to_string(deleted)},
                              {"audit", line}});
}

answer purge_trace(const purge_context& c, std::string_view sid) {
  const std::string not_found = "Trace " + std::string(sid) + " was not found";
  if (!is_trace_sid(sid)) return handler::error(404, not_found);
  const auto stored = c.reader.get(sid);
  if (stored.status != store::query_status::ok) return failed(stored.status, stored.failure);
  if (!stored || std::find(c.scope.begin(), c.scope.end(), stored->account_sid) == c.scope.end()) {
    return handler::error(404, not_found);
  }
  if (!may_purge(c.caller, stored->account_sid)) {
    return handler::error(403, "Account " + c.caller.sid + " may not purge trace " +
                                   std::string(sid) + " of account " + stored->account_sid +
                                   ": only the record's own account or an administrator may");
  }
  const store::purge_result r = c.purger.purge(sid);
  if (r.status != store::query_status::ok) return failed(r.status, r.failure);
  if (r.deleted == 0) return handler::error(404, not_found);  // purged or expired meanwhile
  std::string what;
  json::writer(what).key("sid").value(sid);
  c.audit.append(c.caller.sid, c.path_account, what, r.deleted);
  answer a;
  a.status = 204;
  return a;
}

answer purge_list(const purge_context& c, std::string_view raw_query) {
  list_params_result parsed = parse_list_params(raw_query);
  if (!parsed.params) return handler::error(400, parsed.error);
  const list_params& lp = *parsed.params;
  bool all = false;
  if (const auto query = parse_query(raw_query)) {
    const auto it = std::find_if(query->begin(), query->end(),
                                 [](const query_param& p) { return p.name == "All"; });
    if (it != query->end()) {
      if (it->value != "true") return handler::error(400, "All must be true");
      all = true;
    }
  }
  if (lp.filters.empty() && !all) {
    return handler::error(400,
                          "A DELETE of the whole list needs All=true; give filters to delete "
                          "only the records they match");
  }
  if (lp.filter.account_sid && !c.cfg.may_read(c.caller, *lp.filter.account_sid)) {
    return handler::error(403, "AccountSid: account " + c.caller.sid +
                                   " may not read the traces of account " + *lp.filter.account_sid);
  }
  store::list_query q;
  q.filter = lp.filter;
  q.deadline = std::chrono::steady_clock::now() + c.cfg.api.query_timeout;
  q.accounts = c.scope;
  if (!c.caller.administrator) {
    // A parent reads its sub-accounts' records but does not act on them: refused when the
    // list holds any; otherwise only the caller's own records are purged (sub-accounts'
    // records arriving meanwhile are not touched).
    std::erase(q.accounts, c.caller.sid);
    if (!q.accounts.empty()) {
      q.page_size = 1;
      const store::list_result others = c.reader.list(q);
      if (others.status != store::query_status::ok) return failed(others.status, others.failure);
      if (others.total > 0) {
        return handler::error(403, "Account " + c.caller.sid + " may not purge the " +
                                       std::to_string(others.total) +
                                       " matching records of its sub-accounts: only a record's "
                                       "own account or an administrator may");
      }
    }
    q.accounts.assign(1, c.caller.sid);
    if (std::find(c.scope.begin(), c.scope.end(), c.caller.sid) == c.scope.end()) {
      q.accounts.clear();
    }
  }
  const store::purge_result r = c.purger.purge(q);
  if (r.status != store::query_status::ok) return failed(r.status, r.failure);

  std::string what;
  json::writer w(what);
  w.key("filters").begin_object();
  for (const auto& p : lp.filters) w.key(p.name).value(p.value);
  if (all) w.key("All").value("true");
  w.end_object();
  c.audit.append(c.caller.sid, c.path_account, what, r.deleted);

  answer a;
  json::writer(a.body)
      .begin_object()
      .key("deleted")
      .value(static_cast<std::int64_t>(r.deleted))
      .end_object();
  return a;
}

}  // namespace sidecar::api
