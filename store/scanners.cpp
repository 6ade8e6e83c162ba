// The store's scans (store/scanners.hpp).
#include "store/scanners.hpp"

#include <algorithm>
#include <array>
#include <cstring>

#include "store/store_codec.hpp"

namespace sidecar::store {

bool keyed_stream::next(std::string& json) {
  json.clear();
  if (status_ != query_status::ok) return false;
  while (at_ < items_.size()) {
    const auto& item = items_[at_++];
    std::string_view account, inv;
    // Purged since the page was planned: gone, as a record deleted meanwhile is.
    if (codec::split_id_key(item.key, account, inv) && purged_->hidden(account, inv)) continue;
    try {
      rocksdb::ReadOptions ro;
      ro.snapshot = snap_->snap;
      switch (read_record(db_, records_, chunks_, ro, item.key, item.part, json)) {
        case read_outcome::found:
          return true;
        case read_outcome::gone:
          continue;
        case read_outcome::failed:
          status_ = query_status::failed;
          return false;
      }
    } catch (...) {
      status_ = query_status::failed;
      return false;
    }
  }
  return false;
}

merged_scan::merged_scan(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* cfh, rocksdb::ReadOptions ro,
                         const std::vector<std::string>& ids, std::int64_t lo, std::int64_t hi) {
  for (const auto& id : ids) {
    auto s = std::make_unique<source>();
    const std::string prefix = codec::id_prefix(id);
    s->prefix_len = prefix.size();
    // created >= lo: keys below prefix + inv(lo - 1); created < hi: from prefix + inv(hi - 1).
    s->upper = prefix;
    if (lo > 0) {
      codec::append_inv_time(s->upper, lo - 1);
    } else {
      s->upper.append(17, '\xff');
    }
    s->upper_slice = slice(s->upper);
    auto opts = ro;
    opts.iterate_upper_bound = &s->upper_slice;
    s->it.reset(db->NewIterator(opts, cfh));
    std::string start = prefix;
    if (hi <= max_sid_ms) codec::append_inv_time(start, hi - 1);
    s->it->Seek(start);
    if (s->it->Valid()) {
      sources_.push_back(std::move(s));
      heap_.push_back(sources_.size() - 1);
    } else {
      status_ = s->it->status();
    }
  }
  std::make_heap(heap_.begin(), heap_.end(), greater_);
}

bool contains(std::string_view hay, std::string_view needle) {
  if (needle.empty()) return true;
  if (hay.size() < needle.size()) return false;  // also keeps a null data() away from memmem
  return ::memmem(hay.data(), hay.size(), needle.data(), needle.size()) != nullptr;
}

void finder::choose(std::string_view sample) {
  std::array<std::uint32_t, 256> freq{};
  for (unsigned char c : sample.substr(0, 64 * 1024)) ++freq[c];
  rare_at_ = 0;
  for (std::size_t i = 1; i < needle_.size(); ++i) {
    if (freq[static_cast<unsigned char>(needle_[i])] <=
        freq[static_cast<unsigned char>(needle_[rare_at_])]) {
      rare_at_ = i;
    }
  }
  rare_ = needle_[rare_at_];
  rare2_at_ = rare_at_ == 0 ? needle_.size() - 1 : 0;
  for (std::size_t i = 0; i < needle_.size(); ++i) {
    if (i != rare_at_ && freq[static_cast<unsigned char>(needle_[i])] <
                             freq[static_cast<unsigned char>(needle_[rare2_at_])]) {
      rare2_at_ = i;
    }
  }
  rare2_ = needle_[rare2_at_];
  chosen_ = true;
}

covering_lookup::covering_lookup(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* index_chunks,
                                 const rocksdb::ReadOptions& ro, std::string_view account)
    : db_(db), index_chunks_(index_chunks), ro_(ro), prefix_(codec::id_prefix(account)) {}

std::optional<std::string_view> covering_lookup::entry(std::string_view inv) {
  const std::int64_t chunk = floor_div(codec::inv_ms(inv), codec::chunk_ms);
  if (loaded_ != chunk) load(chunk);
  const auto it = entries_.find(std::string(inv));
  if (it == entries_.end()) return std::nullopt;
  return it->second;
}

void covering_lookup::load(std::int64_t chunk) {
  entries_.clear();
  loaded_ = chunk;
  std::string start = prefix_;
  codec::append_inv_time(start, chunk * codec::chunk_ms);
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro_, index_chunks_));
  // The chunk's parts follow its key: the prefix and the 6 bytes of its time, then a part.
  for (it->Seek(slice(start)); it->Valid() && view(it->key()).starts_with(start); it->Next()) {
    const std::string_view value = view(it->value());
    std::size_t pos = 0;
    std::string_view inv, entry;
    while (codec::next_chunk_entry(value, pos, inv, entry)) entries_.emplace(inv, entry);
  }
  if (!it->status().ok()) status_ = it->status();
}

