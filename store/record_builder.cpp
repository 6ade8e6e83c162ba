// Capture -> trace record (placeholder until the rules land).
#include "store/record_builder.hpp"

namespace sidecar::store {

std::string_view to_string(skip_reason r) {
  switch (r) {
    case skip_reason::no_account: return "no_account";
    case skip_reason::unknown_account: return "unknown_account";
    case skip_reason::traces_not_enabled: return "traces_not_enabled";
  }
  return "unknown";
}

record_builder::record_builder(std::shared_ptr<const conf::config> cfg)
    : cfg_(std::move(cfg)), rng_(std::random_device{}()) {}

build_result record_builder::build(const capture&) { return {std::nullopt, skip_reason::no_account}; }

}  // namespace sidecar::store
