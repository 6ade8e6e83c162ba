// The live stream of the real trace-sidecar binary read by real clients while webhooks pass
// through its proxy: `curl -N` sees each exchange's record as an SSE event, and Node's
// EventSource (npm `eventsource`, installed in tests/tools) reads, closes, reconnects with
// Last-Event-ID and reads on, missing and doubling nothing.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <regex>
#include <set>
#include <thread>

#include "tests/common/temp_dir.hpp"
#include "tests/integration/harness.hpp"

namespace sidecar::testing_support {
namespace {

const std::regex listening_line(R"(msg=listening proxy=127\.0\.0\.1:(\d+) api=127\.0\.0\.1:(\d+))");
const std::string account = "ACae6e420f425248d6a26948c17a9e2acf";
const std::string token = "integration-test-token";

/// An app that answers every request with a small RCML document and closes.
class app {
 public:
  app()
      : thread_([this](std::stop_token stop) {
          while (!stop.stop_requested()) {
            const int fd = upstream_.accept(std::chrono::milliseconds(100));
            if (fd < 0) continue;
            std::string req;
            read_until(fd, req, "\r\n\r\n", std::chrono::seconds(5));
            send_all(fd,
                     "HTTP/1.1 200 OK\r\nContent-Type: application/xml\r\nContent-Length: 11\r\n"
                     "Connection: close\r\n\r\n<Response/>");
            ::close(fd);
          }
        }) {}
  [[nodiscard]] std::uint16_t port() const { return upstream_.port(); }

 private:
  listener upstream_;
  std::jthread thread_;
};

class stream_clients : public ::testing::Test {
 protected:
  /// Whether the API listens with TLS (a certificate for 127.0.0.1 made by openssl).
  [[nodiscard]] virtual bool tls() const { return false; }

  void SetUp() override {
    std::string api_tls;
    if (tls()) {
      const std::string cmd =
          "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
          "-subj /CN=localhost -addext subjectAltName=IP:127.0.0.1 -days 1 -keyout " +
          (dir_ / "key.pem").string() + " -out " + cert().string() + " 2>/dev/null";
      ASSERT_EQ(std::system(cmd.c_str()), 0);
      api_tls = "tls_cert = \"" + cert().string() + "\"\ntls_key = \"" +
                (dir_ / "key.pem").string() + "\"\n";
    }
    const auto config = dir_.write("sidecar.toml", R"(
[proxy]
listen = "127.0.0.1:0"

[api]
listen = "127.0.0.1:0"
)" + api_tls + R"(

[store]
path = ")" + (dir_ / "data").string() + R"("

[cache]
enabled = false

[[account]]
sid = ")" + account + R"("
auth_token = ")" + token + R"("
traces = true

[[route]]
prefix = "/"
upstream = "http://127.0.0.1:)" + std::to_string(app_.port()) +
                                                       R"(/"
account = ")" + account + R"("
)");
    sidecar_ = std::make_unique<process>(
        std::vector<std::string>{SIDECAR_BINARY, "--config", config.string()});
    const auto m = sidecar_->wait_for_err(listening_line);
    ASSERT_TRUE(m) << sidecar_->err();
    proxy_ = static_cast<std::uint16_t>(std::stoi(m->at(1)));
    api_ = static_cast<std::uint16_t>(std::stoi(m->at(2)));
  }
  void TearDown() override {
    if (!sidecar_) return;
    sidecar_->signal(SIGTERM);
    EXPECT_EQ(sidecar_->wait_exit(), 0) << sidecar_->err();
  }

  /// One webhook through the proxy; whether it was answered 200.
  bool webhook(int i) {
    return status_of(http_exchange(
               proxy_, "POST",
               "/voice?AccountSid=" + account + "&CallSid=CA" + std::to_string(i))) == 200;
  }
  std::string stream_url() const {
    return std::string(tls() ? "https" : "http") + "://127.0.0.1:" + std::to_string(api_) +
           "/2012-04-24/Accounts/" + account + "/Traces/Stream";
  }
  [[nodiscard]] std::filesystem::path cert() const { return dir_ / "cert.pem"; }
  /// Every stored sid, ascending (the list is newest first).
  std::vector<std::string> stored_sids() {
    const std::string list =
        http_exchange(api_, "GET", "/2012-04-24/Accounts/" + account + "/Traces.json?PageSize=1000",
                      "Authorization: Basic " + base64(account + ":" + token) + "\r\n");
    std::vector<std::string> out;
    const std::regex sid(R"re("sid":"(TR[0-9a-f]{32})")re");
    for (auto it = std::sregex_iterator(list.begin(), list.end(), sid);
         it != std::sregex_iterator(); ++it) {
      out.push_back((*it)[1].str());
    }
    std::sort(out.begin(), out.end());
    return out;
  }

