// Test helpers for the API (see test_support.hpp).
#include "tests/api/test_support.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <boost/beast/core/detail/base64.hpp>
#include <boost/json/src.hpp>  // Boost.JSON compiled once, here
#include <cstdio>

#include <gtest/gtest.h>

#include "api/handler.hpp"
#include "support/json.hpp"
#include "store/trace_sid.hpp"
#include "support/ascii.hpp"
#include "support/net.hpp"

namespace sidecar::api::testing {

const std::string accounts::parent = "AC00000000000000000000000000000001";
const std::string accounts::child = "AC00000000000000000000000000000002";
const std::string accounts::grandchild = "AC00000000000000000000000000000003";
const std::string accounts::sibling = "AC00000000000000000000000000000004";
const std::string accounts::other = "AC00000000000000000000000000000005";
const std::string accounts::off = "AC00000000000000000000000000000006";
const std::string accounts::admin = "AC00000000000000000000000000000007";
const std::string accounts::hashed = "AC00000000000000000000000000000008";

std::string token_of(const std::string& sid) { return "token-of-" + sid; }

std::string make_sid(std::int64_t created_ms, std::uint64_t n) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "TR%012llx%020llx", static_cast<unsigned long long>(created_ms),
                static_cast<unsigned long long>(n));
  return buf;
}

std::string make_json(const fake_trace& t) {
  std::string out;
  json::writer w(out);
  w.begin_object();
  w.key("sid").value(t.sid);
  w.key("account_sid").value(t.account_sid);
  w.key("org_sid").value(t.org_sid);
  w.key("created_ms").value(t.created_ms);
  w.key("session_sid").value(t.session_sid);
  w.key("status").value(t.completed ? "completed" : "failed");
  w.key("direction").value(conf::to_string(t.direction));
  w.key("latency_ms").value(t.latency_ms);
  w.key("request").begin_object();
  w.key("path").value(t.request_path);
  w.key("url").value(t.request_url);
  w.key("method").value(t.request_method);
  w.key("body").value(t.request_body);
  w.end_object();
  w.key("response").begin_object().key("status").begin_object();
  w.key("code").value(t.response_code);
  w.key("body").value(t.response_body);
  w.end_object().end_object();
  w.end_object();
  return out;
}

bool matches(const fake_trace& t, const store::trace_filter& f) {
  if (f.completed && *f.completed != t.completed) return false;
  if (f.created_from_ms && t.created_ms < *f.created_from_ms) return false;
  if (f.created_before_ms && t.created_ms >= *f.created_before_ms) return false;
  if (f.session_sid && *f.session_sid != t.session_sid) return false;
  if (f.min_latency_ms && t.latency_ms < *f.min_latency_ms) return false;
  if (f.direction && *f.direction != t.direction) return false;
  if (f.response_code_prefix && !t.response_code.starts_with(*f.response_code_prefix)) {
    return false;
  }
  if (f.response_body_contains &&
      t.response_body.find(*f.response_body_contains) == std::string::npos) {
    return false;
  }
  if (f.request_path_prefix && !t.request_path.starts_with(*f.request_path_prefix) &&
      !t.request_url.starts_with(*f.request_path_prefix)) {
    return false;
  }
  if (f.account_sid && *f.account_sid != t.account_sid) return false;
  if (f.org_sid && *f.org_sid != t.org_sid) return false;
  if (f.method && !ascii::iequals(*f.method, t.request_method)) return false;
  if (f.request_body_contains &&
      t.request_body.find(*f.request_body_contains) == std::string::npos) {
    return false;
  }
  return true;
}

void memory_reader::add(fake_trace t) {
  if (t.json.empty()) t.json = make_json(t);
  const std::lock_guard lock(mu_);
  traces_.push_back(std::move(t));
}

store::trace_lookup memory_reader::get(std::string_view sid) {
  if (failing_) return store::trace_lookup::failed();
  const std::lock_guard lock(mu_);
  for (const auto& t : traces_) {
    if (t.sid == sid) return {store::query_status::ok, store::stored_trace{t.account_sid, t.json}};
  }
  return {};
}

namespace {
class vector_stream final : public store::record_stream {
 public:
  explicit vector_stream(std::vector<std::string> page) : page_(std::move(page)) {}
  bool next(std::string& json) override {
    if (i_ == page_.size()) return false;
    json = page_[i_++];
    return true;
  }
  store::query_status status() const override { return store::query_status::ok; }
  extent page_extent() const override {
    extent e;
    e.count = page_.size();
    if (!page_.empty()) e.last_sid = std::string(api::record_sid(page_.back()));
    return e;
  }

 private:
  std::vector<std::string> page_;
  std::size_t i_ = 0;
};
}  // namespace

store::list_result memory_reader::list(const store::list_query& q) {
  ++list_calls_;
  store::list_result r;
  if (timed_out_) {
    r.status = store::query_status::timed_out;
    return r;
  }
  std::vector<const fake_trace*> hits;
  const std::lock_guard lock(mu_);
  for (const auto& t : traces_) {
    const bool in_scope = q.all_accounts || std::find(q.accounts.begin(), q.accounts.end(),
                                                      t.account_sid) != q.accounts.end();
    if (in_scope && matches(t, q.filter)) hits.push_back(&t);
  }
  std::sort(hits.begin(), hits.end(), [](const fake_trace* a, const fake_trace* b) {
    return a->created_ms != b->created_ms ? a->created_ms > b->created_ms : a->sid > b->sid;
  });
  r.total = hits.size();
  std::size_t from =
      static_cast<std::size_t>(std::min<std::uint64_t>(q.page * q.page_size, hits.size()));
  if (q.after_sid) {
    const auto it = std::find_if(hits.begin(), hits.end(),
                                 [&](const fake_trace* t) { return t->sid == *q.after_sid; });
    if (it != hits.end()) from = static_cast<std::size_t>(it - hits.begin()) + 1;
  }
  std::vector<std::string> page;
  for (std::size_t i = from; i < hits.size() && page.size() < q.page_size; ++i) {
    page.push_back(hits[i]->json);
  }
  r.records = std::make_unique<vector_stream>(std::move(page));
  return r;
}

