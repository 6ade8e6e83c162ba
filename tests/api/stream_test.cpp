// The live stream over the real RocksDB trace_store and the real API server on 127.0.0.1:0,
// read by an SSE client over a real socket: new records in sid order as id/event/data, the
// list's filters and visibility, resume from the store then live with nothing missed or
// doubled, the resume bound, heartbeats, the limits, a reader that never reads, a record
// committed late, one write per tick at a steady rate, and reauthorise() ending a revoked
// caller's stream.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "api/server.hpp"
#include "store/trace_record.hpp"
#include "store/trace_store.hpp"
#include "tests/api/test_support.hpp"

namespace sidecar::api {
namespace {

namespace fs = std::filesystem;
using testing::accounts;
using clock = std::chrono::steady_clock;

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

struct sse_event {
  std::optional<std::string> id;
  std::string event = "message";
  std::string data;
};

/// A Server-Sent Events reader over one real connection: the HTTP head, de-chunking, and the
/// event format (id, event, data lines; comment lines counted).
class sse_client {
 public:
  sse_client(std::uint16_t port, const std::string& target, const std::string& sid,
             const std::string& extra_headers = "", bool read = true) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (!read) {  // a reader that never reads: a small receive buffer fills at once
      const int small = 4096;
      ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    }
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(port);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) std::abort();
    const std::string req = "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: " +
                            testing::basic(sid, testing::token_of(sid)) + "\r\n" + extra_headers +
                            "Accept: text/event-stream\r\n\r\n";
    if (::send(fd_, req.data(), req.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(req.size())) {
      std::abort();
    }
  }
  ~sse_client() { ::close(fd_); }
  sse_client(const sse_client&) = delete;
  sse_client& operator=(const sse_client&) = delete;

  /// The status code once the head arrived (0 at the deadline).
  unsigned status(clock::duration limit = std::chrono::seconds(10)) {
    const auto deadline = clock::now() + limit;
    while (!head_done_ && fill(deadline)) {
    }
    return status_;
  }
  const std::string& head() const { return head_; }
  /// A non-stream answer's body (read to the end of its Content-Length).
  std::string body() {
    status();
    const auto at = head_.find("content-length: ");
    const std::size_t n = at == std::string::npos ? 0 : std::stoul(head_.substr(at + 16));
    const auto deadline = clock::now() + std::chrono::seconds(10);
    while (raw_.size() < n && fill(deadline)) {
    }
    return raw_.substr(0, n);
  }

  /// The next event, or nullopt at the deadline or when the stream ended.
  std::optional<sse_event> next(clock::duration limit = std::chrono::seconds(10)) {
    const auto deadline = clock::now() + limit;
    for (;;) {
      if (auto e = parse_event()) return e;
      if (!fill(deadline)) return std::nullopt;
    }
  }
  /// Whether the server ended the stream (the connection closed) before the deadline.
  bool ends(clock::duration limit = std::chrono::seconds(10)) {
    const auto deadline = clock::now() + limit;
    while (fill(deadline)) {
    }
    return closed_;
  }
  [[nodiscard]] int comments() const { return comments_; }
  /// Chunks received so far: one per write of the server.
  [[nodiscard]] int chunks() const { return chunks_; }

