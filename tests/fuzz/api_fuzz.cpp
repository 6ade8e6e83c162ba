// libFuzzer target for what the API parses from untrusted bytes: the request target (path
// routing), the query string and its filters, DateCreated instants, the Basic auth header,
// and the page URIs and list head built from them through the JSON encoder.
//
// Input: target, then '\n', then an Authorization header value.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "api/auth.hpp"
#include "api/list_params.hpp"
#include "api/paging.hpp"
#include "api/routing.hpp"
#include "support/json.hpp"

using namespace sidecar;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  const auto nl = in.find('\n');
  const std::string_view target = in.substr(0, nl);
  const std::string_view authorization =
      nl == std::string_view::npos ? std::string_view{} : in.substr(nl + 1);

  const api::target_match m = api::match_target(target);
  if (m.kind != api::resource::not_found && m.path.data() != target.data()) std::abort();

  (void)api::parse_instant(target);
  const api::list_params_result r = api::parse_list_params(m.query);
  if (r.params.has_value() == !r.error.empty()) std::abort();  // exactly one of the two
  if (r.params) {
    const api::list_params& p = *r.params;
    if (p.page_size < 1 || p.page_size > api::max_page_size) std::abort();
    // Every total around the page: the arithmetic never overflows or goes backwards.
    for (const std::uint64_t total :
         {std::uint64_t{0}, p.page * p.page_size, p.page * p.page_size + p.page_size}) {
      const api::page_result pr = api::compute_page(total, p.page, p.page_size);
      if (pr.valid && (pr.numbers.end < pr.numbers.start || pr.numbers.start > total)) {
        std::abort();
      }
      if (pr.valid) {
        std::string out;
        json::writer w(out);
        api::write_list_head(w, pr.numbers, api::page_uris(m.path, p.filters, p.page_size),
                             p.after_sid.value_or(""));
        w.end_array().end_object();
      }
    }
  }

  if (const auto c = api::parse_basic_auth(authorization)) {
    if (c->user.empty() || c->user.find(':') != std::string::npos) std::abort();
  }
  return 0;
}