  const temp_dir dir_;
  app app_;
  std::unique_ptr<process> sidecar_;
  std::uint16_t proxy_ = 0;
  std::uint16_t api_ = 0;
};

TEST_F(stream_clients, CurlSeesEachExchangeAsAnEventInSidOrder) {
  process curl({"/usr/bin/curl", "-sN", "-u", account + ":" + token, stream_url()});
  ASSERT_TRUE(curl.wait_for_out(": live stream")) << curl.err();
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(webhook(i));
  // CA4's record is committed once its event is out (so are the four before it); but its sid
  // need not be the greatest (a capture that reaches the writer after one of a later
  // millisecond has random bits where its place would be, docs/records.md), so each stored
  // sid's event is waited for before the order is checked.
  ASSERT_TRUE(curl.wait_for_out("CA4\"")) << curl.out();
  const std::vector<std::string> stored = stored_sids();
  ASSERT_EQ(stored.size(), 5u);
  auto event_of = [](const std::string& sid) {
    return "id: " + sid + "\nevent: trace\ndata: {\"sid\":\"" + sid;
  };
  for (const auto& sid : stored) ASSERT_TRUE(curl.wait_for_out(event_of(sid))) << curl.out();
  std::size_t at = 0;
  for (const auto& sid : stored) {
    const auto found = curl.out().find(event_of(sid));
    ASSERT_NE(found, std::string::npos) << sid << "\n" << curl.out();
    EXPECT_GE(found, at) << "in sid order";
    at = found;
  }
  curl.signal(SIGTERM);
  curl.wait_exit();
}

TEST_F(stream_clients, EventSourceReconnectsWithLastEventIdAndMissesAndDoublesNothing) {
  const std::filesystem::path tools = std::filesystem::path(SIDECAR_SOURCE_DIR) / "tests/tools";
  if (!std::filesystem::exists(tools / "node_modules/eventsource")) {
    GTEST_SKIP() << "npm eventsource not installed: run scripts/install-deps";
  }
  process node({"/usr/bin/node", (tools / "stream_reader.mjs").string(), stream_url(), account,
                token, "40", "120"});
  // Exchanges go on all along, also while the reader is away.
  std::atomic<bool> stop{false};
  std::atomic<int> sent{0};
  std::jthread traffic([&] {
    for (int i = 0; !stop.load() && i < 1000; ++i) {
      if (webhook(i)) ++sent;
      ::poll(nullptr, 0, 3);
    }
  });
  const bool done = node.wait_for_out("done", std::chrono::seconds(60));
  stop.store(true);
  traffic.join();
  ASSERT_TRUE(done) << node.out() << node.err();
  EXPECT_EQ(node.wait_exit(), 0) << node.err();

  std::vector<std::string> got;
  const std::regex line(R"re(\{"id":"(TR[0-9a-f]{32})","sid":"(TR[0-9a-f]{32})"\})re");
  for (auto it = std::sregex_iterator(node.out().begin(), node.out().end(), line);
       it != std::sregex_iterator(); ++it) {
    EXPECT_EQ((*it)[1].str(), (*it)[2].str()) << "id is the record's sid";
    got.push_back((*it)[2].str());
  }
  ASSERT_EQ(got.size(), 120u) << node.out();
  // Everything stored from the first event on, in order, once: no gap at the reconnection.
  std::vector<std::string> stored;
  const auto deadline = clock::now() + default_wait;
  while (clock::now() < deadline) {  // the last exchanges may still be in the writer
    stored = stored_sids();
    if (stored.size() == static_cast<std::size_t>(sent.load())) break;
    ::poll(nullptr, 0, 20);
  }
  const auto first = std::find(stored.begin(), stored.end(), got.front());
  ASSERT_NE(first, stored.end());
  ASSERT_GE(stored.end() - first, 120);
  const std::vector<std::string> expected(first, first + 120);
  const auto diff = std::mismatch(got.begin(), got.end(), expected.begin());
  EXPECT_EQ(diff.first, got.end()) << "from event " << (diff.first - got.begin()) << ": got "
                                   << *diff.first << ", stored " << *diff.second
                                   << "; distinct events " << std::set(got.begin(), got.end()).size();
}

/// The same stream from an API listening with TLS (docs/api.md, "Live stream").
class stream_clients_tls : public stream_clients {
 protected:
  [[nodiscard]] bool tls() const override { return true; }
};

TEST_F(stream_clients_tls, CurlSeesEachExchangeAsAnEventInSidOrderOverTls) {
  process curl({"/usr/bin/curl", "-sN", "--cacert", cert().string(), "-u", account + ":" + token,
                stream_url()});
  ASSERT_TRUE(curl.wait_for_out(": live stream")) << curl.err();
  constexpr int exchanges = 40;  // several of them in one write
  for (int i = 0; i < exchanges; ++i) ASSERT_TRUE(webhook(i));
  ASSERT_TRUE(curl.wait_for_out("CA" + std::to_string(exchanges - 1) + "\"")) << curl.out();
  const std::string out = curl.out();
  const std::regex event(
      R"re(id: (TR[0-9a-f]{32})\nevent: trace\ndata: \{"sid":"(TR[0-9a-f]{32})")re");
  std::vector<std::string> ids;
  for (auto it = std::sregex_iterator(out.begin(), out.end(), event); it != std::sregex_iterator();
       ++it) {
    EXPECT_EQ((*it)[1].str(), (*it)[2].str()) << "each event's id is its record's sid";
    ids.push_back((*it)[1].str());
  }
  EXPECT_EQ(ids.size(), static_cast<std::size_t>(exchanges)) << out;
  EXPECT_TRUE(std::is_sorted(ids.begin(), ids.end())) << "in sid order";
  EXPECT_EQ(std::set<std::string>(ids.begin(), ids.end()).size(), ids.size()) << "none twice";
  curl.signal(SIGTERM);
  curl.wait_exit();
}

}  // namespace
}  // namespace sidecar::testing_support
