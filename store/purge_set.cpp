// The purged sids, and stripping them from chunk values.
#include "store/purge_set.hpp"

#include <algorithm>
#include <cstring>
#include <limits>
#include <mutex>

namespace sidecar::store {

std::size_t purge_set::hash::operator()(const store::sid_bytes& s) const noexcept {
  // The last 10 bytes of a sid are random.
  std::uint64_t h = 0;
  std::memcpy(&h, s.data() + 8, sizeof h);
  return static_cast<std::size_t>(h);
}

void purge_set::add(const store::sid_bytes& sid) {
  const std::unique_lock lock(mu_);
  oldest_ms_ = sids_.empty() ? store::sid_ms(sid) : std::min(oldest_ms_, store::sid_ms(sid));
  sids_.insert(sid);
  count_.store(sids_.size(), std::memory_order_release);
}

void purge_set::add(const std::vector<store::sid_bytes>& sids) {
  if (sids.empty()) return;
  const std::unique_lock lock(mu_);
  if (sids_.empty()) oldest_ms_ = store::sid_ms(sids.front());
  for (const auto& sid : sids) {
    sids_.insert(sid);
    oldest_ms_ = std::min(oldest_ms_, store::sid_ms(sid));
  }
  count_.store(sids_.size(), std::memory_order_release);
}

bool purge_set::contains_inv(std::string_view inv) const {
  if (inv.size() != 16 || count_.load(std::memory_order_acquire) == 0) return false;
  const store::sid_bytes sid = codec::uninvert(inv);
  const std::shared_lock lock(mu_);
  return !sids_.empty() && sids_.contains(sid);
}

std::size_t purge_set::size() const {
  const std::shared_lock lock(mu_);
  return sids_.size();
}

std::vector<store::sid_bytes> purge_set::expire(std::int64_t cutoff_ms) {
  std::vector<store::sid_bytes> gone;
  {
    // The walk holds the lock that every chunk scan takes: skip it when nothing is old enough
    // (a purge of a million records leaves a million sids here until they expire).
    const std::shared_lock lock(mu_);
    if (sids_.empty() || oldest_ms_ >= cutoff_ms) return gone;
  }
  const std::unique_lock lock(mu_);
  std::int64_t oldest = std::numeric_limits<std::int64_t>::max();
  for (auto it = sids_.begin(); it != sids_.end();) {
    const std::int64_t ms = store::sid_ms(*it);
    if (ms < cutoff_ms) {
      gone.push_back(*it);
      it = sids_.erase(it);
    } else {
      oldest = std::min(oldest, ms);
      ++it;
    }
  }
  oldest_ms_ = oldest;
  count_.store(sids_.size(), std::memory_order_release);
  return gone;
}

void purge_set::mark(std::string_view account, const store::sid_bytes& through) {
  const std::unique_lock lock(mu_);
  auto [it, added] = markers_.try_emplace(std::string(account), through);
  if (!added && it->second < through) it->second = through;
  marker_count_.store(markers_.size(), std::memory_order_release);
}

std::optional<store::sid_bytes> purge_set::marker(std::string_view account) const {
  if (marker_count_.load(std::memory_order_acquire) == 0) return std::nullopt;
  const std::shared_lock lock(mu_);
  const auto it = markers_.find(account);
  if (it == markers_.end()) return std::nullopt;
  return it->second;
}

std::int64_t purge_set::visible_from(std::string_view account, std::int64_t lo) const {
  const auto m = marker(account);
  return m ? std::max(lo, store::sid_ms(*m)) : lo;
}

bool purge_set::some_marker_covers(const store::sid_bytes& sid) const {
  if (marker_count_.load(std::memory_order_acquire) == 0) return false;
  const std::shared_lock lock(mu_);
  return std::any_of(markers_.begin(), markers_.end(),
                     [&](const auto& m) { return sid <= m.second; });
}

bool purge_set::hidden(std::string_view account, const store::sid_bytes& sid) const {
  const bool by_sid = count_.load(std::memory_order_acquire) != 0;
  const bool by_marker = marker_count_.load(std::memory_order_acquire) != 0;
  if (!by_sid && !by_marker) return false;
  const std::shared_lock lock(mu_);
  if (by_marker) {
    const auto it = markers_.find(account);
    if (it != markers_.end() && sid <= it->second) return true;
  }
  return by_sid && sids_.contains(sid);
}

bool purge_set::hidden(std::string_view account, std::string_view inv) const {
  if (inv.size() != 16) return false;
  if (count_.load(std::memory_order_acquire) == 0 &&
      marker_count_.load(std::memory_order_acquire) == 0) {
    return false;
  }
  return hidden(account, codec::uninvert(inv));
}

std::vector<std::string> purge_set::expire_markers(std::int64_t cutoff_ms) {
  std::vector<std::string> gone;
  if (marker_count_.load(std::memory_order_acquire) == 0) return gone;
  const std::unique_lock lock(mu_);
  for (auto it = markers_.begin(); it != markers_.end();) {
    if (store::sid_ms(it->second) < cutoff_ms) {
      gone.push_back(it->first);
      it = markers_.erase(it);
    } else {
      ++it;
    }
  }
  marker_count_.store(markers_.size(), std::memory_order_release);
  return gone;
}

bool purge_set::strip_chunk(std::string_view account, std::string_view chunk,
                            std::string& out) const {
  if (count_.load(std::memory_order_acquire) == 0 &&
      marker_count_.load(std::memory_order_acquire) == 0) {
    return false;
  }
  std::size_t pos = 0;
  std::string_view inv, body;
  bool any = false;
  while (codec::next_chunk_entry(chunk, pos, inv, body)) {
    if (hidden(account, inv)) {
      any = true;
      break;
    }
  }
  if (!any) return false;
  std::string kept;
  kept.reserve(chunk.size());
  pos = 0;
  while (codec::next_chunk_entry(chunk, pos, inv, body)) {
    if (!hidden(account, inv)) codec::append_chunk_entry(kept, inv, body);
  }
  out = std::move(kept);
  return true;
}

std::string purge_set::meta_key(const store::sid_bytes& sid) {
  std::string k(meta_prefix);
  k.append(reinterpret_cast<const char*>(sid.data()), sid.size());
  return k;
}

std::string purge_set::marker_key(std::string_view account) {
  std::string k(marker_prefix);
  k.append(account);
  return k;
}

}  // namespace sidecar::store