 private:
  /// Reads more; false at the deadline or once closed.
  bool fill(clock::time_point deadline) {
    if (closed_) return false;
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(std::min<long>(left.count(), 50))) <= 0) return true;
    char buf[16384];
    const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n <= 0) {
      closed_ = true;
      return false;
    }
    raw_.append(buf, static_cast<std::size_t>(n));
    if (!head_done_) {
      const auto end = raw_.find("\r\n\r\n");
      if (end == std::string::npos) return true;
      head_ = raw_.substr(0, end + 4);
      for (auto& c : head_) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      raw_.erase(0, end + 4);
      head_done_ = true;
      status_ = static_cast<unsigned>(std::stoul(head_.substr(9, 3)));
      chunked_ = head_.find("transfer-encoding: chunked") != std::string::npos;
    }
    if (status_ == 200 && head_.find("text/event-stream") != std::string::npos) dechunk();
    return true;
  }
  void dechunk() {
    if (!chunked_) {
      text_ += raw_;
      raw_.clear();
      return;
    }
    for (;;) {
      const auto eol = raw_.find("\r\n");
      if (eol == std::string::npos) return;
      const std::size_t size = std::stoul(raw_.substr(0, eol), nullptr, 16);
      if (raw_.size() < eol + 2 + size + 2) return;
      text_.append(raw_, eol + 2, size);
      raw_.erase(0, eol + 2 + size + 2);
      ++chunks_;
    }
  }
  std::optional<sse_event> parse_event() {
    for (;;) {
      const auto end = text_.find("\n\n", at_);
      if (end == std::string::npos) {
        text_.erase(0, at_);  // once per read, not per event
        at_ = 0;
        return std::nullopt;
      }
      const std::string block = text_.substr(at_, end - at_);
      at_ = end + 2;
      sse_event e;
      bool any = false;
      std::size_t pos = 0;
      while (pos <= block.size()) {
        auto nl = block.find('\n', pos);
        if (nl == std::string::npos) nl = block.size();
        const std::string line = block.substr(pos, nl - pos);
        pos = nl + 1;
        if (line.empty()) continue;
        if (line[0] == ':') {
          ++comments_;
          continue;
        }
        const auto colon = line.find(": ");
        const std::string field = line.substr(0, colon);
        const std::string value = colon == std::string::npos ? "" : line.substr(colon + 2);
        if (field == "id") e.id = value;
        if (field == "event") e.event = value;
        if (field == "data") e.data += value;
        any = true;
      }
      if (any) return e;
    }
  }

  int fd_ = -1;
  std::string raw_, text_, head_;
  std::size_t at_ = 0;  // where the next event starts in text_
  bool head_done_ = false, chunked_ = false, closed_ = false;
  unsigned status_ = 0;
  int comments_ = 0;
  int chunks_ = 0;
};

class stream_test : public ::testing::Test {
 protected:
  void start(stream_options opts = fast(), unsigned max_streams = 64,
             const std::function<void(conf::config&)>& edit = {}) {
    std::string tmpl = (fs::temp_directory_path() / "api_stream_test.XXXXXX").string();
    dir_ = ::mkdtemp(tmpl.data());
    auto cfg = testing::make_config();
    cfg->store.path = dir_ / "data";
    cfg->api.max_streams = max_streams;
    if (edit) edit(*cfg);
    cfg_ = cfg;
    store::trace_store::options o;
    o.maintenance_interval = std::chrono::hours(1);
    o.linger = std::chrono::milliseconds(1);
    store_ = std::make_unique<store::trace_store>(cfg_, registry_, o);
    server_ = std::make_unique<server>(cfg_, *store_, registry_,
                                       [s = store_.get()] { return s->health(); });
    server_->enable_streams(store_->feed(), opts);
    port_ = server_->start().port();
  }
  static stream_options fast() {
    stream_options o;
    o.heartbeat = std::chrono::milliseconds(300);
    return o;
  }
  void TearDown() override {
    if (server_) server_->stop();
    server_.reset();
    store_.reset();
    std::error_code ec;
    if (!dir_.empty()) fs::remove_all(dir_, ec);
  }

  store::trace_record make(const std::string& account, std::int64_t created_ms,
                           std::string body = "<Response/>") {
    store::trace_record r = testing::sample_record(account, created_ms, rng_);
    r.response.body.body = std::move(body);
    r.response.body.size = r.response.body.body.size();
    return r;
  }
  /// `n` records of `account` from five seconds ago, written before this returns; their sids
  /// in sid order.
  std::vector<std::string> fill_past(const std::string& account, int n) {
    std::vector<std::string> sids;
    for (int i = 0; i < n; ++i) {
      auto r = make(account, now_ms() - 5000 + i);
      sids.push_back(r.sid);
      EXPECT_TRUE(store_->submit(std::move(r)));
    }
    store_->flush();
    std::sort(sids.begin(), sids.end());
    return sids;
  }
  /// Submits a record now; its sid.
  std::string add(const std::string& account, std::string body = "<Response/>",
                  bool completed = true) {
    auto r = make(account, now_ms(), std::move(body));
    r.completed = completed;
    if (!completed) r.response.code = "500";
    std::string sid = r.sid;
    EXPECT_TRUE(store_->submit(std::move(r)));
    return sid;
  }
  std::string stream_path(const std::string& account, const std::string& query = "") {
    return "/2012-04-24/Accounts/" + account + "/Traces/Stream" +
           (query.empty() ? "" : "?" + query);
  }

