// The proxy thread's heap allocations per keep-alive exchange in steady state (docs/proxy.md,
// "Allocations"): a webhook form POST through a real proxy::server to a real nginx, counted by a
// global operator new that counts only on the threads the proxy names "proxy-N". The count is
// deterministic (the same request, the same response, one connection on each side), so the
// test asserts the bound reached: none, as docs/proxy.md says.
#include <dlfcn.h>
#include <execinfo.h>
#include <gtest/gtest.h>
#include <malloc.h>
#include <pthread.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>

#include "tests/proxy_support/harness.hpp"
#include "tests/proxy_support/nginx.hpp"

namespace {

std::atomic<std::uint64_t> proxy_thread_allocations{0};
std::atomic<std::uint64_t> proxy_thread_frames{0};  // of which aligned_alloc's (Asio's frames)
thread_local bool known_proxy_thread = false;

// A thread's name is set after it starts (its first allocations come before): only a "yes"
// is remembered.
bool on_proxy_thread() noexcept {
  if (known_proxy_thread) return true;
  char name[16] = {};
  if (pthread_getname_np(pthread_self(), name, sizeof name) != 0) return false;
  known_proxy_thread = std::strncmp(name, "proxy-", 6) == 0;
  return known_proxy_thread;
}

// SIDECAR_ALLOC_TRACE=N: the call stacks of the proxy thread's allocations during N measured
// exchanges are printed after the run (raw addresses; scripts or addr2line name them), to
// itemise the bound (docs/proxy.md, "Allocations"). Off by default: the count alone is asserted.
struct traced_allocation {
  std::size_t size = 0;
  int depth = 0;
  std::array<void*, 24> frames{};
};
constexpr std::size_t trace_capacity = 4096;
std::array<traced_allocation, trace_capacity> traced;
std::atomic<std::size_t> traced_count{0};
std::atomic<bool> tracing{false};
thread_local bool in_trace = false;  // backtrace() may allocate on its first call

void count_proxy_allocation(std::size_t n) {
  proxy_thread_allocations.fetch_add(1, std::memory_order_relaxed);
  if (!tracing.load(std::memory_order_relaxed) || in_trace) return;
  const std::size_t i = traced_count.fetch_add(1, std::memory_order_relaxed);
  if (i >= trace_capacity) return;
  in_trace = true;
  traced[i].size = n;
  traced[i].depth = backtrace(traced[i].frames.data(), static_cast<int>(traced[i].frames.size()));
  in_trace = false;
}

void* counted_alloc(std::size_t n) {
  if (on_proxy_thread()) count_proxy_allocation(n);
  return std::malloc(n == 0 ? 1 : n);
}

}  // namespace

