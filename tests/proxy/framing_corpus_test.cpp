// The framing corpus (tests/proxy/corpus/framing.txt, written by generate.py there) replayed
// side by side: each case's bytes go to the proxy, with nginx behind it, and to the same nginx
// alone. nginx logs every request it reads (method, target, body) and answers it by passing it
// to a third nginx server that says "ok". For every case:
//   - nginx behind the proxy passed on exactly the requests the proxy recorded as forwarded
//     and answered, in order, with the same method, target and body (a request smuggled past
//     the proxy would be one more in nginx's log);
//   - the proxy and nginx alone agree on every request both read: one's list of requests is
//     the start of the other's (the proxy refused the rest, or nginx did). A case the proxy
//     refuses outright passes; a case where the two frame a message differently fails.
#include <gtest/gtest.h>
#include <sys/socket.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <sstream>

#include "tests/proxy_support/nginx.hpp"

namespace sidecar::testing {
namespace {

struct corpus_case {
  std::string name;
  std::string bytes;
};

std::string unescape(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '\\' || i + 1 == s.size()) {
      out.push_back(s[i]);
      continue;
    }
    const char e = s[++i];
    if (e == 'r')
      out.push_back('\r');
    else if (e == 'n')
      out.push_back('\n');
    else if (e == 't')
      out.push_back('\t');
    else if (e == 'x' && i + 2 < s.size()) {
      out.push_back(static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16)));
      i += 2;
    } else {
      out.push_back(e);
    }
  }
  return out;
}

std::vector<corpus_case> load_corpus() {
  std::ifstream in(std::string(SIDECAR_SOURCE_DIR) + "/tests/proxy/corpus/framing.txt");
  std::vector<corpus_case> out;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line.front() == '#') continue;
    const auto tab = line.find('\t');
    out.push_back({line.substr(0, tab), unescape(std::string_view(line).substr(tab + 1))});
  }
  return out;
}

// One request as nginx logged it (log_format corpus below, escape=json).
struct logged {
  std::uint16_t port = 0;
  std::string method, request_uri, uri;
  int status = 0;
  std::string body;
};

std::string json_unescape(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '\\' || i + 1 == s.size()) {
      out.push_back(s[i]);
      continue;
    }
    const char e = s[++i];
    switch (e) {
      case 'n':
        out.push_back('\n');
        break;
      case 'r':
        out.push_back('\r');
        break;
      case 't':
        out.push_back('\t');
        break;
      case 'b':
        out.push_back('\b');
        break;
      case 'f':
        out.push_back('\f');
        break;
      case 'u':
        out.push_back(static_cast<char>(std::stoi(std::string(s.substr(i + 1, 4)), nullptr, 16)));
        i += 4;
        break;
      default:
        out.push_back(e);
    }
  }
  return out;
}

class nginx_log {
 public:
  explicit nginx_log(std::filesystem::path file) : file_(std::move(file)) {}

  /// The requests nginx logged on `port` since the last call for that port. A sentinel request
  /// (its own connection) marks the end: nginx's one worker logs a request before it reads the
  /// next event, so once the sentinel is in the log, so is everything that came before it.
  std::vector<logged> until_sentinel(std::uint16_t port) {
    const std::string sentinel = "/sentinel-" + std::to_string(++sentinels_);
    (void)round_trip(port, "GET " + sentinel + " HTTP/1.1\r\nHost: s\r\nConnection: close\r\n\r\n");
    std::vector<logged> out;
    eventually([&] {
      for (auto& l : fresh()) backlog_[l.port].push_back(std::move(l));
      auto& b = backlog_[port];
      const auto at = std::find_if(b.begin(), b.end(),
                                   [&](const logged& l) { return l.request_uri == sentinel; });
      if (at == b.end()) return false;
      out.assign(std::make_move_iterator(b.begin()), std::make_move_iterator(at));
      b.erase(b.begin(), at + 1);
      return true;
    });
    return out;
  }

 private:
  /// The lines written since the last call.
  std::vector<logged> fresh() {
    std::ifstream in(file_, std::ios::binary);
    in.seekg(static_cast<std::streamoff>(offset_));
    std::vector<logged> out;
    std::string line;
    while (std::getline(in, line)) {
      if (in.eof()) break;  // a line still being written
      offset_ += line.size() + 1;
      std::vector<std::string> parts;
      std::size_t start = 0;
      for (;;) {
        const auto tab = line.find('\t', start);
        parts.push_back(line.substr(start, tab - start));
        if (tab == std::string::npos) break;
        start = tab + 1;
      }
      if (parts.size() != 6) continue;
      out.push_back({static_cast<std::uint16_t>(std::stoi(parts[0])), json_unescape(parts[1]),
                     json_unescape(parts[2]), json_unescape(parts[3]), std::stoi(parts[4]),
                     json_unescape(parts[5])});
    }
    return out;
  }

 private:
  std::filesystem::path file_;
  std::size_t offset_ = 0;
  std::size_t sentinels_ = 0;
  std::map<std::uint16_t, std::vector<logged>> backlog_;
};

std::uint16_t free_port() {
  net::io_context ioc;
  tcp::acceptor a(ioc, tcp::endpoint(net::ip::make_address("127.0.0.1"), 0));
  return a.local_endpoint().port();
}