  fs::path dir_;
  std::shared_ptr<conf::config> cfg_;
  metrics::registry registry_;
  std::unique_ptr<store::trace_store> store_;
  std::unique_ptr<server> server_;
  std::uint16_t port_ = 0;
  std::mt19937_64 rng_{11};
};

TEST_F(stream_test, NewMatchingRecordsArriveInSidOrderAsIdEventAndOneLineOfJson) {
  start();
  sse_client c(port_, stream_path(accounts::parent, "Status=completed"), accounts::parent);
  ASSERT_EQ(c.status(), 200u);
  EXPECT_NE(c.head().find("content-type: text/event-stream"), std::string::npos);
  EXPECT_NE(c.head().find("cache-control: no-cache"), std::string::npos);
  // Wait until the stream is subscribed (its opening comment has arrived).
  const auto deadline = clock::now() + std::chrono::seconds(10);
  while (c.comments() == 0 && clock::now() < deadline) c.next(std::chrono::milliseconds(20));

  std::vector<std::string> expected;
  expected.push_back(add(accounts::parent, "line one\nline \"two\""));
  add(accounts::parent, "failed", false);    // filtered out: Status=completed
  add(accounts::other, "not visible");       // another tenant
  expected.push_back(add(accounts::child));  // a sub-account's: visible under the parent
  expected.push_back(add(accounts::grandchild));
  std::sort(expected.begin(), expected.end());

  std::vector<std::string> got;
  while (got.size() < expected.size()) {
    auto e = c.next();
    ASSERT_TRUE(e) << "only " << got.size() << " events";
    ASSERT_EQ(e->event, "trace");
    ASSERT_TRUE(e->id);
    const auto json = boost::json::parse(e->data);
    EXPECT_EQ(json.at("sid").as_string(), *e->id);
    EXPECT_EQ(e->data, store_->get(*e->id)->json) << "the record as a query returns it";
    got.push_back(*e->id);
  }
  EXPECT_EQ(got, expected);
  // Nothing else: the failed and the other tenant's records never come.
  auto more = c.next(std::chrono::milliseconds(500));
  EXPECT_FALSE(more && more->event == "trace");
}

TEST_F(stream_test, AtASteadyRateAReaderWritesOncePerTickNotOncePerCommit) {
  stream_options o = fast();
  o.tick = std::chrono::milliseconds(250);
  start(o);
  sse_client c(port_, stream_path(accounts::parent), accounts::parent);
  ASSERT_EQ(c.status(), 200u);
  const auto deadline = clock::now() + std::chrono::seconds(10);
  while (c.comments() == 0 && clock::now() < deadline) c.next(std::chrono::milliseconds(20));
  const int before = c.chunks();

  // 60 records over 1.2 s, each committed on its own (the store's linger is shorter than the
  // gap): a stream woken by each commit would write about 60 times.
  std::vector<std::string> expected;
  const auto started = clock::now();
  for (int i = 0; i < 60; ++i) {
    expected.push_back(add(accounts::parent));
    std::this_thread::sleep_until(started + std::chrono::milliseconds(20 * (i + 1)));
  }
  std::sort(expected.begin(), expected.end());
  std::vector<std::string> got;
  while (got.size() < expected.size()) {
    auto e = c.next();
    ASSERT_TRUE(e) << "only " << got.size() << " events";
    got.push_back(e->id.value_or(""));
  }
  EXPECT_EQ(got, expected);
  // 1.2 s of records and the hold after the last: 6 ticks, give or take the edges.
  EXPECT_LE(c.chunks() - before, 10) << "one write per tick, however many commits";
  EXPECT_GE(c.chunks() - before, 5) << "records go out as their ticks come, not all at the end";
}

TEST_F(stream_test, ResumeAfterLastEventIdSendsTheStoredThenLiveWithNothingMissedOrDoubled) {
  start();
  std::vector<std::string> all = fill_past(accounts::parent, 30);
  const std::string last_seen = all[9];

  for (const std::string how : {"header", "AfterSid"}) {
    SCOPED_TRACE(how);
    auto c =
        how == std::string("header")
            ? std::make_unique<sse_client>(port_, stream_path(accounts::parent), accounts::parent,
                                           "Last-Event-ID: " + last_seen + "\r\n")
            : std::make_unique<sse_client>(
                  port_, stream_path(accounts::parent, "AfterSid=" + last_seen), accounts::parent);
    ASSERT_EQ(c->status(), 200u);
    std::vector<std::string> got;
    while (got.size() < all.size() - 10) {
      auto e = c->next();
      ASSERT_TRUE(e) << got.size();
      ASSERT_EQ(e->event, "trace");
      got.push_back(*e->id);
    }
    EXPECT_EQ(got, std::vector<std::string>(all.begin() + 10, all.end()));
    // Then live.
    const std::string live = add(accounts::parent);
    auto e = c->next();
    ASSERT_TRUE(e);
    EXPECT_EQ(e->id, live);
    all.push_back(live);
  }
}

