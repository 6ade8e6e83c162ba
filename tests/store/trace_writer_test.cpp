// The store's writer on its own (store/trace_writer.hpp, docs/store.md "Writing"): what is
// submitted is written by flush(), each record once in the records family with its body in a
// chunk; the commit feed gets each batch with the JSON get() would answer; a record without a
// valid sid or account is dropped and counted, never written; a capture taken is traded for the
// buffers of one already written.
#include "store/trace_writer.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "store/record_read.hpp"
#include "store/store_codec.hpp"
#include "tests/store/record_fixtures.hpp"
#include "tests/store/writer_fixture.hpp"

namespace sidecar::store {
namespace {

using writer_test = testing::writer_fixture;
constexpr const char* acme = "ACae6e420f425248d6a26948c17a9e2acf";

std::size_t keys_in(const database& db, cf family) {
  std::unique_ptr<rocksdb::Iterator> it(db.db->NewIterator({}, db[family]));
  std::size_t n = 0;
  for (it->SeekToFirst(); it->Valid(); it->Next()) ++n;
  return n;
}

/// The entries of every chunk of a chunk family.
std::size_t chunk_entries_in(database& db, cf family) {
  std::unique_ptr<rocksdb::Iterator> it(db.db->NewIterator({}, db[family]));
  std::size_t n = 0;
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    std::size_t pos = 0;
    std::string_view inv, entry;
    while (codec::next_chunk_entry(view(it->value()), pos, inv, entry)) ++n;
  }
  return n;
}

TEST_F(writer_test, WhatIsSubmittedIsWrittenByFlushEachRecordOnce) {
  std::vector<std::string> sids;
  for (int i = 0; i < 50; ++i) {
    auto r = record(acme, 1000 + i, "<Response>" + std::to_string(i) + "</Response>");
    sids.push_back(r.sid);
    ASSERT_TRUE(writer_->submit(std::move(r)));
  }
  writer_->flush();
  EXPECT_EQ(keys_in(db_, cf_records), 50u);
  EXPECT_EQ(keys_in(db_, cf_by_account), 0u) << "no per-record key by account (format 5)";
  EXPECT_EQ(chunk_entries_in(db_, cf_index_chunks), 50u) << "one index entry per record";
  for (const auto& sid : sids) {
    std::string v;
    EXPECT_TRUE(db_.db->Get({}, db_[cf_records], sid_slice(*parse_sid(sid)), &v).ok()) << sid;
  }
}

TEST_F(writer_test, TheFeedGetsEachBatchWithTheJsonAQueryAnswers) {
  std::vector<committed_batch> got;
  auto sub = writer_->feed().subscribe(64 << 20, [](commit_feed::state) {});
  auto r = record(acme, 500, "body with \"quotes\" and \n a line");
  const std::string sid = r.sid;
  const std::string expected = to_json(r);
  ASSERT_TRUE(writer_->submit(std::move(r)));
  writer_->flush();
  ASSERT_EQ(sub->take(got), commit_feed::state::open);
  ASSERT_EQ(got.size(), 1u);
  ASSERT_EQ(got[0]->size(), 1u);
  EXPECT_EQ((*got[0])[0].record.sid, sid);
  EXPECT_EQ((*got[0])[0].json, expected) << "assembled from the stored value, as get() does";
}

TEST_F(writer_test, ARecordWithoutAValidSidOrAccountIsDroppedNeverWritten) {
  auto bad_sid = record(acme, 100, "x");
  bad_sid.sid = "TRnot-a-sid";
  auto no_account = record("", 100, "x");
  EXPECT_TRUE(writer_->submit(std::move(bad_sid))) << "queued; refused by the encoder";
  EXPECT_TRUE(writer_->submit(std::move(no_account)));
  writer_->flush();
  EXPECT_EQ(keys_in(db_, cf_records), 0u);
  trace_store::stats st;
  writer_->add_stats(st);
  EXPECT_EQ(st.dropped_invalid, 2u);
  EXPECT_NE(metrics_.render().find("sidecar_records_dropped_total{reason=\"invalid\"} 2"),
            std::string::npos)
      << metrics_.render();
}

// Submits captures of `url` after a flush each until one comes back with buffers (at most ten).
capture submit_until_one_comes_back(trace_writer& writer, const std::string& url) {
  capture next;
  for (int i = 0; i < 10 && next.upstream_url.empty(); ++i) {
    writer.flush();
    next = testing::simple_capture(url);
    if (!writer.submit(std::move(next))) break;
  }
  return next;
}

TEST_F(writer_test, ACaptureTakenIsTradedForTheBuffersOfOneAlreadyWritten) {
  const std::string first_url = "http://app.example/first?AccountSid=" + std::string(acme);
  capture first = testing::simple_capture(first_url);
  first.config = cfg_;
  first.response_body.head.assign(20'000, 'x');  // past what a spare keeps
  ASSERT_TRUE(writer_->submit(std::move(first)));
  EXPECT_TRUE(first.upstream_url.empty()) << "no capture written yet: none given back";
  // Once the first is written the encoder gives it back, at the latest after the next batch.
  const capture next = submit_until_one_comes_back(
      *writer_, "http://app.example/next?AccountSid=" + std::string(acme));
  EXPECT_EQ(next.upstream_url, first_url) << "the first capture's buffers, contents left over";
  EXPECT_EQ(next.config, nullptr) << "a spare holds no configuration";
  EXPECT_EQ(next.response_body.head.capacity(), std::string().capacity())
      << "a buffer over 16 KiB is not kept";
}

}  // namespace
}  // namespace sidecar::store
