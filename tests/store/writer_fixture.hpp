// A trace store's database opened as the store opens it, with its writer, for the tests of the
// writer and of reading records back (trace_writer_test.cpp, record_read_test.cpp).
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <random>
#include <shared_mutex>
#include <string>

#include "store/store_open.hpp"
#include "store/trace_sid.hpp"
#include "store/trace_writer.hpp"

namespace sidecar::store::testing {

class writer_fixture : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("writer-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    cfg_ = std::make_shared<conf::config>();
    clock_->now_ms = [] { return 1'764'000'000'000; };
    clock_->retention_ms = 2 * 86'400'000;
    opts_.now_ms = clock_->now_ms;
    open();
  }
  void TearDown() override {
    writer_.reset();
    db_.reset();
    std::filesystem::remove_all(dir_);
  }
  void open() {
    const auto path = prepare_store_dir(dir_);
    const std::size_t memory = 16 << 20;
    auto cache = rocksdb::NewLRUCache(memory);
    auto families =
        family_descriptors({memory, cache, clock_, std::make_shared<purge_set>(), nullptr, 0});
    auto o = database_options(
        std::make_shared<rocks::listener>(metrics_.add_gauge("test_stall", "stall")), cache,
        memory / 2);
    o.create_if_missing = true;
    o.create_missing_column_families = true;
    rocksdb::DB* raw = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(o, path.string(), families, &db_.handles, &raw).ok());
    db_.db.reset(raw);
    writer_ = std::make_unique<trace_writer>(
        cfg_, opts_, metrics_, trace_writer::store_side{db_, db_mu_, [] { return false; }}, false,
        0);
  }
  /// A record of `account` made `ago_ms` before the clock's now, with a response body.
  trace_record record(const std::string& account, std::int64_t ago_ms, std::string body) {
    trace_record r;
    r.created_ms = clock_->now_ms() - ago_ms;
    r.sid = make_trace_sid(r.created_ms, rng_);
    r.account_sid = account;
    r.completed = true;
    r.request.method = "POST";
    r.request.path = "/voice";
    r.request.url = "http://app.example/voice";
    r.response.code = "200";
    r.response.phrase = "OK";
    r.response.body.body = std::move(body);
    r.response.body.size = r.response.body.body.size();
    return r;
  }

  std::filesystem::path dir_;
  std::shared_ptr<conf::config> cfg_;
  std::shared_ptr<rocks::expiry_clock> clock_ = std::make_shared<rocks::expiry_clock>();
  trace_store_options opts_;
  metrics::registry metrics_;
  database db_;
  std::shared_mutex db_mu_;
  std::unique_ptr<trace_writer> writer_;
  std::mt19937_64 rng_{21};
};

}  // namespace sidecar::store::testing