chunk_matches::chunk_matches(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* chunks,
                             rocksdb::ReadOptions ro, const std::string& account, std::int64_t lo,
                             std::int64_t hi, whole_fn whole, accept_fn accept,
                             std::chrono::steady_clock::time_point deadline)
    : lo_(lo), hi_(hi), whole_(std::move(whole)), accept_(std::move(accept)), deadline_(deadline) {
  const std::string prefix = codec::id_prefix(account);
  prefix_len_ = prefix.size();
  const std::int64_t lo_start = floor_div(lo, codec::chunk_ms) * codec::chunk_ms;
  upper_ = prefix;
  if (lo_start > 0) {
    codec::append_inv_time(upper_, lo_start - 1);
  } else {
    upper_.append(9, '\xff');
  }
  upper_slice_ = slice(upper_);
  ro.iterate_upper_bound = &upper_slice_;
  it_.reset(db->NewIterator(ro, chunks));
  std::string start = prefix;
  if (hi <= max_sid_ms)
    codec::append_inv_time(start, floor_div(hi - 1, codec::chunk_ms) * codec::chunk_ms);
  it_->Seek(start);
  fill();
}

void chunk_matches::match_part(std::string_view value, std::uint32_t part) {
  std::size_t pos = 0;
  std::string_view inv, entry;
  while (codec::next_chunk_entry(value, pos, inv, entry)) {
    const std::int64_t ms = codec::inv_ms(inv);
    if (ms < lo_ || ms >= hi_) continue;
    if (const auto a = accept_(entry, part)) {
      matches_.push_back({std::string(inv), a->part, a->read});
    }
  }
}

void chunk_matches::fill() {
  matches_.clear();
  at_ = 0;
  while (matches_.empty() && it_->Valid()) {
    if ((chunks_++ & 15) == 0 && std::chrono::steady_clock::now() > deadline_) {
      timed_out_ = true;
      return;
    }
    const std::string chunk_inv(view(it_->key()).substr(prefix_len_, 6));
    for (; it_->Valid() && view(it_->key()).substr(prefix_len_, 6) == chunk_inv; it_->Next()) {
      const std::string_view value = view(it_->value());
      if (whole_ && !whole_(value)) continue;
      const auto k = view(it_->key());
      match_part(value, static_cast<std::uint32_t>(codec::read_be(k.substr(prefix_len_ + 6), 2)));
    }
    std::sort(matches_.begin(), matches_.end(),
              [](const match& a, const match& b) { return a.inv < b.inv; });
  }
  if (matches_.empty() && !it_->status().ok()) status_ = it_->status();
}

std::unique_ptr<chunk_matches> index_entries(rocksdb::DB* db,
                                             rocksdb::ColumnFamilyHandle* index_chunks,
                                             const rocksdb::ReadOptions& ro,
                                             const std::string& account, std::int64_t lo,
                                             std::int64_t hi,
                                             std::chrono::steady_clock::time_point deadline) {
  return std::make_unique<chunk_matches>(
      db, index_chunks, ro, account, lo, hi, nullptr,
      [](std::string_view entry, std::uint32_t) -> std::optional<chunk_matches::accepted> {
        codec::covering c;
        if (!codec::decode_covering(entry, c)) return std::nullopt;
        return chunk_matches::accepted{c.body_part, false};
      },
      deadline);
}

}  // namespace sidecar::store
