// RocksDB's CRC32C, computed by ISA-L (docs/store.md, "CRC32C"). Debian builds RocksDB portable,
// so its CRC32C reads a table a byte at a time (about 1.4 GB/s); every WAL record (and the
// MANIFEST's and blob files' records) is checksummed with it, which was a quarter of the
// committer's CPU, and so are the table blocks while ISA-L computes it (store/store_open.cpp,
// which otherwise keeps RocksDB's XXH3 for them). This file defines rocksdb::crc32c::Extend in
// the binary, which the dynamic linker then binds librocksdb's own calls to (it exports the
// function and calls it through its PLT); the definition uses ISA-L's crc32_iscsi (the same
// CRC, with SSE4.2 and carry-less multiplication chosen at run time) only once it has agreed
// with RocksDB's own function, which it looks up behind itself.
#pragma once

#include <string_view>

namespace sidecar::store::rocks {

/// Which function computes RocksDB's CRC32C in this process: "isa-l" once it has agreed with
/// RocksDB's own on the check buffers, "rocksdb" (RocksDB's own) otherwise. The first call,
/// or RocksDB's first checksum, makes the choice.
[[nodiscard]] std::string_view crc32c_implementation();

}  // namespace sidecar::store::rocks
