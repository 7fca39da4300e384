// (d) Memory per registered socket in the simulation: heap bytes (mallinfo2: uordblks, the
// bytes in use in the arenas, plus hblkhd, the bytes in blocks malloc mmapped on its own, such
// as the fd table's slot vector) before and after opening N/2 AF_UNIX socketpairs — N socket
// ends, the cheapest socket the simulation has: TCP needs a listener, an accept queue and the
// loopback network on top — and again after registering every end in one epoll instance.
#include <malloc.h>
#include <memory>
#include <sys/epoll.h>
#include <vector>

#include "bench/common.h"

namespace edgecase::bench {
namespace {

constexpr double kBytesPerMiB = 1024.0 * 1024.0;
constexpr int kSockets = 1'000'000;

size_t heap_in_use() {
  struct mallinfo2 mi = ::mallinfo2();
  return mi.uordblks + mi.hblkhd;
}

const char* register_all(Kernel& k, int ep, const std::vector<int>& fds) {
  for (int fd : fds)
    if (const char* e = add(k, ep, fd, EPOLLIN)) return e;
  return nullptr;
}

// One iteration builds a fresh kernel with n registered sockets; the time is that of building
// them (tearing them down is not timed).
void bm_memory(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  std::vector<int> fds;
  fds.reserve(static_cast<size_t>(n));  // before the first sample, so it is not counted
  double per_socket = 0, per_registration = 0, total = 0;
  for (auto _ : state) {
    fds.clear();
    const size_t before = heap_in_use();
    std::unique_ptr<Kernel> k = make_kernel(Backend::sim, n + kFdSlack);
    int ep = k->epoll_create1(0);
    if (ep < 0) return fail(state, "epoll_create1");
    const size_t empty = heap_in_use();
    if (const char* e = open_idle_sockets(*k, -1, n / 2, &fds)) return fail(state, e);
    const size_t sockets = heap_in_use();
    if (const char* e = register_all(*k, ep, fds)) return fail(state, e);
    const size_t registered = heap_in_use();
    // A sanitizer's allocator bypasses malloc's arenas, and mallinfo2 then reports nothing.
    if (!(empty < sockets && sockets < registered)) {
      errno = 0;
      return fail(state, "mallinfo2 did not see the allocations (sanitizer build?)");
    }
    per_socket = static_cast<double>(sockets - empty) / n;
    per_registration = static_cast<double>(registered - sockets) / n;
    total = static_cast<double>(registered - before);
    state.PauseTiming();
    k.reset();
    state.ResumeTiming();
  }
  state.counters["B/socket"] = per_socket;
  state.counters["B/registration"] = per_registration;
  state.counters["B/registered_socket"] = per_socket + per_registration;
  state.counters["MiB_total"] = total / kBytesPerMiB;
  state.SetItemsProcessed(state.iterations() * n);
}

[[maybe_unused]] const bool registered = [] {
  benchmark::RegisterBenchmark("memory/sim/registered_unix_socket", bm_memory)
      ->Arg(kSockets)
      ->Iterations(1)
      ->Unit(benchmark::kMillisecond);
  return true;
}();

}  // namespace
}  // namespace edgecase::bench
