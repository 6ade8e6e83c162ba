// The shipping outbox's encoding and its reads and writes (see outbox.hpp, docs/fleet.md).
#include "store/outbox.hpp"

#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <cstring>
#include <memory>

#include "store/store_codec.hpp"

namespace sidecar::store::outbox {

namespace {

rocksdb::Slice slice(std::string_view s) { return {s.data(), s.size()}; }

std::optional<std::uint64_t> decode_seq(const rocksdb::Slice& s) {
  if (s.size() != 8) return std::nullopt;
  return codec::read_be({s.data(), s.size()}, 8);
}

}  // namespace

std::string key(std::uint64_t seq) {
  std::string k;
  codec::append_be(k, seq, 8);
  return k;
}

void add(rocksdb::WriteBatch& batch, rocksdb::ColumnFamilyHandle* cf, std::uint64_t seq,
         std::string_view sid16) {
  batch.Put(cf, key(seq), slice(sid16)).PermitUncheckedError();
}

std::uint64_t next_seq(rocksdb::DB& db, rocksdb::ColumnFamilyHandle* cf) {
  std::uint64_t next = 0;
  std::string position;
  if (db.Get({}, cf, slice(position_key), &position).ok()) {
    next = decode_seq(position).value_or(0);
  }
  std::unique_ptr<rocksdb::Iterator> it(db.NewIterator({}, cf));
  it->SeekToLast();
  if (it->Valid()) {
    if (const auto last = decode_seq(it->key())) next = std::max(next, *last + 1);
  }
  return next;
}

bool read(rocksdb::DB& db, rocksdb::ColumnFamilyHandle* cf, std::uint64_t from, std::size_t max,
          std::vector<outbox_entry>& out) {
  std::unique_ptr<rocksdb::Iterator> it(db.NewIterator({}, cf));
  for (it->Seek(key(from)); it->Valid() && out.size() < max; it->Next()) {
    const auto seq = decode_seq(it->key());
    const auto v = it->value();
    if (!seq || v.size() != 16) continue;  // not an entry
    store::sid_bytes b{};
    std::memcpy(b.data(), v.data(), 16);
    out.push_back({*seq, store::format_sid(b)});
  }
  return it->status().ok();
}

bool settle(rocksdb::DB& db, rocksdb::ColumnFamilyHandle* cf, std::uint64_t from,
            std::uint64_t through) {
  rocksdb::WriteBatch batch;
  const std::string end = key(through + 1);
  if (through >= from && through - from < 1'000'000) {
    // Point deletes: a reader's Seek lands past them at no cost, whereas every range
    // tombstone in a memtable is fragmented again by each new iterator (one batch a second
    // at a low rate would pile thousands of them up before a flush).
    for (std::uint64_t seq = from; seq <= through; ++seq) {
      batch.Delete(cf, key(seq)).PermitUncheckedError();
    }
  } else {
    batch.DeleteRange(cf, key(0), end).PermitUncheckedError();  // position_key sorts before
  }
  batch.Put(cf, slice(position_key), end).PermitUncheckedError();
  return db.Write({}, &batch).ok();
}

std::uint64_t count(rocksdb::DB& db, rocksdb::ColumnFamilyHandle* cf) {
  std::uint64_t n = 0;
  std::unique_ptr<rocksdb::Iterator> it(db.NewIterator({}, cf));
  for (it->Seek(key(0)); it->Valid(); it->Next()) ++n;
  return n;
}

}  // namespace sidecar::store::outbox
