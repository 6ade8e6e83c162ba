// The RocksDB callbacks of the trace store: see rocks_support.hpp.
#include "store/rocks_support.hpp"

#include <algorithm>
#include <cstdarg>
#include <cstdio>
#include <deque>

#include "store/store_codec.hpp"
#include "support/log.hpp"

namespace sidecar::store::rocks {

namespace {

class expiry_filter final : public rocksdb::CompactionFilter {
 public:
  expiry_filter(std::int64_t cutoff, key_kind kind, const purge_filtering& purging)
      : cutoff_(cutoff), kind_(kind), purging_(purging) {}

  Decision FilterV2(int, const rocksdb::Slice& key, ValueType type, const rocksdb::Slice& value,
                    std::string* new_value, std::string*) const override {
    if (expired(key)) return Decision::kRemove;
    if (purging_.scope == purge_scope::none || type == ValueType::kBlobIndex) {
      return Decision::kKeep;
    }
    const std::string_view k(key.data(), key.size());
    const std::string_view v(value.data(), value.size());
    if (purging_.scope == purge_scope::chunk_values) return strip(k, v, type, *new_value);
    if (type != ValueType::kValue || !covered(k, v)) return Decision::kKeep;
    if (purging_.removed != nullptr && purging_.scope == purge_scope::record_value) {
      purging_.removed->inc();
    }
    return Decision::kRemove;
  }
  // Large values live in blob files: decide from the key alone, without reading the blob,
  // unless a purge marker may cover the record (its account is in the value).
  Decision FilterBlobByKey(int, const rocksdb::Slice& key, std::string*,
                           std::string*) const override {
    if (expired(key)) return Decision::kRemove;
    if (purging_.scope == purge_scope::record_value && key.size() == 16) {
      store::sid_bytes sid{};
      std::copy(key.data(), key.data() + key.size(), sid.begin());
      if (purging_.purged->some_marker_covers(sid)) return Decision::kUndetermined;
    }
    return Decision::kKeep;
  }
  const char* Name() const override { return "sidecar.expiry"; }

 private:
  /// A purge leaves its records' entries in chunk values: they go here.
  Decision strip(std::string_view key, std::string_view value, ValueType type,
                 std::string& new_value) const {
    std::string_view id;
    std::int64_t chunk = 0;
    std::uint32_t part = 0;
    if ((type == ValueType::kValue || type == ValueType::kMergeOperand) &&
        codec::split_chunk_key(key, id, chunk, part) &&
        purging_.purged->strip_chunk(id, value, new_value)) {
      return new_value.empty() && type == ValueType::kMergeOperand ? Decision::kRemove
                                                                   : Decision::kChangeValue;
    }
    return Decision::kKeep;
  }

  /// Whether the record this key belongs to is purged (by a marker, or one by one).
  [[nodiscard]] bool covered(std::string_view key, std::string_view value) const {
    const purge_set& purged = *purging_.purged;
    std::string_view id, inv, account;
    std::uint32_t part = 0;
    switch (purging_.scope) {
      case purge_scope::key_account:
        return codec::split_id_key(key, id, inv) && purged.hidden(id, inv);
      case purge_scope::session_entry:
        return codec::split_id_key(key, id, inv) &&
               codec::decode_session_entry(value, account, part) && purged.hidden(account, inv);
      case purge_scope::record_value: {
        std::string_view rest;
        if (key.size() != 16 || !codec::split_record_value(value, account, part, rest)) {
          return false;
        }
        store::sid_bytes sid{};
        std::copy(key.begin(), key.end(), sid.begin());
        return purged.hidden(account, sid);
      }
      case purge_scope::none:
      case purge_scope::chunk_values:
        return false;
    }
    return false;
  }

  [[nodiscard]] bool expired(const rocksdb::Slice& k) const {
    const std::string_view key(k.data(), k.size());
    switch (kind_) {
      case key_kind::id_inverted_sid: {
        std::string_view id, inv;
        if (!codec::split_id_key(key, id, inv)) return false;  // not ours: keep
        return codec::inv_ms(inv) < cutoff_;
      }
      case key_kind::sid: {
        if (key.size() != 16) return false;
        store::sid_bytes b{};
        std::copy(key.begin(), key.end(), b.begin());
        return store::sid_ms(b) < cutoff_;
      }
      case key_kind::counter: {
        std::string_view id;
        std::int64_t bucket = 0, width = 0;
        if (!codec::split_counter_key(key, id, bucket, width)) return false;
        // Only a bucket wholly before the cutoff goes; reads count the edge bucket by scanning.
        return (bucket + 1) * width <= cutoff_;
      }
      case key_kind::chunk: {
        std::string_view id;
        std::int64_t chunk = 0;
        std::uint32_t part = 0;
        if (!codec::split_chunk_key(key, id, chunk, part)) return false;
        return (chunk + 1) * codec::chunk_ms <= cutoff_;
      }
      case key_kind::keep:
        return false;
    }
    return false;
  }

  std::int64_t cutoff_;
  key_kind kind_;
  const purge_filtering& purging_;  // the factory's, which outlives its filters
};

class expiry_filter_factory final : public rocksdb::CompactionFilterFactory {
 public:
  expiry_filter_factory(std::shared_ptr<const expiry_clock> clock, key_kind kind,
                        purge_filtering purging)
      : clock_(std::move(clock)), kind_(kind), purging_(std::move(purging)) {
    if (!purging_.purged) purging_.scope = purge_scope::none;
  }