TEST_F(stream_test, AResumeAfterAWholeListPurgeSendsNoneOfItsRecordsAndLiveOnesStillCome) {
  start();
  std::vector<std::string> all = fill_past(accounts::parent, 30);
  store::list_query q;
  q.accounts = {accounts::parent};
  ASSERT_EQ(store_->purge(q).deleted, 30u);  // a purge marker: the removal runs behind it

  sse_client c(port_, stream_path(accounts::parent), accounts::parent,
               "Last-Event-ID: " + all.front() + "\r\n");
  ASSERT_EQ(c.status(), 200u);
  const std::string live = add(accounts::parent);
  auto e = c.next();
  ASSERT_TRUE(e);
  EXPECT_EQ(e->event, "trace");
  EXPECT_EQ(e->id, live) << "a purged record was resumed";
}

TEST_F(stream_test, RecordsCommittedDuringTheSwitchToLiveComeOnceEach) {
  start();
  // A writer that never stops while readers connect, resume and go live.
  std::atomic<bool> stop{false};
  std::vector<std::string> written;
  std::mutex mu;
  std::thread writer([&] {
    while (!stop.load()) {
      const std::string sid = add(accounts::parent);
      {
        const std::lock_guard lock(mu);
        written.push_back(sid);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  });
  // Let some records be stored, then resume from the first of them.
  auto deadline = clock::now() + std::chrono::seconds(10);
  std::string first;
  while (clock::now() < deadline) {
    {
      const std::lock_guard lock(mu);
      if (written.size() >= 50) {
        first = written.front();
        break;
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ASSERT_FALSE(first.empty());
  sse_client c(port_, stream_path(accounts::parent), accounts::parent,
               "Last-Event-ID: " + first + "\r\n");
  ASSERT_EQ(c.status(), 200u);
  std::vector<std::string> got;
  while (got.size() < 300) {
    auto e = c.next();
    ASSERT_TRUE(e);
    if (e->event == "trace") got.push_back(*e->id);
  }
  stop.store(true);
  writer.join();
  std::vector<std::string> expected;
  {
    const std::lock_guard lock(mu);
    expected = written;
  }
  std::sort(expected.begin(), expected.end());
  ASSERT_GT(expected.size(), 301u);
  EXPECT_TRUE(std::is_sorted(got.begin(), got.end()));
  EXPECT_EQ(std::set<std::string>(got.begin(), got.end()).size(), got.size()) << "doubled";
  EXPECT_EQ(got, std::vector<std::string>(expected.begin() + 1, expected.begin() + 301))
      << "missed";
}

TEST_F(stream_test, ResumeIsBoundedAndSaysTruncated) {
  stream_options o = fast();
  o.max_resume = 5;
  start(o);
  std::vector<std::string> all;
  for (int i = 0; i < 12; ++i) {
    auto r = make(accounts::parent, now_ms() - 5000 + i);
    all.push_back(r.sid);
    ASSERT_TRUE(store_->submit(std::move(r)));
  }
  store_->flush();
  std::sort(all.begin(), all.end());
  sse_client c(port_, stream_path(accounts::parent), accounts::parent,
               "Last-Event-ID: " + all[0] + "\r\n");
  for (int i = 1; i <= 5; ++i) {
    auto e = c.next();
    ASSERT_TRUE(e);
    EXPECT_EQ(e->id, all[static_cast<std::size_t>(i)]);
  }
  auto e = c.next();
  ASSERT_TRUE(e);
  EXPECT_EQ(e->event, "truncated");
  EXPECT_FALSE(e->id);
  const auto json = boost::json::parse(e->data);
  EXPECT_EQ(json.at("skipped").as_int64(), 6);
  EXPECT_EQ(json.at("last_sid").as_string(), all[5]);
}

TEST_F(stream_test, BadRequestsAreClearJsonErrors) {
  start();
  {
    sse_client c(port_, stream_path(accounts::parent), accounts::parent, "Last-Event-ID: 42\r\n");
    ASSERT_EQ(c.status(), 400u);
    const auto json = boost::json::parse(c.body());
    EXPECT_EQ(json.at("status").as_int64(), 400);
    EXPECT_NE(std::string(json.at("message").as_string()).find("Last-Event-ID"), std::string::npos);
  }
  {
    sse_client c(port_, stream_path(accounts::parent, "Status=maybe"), accounts::parent);
    EXPECT_EQ(c.status(), 400u);
  }
  {
    sse_client c(port_, stream_path(accounts::other), accounts::parent);
    EXPECT_EQ(c.status(), 403u);
  }
  {
    sse_client c(port_, stream_path(accounts::off), accounts::off);
    EXPECT_EQ(c.status(), 403u);
  }
  {
    sse_client c(port_, stream_path(accounts::parent), accounts::child);
    EXPECT_EQ(c.status(), 403u) << "a sub-account may not read its parent's traces";
  }
  testing::http_client h(port_);
  EXPECT_EQ(h.request("GET", stream_path(accounts::parent)).status, 401u);
  const auto post = h.request(
      "POST", stream_path(accounts::parent),
      {{"Authorization", testing::basic(accounts::parent, testing::token_of(accounts::parent))}});
  EXPECT_EQ(post.status, 405u);
  EXPECT_EQ(post.header("allow"), "GET, HEAD");
}

TEST_F(stream_test, AtMostMaxStreamsAndEightPerAccount) {
  start(fast(), 10);
  std::vector<std::unique_ptr<sse_client>> open;
  for (int i = 0; i < 8; ++i) {
    open.push_back(
        std::make_unique<sse_client>(port_, stream_path(accounts::parent), accounts::parent));
    ASSERT_EQ(open.back()->status(), 200u);
  }
  sse_client ninth(port_, stream_path(accounts::parent), accounts::parent);
  ASSERT_EQ(ninth.status(), 503u);
  EXPECT_NE(ninth.body().find("\"status\":503"), std::string::npos);
  for (int i = 0; i < 2; ++i) {
    open.push_back(
        std::make_unique<sse_client>(port_, stream_path(accounts::other), accounts::other));
    ASSERT_EQ(open.back()->status(), 200u);
  }
  sse_client eleventh(port_, stream_path(accounts::admin), accounts::admin);
  EXPECT_EQ(eleventh.status(), 503u) << "max_streams = 10";
  // A reader that leaves gives its slot back at once.
  open.front().reset();
  const auto deadline = clock::now() + std::chrono::seconds(10);
  unsigned status = 0;
  while (clock::now() < deadline) {
    sse_client again(port_, stream_path(accounts::admin), accounts::admin);
    status = again.status();
    if (status == 200) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(status, 200u);
}

TEST_F(stream_test, SixtyFourReadersEachGetTheirRecordsAndTheSixtyFifthIsRefused) {
  stream_options o = fast();
  // Eight accounts of eight streams each: max_streams (64) is what refuses the 65th.
  std::vector<std::string> leaves;
  start(o, 64, [&](conf::config& cfg) {
    for (int i = 0; i < 9; ++i) {
      char sid[40];
      std::snprintf(sid, sizeof sid, "AC%032x", 0x500 + i);
      conf::account a;
      a.sid = sid;
      a.auth_token = testing::token_of(sid);
      a.traces = true;
      cfg.accounts.push_back(a);
      leaves.push_back(sid);
    }
  });
  std::vector<std::unique_ptr<sse_client>> readers;
  for (int i = 0; i < 64; ++i) {
    const std::string& a = leaves[static_cast<std::size_t>(i / 8)];
    readers.push_back(std::make_unique<sse_client>(port_, stream_path(a), a));
    ASSERT_EQ(readers.back()->status(), 200u) << i;
  }
  sse_client refused(port_, stream_path(leaves[8]), leaves[8]);
  EXPECT_EQ(refused.status(), 503u);
  for (auto& r : readers) {  // subscribed once the opening comment is there
    const auto deadline = clock::now() + std::chrono::seconds(10);
    while (r->comments() == 0 && clock::now() < deadline) r->next(std::chrono::milliseconds(10));
  }
  std::vector<std::string> sids;
  for (int i = 0; i < 8; ++i) sids.push_back(add(leaves[static_cast<std::size_t>(i)]));
  for (int i = 0; i < 64; ++i) {
    auto e = readers[static_cast<std::size_t>(i)]->next();
    ASSERT_TRUE(e) << i;
    EXPECT_EQ(e->id, sids[static_cast<std::size_t>(i / 8)]) << "each reader its own account's";
  }
}

TEST_F(stream_test, ACommentLineKeepsAQuietStreamOpen) {
  start();
  sse_client c(port_, stream_path(accounts::parent), accounts::parent);
  ASSERT_EQ(c.status(), 200u);
  EXPECT_FALSE(c.next(std::chrono::milliseconds(1000)));
  EXPECT_GE(c.comments(), 3) << "an opening comment, then one per 300 ms of silence";
}

TEST_F(stream_test, AReaderThatNeverReadsIsCutWhileAnotherGetsEverything) {
  stream_options o = fast();
  o.queue_bytes = 4u << 20;
  o.write_timeout = std::chrono::seconds(2);
  start(o);
  sse_client stuck(port_, stream_path(accounts::parent), accounts::parent, "", false);
  ASSERT_EQ(stuck.status(), 200u);
  sse_client reader(port_, stream_path(accounts::parent), accounts::parent);
  ASSERT_EQ(reader.status(), 200u);
  const auto deadline = clock::now() + std::chrono::seconds(10);
  while (reader.comments() == 0 && clock::now() < deadline) {
    reader.next(std::chrono::milliseconds(20));
  }
  // 12 MB of records at 10 MB/s: more than the stuck reader's socket holds, and a pace the
  // other reader keeps up with.
  constexpr int count = 600;
  std::thread writer([&] {
    for (int i = 0; i < count; ++i) {
      add(accounts::parent, std::string(20000, 'x'));
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  });
  int got = 0;
  std::string last_event;
  while (got < count) {
    auto e = reader.next();
    ASSERT_TRUE(e) << got << " events, the last " << last_event;
    last_event = e->event;
    if (e->event == "trace") ++got;
  }
  writer.join();
  store_->flush();
  EXPECT_EQ(store_->get_stats().written, static_cast<std::uint64_t>(count))
      << "the writer was never held back";
  // The stuck reader's connection is closed by the server.
  std::string all;
  EXPECT_TRUE(stuck.ends(std::chrono::seconds(20)));
  EXPECT_NE(registry_.render().find("sidecar_api_streams_cut_total"), std::string::npos);
}

TEST_F(stream_test, ARecordCommittedLateIsStillSentWithoutMovingTheResumePoint) {
  start();
  sse_client c(port_, stream_path(accounts::parent), accounts::parent);
  ASSERT_EQ(c.status(), 200u);
  const std::string first = add(accounts::parent);
  auto e = c.next();
  ASSERT_TRUE(e);
  ASSERT_EQ(e->id, first);
  // A record whose exchange ended well before one already sent.
  auto late = make(accounts::parent, now_ms() - 3000);
  const std::string late_sid = late.sid;
  ASSERT_TRUE(store_->submit(std::move(late)));
  e = c.next();
  ASSERT_TRUE(e);
  EXPECT_EQ(e->event, "trace");
  EXPECT_FALSE(e->id) << "no id: Last-Event-ID stays the newest sid sent";
  EXPECT_EQ(boost::json::parse(e->data).at("sid").as_string(), late_sid);
}

TEST_F(stream_test, ReauthoriseEndsTheStreamsOfARevokedCaller) {
  start();
  sse_client revoked(port_, stream_path(accounts::child), accounts::parent);
  sse_client kept(port_, stream_path(accounts::other), accounts::other);
  ASSERT_EQ(revoked.status(), 200u);
  ASSERT_EQ(kept.status(), 200u);
  auto next = std::make_shared<conf::config>(*cfg_);
  for (auto& a : next->accounts) {
    if (a.sid == accounts::parent) a.auth_token = "a new token";
  }
  const auto deadline = clock::now() + std::chrono::seconds(5);
  while (server_->reauthorise(*next) == 0 && clock::now() < deadline) {
  }
  EXPECT_TRUE(revoked.ends(std::chrono::seconds(5)));
  EXPECT_FALSE(kept.ends(std::chrono::milliseconds(500)));
}

}  // namespace
}  // namespace sidecar::api
