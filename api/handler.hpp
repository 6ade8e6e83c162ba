// What the API answers to one request, decided without I/O: a complete answer, or a plan for
// a streamed Traces list (docs/api.md). The server only writes what this decides.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "api/auth.hpp"
#include "api/paging.hpp"
#include "api/routing.hpp"
#include "conf/config.hpp"
#include "store/trace_query.hpp"
#include "store/trace_store.hpp"
#include "support/health.hpp"
#include "support/metrics.hpp"

namespace sidecar::api {

class purge_audit;

/// A complete answer with its body.
struct answer {
  unsigned status = 200;
  std::string body;
  std::string_view content_type = "application/json";
  bool challenge = false;  // WWW-Authenticate: Basic realm="Restcomm realm"
  std::string_view allow;  // Allow: on a 405, the resource's own methods
  // More header fields (the web page's ETag, caching and security headers).
  std::vector<std::pair<std::string_view, std::string>> headers;
};

/// A list answer (200) to stream: the head's numbers and URIs, then the records.
struct list_plan {
  page_numbers numbers;
  page_uris uris;
  std::string last_sid;  // for next_page_uri's AfterSid
  bool more = true;      // false: the page is short, there is nothing after it
  std::unique_ptr<store::record_stream> records;  // null for HEAD
  bool har = false;  // the page as a HAR 1.2 log (Traces.har), with a Link header
  /// The next page's URI, or empty when there is none.
  [[nodiscard]] std::string next_uri() const {
    return numbers.has_next() && more ? uris.page_uri(numbers.page + 1, last_sid) : std::string{};
  }
};

using decision = std::variant<answer, list_plan>;

/// The request as the handler needs it.
struct request_view {
  std::string_view method;  // "GET", "HEAD", ...
  std::string_view target;
  std::string_view authorization;  // empty when absent
  // For refusing unsafe methods from other sites' pages (docs/api.md): empty when absent.
  std::string_view origin;
  std::string_view sec_fetch_site;
  std::string_view host;
  std::string_view if_none_match;  // empty when absent (the web page's revalidation)
  /// The target matched once, when the request arrives (its views point into `target`).
  target_match match;
};

/// Who is asking, and the accounts whose traces it reads under the path's account.
struct access_grant {
  const conf::account* caller = nullptr;  // points into `cfg`
  std::vector<std::string> scope;         // the path account and its sub-accounts
  std::shared_ptr<const conf::config> cfg;  // the configuration the grant was decided with
};

/// Decides answers; shared by the API threads (every member is read-only or thread-safe).
class handler {
 public:
  handler(std::shared_ptr<const conf::config> cfg, store::trace_reader& reader,
          std::function<store::store_health()> health, metrics::registry& metrics);

  /// Every resource but a live stream and a replay's POST, which the server hands to their
  /// own desks (api/stream.hpp, api/replay.hpp) or answers 503 itself when it has none.
  [[nodiscard]] decision decide(const request_view& req) const;

  /// The board that /ready and /status read (main's). Without one, /ready says 200 and
  /// /status shows the store alone. Call before the server starts.
  void attach(health::board* board) { board_ = board; }

  /// Whether a target is answered without the store or any wait (the probes, /status,
  /// /metrics, an unknown path): the server never queues these behind store queries.
  [[nodiscard]] static bool answers_at_once(resource kind);

  /// Swaps in a reloaded configuration: the next request authenticates against its accounts
  /// and tokens; a request being decided keeps the one it started with. Thread-safe.
  void reconfigure(std::shared_ptr<const conf::config> cfg);

  /// Basic auth and the visibility rules of a path account (docs/api.md), against the
  /// configuration of this moment: the grant, or the 401, 403 or 404 answer. An auth failure
  /// is logged at warn. An empty `path_account` checks the credentials alone.
  [[nodiscard]] std::variant<answer, access_grant> check_access(
      const request_view& req, std::string_view path_account) const;

  /// {"message": ..., "status": N}
  [[nodiscard]] static answer error(unsigned status, std::string_view message);

  /// Whether an unsafe request comes from another site's page (docs/api.md).
  [[nodiscard]] bool cross_site(const request_view& req) const;

 private:
  /// One configuration and the authenticator built from it, taken once per request.
  struct snapshot {
    explicit snapshot(std::shared_ptr<const conf::config> c) : cfg(std::move(c)), auth(*cfg) {}
    std::shared_ptr<const conf::config> cfg;
    authenticator auth;
  };

  [[nodiscard]] decision decide_traces(const request_view& req, const target_match& m, bool head,
                                       const snapshot& now) const;
  [[nodiscard]] std::variant<answer, access_grant> check_access(
      const snapshot& now, const request_view& req, std::string_view path_account,
      std::string_view path) const;
  [[nodiscard]] answer decide_item(const request_view& req, const target_match& m,
                                   const std::vector<std::string>& scope) const;
  [[nodiscard]] answer decide_purge(const conf::config& cfg, const target_match& m,
                                    const conf::account& caller,
                                    const std::vector<std::string>& scope) const;

  std::shared_ptr<const conf::config> cfg_;  // the startup's: what needs a restart ([api] tls)
  std::atomic<std::shared_ptr<const snapshot>> current_;
  store::trace_reader& reader_;
  std::function<store::store_health()> health_;
  metrics::registry& metrics_;
  health::board* board_ = nullptr;
  std::shared_ptr<purge_audit> audit_;  // audit.jsonl in the data directory
};

/// The sid of a record's JSON (its first field); empty when it cannot be found.
[[nodiscard]] std::string_view record_sid(std::string_view json);

/// Whether `s` is "TR" followed by 32 lower-case hex digits.
[[nodiscard]] bool is_trace_sid(std::string_view s);

}  // namespace sidecar::api
