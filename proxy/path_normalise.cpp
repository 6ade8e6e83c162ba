// Dot-segment removal and the refusal of paths with two readings: see path_normalise.hpp.
#include "proxy/path_normalise.hpp"

#include <boost/url/pct_string_view.hpp>
#include <vector>

#include "support/ascii.hpp"

namespace sidecar::proxy {

namespace {

enum class segment_kind { plain, dot, dot_dot };

struct segment_verdict {
  path_problem problem = path_problem::none;
  segment_kind kind = segment_kind::plain;
};

bool has_encoded(std::string_view s, std::string_view escape) {
  for (std::size_t i = 0; i + escape.size() <= s.size(); ++i) {
    if (ascii::iequals(s.substr(i, escape.size()), escape)) return true;
  }
  return false;
}

// One segment (between slashes), read as a server behind the sidecar might read it.
segment_verdict judge_segment(std::string_view raw) {
  if (raw.find('\\') != std::string_view::npos) return {path_problem::ambiguous};
  if (raw.find('%') == std::string_view::npos) {
    if (raw == ".") return {path_problem::none, segment_kind::dot};
    if (raw == "..") return {path_problem::none, segment_kind::dot_dot};
    return {};
  }
  const auto pct = boost::urls::make_pct_string_view(raw);
  if (!pct) return {path_problem::malformed};
  const std::string decoded = pct->decode();
  // A slash or backslash that only appears once decoded: nginx keeps "a%2Fb" one segment, a
  // server that decodes first makes it two (and "..%2F" a climb).
  if (decoded.find_first_of("/\\") != std::string::npos) return {path_problem::ambiguous};
  // Decoded twice by some frameworks: "%252e%252e" would become "..".
  if (has_encoded(decoded, "%2e") || has_encoded(decoded, "%2f") || has_encoded(decoded, "%5c")) {
    return {path_problem::ambiguous};
  }
  if (decoded == ".") return {path_problem::none, segment_kind::dot};
  if (decoded == "..") return {path_problem::none, segment_kind::dot_dot};
  return {};
}

}  // namespace

path_problem normalise_path(std::string_view target, std::string& out) {
  const auto query_at = target.find('?');
  const std::string_view path = target.substr(0, query_at);
  const std::string_view query =
      query_at == std::string_view::npos ? std::string_view() : target.substr(query_at);
  // The common case: nothing that could be a dot-segment or need a second look.
  const bool plain = path.find("/.") == std::string_view::npos &&
                     path.find_first_of("%\\") == std::string_view::npos;
  if (!path.starts_with('/') || plain) {
    out.assign(target);
    return path_problem::none;
  }

  // RFC 3986 5.2.4 over whole segments: "." is dropped, ".." drops the segment before it; a
  // path that ends in either ends in "/".
  std::vector<std::string_view> kept;
  std::string_view rest = path.substr(1);  // origin-form: the path starts with '/'
  for (;;) {
    const auto slash = rest.find('/');
    const std::string_view raw = rest.substr(0, slash);
    const bool last = slash == std::string_view::npos;
    const segment_verdict v = judge_segment(raw);
    if (v.problem != path_problem::none) {
      return v.problem;
    }
    if (v.kind == segment_kind::dot_dot) {
      if (kept.empty()) {
        return path_problem::climbs_above_root;
      }
      // "/a//../b": RFC 3986 drops the empty segment ("/a/b"), a server that merges slashes
      // first (nginx's default) drops "a" ("/b").
      if (kept.back().empty()) {
        return path_problem::ambiguous;
      }
      kept.pop_back();
    }
    if (v.kind == segment_kind::plain) {
      kept.push_back(raw);
    } else if (last) {
      kept.emplace_back();  // "/a/b/.." is "/a/"
    }
    if (last) break;
    rest.remove_prefix(slash + 1);
  }
  out.clear();
  out.reserve(target.size());
  for (const auto& s : kept) {
    out.push_back('/');
    out.append(s);
  }
  if (kept.empty()) out.push_back('/');
  out.append(query);
  return path_problem::none;
}

normalised_path normalise_path(std::string_view target) {
  normalised_path out;
  out.problem = normalise_path(target, out.target);
  return out;
}

}  // namespace sidecar::proxy
