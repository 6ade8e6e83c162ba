// Fuzzes record building and JSON encoding: an arbitrary capture (URL, headers, bodies,
// status, flags, limits) must give either a skip or a record whose JSON is valid, whose text
// bodies are valid UTF-8, and whose redacted credentials do not show.
#include <fuzzer/FuzzedDataProvider.h>
#include <simdjson.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "support/json.hpp"
#include "store/record_builder.hpp"
#include "store/redact.hpp"
#include "support/text.hpp"
#include "store/trace_record.hpp"

namespace {

using namespace sidecar;

constexpr std::string_view planted = "PLANTEDSECRET";

[[noreturn]] void fail(const char* what, std::string_view detail) {
  std::fprintf(stderr, "record_fuzz: %s\n%.*s\n", what, static_cast<int>(detail.size()),
               detail.data());
  std::abort();
}

bool valid_json(const std::string& doc) {
  static simdjson::dom::parser parser;
  simdjson::dom::element e;
  return parser.parse(doc).get(e) == simdjson::SUCCESS;
}

std::shared_ptr<conf::config> make_config(std::size_t body_limit) {
  auto cfg = std::make_shared<conf::config>();
  cfg->store.body_limit = body_limit;
  cfg->store.redact_headers = {"x-api-key"};
  cfg->store.redact_fields = {"pin"};
  for (const char* sid : {"ACae6e420f425248d6a26948c17a9e2acf", "AC1", "AC"}) {
    conf::account a;
    a.sid = sid;
    a.friendly_name = "F\"\\\n";
    a.traces = true;
    cfg->accounts.push_back(a);
  }
  return cfg;
}

// `rest` after a first field.
store::field_list with_first(std::string_view name, std::string_view value,
                             const store::field_list& rest) {
  store::field_list out{{name, value}};
  for (const auto& [n, v] : rest) out.emplace_back(n, v);
  return out;
}

store::field_list headers(FuzzedDataProvider& in, bool* planted_secret, std::string& typed) {
  store::field_list h;
  const auto n = in.ConsumeIntegralInRange<int>(0, 6);
  for (int i = 0; i < n; ++i) {
    std::string name = in.ConsumeRandomLengthString(24);
    std::string value = in.ConsumeRandomLengthString(64);
    typed += name + value;
    switch (in.ConsumeIntegralInRange<int>(0, 6)) {
      case 0:
        name = "Content-Type";
        break;
      case 1:
        name = "Content-Encoding";
        break;
      case 2:
        name = "Authorization";
        value = "Basic " + std::string(planted);
        *planted_secret = true;
        break;
      case 3:
        name = "X-Api-Key";
        value = std::string(planted);
        *planted_secret = true;
        break;
      default:
        break;
    }
    h.emplace_back(std::move(name), std::move(value));
  }
  return h;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider in(data, size);
  const std::size_t limit = in.ConsumeIntegralInRange<std::size_t>(0, 256);
  static std::shared_ptr<conf::config> cfgs[257];
  if (!cfgs[limit]) cfgs[limit] = make_config(limit);
  store::record_builder builder(cfgs[limit]);

  store::capture c;
  // Within what system_clock (int64 nanoseconds) can hold: about +-292 years.
  c.completed_at = std::chrono::system_clock::time_point(std::chrono::milliseconds(
      in.ConsumeIntegralInRange<std::int64_t>(-(std::int64_t{1} << 43), std::int64_t{1} << 43)));
  c.latency = std::chrono::nanoseconds(in.ConsumeIntegral<std::int64_t>());
  c.direction = in.ConsumeBool() ? conf::direction::api : conf::direction::webhook;
  c.route_account = in.ConsumeBool() ? "ACae6e420f425248d6a26948c17a9e2acf" : "";
  c.forward_proxy = in.ConsumeBool();
  c.capture_bodies = in.ConsumeBool();
  c.method = in.ConsumeRandomLengthString(16);
  c.upstream_url = in.ConsumeRandomLengthString(200);
  c.target_at = in.ConsumeIntegralInRange<std::size_t>(0, c.upstream_url.size());
  bool planted_secret = false;
  std::string typed;
  c.request_headers = headers(in, &planted_secret, typed);
  c.status_code = in.ConsumeIntegralInRange<int>(-1, 999);
  c.reason = in.ConsumeRandomLengthString(32);
  c.response_headers = headers(in, &planted_secret, typed);
  c.sidecar_answered = in.ConsumeBool();
  c.upgraded = in.ConsumeBool();
  c.error = static_cast<store::exchange_error>(in.ConsumeIntegralInRange<int>(0, 14));
  c.request_body.head = in.ConsumeRandomLengthString(400);
  c.request_body.size = c.request_body.head.size() + in.ConsumeIntegralInRange<std::uint64_t>(0, 3);
  const bool plant_query = in.ConsumeBool();
  const bool plant_json = in.ConsumeBool();
  const bool plant_form = in.ConsumeBool();
  c.response_body.head = in.ConsumeRemainingBytesAsString();
  typed += c.method + c.upstream_url + c.reason + c.request_body.head + c.response_body.head;

  // Secrets where docs/records.md says they are redacted: a query parameter, and a member of a
  // JSON body (first, so that no fuzzed bytes before it can turn it into a string's content).
  if (plant_query) {
    // The origin keeps its bytes; the target loses its '?' and '#'.
    std::string target(c.upstream_target());
    std::erase_if(target, [](char ch) { return ch == '?' || ch == '#'; });
    c.upstream_url.resize(c.target_at);
    c.upstream_url += target;
    // Erasing can join fuzzed bytes into the planted value ("PLANTED?SECRET"): that is typed.
    typed += c.upstream_url;
    c.upstream_url += "?password=" + std::string(planted);
    planted_secret = true;
  }
  if (plant_json) {
    c.response_headers = with_first("Content-Type", "application/json", c.response_headers);
    c.response_body.head =
        R"({"Password":")" + std::string(planted) + "\",\n" + c.response_body.head;
    planted_secret = true;
  }
  c.response_body.size = c.response_body.head.size();
  if (plant_form) {
    c.request_headers =
        with_first("Content-Type", "application/x-www-form-urlencoded", c.request_headers);
    c.request_body.head = "AuthToken=" + std::string(planted) + "&" + c.request_body.head;
    c.request_body.size += 11 + planted.size();
    planted_secret = true;
  }