void* operator new(std::size_t n) {
  if (void* p = counted_alloc(n)) return p;
  throw std::bad_alloc();
}
void* operator new(std::size_t n, const std::nothrow_t&) noexcept { return counted_alloc(n); }
void* operator new(std::size_t n, std::align_val_t a) {
  if (on_proxy_thread()) count_proxy_allocation(n);
  if (void* p = memalign(static_cast<std::size_t>(a), n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
// Asio allocates coroutine frames (and the handlers it recycles) with aligned_alloc itself
// (Boost 1.81's detail::aligned_new), not through operator new: this definition in the test's
// executable takes the place of the C library's, so that a frame its per-thread cache could not
// give back is counted too. memalign's memory is freed by free(), as aligned_alloc's is.
extern "C" void* aligned_alloc(std::size_t align, std::size_t n) noexcept {
  if (on_proxy_thread()) {
    count_proxy_allocation(n);
    proxy_thread_frames.fetch_add(1, std::memory_order_relaxed);
  }
  return memalign(align, n);
}
// GCC's -Wmismatched-new-delete sees operator new inlined as malloc and this delete as free, and
// cannot tell that both are the replacements above: the pairing is the standard's own.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
#pragma GCC diagnostic pop

namespace sidecar::testing {
namespace {

// The store's side is not the proxy's: captures are counted here, on the proxy thread, and
// taken as the store's submit() takes them, an earlier capture's buffers given back for the
// next (store/trace_writer.hpp, spare captures).
class dropping_sink : public store::capture_sink {
 public:
  bool submit(store::capture&& c) noexcept override {
    std::swap(c, held_);
    count.fetch_add(1, std::memory_order_relaxed);
    return true;
  }
  std::atomic<std::uint64_t> count{0};

 private:
  store::capture held_;
};

// Runs `n` more exchanges with every proxy-thread allocation's call stack kept, then prints
// them: "alloc SIZE" and one "  FILE 0xOFFSET" line per frame, for addr2line.
template <class Exchanges>
void trace_exchanges(int n, Exchanges& exchanges, dropping_sink& sink) {
  const std::uint64_t submitted = sink.count.load();
  tracing = true;
  exchanges(n);
  ASSERT_TRUE(eventually([&] { return sink.count.load() == submitted + n; }));
  tracing = false;
  const std::size_t count = std::min(traced_count.load(), trace_capacity);
  std::printf("traced: %zu allocations in %d exchanges\n", count, n);
  for (std::size_t i = 0; i < count; ++i) {
    std::printf("alloc %zu\n", traced[i].size);
    for (int f = 0; f < traced[i].depth; ++f) {
      Dl_info info{};
      if (dladdr(traced[i].frames[f], &info) != 0 && info.dli_fname != nullptr) {
        // The return address minus one: the call instruction, for addr2line.
        std::printf("  %s %#lx\n", info.dli_fname,
                    static_cast<unsigned long>(static_cast<char*>(traced[i].frames[f]) -
                                               static_cast<char*>(info.dli_fbase) - 1));
      }
    }
  }
}

constexpr std::string_view webhook_form =
    "CallSid=IDbb44ef8c2ebf4d4599d0378a2a8a2ea8-CAd9e08ede8b604e739ba7d0bd477fdf49&InstanceId="
    "IDbb44ef8c2ebf4d4599d0378a2a8a2ea8&AccountSid=ACae6e420f425248d6a26948c17a9e2acf&From=%"
    "2B15551234567&To=%2B15557654321&CallStatus=ringing&ApiVersion=2012-04-24&Direction="
    "inbound&CallerName=null&ForwardedFrom=null&CallTimestamp=2026-11-28T01%3A02%3A03.456Z&"
    "FromCountry=US&ToCountry=US&FromState=CA&ToState=NY";

// The bound reached (dev build, measured: none, with a target longer than the 15 bytes a
// std::string holds inline; 2 with a 10-byte target before a destination referred to its
// route's names in the snapshot and the connection reused its buffers for the request's path
// and target, session 29; 8 before the capture was built into the buffers of an earlier one, which
// the sink hands back; 42 before strip_hop_by_hop read Connection's names in place, the pool's
// resume stopped wrapping its executor, an unchanged target stopped being set again and the form
// scanner stopped copying the values of pairs it has no use for; 37 before the form scanner read
// names and values where they arrived and its findings were moved into the capture; 32 before the
// capture's header lists became one buffer each and a form kept whole was left to the record
// builder to scan; 24 before the heads were kept in head_fields, whose buffers a connection
// reuses). Coroutine frames are counted too (aligned_alloc above): 54 with Asio's default cache of
// 2 freed frames per thread, none with the 32 blocks of cmake/sidecar.cmake. docs/proxy.md,
// "Allocations", itemises what there was (SIDECAR_ALLOC_TRACE above).
constexpr std::uint64_t allocations_per_exchange = 0;

// AddressSanitizer's redzones make some frames larger than the 255 x 4 bytes Asio's cache
// keeps (1 024 and 1 184 bytes in the asan preset): those are freed and allocated again on
// every exchange there, whatever the cache's size, so their count is the build's, not the
// code's, and is asserted only without it.
#if defined(__SANITIZE_ADDRESS__)
constexpr bool frames_can_outgrow_the_cache = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr bool frames_can_outgrow_the_cache = true;
#else
constexpr bool frames_can_outgrow_the_cache = false;
#endif
#else
constexpr bool frames_can_outgrow_the_cache = false;
#endif

TEST(proxy_allocations, KeepAliveWebhookExchangesAllocateAtMostTheBoundOnTheProxyThread) {
  nginx_server app(R"(location / { return 200 '<Response><Say>hello</Say></Response>'; })",
                   "keepalive_requests 100000;");
  auto cfg = base_config();
  cfg->proxy.threads = 1;
  cfg->routes.push_back(route_to("/", upstream_at(app.port())));
  metrics::registry registry;
  dropping_sink sink;
  proxy::server server(cfg, sink, registry, nullptr);
  const std::uint16_t port = server.start({}).port();

  const std::string request =
      "POST /restcomm/voice.xml?CallSid=CA0a1b2c3d HTTP/1.1\r\nHost: app.example\r\n"
      "Content-Type: "
      "application/x-www-form-urlencoded; charset=UTF-8\r\nAccept: application/xml, "
      "text/xml\r\nUser-Agent: Apache-HttpClient/4.5.13 (Java/11.0.16)\r\nContent-Length: " +
      std::to_string(webhook_form.size()) + "\r\n\r\n" + std::string(webhook_form);
  net::io_context ioc;
  auto client = connect_to(ioc, port);
  beast::flat_buffer buf;
  auto exchanges = [&](int n) {
    for (int i = 0; i < n; ++i) {
      send_all(client, request);
      const auto r = read_response(client, buf);
      ASSERT_FALSE(r.ec) << r.ec.message();
      ASSERT_EQ(r.res.result_int(), 200);
    }
  };
  // Warm-up: the pool's connection, the block cache, Asio's per-thread recycled memory.
  exchanges(200);
  // The capture of the last exchange is submitted after its response is written: counted
  // once every capture has arrived.
  ASSERT_TRUE(eventually([&] { return sink.count.load() == 200; }));
  constexpr int measured = 1000;
  const std::uint64_t before = proxy_thread_allocations.load();
  const std::uint64_t frames_before = proxy_thread_frames.load();
  exchanges(measured);
  ASSERT_TRUE(eventually([&] { return sink.count.load() == 200 + measured; }));
  const std::uint64_t frames = proxy_thread_frames.load() - frames_before;
  const std::uint64_t during = proxy_thread_allocations.load() - before - frames;
  if (const char* n = std::getenv("SIDECAR_ALLOC_TRACE"))
    trace_exchanges(std::atoi(n), exchanges, sink);
  RecordProperty("allocations_per_exchange", std::to_string(during / measured));
  std::printf(
      "proxy thread: %llu allocations and %llu coroutine frames in %d exchanges (%.2f, %.2f "
      "each)\n",
      static_cast<unsigned long long>(during), static_cast<unsigned long long>(frames), measured,
      static_cast<double>(during) / measured, static_cast<double>(frames) / measured);
  EXPECT_LE(during, allocations_per_exchange * measured);
  if (!frames_can_outgrow_the_cache) {
    EXPECT_EQ(frames, 0u);
  }
  server.stop(std::chrono::milliseconds(500));
}

}  // namespace
}  // namespace sidecar::testing
