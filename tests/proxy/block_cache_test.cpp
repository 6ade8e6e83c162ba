// proxy/block_cache: 64 KiB body blocks recycled per thread, bounded, given back from any
// thread; and the allocator that serves a flat_buffer from them.
#include "proxy/block_cache.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <set>
#include <thread>
#include <vector>

#include "support/net.hpp"

namespace sidecar::proxy {
namespace {

TEST(block_cache, AGivenBlockIsTheNextOneTaken) {
  char* a = block_cache::take();
  std::memset(a, 0x5a, block_cache::block_size);  // the whole block is ours to write
  block_cache::give(a);
  char* b = block_cache::take();
  EXPECT_EQ(a, b);
  block_cache::give(b);
  block_cache::give(nullptr);  // a no-op
}

TEST(block_cache, KeepsAtMostItsBoundPerThread) {
  // On a fresh thread, so that no other test's blocks are in its list.
  std::thread([] {
    constexpr std::size_t n = block_cache::kept_per_thread + 8;
    std::vector<char*> first;
    for (std::size_t i = 0; i < n; ++i) first.push_back(block_cache::take());
    for (char* b : first) block_cache::give(b);  // the last 8 go back to operator delete
    const std::set<char*> kept(first.begin(), first.begin() + block_cache::kept_per_thread);
    std::vector<char*> again;
    for (std::size_t i = 0; i < block_cache::kept_per_thread; ++i) {
      again.push_back(block_cache::take());
    }
    EXPECT_TRUE(std::all_of(again.begin(), again.end(), [&](char* b) { return kept.count(b); }));
    for (char* b : again) block_cache::give(b);
  }).join();
}

TEST(block_cache, ABlockMayComeBackOnAnotherThread) {
  char* block = nullptr;
  std::thread([&] { block = block_cache::take(); }).join();
  std::thread([&] {
    block_cache::give(block);
    EXPECT_EQ(block_cache::take(), block);
    block_cache::give(block);
  }).join();
}

TEST(block_cache, AFlatBufferOfOneBlockIsServedFromTheCache) {
  char* cached = block_cache::take();
  block_cache::give(cached);
  {
    beast::basic_flat_buffer<block_allocator<char>> buffer;
    buffer.reserve(block_cache::block_size);
    EXPECT_EQ(static_cast<char*>(buffer.prepare(1).data()), cached);
  }
  // Back in the cache once the buffer is gone; other sizes never touch it.
  block_allocator<char> other;
  char* small = other.allocate(100);
  EXPECT_NE(small, cached);
  other.deallocate(small, 100);
  EXPECT_EQ(block_cache::take(), cached);
  block_cache::give(cached);
}

TEST(block_cache, TakeBlockGivesItBackWhenDropped) {
  char* raw = nullptr;
  {
    block_ptr p = take_block();
    raw = p.get();
  }
  EXPECT_EQ(block_cache::take(), raw);
  block_cache::give(raw);
}

}  // namespace
}  // namespace sidecar::proxy
