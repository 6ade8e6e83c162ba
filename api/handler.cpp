// Deciding the API's answers: routing, auth, tenancy, filters and the list query.
#include "api/handler.hpp"

#include <algorithm>
#include <chrono>
#include <exception>

#include "api/accounts.hpp"
#include "api/curl_command.hpp"
#include "api/har.hpp"
#include "api/purge.hpp"
#include "api/routing.hpp"
#include "api/status_page.hpp"
#include "api/web_assets.hpp"
#include "support/json.hpp"
#include "store/record_decode.hpp"
#include "support/ascii.hpp"
#include "support/log.hpp"

namespace sidecar::api {
namespace {

// Pages beyond this cannot exist (it would take more records than any store holds); refusing
// them early also keeps page * page_size far from overflowing anywhere.
constexpr std::uint64_t max_page = 1'000'000'000'000ULL;

answer query_failed(store::query_status s, const std::string& why = {}) {
  if (s == store::query_status::timed_out) {
    return handler::error(503,
                          "The query took longer than the configured query_timeout; "
                          "narrow it with filters (DateCreated, SessionSid, ...) or a "
                          "smaller PageSize");
  }
  if (!why.empty()) return handler::error(503, "The traces could not be read: " + why);
  return handler::error(503, "The trace store could not answer the query");
}

}  // namespace

std::string_view record_sid(std::string_view json) {
  // The encoder writes sid first: {"sid":"TR..."; tolerate whitespace around ':' anyway.
  const auto key = json.find("\"sid\"");
  if (key == std::string_view::npos) return {};
  std::size_t i = key + 5;
  while (i < json.size() && (json[i] == ' ' || json[i] == ':' || json[i] == '\n')) ++i;
  if (i >= json.size() || json[i] != '"') return {};
  const auto close = json.find('"', i + 1);
  if (close == std::string_view::npos) return {};
  return json.substr(i + 1, close - i - 1);
}

bool is_trace_sid(std::string_view s) { return store::parse_sid(s).has_value(); }

handler::handler(std::shared_ptr<const conf::config> cfg, store::trace_reader& reader,
                 std::function<store::store_health()> health, metrics::registry& metrics)
    : cfg_(cfg),
      current_(std::make_shared<const snapshot>(std::move(cfg))),
      reader_(reader),
      health_(std::move(health)),
      metrics_(metrics),
      audit_(std::make_shared<purge_audit>(cfg_->store.path / "audit.jsonl")) {}

bool handler::answers_at_once(resource kind) {
  switch (kind) {
    case resource::healthz:
    case resource::ready:
    case resource::status:
    case resource::metrics:
    case resource::not_found:
      return true;
    default:
      return false;  // anything that may read the store
  }
}

void handler::reconfigure(std::shared_ptr<const conf::config> cfg) {
  current_.store(std::make_shared<const snapshot>(std::move(cfg)));
}

answer handler::error(unsigned status, std::string_view message) {
  answer a;
  a.status = status;
  json::writer w(a.body);
  w.begin_object();
  w.key("message").value(message);
  w.key("status").value(static_cast<std::int64_t>(status));
  w.end_object();
  return a;
}

bool handler::cross_site(const request_view& req) const {
  if (req.sec_fetch_site == "cross-site" || req.sec_fetch_site == "same-site") return true;
  if (req.origin.empty()) return false;  // curl and libraries send no Origin
  // The listener's own origin, as the browser names it: its scheme and the Host it was sent.
  std::string own = cfg_->api.tls ? "https://" : "http://";
  own += req.host;
  return !ascii::iequals(req.origin, own);
}

decision handler::decide(const request_view& req) const {
  const target_match& m = req.match;
  if (is_web_path(m.path)) return web_answer(req.method, m.path, req.if_none_match);
  if (m.kind == resource::not_found) return error(404, "No such resource on the Traces API");
  const bool head = req.method == "HEAD";
  if (!method_allowed(m.kind, req.method)) {
    answer a = error(405, "This resource answers " + std::string(allowed_methods(m.kind)));
    a.allow = allowed_methods(m.kind);
    return a;
  }
  if (req.method != "GET" && !head && cross_site(req)) {
    return error(403, "Refused: a " + std::string(req.method) +
                          " from another site's page (Origin or Sec-Fetch-Site)");
  }
  // Liveness and readiness never depend on the store: recording never stops traffic
  // (docs/operations.md). /status says which part is failing.
  if (m.kind == resource::healthz) return error(200, "serving");
  if (m.kind == resource::ready) {
    const health::phase p = board_ ? board_->current_phase() : health::phase::serving;
    if (p != health::phase::serving)
      return error(503, std::string("not ready: ") + health::to_string(p));
    return error(200, "ready");
  }
  if (m.kind == resource::status) {
    answer a;
    if (board_) {
      a.body = status_json(board_->report(), board_->current_phase());
    } else {
      const store::store_health h = health_ ? health_() : store::store_health{};
      health::part_report store{"store", {h.ok, h.reason, true}, std::chrono::system_clock::now()};
      a.body = status_json({store}, health::phase::serving);
    }
    return a;
  }
  if (m.kind == resource::stream || m.kind == resource::replay) {
    // Never sent here (see decide()'s declaration): a wrong call, not a client's fault.
    return error(500, "Internal error while answering the request");
  }
  if (m.kind == resource::metrics) {
    answer a;
    a.body = metrics_.render();
    a.content_type = "text/plain; version=0.0.4";
    return a;
  }
  try {
    return decide_traces(req, m, head, *current_.load());
  } catch (const std::exception&) {
    // A store or allocation failure must not take the API thread down.
    return error(500, "Internal error while answering the request");
  }
}

std::variant<answer, access_grant> handler::check_access(const request_view& req,
                                                        std::string_view path_account) const {
  return check_access(*current_.load(), req, path_account, req.match.path);
}

std::variant<answer, access_grant> handler::check_access(const snapshot& now,
                                                        const request_view& req,
                                                        std::string_view path_account,
                                                        std::string_view path) const {
  const conf::config& cfg = *now.cfg;
  const auto creds = parse_basic_auth(req.authorization);
  const conf::account* caller = creds ? now.auth.check(*creds) : nullptr;
  if (caller == nullptr) {
    // Always at warn (docs/operations.md): the presented user, never the password.
    log::warn("api auth failed",
              {{"method", req.method},
               {"path", path},
               {"user", creds ? std::string_view(creds->user).substr(0, 64) : std::string_view()},
               {"reason", req.authorization.empty() ? "no credentials"
                          : !creds                  ? "malformed credentials"
                                                    : "wrong account or token"}});
    answer a = error(401, req.authorization.empty()
                              ? "Authentication required: HTTP Basic with the account SID and "
                                "its auth token"
                              : "Wrong or malformed credentials: HTTP Basic with the account "
                                "SID and its auth token");
    a.challenge = true;
    return a;
  }
  if (path_account.empty()) return access_grant{caller, {}, now.cfg};

  const std::string path_sid(path_account);
  if (!cfg.may_read(*caller, path_sid)) {
    return error(403, "Account " + caller->sid + " may not read the traces of account " + path_sid);
  }
  const conf::account* target = cfg.find_account(path_sid);
  if (target == nullptr) return error(404, "Account " + path_sid + " was not found");
  if (!target->traces) {
    return error(403, "Traces are not activated for account " + path_sid);
  }
  return access_grant{caller, cfg.subtree(path_sid), now.cfg};
}

decision handler::decide_traces(const request_view& req, const target_match& m, bool head,
                                const snapshot& now) const {
  const conf::config& cfg = *now.cfg;

  auto access =
      check_access(now, req, m.kind == resource::accounts ? "" : m.account_sid, m.path);
  if (auto* refused = std::get_if<answer>(&access)) return std::move(*refused);
  const conf::account* caller = std::get<access_grant>(access).caller;
  if (m.kind == resource::accounts) {
    answer a;
    a.body = accounts_json(cfg, *caller);
    return a;
  }
  const std::vector<std::string> scope = std::move(std::get<access_grant>(access).scope);
  if (req.method == "DELETE") return decide_purge(cfg, m, *caller, scope);

  if (m.kind == resource::item || m.kind == resource::item_har || m.kind == resource::item_curl) {
    return decide_item(req, m, scope);
  }

  list_params_result parsed = parse_list_params(m.query);
  if (!parsed.params) return error(400, parsed.error);
  list_params& lp = *parsed.params;
  if (lp.filter.account_sid && !cfg.may_read(*caller, *lp.filter.account_sid)) {
    return error(403, "AccountSid: account " + caller->sid + " may not read the traces of " +
                          "account " + *lp.filter.account_sid);
  }
  const auto beyond = [&lp](std::uint64_t num_pages) {
    // The number as sent: one past 18 digits is saturated for the arithmetic only.
    const std::string page = lp.page_sent.empty() ? std::to_string(lp.page) : lp.page_sent;
    return error(400, "Page " + page + " is beyond the last page (" + std::to_string(num_pages) +
                          ") for PageSize " + std::to_string(lp.page_size));
  };
  if (lp.page > max_page) return beyond(0);

  store::list_query q;
  q.accounts = scope;
  q.filter = lp.filter;
  q.page = lp.page;
  q.page_size = lp.page_size;
  q.after_sid = lp.after_sid;
  q.deadline = std::chrono::steady_clock::now() + cfg.api.query_timeout;

  store::list_result r = reader_.list(q);
  if (r.status != store::query_status::ok || !r.records) return query_failed(r.status, r.failure);
  const page_result pr = compute_page(r.total, lp.page, lp.page_size);
  if (!pr.valid) return beyond(pr.numbers.num_pages);

  list_plan plan{pr.numbers, page_uris(m.path, lp.filters, lp.page_size), {}, true, nullptr};
  plan.har = m.kind == resource::list_har;
  if (head && !plan.har) return plan;  // a HAR head's Link needs the page's last sid
  if (pr.numbers.has_next()) {
    // next_page_uri comes before the records but carries the page's last sid, which the
    // reader knows before streaming. A short page (a cursor at the end of a list that grew
    // meanwhile) has no next page.
    const store::record_stream::extent extent = r.records->page_extent();
    plan.last_sid = extent.last_sid;
    plan.more = extent.count == lp.page_size;
  }
  if (!head) plan.records = std::move(r.records);
  return plan;
}

answer handler::decide_purge(const conf::config& cfg, const target_match& m,
                             const conf::account& caller,
                             const std::vector<std::string>& scope) const {
  // The reader names what purges its records: the local store, or the fleet reader's
  // tombstones in query mode (docs/fleet.md).
  store::trace_purger* purger = reader_.purger();
  if (purger == nullptr) return error(501, "This trace store cannot purge records");
  const purge_context c{cfg, caller, m.account_sid, scope, reader_, *purger, *audit_};
  return m.kind == resource::item ? purge_trace(c, m.trace_sid) : purge_list(c, m.query);
}

answer handler::decide_item(const request_view&, const target_match& m,
                            const std::vector<std::string>& scope) const {
  const std::string not_found = "Trace " + std::string(m.trace_sid) + " was not found";
  if (!is_trace_sid(m.trace_sid)) return error(404, not_found);
  auto stored = reader_.get(m.trace_sid);
  if (stored.status != store::query_status::ok) {
    return query_failed(stored.status, stored.failure);
  }
  if (!stored || std::find(scope.begin(), scope.end(), stored->account_sid) == scope.end()) {
    return error(404, not_found);
  }
  answer a;
  if (m.kind == resource::item) {
    a.body = std::move(stored->json);
    return a;
  }
  const std::string unreadable = "Trace " + std::string(m.trace_sid) + " could not be read";
  if (m.kind == resource::item_har) {
    auto har = har_of(stored->json);
    if (!har) return error(500, unreadable);
    a.body = std::move(*har);
    return a;
  }
  const auto record = store::decode_record(stored->json);
  if (!record) return error(500, unreadable);
  a.body = curl_command(*record);
  a.content_type = "text/plain; charset=utf-8";
  return a;
}

}  // namespace sidecar::api