  // Flushes filter too: a record that expired while in the memtable never reaches a file.
  bool ShouldFilterTableFileCreation(rocksdb::TableFileCreationReason reason) const override {
    return reason == rocksdb::TableFileCreationReason::kCompaction ||
           reason == rocksdb::TableFileCreationReason::kFlush;
  }
  std::unique_ptr<rocksdb::CompactionFilter> CreateCompactionFilter(
      const rocksdb::CompactionFilter::Context&) override {
    return std::make_unique<expiry_filter>(clock_->cutoff(), kind_, purging_);
  }
  const char* Name() const override { return "sidecar.expiry_factory"; }

 private:
  std::shared_ptr<const expiry_clock> clock_;
  key_kind kind_;
  purge_filtering purging_;
};

class hint_prefix final : public rocksdb::SliceTransform {
 public:
  explicit hint_prefix(key_kind kind) : kind_(kind) {}
  const char* Name() const override { return "sidecar.hint_prefix"; }
  rocksdb::Slice Transform(const rocksdb::Slice& key) const override {
    return {key.data(), prefix_length(key)};
  }
  bool InDomain(const rocksdb::Slice& key) const override { return prefix_length(key) > 0; }

 private:
  [[nodiscard]] std::size_t prefix_length(const rocksdb::Slice& key) const {
    const std::string_view k(key.data(), key.size());
    if (kind_ == key_kind::sid) return k.size() >= 4 ? 4 : 0;
    std::size_t pos = 0;
    std::uint64_t n = 0;
    if (!codec::read_varint(k, pos, n) || n > k.size() - pos) return 0;
    return pos + n;
  }
  key_kind kind_;
};

class append_merge final : public rocksdb::MergeOperator {
 public:
  bool FullMergeV2(const MergeOperationInput& in, MergeOperationOutput* out) const override {
    std::size_t n = in.existing_value ? in.existing_value->size() : 0;
    for (const auto& op : in.operand_list) n += op.size();
    out->new_value.clear();
    out->new_value.reserve(n);
    if (in.existing_value)
      out->new_value.append(in.existing_value->data(), in.existing_value->size());
    for (const auto& op : in.operand_list) out->new_value.append(op.data(), op.size());
    return true;
  }
  bool PartialMergeMulti(const rocksdb::Slice&, const std::deque<rocksdb::Slice>& operands,
                         std::string* new_value, rocksdb::Logger*) const override {
    new_value->clear();
    for (const auto& op : operands) new_value->append(op.data(), op.size());
    return true;
  }
  const char* Name() const override { return "sidecar.append"; }
};

class forward_logger final : public rocksdb::Logger {
 public:
  forward_logger() : rocksdb::Logger(rocksdb::InfoLogLevel::WARN_LEVEL) {}
  using rocksdb::Logger::Logv;
  void Logv(const rocksdb::InfoLogLevel level, const char* format, va_list ap) override {
    if (level < GetInfoLogLevel() || level == rocksdb::InfoLogLevel::HEADER_LEVEL) return;
    char buf[1024];
    std::vsnprintf(buf, sizeof buf, format, ap);
    if (level >= rocksdb::InfoLogLevel::ERROR_LEVEL) {
      log::error("rocksdb", {{"detail", buf}});
    } else {
      log::warn("rocksdb", {{"detail", buf}});
    }
  }
};

class count_merge final : public rocksdb::AssociativeMergeOperator {
 public:
  bool Merge(const rocksdb::Slice&, const rocksdb::Slice* existing, const rocksdb::Slice& value,
             std::string* new_value, rocksdb::Logger*) const override {
    const std::uint64_t a = existing ? decode_count({existing->data(), existing->size()}) : 0;
    *new_value = encode_count(a + decode_count({value.data(), value.size()}));
    return true;
  }
  const char* Name() const override { return "sidecar.count_add"; }
};

}  // namespace

std::shared_ptr<rocksdb::CompactionFilterFactory> make_expiry_filter_factory(
    std::shared_ptr<const expiry_clock> clock, key_kind kind, purge_filtering purging) {
  return std::make_shared<expiry_filter_factory>(std::move(clock), kind, std::move(purging));
}

std::shared_ptr<const rocksdb::SliceTransform> make_insert_hint_prefix(key_kind kind) {
  return std::make_shared<hint_prefix>(kind);
}

std::shared_ptr<rocksdb::Logger> make_logger() { return std::make_shared<forward_logger>(); }

std::shared_ptr<rocksdb::MergeOperator> make_append_merge_operator() {
  return std::make_shared<append_merge>();
}

std::shared_ptr<rocksdb::MergeOperator> make_count_merge_operator() {
  return std::make_shared<count_merge>();
}

std::string encode_count(std::uint64_t n) {
  std::string s(8, '\0');
  for (std::size_t i = 0; i < 8; ++i) s[i] = static_cast<char>(n >> (8 * i));
  return s;
}

std::uint64_t decode_count(std::string_view s) {
  std::uint64_t n = 0;
  for (std::size_t i = 0; i < 8 && i < s.size(); ++i) {
    n |= std::uint64_t{static_cast<std::uint8_t>(s[i])} << (8 * i);
  }
  return n;
}

void listener::OnStallConditionsChanged(const rocksdb::WriteStallInfo& info) {
  const int state = info.condition.cur == rocksdb::WriteStallCondition::kStopped   ? 2
                    : info.condition.cur == rocksdb::WriteStallCondition::kDelayed ? 1
                                                                                   : 0;
  std::lock_guard lock(mu_);
  auto it = std::find_if(states_.begin(), states_.end(),
                         [&](const auto& s) { return s.first == info.cf_name; });
  if (it == states_.end()) {
    states_.emplace_back(info.cf_name, state);
  } else {
    it->second = state;
  }
  int worst = 0;
  for (const auto& s : states_) worst = std::max(worst, s.second);
  stall_.set(worst);
}

}  // namespace sidecar::store::rocks
