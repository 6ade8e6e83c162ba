// Fuzzes the configuration loader: any bytes as a TOML file must either load or be refused
// with conf::config_error carrying one line (never another exception, a crash or a hang).
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "conf/load.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    const auto cfg = sidecar::conf::parse(text, "fuzz.toml");
    // A loaded config is whole: the lookups every module relies on hold.
    for (const auto& a : cfg->accounts) {
      if (cfg->find_account(a.sid) == nullptr) std::abort();
      if (!a.auth_token && !a.auth_token_sha256) std::abort();
      if (!cfg->may_read(a, a.sid)) std::abort();
      (void)cfg->subtree(a.sid);
    }
    for (const auto& r : cfg->routes) {
      if (r.prefix.empty() || r.prefix.front() != '/') std::abort();
      if (r.upstream.base_path.empty() || r.upstream.base_path.front() != '/' ||
          r.upstream.base_path.back() != '/') {
        std::abort();
      }
    }
  } catch (const sidecar::conf::config_error& e) {
    const std::string_view what = e.what();
    if (what.empty() || what.find('\n') != std::string_view::npos) {
      std::fprintf(stderr, "config error is not one line: %s\n", e.what());
      std::abort();
    }
  }
  // Any other exception escapes and libFuzzer reports it: the loader must not throw one.
  return 0;
}
