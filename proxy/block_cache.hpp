// Blocks of 64 KiB for streamed bodies, cached per thread. A keep-alive client connection
// gives its buffers back while it waits for the next request (10 000 idle connections must
// fit in 256 MiB), so without a cache every request would allocate, zero and free them again.
#pragma once

#include <cstddef>
#include <memory>
#include <new>

namespace sidecar::proxy {

/// Where body-sized blocks come from: a small per-thread free list in front of operator new.
/// A block may be given back on another thread than the one it was taken on.
class block_cache {
 public:
  static constexpr std::size_t block_size = 64 * 1024;  // one read or write of a body
  static constexpr std::size_t kept_per_thread = 32;    // 2 MiB of blocks at most per thread

  /// A block of block_size bytes, not zeroed. Throws std::bad_alloc.
  [[nodiscard]] static char* take();
  static void give(char* block) noexcept;
};

struct block_deleter {
  void operator()(char* block) const noexcept { block_cache::give(block); }
};
using block_ptr = std::unique_ptr<char[], block_deleter>;

[[nodiscard]] inline block_ptr take_block() { return block_ptr(block_cache::take()); }

/// An allocator that serves allocations of exactly one block from the cache (a flat_buffer
/// reserved to a block's size) and any other size from operator new.
template <class T>
struct block_allocator {
  using value_type = T;

  block_allocator() = default;
  template <class U>
  block_allocator(const block_allocator<U>&) noexcept {}  // NOLINT: converting, as allocators are

  [[nodiscard]] T* allocate(std::size_t n) {
    if (n * sizeof(T) == block_cache::block_size) return reinterpret_cast<T*>(block_cache::take());
    return static_cast<T*>(::operator new(n * sizeof(T)));
  }
  void deallocate(T* p, std::size_t n) noexcept {
    if (n * sizeof(T) == block_cache::block_size) {
      block_cache::give(reinterpret_cast<char*>(p));
    } else {
      ::operator delete(p);
    }
  }
  friend bool operator==(const block_allocator&, const block_allocator&) { return true; }
};

}  // namespace sidecar::proxy