  const store::build_result result = builder.build(c);
  if (!result.record) return 0;
  const store::trace_record& r = *result.record;
  const std::string doc = store::to_json(r);
  if (!valid_json(doc)) fail("record JSON does not parse", doc);
  if (planted_secret && typed.find(planted) == std::string::npos &&
      doc.find(planted) != std::string::npos)
    fail("credential leaked", doc);
  if (store::sid_time_ms(r.sid) != r.created_ms)
    fail("sid does not carry the creation time", r.sid);
  for (const auto* b : {&r.request.body, &r.response.body}) {
    if (!b->base64 && !text::is_valid_utf8(b->body)) fail("text body is not UTF-8", b->body);
    // A body recorded as whole must have been kept whole.
    if (!b->truncated && b->size > 0 && (!c.capture_bodies || b->size > limit))
      fail("a cut body is not marked body_truncated", doc);
    if (b->truncated && b->size == 0) fail("an empty body is marked body_truncated", doc);
  }

  // The redaction scanners keep valid JSON valid, whatever it holds.
  const std::string_view raw = c.response_body.head;
  if (valid_json(std::string(raw))) {
    std::string redacted;
    store::redact::append_json(redacted, raw, store::redact::secret_fields({"pin"}));
    if (!valid_json(redacted)) fail("redacted JSON does not parse", redacted);
  }
  // And the encoder gives valid JSON for any bytes.
  std::string encoded;
  json::append_string(encoded, raw);
  if (!valid_json(encoded)) fail("encoded string does not parse", encoded);
  return 0;
}
