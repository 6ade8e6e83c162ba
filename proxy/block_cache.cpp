#include "proxy/block_cache.hpp"

#include <vector>

namespace sidecar::proxy {

namespace {

/// The calling thread's free blocks, released when the thread ends.
struct free_list {
  std::vector<char*> blocks;
  free_list() { blocks.reserve(block_cache::kept_per_thread); }
  ~free_list() {
    for (char* b : blocks) ::operator delete(b);
  }
};

free_list& local_list() {
  thread_local free_list list;
  return list;
}

}  // namespace

char* block_cache::take() {
  auto& list = local_list().blocks;
  if (!list.empty()) {
    char* b = list.back();
    list.pop_back();
    return b;
  }
  return static_cast<char*>(::operator new(block_size));
}

void block_cache::give(char* block) noexcept {
  if (block == nullptr) return;
  auto& list = local_list().blocks;
  if (list.size() < kept_per_thread) {
    list.push_back(block);  // within the reserved capacity: never allocates
  } else {
    ::operator delete(block);
  }
}

}  // namespace sidecar::proxy
