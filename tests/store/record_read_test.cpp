// Reading one stored record from its two halves (store/record_read.hpp, docs/store.md "Column
// families and keys"): the records value and its body chunk give back the JSON that was
// written; a record removed since is `gone`; a value that does not decode is `failed`, which a
// query reports as a failure, never as a missing record.
#include "store/record_read.hpp"

#include <gtest/gtest.h>

#include <string>

#include "store/store_codec.hpp"
#include "tests/store/writer_fixture.hpp"

namespace sidecar::store {
namespace {

using record_read_test = testing::writer_fixture;
constexpr const char* acme = "ACae6e420f425248d6a26948c17a9e2acf";

class reader {
 public:
  explicit reader(const database& db) : db_(db), chunks_(db.db.get(), db[cf_chunks]) {}
  /// Reads `sid` of `account` as the list planner does: its body part from its value first.
  read_outcome read(const std::string& account, const std::string& sid, std::string& json) {
    const auto bytes = parse_sid(sid);
    std::string value;
    std::uint32_t part = 0;
    if (db_.db->Get({}, db_[cf_records], sid_slice(*bytes), &value).ok()) {
      std::string_view stored_account, spliced;
      EXPECT_TRUE(codec::split_record_value(value, stored_account, part, spliced));
    }
    return read_record(db_.db.get(), db_[cf_records], chunks_, {},
                       codec::id_sid_key(account, *bytes), part, json);
  }

 private:
  const database& db_;
  chunk_reader chunks_;
};

TEST_F(record_read_test, ARecordComesBackAsItsJsonWithItsBody) {
  auto with_body = record(acme, 2000, std::string(3000, 'x') + "\"quoted\"\n");
  auto without_body = record(acme, 1000, "");
  const std::string a = with_body.sid, b = without_body.sid;
  const std::string json_a = to_json(with_body), json_b = to_json(without_body);
  ASSERT_TRUE(writer_->submit(std::move(with_body)));
  ASSERT_TRUE(writer_->submit(std::move(without_body)));
  writer_->flush();
  reader r(db_);
  std::string json;
  ASSERT_EQ(r.read(acme, a, json), read_outcome::found);
  EXPECT_EQ(json, json_a);
  json.clear();
  ASSERT_EQ(r.read(acme, b, json), read_outcome::found);
  EXPECT_EQ(json, json_b);
}

TEST_F(record_read_test, ARecordRemovedSinceThePlanIsGone) {
  auto rec = record(acme, 1000, "body");
  const std::string sid = rec.sid;
  ASSERT_TRUE(writer_->submit(std::move(rec)));
  writer_->flush();
  ASSERT_TRUE(db_.db->Delete({}, db_[cf_records], sid_slice(*parse_sid(sid))).ok());
  reader r(db_);
  std::string json;
  EXPECT_EQ(r.read(acme, sid, json), read_outcome::gone);
}

TEST_F(record_read_test, AValueThatDoesNotDecodeIsAFailedReadNotAMissingRecord) {
  auto rec = record(acme, 1000, "body");
  const std::string sid = rec.sid;
  ASSERT_TRUE(writer_->submit(std::move(rec)));
  writer_->flush();
  ASSERT_TRUE(db_.db->Put({}, db_[cf_records], sid_slice(*parse_sid(sid)), "\xff\xff\xff").ok());
  chunk_reader chunks(db_.db.get(), db_[cf_chunks]);
  std::string json;
  EXPECT_EQ(read_record(db_.db.get(), db_[cf_records], chunks, {},
                        codec::id_sid_key(acme, *parse_sid(sid)), 0, json),
            read_outcome::failed);
}

}  // namespace
}  // namespace sidecar::store
