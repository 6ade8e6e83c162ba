// RocksDB's CRC32C computed by ISA-L (store/rocks_crc32c.hpp): the standard CRC, bound in
// librocksdb's place, and WAL records that RocksDB's own function accepts.
#include "store/rocks_crc32c.hpp"

#include <dlfcn.h>
#include <gtest/gtest.h>
#include <rocksdb/db.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>

#include "tests/common/temp_dir.hpp"

namespace rocksdb::crc32c {
std::uint32_t Extend(std::uint32_t crc, const char* data, std::size_t n);  // NOLINT: RocksDB's
}

namespace sidecar::store {
namespace {

using extend_fn = std::uint32_t (*)(std::uint32_t, const char*, std::size_t);
constexpr const char* extend_symbol = "_ZN7rocksdb6crc32c6ExtendEjPKcm";

/// librocksdb's own definition, the one this binary's replaces.
extend_fn rocksdb_own() { return reinterpret_cast<extend_fn>(::dlsym(RTLD_NEXT, extend_symbol)); }

std::uint32_t crc_of(std::string_view s) { return rocksdb::crc32c::Extend(0, s.data(), s.size()); }

TEST(rocks_crc32c, IsaLIsChosen) { EXPECT_EQ(rocks::crc32c_implementation(), "isa-l"); }

TEST(rocks_crc32c, ComputesTheStandardCrc32c) {
  // The check value of CRC-32C, and RFC 3720's test vectors (B.4).
  EXPECT_EQ(crc_of("123456789"), 0xe3069283u);
  EXPECT_EQ(crc_of(std::string(32, '\0')), 0x8a9136aau);
  EXPECT_EQ(crc_of(std::string(32, '\xff')), 0x62a8ab43u);
  std::string ascending;
  for (int i = 0; i < 32; ++i) ascending += static_cast<char>(i);
  EXPECT_EQ(crc_of(ascending), 0x46dd794eu);
  EXPECT_EQ(crc_of(""), 0u);
}

TEST(rocks_crc32c, ContinuesACrcAsOneBuffer) {
  const std::string a(1000, 'a');
  const std::string b = "a second part of 37 bytes, unaligned";
  EXPECT_EQ(rocksdb::crc32c::Extend(crc_of(a), b.data(), b.size()), crc_of(a + b));
}

TEST(rocks_crc32c, AgreesWithRocksDbsOwn) {
  const extend_fn own = rocksdb_own();
  ASSERT_NE(own, nullptr);
  std::string bytes(70000, '\0');
  std::uint32_t x = 12345;
  for (auto& c : bytes) {
    x = x * 69069 + 1;
    c = static_cast<char>(x >> 24);
  }
  for (const std::size_t n : {1u, 7u, 8u, 63u, 64u, 1000u, 4097u, 69990u}) {
    for (const std::uint32_t start : {0u, 0xdeadbeefu}) {
      EXPECT_EQ(rocksdb::crc32c::Extend(start, bytes.data() + 5, n),
                own(start, bytes.data() + 5, n))
          << "n=" << n;
    }
  }
}

TEST(rocks_crc32c, LibrocksdbsCallsBindToIt) {
  // librocksdb calls Extend through its PLT, which binds to the first definition in the
  // global lookup order: this binary's.
  EXPECT_EQ(::dlsym(RTLD_DEFAULT, extend_symbol),
            reinterpret_cast<void*>(&rocksdb::crc32c::Extend));
  EXPECT_NE(::dlsym(RTLD_DEFAULT, extend_symbol), ::dlsym(RTLD_NEXT, extend_symbol));
}

/// The bytes of the one WAL file in `dir` that holds any.
std::string written_wal(const std::filesystem::path& dir) {
  std::string wal;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    if (e.path().extension() != ".log" || e.file_size() == 0) continue;
    std::ifstream in(e.path(), std::ios::binary);
    wal.assign(std::istreambuf_iterator<char>(in), {});
  }
  return wal;
}

TEST(rocks_crc32c, RocksDbsOwnAcceptsTheWalItWrites) {
  testing_support::temp_dir dir;
  {
    rocksdb::Options o;
    o.create_if_missing = true;
    rocksdb::DB* raw = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(o, dir.path().string(), &raw).ok());
    std::unique_ptr<rocksdb::DB> db(raw);
    ASSERT_TRUE(db->Put({}, "call", std::string(300, 'x')).ok());
  }  // closed without a flush: the record is only in the WAL
  const std::string wal = written_wal(dir.path());
  // The WAL's first physical record: masked CRC (4 bytes), length (2), type (1), payload;
  // the CRC covers the type and the payload (RocksDB's db/log_format.h).
  ASSERT_GE(wal.size(), 7u);
  std::uint32_t stored = 0;
  std::memcpy(&stored, wal.data(), 4);
  const std::size_t length = static_cast<unsigned char>(wal[4]) |
                             static_cast<std::size_t>(static_cast<unsigned char>(wal[5])) << 8;
  ASSERT_GE(wal.size(), 7 + length);
  const extend_fn own = rocksdb_own();
  ASSERT_NE(own, nullptr);
  const std::uint32_t crc = own(own(0, wal.data() + 6, 1), wal.data() + 7, length);
  const std::uint32_t masked = ((crc >> 15) | (crc << 17)) + 0xa282ead8u;
  EXPECT_EQ(stored, masked);
}

}  // namespace
}  // namespace sidecar::store
