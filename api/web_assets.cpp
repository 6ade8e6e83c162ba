// Serving the web inspector's embedded files on the API listener.
#include "api/web_assets.hpp"

#include <algorithm>
#include <array>
#include <utility>

namespace sidecar::api {
namespace {

constexpr std::string_view assets_prefix = "/assets/";

/// The ETag of a file: the first 32 hex digits (128 bits) of its SHA-256, quoted.
std::string etag_of(const embedded_file& f) {
  return "\"" + std::string(f.sha256.substr(0, 32)) + "\"";
}

/// The headers every answer for the page's paths carries, whatever its status.
void add_security_headers(answer& a) {
  a.headers.emplace_back("Content-Security-Policy", std::string(web_content_security_policy));
  a.headers.emplace_back("X-Content-Type-Options", "nosniff");
  a.headers.emplace_back("X-Frame-Options", "DENY");
  a.headers.emplace_back("Referrer-Policy", "no-referrer");
  a.headers.emplace_back("Cross-Origin-Opener-Policy", "same-origin");
  a.headers.emplace_back("Cross-Origin-Resource-Policy", "same-origin");
}

const embedded_file* find_file(std::string_view name) {
  const auto files = embedded_web_files();
  const auto it = std::find_if(files.begin(), files.end(),
                               [name](const embedded_file& f) { return f.name == name; });
  return it == files.end() ? nullptr : &*it;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

bool is_web_path(std::string_view path) { return path == "/" || path.starts_with(assets_prefix); }

std::string_view web_content_type(std::string_view name) {
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 7> types{{
      {".html", "text/html; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".json", "application/json"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".txt", "text/plain; charset=utf-8"},
  }};
  for (const auto& [ext, type] : types) {
    if (name.ends_with(ext)) return type;
  }
  return "application/octet-stream";
}

bool etag_matches(std::string_view if_none_match, std::string_view etag) {
  std::string_view rest = if_none_match;
  while (!rest.empty()) {
    const auto comma = rest.find(',');
    std::string_view tag = trim(rest.substr(0, comma));
    rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
    if (tag == "*") return true;
    // If-None-Match compares weakly (RFC 9110 13.1.2): W/"x" matches "x".
    if (tag.starts_with("W/")) tag.remove_prefix(2);
    if (tag == etag) return true;
  }
  return false;
}

answer web_answer(std::string_view method, std::string_view path, std::string_view if_none_match) {
  answer a;
  if (method != "GET" && method != "HEAD") {
    a = handler::error(405, "Only GET and HEAD are supported");
    a.allow = "GET, HEAD";
  } else {
    const std::string_view name = path == "/" ? "index.html" : path.substr(assets_prefix.size());
    // index.html is the page itself, not one of its assets.
    const embedded_file* f = path == "/" || name != "index.html" ? find_file(name) : nullptr;
    if (f == nullptr) {
      a = handler::error(404, "No such file of the web inspector");
    } else {
      std::string etag = etag_of(*f);
      if (etag_matches(if_none_match, etag)) {
        a.status = 304;
      } else {
        a.body = f->bytes;
      }
      a.content_type = web_content_type(f->name);
      a.headers.emplace_back("ETag", std::move(etag));
      // Revalidated on each load (a 304 when unchanged), so a new binary's page is never mixed
      // with an old one's modules.
      a.headers.emplace_back("Cache-Control", "no-cache");
    }
  }
  add_security_headers(a);
  return a;
}

}  // namespace sidecar::api
