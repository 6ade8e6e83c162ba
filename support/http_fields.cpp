// Which header fields belong to one connection: see http_fields.hpp.
#include "support/http_fields.hpp"

#include <array>
#include <cstddef>

namespace sidecar::http_fields {

bool is_hop_by_hop(boost::beast::http::field name, std::string_view name_string) {
  namespace http = boost::beast::http;
  constexpr std::size_t known = static_cast<std::size_t>(http::field::xref) + 1;
  static const std::array<bool, known> table = [] {
    std::array<bool, known> t{};
    for (std::size_t i = 1; i < known; ++i) {
      const auto s = http::to_string(static_cast<http::field>(i));
      t[i] = is_hop_by_hop(std::string_view(s.data(), s.size()));
    }
    return t;
  }();
  const auto i = static_cast<std::size_t>(name);
  return name != http::field::unknown && i < known ? table[i] : is_hop_by_hop(name_string);
}

}  // namespace sidecar::http_fields