std::shared_ptr<conf::config> make_config() {
  auto cfg = std::make_shared<conf::config>();
  cfg->source = "test.toml";
  cfg->api.listen.address = net::ip::make_address("127.0.0.1");
  cfg->api.listen.port = 0;
  cfg->api.threads = 2;
  const auto add = [&](const std::string& sid, const std::string& parent, bool traces,
                       bool administrator = false) {
    conf::account a;
    a.sid = sid;
    a.auth_token = token_of(sid);
    a.friendly_name = "acct-" + sid.substr(sid.size() - 1);
    a.org_sid = "OR0000000000000000000000000000000" + sid.substr(sid.size() - 1);
    a.parent = parent;
    a.traces = traces;
    a.administrator = administrator;
    cfg->accounts.push_back(a);
  };
  add(accounts::parent, "", true);
  add(accounts::child, accounts::parent, true);
  add(accounts::grandchild, accounts::child, true);
  add(accounts::sibling, accounts::parent, true);
  add(accounts::other, "", true);
  add(accounts::off, "", false);
  add(accounts::admin, "", true, true);
  add(accounts::hashed, "", true);
  // The hashed account keeps only the SHA-256 of its token.
  conf::account& h = cfg->accounts.back();
  const std::string token = *h.auth_token;
  h.auth_token.reset();
  std::array<std::uint8_t, 32> d{};
  unsigned len = 0;
  EVP_Digest(token.data(), token.size(), d.data(), &len, EVP_sha256(), nullptr);
  h.auth_token_sha256 = d;
  return cfg;
}

std::string basic(const std::string& user, const std::string& password) {
  const std::string plain = user + ":" + password;
  std::string out(beast::detail::base64::encoded_size(plain.size()), '\0');
  out.resize(beast::detail::base64::encode(out.data(), plain.data(), plain.size()));
  return "Basic " + out;
}

std::string http_answer::header(const std::string& lower_name) const {
  const auto it = headers.find(lower_name);
  return it == headers.end() ? std::string() : it->second;
}

boost::json::value http_answer::json() const { return boost::json::parse(body); }

struct http_client::impl {
  net::io_context ioc;
  beast::tcp_stream stream{ioc};
  beast::flat_buffer buffer;
  std::string last_method;

  http_answer read_answer(bool head) {
    http::response_parser<http::string_body> parser;
    parser.body_limit(1ULL << 30);
    parser.skip(head);
    stream.expires_after(std::chrono::seconds(20));
    http::read(stream, buffer, parser);
    const auto& res = parser.get();
    http_answer a;
    a.status = res.result_int();
    for (const auto& f : res) {
      std::string name(f.name_string());
      std::transform(name.begin(), name.end(), name.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      a.headers[name] = std::string(f.value());
    }
    a.body = res.body();
    return a;
  }
};

http_client::http_client(std::uint16_t port) : impl_(std::make_unique<impl>()) {
  impl_->stream.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port));
}
http_client::~http_client() = default;

http_answer http_client::request(const std::string& method, const std::string& target,
                                 const std::map<std::string, std::string>& headers) {
  http::request<http::empty_body> req{http::string_to_verb(method), target, 11};
  req.set(http::field::host, "127.0.0.1");
  for (const auto& [k, v] : headers) req.set(k, v);
  impl_->stream.expires_after(std::chrono::seconds(20));
  http::write(impl_->stream, req);
  return impl_->read_answer(method == "HEAD");
}

http_answer http_client::get(const std::string& target, const std::string& sid,
                             std::optional<std::string> token) {
  return request("GET", target, {{"Authorization", basic(sid, token ? *token : token_of(sid))}});
}

http_answer http_client::raw(const std::string& bytes) {
  impl_->stream.expires_after(std::chrono::seconds(20));
  net::write(impl_->stream, net::buffer(bytes));
  return impl_->read_answer(false);
}

store_env::store_env(const std::function<void(conf::config&)>& adjust) : cfg(make_config()) {
  cfg->store.path = dir_.path() / "data";
  if (adjust) adjust(*cfg);
  store::trace_store::options o;
  o.maintenance_interval = std::chrono::hours(1);
  store = std::make_unique<store::trace_store>(cfg, registry, o);
  api = std::make_unique<server>(cfg, *store, registry, [s = store.get()] { return s->health(); });
  port = api->start().port();
}

store_env::~store_env() {
  api->stop();
  api.reset();
  store.reset();
}

std::string store_env::put(store::trace_record r) {
  std::string sid = r.sid;
  EXPECT_TRUE(store->submit(std::move(r)));
  store->flush();
  return sid;
}

store::trace_record sample_record(const std::string& account, std::int64_t created_ms,
                                  std::mt19937_64& rng) {
  store::trace_record r;
  r.sid = store::make_trace_sid(created_ms, rng);
  r.account_sid = account;
  r.created_ms = created_ms;
  r.completed = true;
  r.latency_ms = 10;
  r.request.method = "POST";
  r.request.path = "/apps/voice";
  r.request.url = "http://127.0.0.1:9000/apps/voice";
  r.response.code = "200";
  r.response.phrase = "OK";
  r.response.body.body = "<Response/>";
  r.response.body.size = r.response.body.body.size();
  return r;
}

}  // namespace sidecar::api::testing
