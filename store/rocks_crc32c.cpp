// RocksDB's CRC32C, computed by ISA-L once it has agreed with RocksDB's own
// (store/rocks_crc32c.hpp).
#include "store/rocks_crc32c.hpp"

#include <dlfcn.h>
#include <isa-l/crc.h>

#include <algorithm>
#include <climits>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <type_traits>
#include <vector>

namespace sidecar::store::rocks {
namespace {

using extend_fn = std::uint32_t (*)(std::uint32_t, const char*, std::size_t);
// The symbol looked up below is the name mangled for size_t = unsigned long (Debian's 64-bit
// ports).
static_assert(std::is_same_v<std::size_t, unsigned long>);

/// RocksDB's Extend(crc, data, n) continues a finished CRC; ISA-L's crc32_iscsi continues the
/// register itself, which is the finished CRC inverted (in and out).
std::uint32_t isal_extend(std::uint32_t crc, const char* data, std::size_t n) {
  std::uint32_t reg = ~crc;
  // crc32_iscsi only reads the buffer (its pointer is not const); its length is an int.
  auto* p = reinterpret_cast<unsigned char*>(const_cast<char*>(data));  // NOLINT: only read
  while (n > 0) {
    const std::size_t step = std::min<std::size_t>(n, INT_MAX);
    reg = crc32_iscsi(p, static_cast<int>(step), reg);
    p += step;
    n -= step;
  }
  return ~reg;
}

/// Whether two implementations give the same CRC: every length up to 300 at each of eight
/// alignments, from three starting CRCs, then longer buffers (where ISA-L folds with
/// carry-less multiplication).
bool agree(extend_fn a, extend_fn b) {
  std::vector<char> bytes(1 << 16);
  std::uint32_t x = 0x9e3779b9;
  for (auto& c : bytes) {
    x = x * 1664525 + 1013904223;
    c = static_cast<char>(x >> 24);
  }
  for (const std::uint32_t start : {0u, 0x12345678u, 0xffffffffu}) {
    for (std::size_t n = 0; n <= 300; ++n) {
      for (std::size_t at = 0; at < 8; ++at) {
        if (a(start, bytes.data() + at, n) != b(start, bytes.data() + at, n)) return false;
      }
    }
    for (const std::size_t n : {4096u, 16411u, 65536u - 3u}) {
      if (a(start, bytes.data() + 3, n) != b(start, bytes.data() + 3, n)) return false;
    }
  }
  return true;
}

struct choice {
  extend_fn fn;
  std::string_view name;
};

choice choose() {
  // RocksDB's own definition is the next one after this binary's in the lookup order.
  const auto own =
      reinterpret_cast<extend_fn>(::dlsym(RTLD_NEXT, "_ZN7rocksdb6crc32c6ExtendEjPKcm"));
  if (own == nullptr) {
    // Only a RocksDB linked into this binary has no definition behind ours, and that one
    // would not have linked beside it: an impossible state.
    static_cast<void>(std::fputs("trace-sidecar: librocksdb's crc32c::Extend not found\n", stderr));
    std::abort();
  }
  if (agree(isal_extend, own)) return {isal_extend, "isa-l"};
  return {own, "rocksdb"};
}

const choice& chosen() {
  static const choice c = choose();
  return c;
}

}  // namespace

std::string_view crc32c_implementation() { return chosen().name; }

}  // namespace sidecar::store::rocks

namespace rocksdb::crc32c {

// RocksDB's name and signature (util/crc32c.h, not installed): the CRC of `data` continued
// from `crc`.
std::uint32_t Extend(std::uint32_t crc, const char* data, std::size_t n);  // NOLINT: RocksDB's

// The definition librocksdb's calls bind to (store/rocks_crc32c.hpp).
__attribute__((visibility("default"))) std::uint32_t Extend(  // NOLINT: RocksDB's name
    std::uint32_t crc, const char* data, std::size_t n) {
  return sidecar::store::rocks::chosen().fn(crc, data, n);
}

}  // namespace rocksdb::crc32c
