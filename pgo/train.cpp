// The training load of the release build's profile (docs/architecture.md, "Building
// and testing"): webhooks through a proxy::server to an upstream in the same process, every
// exchange recorded by a trace_store in a temporary directory, as a sidecar runs them on every
// node. Form POSTs (the peers' webhook), GETs and chunked POSTs on keep-alive connections, on
// two proxy threads. The instrumented build runs it once; the profile it leaves guides the
// release build's inlining and code layout. Exits 0 when every exchange got its 200.
//
//   pgo_train [exchanges]     (default 40000)
#include <unistd.h>

#include <atomic>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <string>
#include <thread>

#include "conf/load.hpp"
#include "proxy/server.hpp"
#include "store/trace_store.hpp"
#include "support/log.hpp"
#include "support/metrics.hpp"
#include "support/net.hpp"

namespace {

using namespace sidecar;
using tcp = net::ip::tcp;

constexpr std::string_view webhook_form =
    "CallSid=CAd9e08ede8b604e739ba7d0bd477fdf49&AccountSid=ACae6e420f425248d6a26948c17a9e2acf"
    "&From=%2B15551234567&To=%2B15557654321&CallStatus=ringing&ApiVersion=2012-04-24"
    "&Direction=inbound&CallerName=null&ForwardedFrom=null&FromCountry=US&ToCountry=US";
constexpr std::string_view account = "ACae6e420f425248d6a26948c17a9e2acf";

// A fixed small answer to every request, keep-alive, as bench/peers' upstream nginx gives.
net::awaitable<void> answer(tcp::socket socket) {
  beast::flat_buffer buffer;
  for (;;) {
    http::request<http::string_body> req;
    auto [ec, n] =
        co_await http::async_read(socket, buffer, req, net::as_tuple(net::use_awaitable));
    if (ec) co_return;
    http::response<http::string_body> res{http::status::ok, 11};
    res.set(http::field::content_type, "application/xml");
    res.body() = "<Response><Say>hello</Say></Response>";
    res.keep_alive(req.keep_alive());
    res.prepare_payload();
    auto [wec, wn] = co_await http::async_write(socket, res, net::as_tuple(net::use_awaitable));
    if (wec || !res.keep_alive()) co_return;
  }
}

net::awaitable<void> upstream(tcp::acceptor& acceptor) {
  for (;;) {
    auto [ec, socket] = co_await acceptor.async_accept(net::as_tuple(net::use_awaitable));
    if (ec) co_return;
    net::co_spawn(acceptor.get_executor(), answer(std::move(socket)), net::detached);
  }
}

// One client connection's share of the exchanges: mostly form webhooks, every tenth a GET, every
// twenty-fifth a chunked POST.
net::awaitable<void> client(tcp::endpoint proxy, int exchanges, std::atomic<int>& answered) {
  tcp::socket socket(co_await net::this_coro::executor);
  auto [cec] = co_await socket.async_connect(proxy, net::as_tuple(net::use_awaitable));
  if (cec) co_return;
  beast::flat_buffer buffer;
  for (int i = 0; i < exchanges; ++i) {
    http::request<http::string_body> req{http::verb::post, "/rcml?n=" + std::to_string(i), 11};
    req.set(http::field::host, "app.example.com");
    req.set(http::field::user_agent, "TelScale-RVD");
    if (i % 10 == 9) {
      req.method(http::verb::get);
    } else {
      req.set(http::field::content_type, "application/x-www-form-urlencoded");
      req.body() = webhook_form;
      if (i % 25 == 24) {
        req.chunked(true);
      } else {
        req.prepare_payload();
      }
    }
    auto [wec, wn] = co_await http::async_write(socket, req, net::as_tuple(net::use_awaitable));
    if (wec) co_return;
    http::response<http::string_body> res;
    auto [rec, rn] =
        co_await http::async_read(socket, buffer, res, net::as_tuple(net::use_awaitable));
    if (rec) co_return;
    if (res.result() == http::status::ok) ++answered;
  }
}

}  // namespace

int main(int argc, char** argv) {
  const int exchanges = argc > 1 ? std::stoi(argv[1]) : 40000;
  constexpr int connections = 20;
  log::set_level(log::level::warn);
  const auto dir = std::filesystem::temp_directory_path() /
                   ("pgo-train-" + std::to_string(static_cast<long>(::getpid())));
  net::io_context io(1);
  tcp::acceptor acceptor(io, tcp::endpoint(net::ip::make_address("127.0.0.1"), 0));
  net::co_spawn(io, upstream(acceptor), net::detached);

  const std::string toml =
      "[proxy]\nlisten = \"127.0.0.1:0\"\nthreads = 2\n[store]\npath = \"" + dir.string() +
      "\"\n[[route]]\nprefix = \"/\"\nupstream = \"http://127.0.0.1:" +
      std::to_string(acceptor.local_endpoint().port()) + "/\"\naccount = \"" +
      std::string(account) + "\"\n[[account]]\nsid = \"" + std::string(account) +
      "\"\nauth_token = \"0123456789abcdef0123456789abcdef\"\ntraces = true\n";
  const auto cfg = conf::parse(toml, "pgo-train");
  metrics::registry registry;
  int failed = 0;
  {
    store::trace_store store(cfg, registry);
    proxy::server server(cfg, store, registry, nullptr);
    const auto at = server.start({});
    std::atomic<int> answered{0};
    std::atomic<int> finished{0};
    for (int c = 0; c < connections; ++c) {
      net::co_spawn(
          io, client(tcp::endpoint(at.address(), at.port()), exchanges / connections, answered),
          [&](const std::exception_ptr&) { ++finished; });
    }
    std::thread clients([&] { io.run(); });
    while (finished < connections) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    io.stop();
    clients.join();
    server.stop(std::chrono::seconds(1));
    store.flush();
    failed = exchanges / connections * connections - answered;
    std::printf("pgo_train: %d exchanges answered, %d not\n", answered.load(), failed);
  }
  std::filesystem::remove_all(dir);
  return failed == 0 ? 0 : 1;
}
