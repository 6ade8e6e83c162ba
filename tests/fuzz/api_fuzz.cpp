// Fuzzes what the Traces API reads from a caller before any store access: the request target
// (api/routing.hpp), the query string and its filters and paging (api/list_params.hpp), the
// instants of DateCreated, and the Basic auth header (api/auth.hpp). Beyond "no crash": the
// paging values stay in their documented bounds, a parsed query re-encodes to one that parses
// to the same pairs, and only the configured token authenticates.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "api/auth.hpp"
#include "api/list_params.hpp"
#include "api/routing.hpp"

namespace {

using namespace sidecar;

[[noreturn]] void fail(const char* what, std::string_view detail) {
  std::fprintf(stderr, "api_fuzz: %s\n%.*s\n", what, static_cast<int>(detail.size()), detail.data());
  std::abort();
}

const conf::config& fuzz_config() {
  static const conf::config cfg = [] {
    conf::config c;
    conf::account a;
    a.sid = "ACae6e420f425248d6a26948c17a9e2acf";
    a.auth_token = "fuzz-token";
    a.traces = true;
    c.accounts.push_back(a);
    return c;
  }();
  return cfg;
}

void check_target(std::string_view target) {
  const auto m = api::match_target(target);
  auto inside = [&](std::string_view part) {
    return part.empty() || (part.data() >= target.data() &&
                            part.data() + part.size() <= target.data() + target.size());
  };
  if (!inside(m.path) || !inside(m.query) || !inside(m.account_sid) || !inside(m.trace_sid)) {
    fail("a view outside the target", target);
  }
  if ((m.kind == api::resource::list || m.kind == api::resource::item) && m.account_sid.empty()) {
    fail("a list or item without its account", target);
  }
  if (m.kind == api::resource::item && m.trace_sid.empty()) fail("an item without its sid", target);
}

void check_query(std::string_view raw) {
  const auto r = api::parse_list_params(raw);
  if (r.params.has_value() == !r.error.empty()) fail("neither params nor error (or both)", raw);
  if (r.params) {
    if (r.params->page_size < 1 || r.params->page_size > api::max_page_size) {
      fail("PageSize out of bounds", raw);
    }
    const auto& f = r.params->filter;
    if (f.response_code_prefix &&
        (f.response_code_prefix->empty() || f.response_code_prefix->size() > 3)) {
      fail("ResponseCode prefix not 1-3 digits", raw);
    }
    if (f.min_latency_ms && *f.min_latency_ms < 0) fail("negative Latency", raw);
  }
  // Decoding, encoding and decoding again gives the same pairs (page URIs repeat filters).
  if (const auto pairs = api::parse_query(raw)) {
    std::string again;
    for (const auto& p : *pairs) {
      if (!again.empty()) again += '&';
      api::append_query_encoded(again, p.name);
      again += '=';
      api::append_query_encoded(again, p.value);
    }
    const auto reparsed = api::parse_query(again);
    if (!reparsed || reparsed->size() != pairs->size()) fail("re-encoded query differs", again);
    for (std::size_t i = 0; i < pairs->size(); ++i) {
      if ((*reparsed)[i].name != (*pairs)[i].name || (*reparsed)[i].value != (*pairs)[i].value) {
        fail("re-encoded query differs", again);
      }
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const api::authenticator auth(fuzz_config());
  FuzzedDataProvider in(data, size);
  switch (in.ConsumeIntegralInRange<int>(0, 3)) {
    case 0: {
      check_target(in.ConsumeRemainingBytesAsString());
      break;
    }
    case 1: {
      check_query(in.ConsumeRemainingBytesAsString());
      break;
    }
    case 2: {
      const std::string text = in.ConsumeRemainingBytesAsString();
      if (const auto ms = api::parse_instant(text); ms && (*ms < -62167219200000 || *ms > 253402300799999)) {
        fail("an instant outside years 0-9999", text);
      }
      break;
    }
    default: {
      const std::string header = in.ConsumeRemainingBytesAsString();
      if (const auto c = api::parse_basic_auth(header)) {
        const conf::account* who = auth.check(*c);
        if (who != nullptr && c->password != "fuzz-token") fail("a wrong token authenticated", header);
      }
      break;
    }
  }
  return 0;
}