// Sends the bytes, ends the sending side (so that no server waits for more), reads until the
// peer closes (at most 5 s).
std::string replay(std::uint16_t port, const std::string& bytes) {
  net::io_context ioc;
  auto s = connect_to(ioc, port);
  timeval tv{5, 0};
  ::setsockopt(s.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  beast::error_code ec;
  net::write(s, net::buffer(bytes), ec);
  s.shutdown(tcp::socket::shutdown_send, ec);
  return read_until_close(s);
}

// Requests nginx accepted and passed on (to the server that says ok): those it framed itself.
std::vector<logged> accepted(const std::vector<logged>& lines) {
  std::vector<logged> out;
  for (const auto& l : lines) {
    if (l.status == 200) out.push_back(l);
  }
  return out;
}

TEST(framing_corpus, ProxyAndNginxNeverFrameAMessageDifferently) {
  const auto corpus = load_corpus();
  ASSERT_GE(corpus.size(), 500u) << "the corpus did not load";

  const std::uint16_t alone_port = free_port();
  const std::uint16_t ok_port = free_port();
  nginx_server ngx(
      "    listen 127.0.0.1:" + std::to_string(alone_port) +
          ";\n"
          "    client_body_buffer_size 1m; client_body_in_single_buffer on;\n"
          "    proxy_ignore_client_abort on;  # the test ends its sending side at once\n"
          "    access_log " +
          "corpus.log corpus;\n"
          "    location / { proxy_pass http://127.0.0.1:" +
          std::to_string(ok_port) + "; }",
      "  log_format corpus escape=json "
      "'$server_port\\t$request_method\\t$request_uri\\t$uri\\t$status\\t$request_body';\n"
      "  server { listen 127.0.0.1:" +
          std::to_string(ok_port) + "; location / { return 200 ok; } }");
  nginx_log log(ngx.dir() / "corpus.log");

  auto c = base_config();
  c->store.body_limit = 64 * 1024;
  c->routes.push_back(route_to("/", upstream_at(ngx.port())));
  running_proxy proxy(c);

  // The verdict of each case: refused by the proxy, read alike by both, or read by the proxy
  // (and forwarded in its one framing) where nginx alone refused it.
  std::size_t refused = 0, alike = 0, nginx_refused = 0;
  std::string nginx_refused_names;
  for (const auto& k : corpus) {
    SCOPED_TRACE(k.name);
    const std::size_t before = proxy.sink.size();
    const std::string through_proxy = replay(proxy.port(), k.bytes);
    // What the proxy says it forwarded and nginx answered: its records of whole requests that
    // nginx passed on (200). A request smuggled past the proxy would be one more 200 in
    // nginx's log without a record.
    std::vector<store::capture> forwarded;
    const auto caps = proxy.sink.wait_for(before);
    for (std::size_t i = before; i < caps.size(); ++i) {
      const auto& cap = caps[i];
      if (cap.error == store::exchange_error::none && cap.status_code == 200) {
        forwarded.push_back(cap);
      }
    }
    const std::vector<logged> behind_lines = log.until_sentinel(ngx.port());
    const std::vector<logged> behind = accepted(behind_lines);
    ASSERT_EQ(behind.size(), forwarded.size()) << "nginx behind the proxy read other requests";
    const std::string prefix = "http://127.0.0.1:" + std::to_string(ngx.port());
    for (std::size_t i = 0; i < behind.size(); ++i) {
      EXPECT_EQ(behind[i].method, forwarded[i].method);
      EXPECT_EQ(prefix + behind[i].request_uri, forwarded[i].upstream_url);
      EXPECT_EQ(behind[i].body, forwarded[i].request_body.head);
    }

    const std::string from_nginx = replay(alone_port, k.bytes);
    const std::vector<logged> alone = accepted(log.until_sentinel(alone_port));
    const std::vector<logged>& through = behind;
    const std::size_t common = std::min(alone.size(), through.size());
    for (std::size_t i = 0; i < common; ++i) {
      EXPECT_EQ(alone[i].method, through[i].method) << i;
      EXPECT_EQ(alone[i].uri, through[i].uri) << i;
      EXPECT_EQ(alone[i].body, through[i].body) << i;
    }
    if (through.size() < alone.size() || through_proxy.find("\"status\":4") != std::string::npos) {
      ++refused;
    } else if (through.size() == alone.size()) {
      ++alike;
    } else {
      ++nginx_refused;
      nginx_refused_names += " " + k.name;
    }
    if (::testing::Test::HasFailure()) {
      ADD_FAILURE() << "through the proxy:\n"
                    << through_proxy.substr(0, 600) << "\nnginx alone:\n"
                    << from_nginx.substr(0, 600);
      break;  // one case in detail is clearer than many
    }
  }
  std::printf(
      "framing corpus: %zu cases: %zu refused by the proxy, %zu read alike by both, %zu read by "
      "the proxy and refused by nginx alone:%s\n",
      corpus.size(), refused, alike, nginx_refused, nginx_refused_names.c_str());
}

}  // namespace
}  // namespace sidecar::testing
