// Restcomm's paging arithmetic and page URIs.
#include "api/paging.hpp"

#include "support/percent.hpp"

namespace sidecar::api {

page_result compute_page(std::uint64_t total, std::uint64_t page, std::uint32_t page_size) {
  page_result r;
  if (page_size == 0) return r;
  page_numbers& n = r.numbers;
  n.page = page;
  n.page_size = page_size;
  n.total = total;
  n.num_pages = total / page_size;
  if (page > n.num_pages) return r;
  n.start = page * page_size;  // <= total: no overflow
  // The last page (page == num_pages) holds total - start items, and end = start + that.
  n.end = page == n.num_pages ? total : n.start + page_size - 1;
  r.valid = true;
  return r;
}

page_uris::page_uris(std::string_view path, const std::vector<query_param>& filters,
                     std::uint32_t page_size)
    : path_(path), page_size_(page_size) {
  for (const query_param& f : filters) {
    if (!filters_.empty()) filters_.push_back('&');
    percent::append_query_value(filters_, f.name);
    filters_.push_back('=');
    percent::append_query_value(filters_, f.value);
  }
}

std::string page_uris::list_uri() const {
  std::string uri = path_;
  if (!filters_.empty()) {
    uri.push_back('?');
    uri += filters_;
  }
  return uri;
}

std::string page_uris::page_uri(std::uint64_t page, std::string_view after_sid) const {
  std::string uri = path_;
  uri += "?Page=";
  uri += std::to_string(page);
  uri += "&PageSize=";
  uri += std::to_string(page_size_);
  if (!filters_.empty()) {
    uri.push_back('&');
    uri += filters_;
  }
  if (!after_sid.empty()) {
    uri += "&AfterSid=";
    percent::append_query_value(uri, after_sid);
  }
  return uri;
}

void write_list_head(json::writer& w, const page_numbers& n, const page_uris& uris,
                     std::string_view last_sid, bool more) {
  const std::string none = "null";  // Restcomm writes the string "null", not JSON null
  w.begin_object();
  w.key("page").value(static_cast<std::int64_t>(n.page));
  w.key("num_pages").value(static_cast<std::int64_t>(n.num_pages));
  w.key("page_size").value(static_cast<std::int64_t>(n.page_size));
  w.key("total").value(static_cast<std::int64_t>(n.total));
  w.key("start").value(std::to_string(n.start));
  w.key("end").value(std::to_string(n.end));
  w.key("uri").value(uris.list_uri());
  w.key("first_page_uri").value(uris.page_uri(0));
  w.key("previous_page_uri").value(n.has_previous() ? uris.page_uri(n.page - 1) : none);
  w.key("next_page_uri").value(n.has_next() && more ? uris.page_uri(n.page + 1, last_sid) : none);
  w.key("last_page_uri").value(uris.page_uri(n.num_pages));
  w.key("traces").begin_array();
}

}  // namespace sidecar::api
