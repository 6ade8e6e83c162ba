// Deleting trace records on request (docs/store.md, "Purge"): the seam the API's DELETE goes
// through, implemented by the RocksDB trace_store and by the fleet reader (docs/fleet.md,
// tombstones). A reader hands out its purger (trace_reader::purger()).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "store/trace_query.hpp"

namespace sidecar::store {

struct purge_result {
  query_status status = query_status::ok;
  std::uint64_t deleted = 0;
  /// Why, when status is failed and the purger can say it in words a user may read (the
  /// fleet reader: "cannot connect to ClickHouse"); empty otherwise.
  std::string failure = {};
};

class trace_purger {
 public:
  virtual ~trace_purger() = default;
  /// Deletes the record with this sid: gone from every answer when this returns. deleted is 0
  /// when there is no such record (missing or expired).
  [[nodiscard]] virtual purge_result purge(std::string_view sid) = 0;
  /// Deletes every record the list `q` holds, all pages (page, page_size and after_sid are
  /// ignored); records written meanwhile that the list did not hold when it was read stay.
  [[nodiscard]] virtual purge_result purge(const list_query& q) = 0;
};

}  // namespace sidecar::store
