// Restcomm's paging arithmetic and page URIs, quirks included (docs/api.md).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "api/list_params.hpp"
#include "support/json.hpp"

namespace sidecar::api {

/// The numbers of one page of a list.
struct page_numbers {
  std::uint64_t page = 0;
  std::uint64_t num_pages = 0;  // total / page_size: the index of the last page
  std::uint32_t page_size = default_page_size;
  std::uint64_t total = 0;
  std::uint64_t start = 0;  // page * page_size
  std::uint64_t end = 0;    // start + page_size - 1, or on the last page total
  [[nodiscard]] bool has_previous() const { return page > 0; }
  [[nodiscard]] bool has_next() const { return page < num_pages; }
};

/// The numbers of page `page`; nullopt-like `false` in `valid` when page > num_pages.
struct page_result {
  bool valid = false;
  page_numbers numbers;
};
[[nodiscard]] page_result compute_page(std::uint64_t total, std::uint64_t page,
                                       std::uint32_t page_size);

/// The URIs of a list answer: each repeats the request's own path and every filter kept.
class page_uris {
 public:
  page_uris(std::string_view path, const std::vector<query_param>& filters,
            std::uint32_t page_size);
  /// The list's URI: path and filters, without Page, PageSize or AfterSid.
  [[nodiscard]] std::string list_uri() const;
  /// path?Page=n&PageSize=s[&filters][&AfterSid=after]
  [[nodiscard]] std::string page_uri(std::uint64_t page, std::string_view after_sid = {}) const;

 private:
  std::string path_;
  std::string filters_;  // "Name=value&Name=value", encoded; empty when none
  std::uint32_t page_size_;
};

/// Writes the list answer's head, every field before the records, ending inside the open
/// "traces" array: the caller then adds each record with w.raw() and closes with
/// w.end_array().end_object(). `last_sid`: the sid of the page's last record (next_page_uri's
/// AfterSid), empty when unknown. `more` false: the page was found short (a cursor reached the
/// end of the list), so there is no next page even if the arithmetic says there is.
void write_list_head(json::writer& w, const page_numbers& n, const page_uris& uris,
                     std::string_view last_sid, bool more = true);

}  // namespace sidecar::api
