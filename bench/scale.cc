// (b) epoll_wait with one ready fd among N idle registrations, and (c) EPOLL_CTL_ADD and
// EPOLL_CTL_DEL per operation with N registrations, on both backends.
//
// The idle registrations are AF_UNIX socketpair ends (both ends of N/2 pairs) registered for
// EPOLLIN and never written. The ready fd is the read end of one more socketpair holding one
// unread byte, registered level-triggered, so every epoll_wait reports it and puts it back on
// the ready list: the timed loop is epoll_wait alone.
#include <memory>
#include <string>
#include <sys/epoll.h>
#include <vector>

#include "bench/common.h"

namespace edgecase::bench {
namespace {

// Unregistered sockets each fixture keeps for ADD and DEL: ADD cycles through them and DELs
// them all (untimed) once they are used up, so the interest set stays between N and N + kSpare.
constexpr int kSpare = 1024;

// One epoll instance with n + 1 registrations, built once per (backend, n).
struct ScaleFixture {
  int n = 0;
  std::unique_ptr<Kernel> k;
  int ep = -1;
  Channel ready;
  std::vector<int> idle;   // registered, never written
  std::vector<int> spare;  // not registered between benchmarks
};

const char* build(ScaleFixture* f, Backend b, int n) {
  f->n = n;
  f->k = make_kernel(b, n + kSpare + kFdSlack);
  if (!f->k) return "raising RLIMIT_NOFILE";
  Kernel& k = *f->k;
  f->ep = k.epoll_create1(0);
  if (f->ep < 0) return "epoll_create1";
  f->idle.reserve(static_cast<size_t>(n));
  if (const char* e = open_idle_sockets(k, f->ep, n / 2, &f->idle)) return e;
  f->spare.reserve(kSpare);
  if (const char* e = open_idle_sockets(k, -1, kSpare / 2, &f->spare)) return e;
  if (const char* e = open_channel(k, Transport::socketpair, &f->ready)) return e;
  const char byte = 'x';
  ssize_t w = k.write(f->ready.tx, &byte, 1);
  if (w != 1) {
    if (w >= 0) errno = 0;
    return "write";
  }
  return add(k, f->ep, f->ready.rx, EPOLLIN);
}

// Building 10^6 sockets takes seconds, so each backend keeps its last fixture for the next
// benchmark (or repetition) that asks for the same n. A benchmark that fails part-way drops
// it, since its interest set may no longer be the one described above.
std::unique_ptr<ScaleFixture>& cache_slot(Backend b) {
  static std::unique_ptr<ScaleFixture> slots[2];
  return slots[b == Backend::sim ? 0 : 1];
}

ScaleFixture* fixture(Backend b, int n, const char** err) {
  auto& slot = cache_slot(b);
  if (slot && slot->n == n) return slot.get();
  slot.reset();  // free the previous one before building the next
  auto f = std::make_unique<ScaleFixture>();
  if ((*err = build(f.get(), b, n))) return nullptr;
  slot = std::move(f);
  return slot.get();
}

void drop_and_fail(benchmark::State& state, Backend b, const char* what) {
  fail(state, what);
  cache_slot(b).reset();
}

void bm_wait_one_ready(benchmark::State& state, Backend b) {
  const char* e = nullptr;
  ScaleFixture* f = fixture(b, static_cast<int>(state.range(0)), &e);
  if (!f) return drop_and_fail(state, b, e);
  for (auto _ : state) {
    if ((e = expect_one_in(*f->k, f->ep, f->ready.rx))) return drop_and_fail(state, b, e);
  }
  state.counters["registrations"] = static_cast<double>(f->idle.size() + 1);
}

// Removes spare[0, count) from the interest set.
const char* del_spares(ScaleFixture& f, size_t count) {
  for (size_t i = 0; i < count; ++i)
    if (const char* e = del(*f.k, f.ep, f.spare[i])) return e;
  return nullptr;
}

// Adds spare[from, end).
const char* add_spares(ScaleFixture& f, size_t from) {
  for (size_t i = from; i < f.spare.size(); ++i)
    if (const char* e = add(*f.k, f.ep, f.spare[i], EPOLLIN)) return e;
  return nullptr;
}

void bm_ctl_add(benchmark::State& state, Backend b) {
  const char* e = nullptr;
  ScaleFixture* f = fixture(b, static_cast<int>(state.range(0)), &e);
  if (!f) return drop_and_fail(state, b, e);
  size_t next = 0;
  for (auto _ : state) {
    if (next == f->spare.size()) {
      state.PauseTiming();
      if ((e = del_spares(*f, next))) return drop_and_fail(state, b, e);
      next = 0;
      state.ResumeTiming();
    }
    if ((e = add(*f->k, f->ep, f->spare[next], EPOLLIN))) return drop_and_fail(state, b, e);
    ++next;
  }
  if ((e = del_spares(*f, next))) return drop_and_fail(state, b, e);
}

void bm_ctl_del(benchmark::State& state, Backend b) {
  const char* e = nullptr;
  ScaleFixture* f = fixture(b, static_cast<int>(state.range(0)), &e);
  if (!f) return drop_and_fail(state, b, e);
  if ((e = add_spares(*f, 0))) return drop_and_fail(state, b, e);
  size_t next = 0;
  for (auto _ : state) {
    if (next == f->spare.size()) {
      state.PauseTiming();
      if ((e = add_spares(*f, 0))) return drop_and_fail(state, b, e);
      next = 0;
      state.ResumeTiming();
    }
    if ((e = del(*f->k, f->ep, f->spare[next]))) return drop_and_fail(state, b, e);
    ++next;
  }
  // Leave the spares unregistered, as the next benchmark expects.
  for (size_t i = next; i < f->spare.size(); ++i)
    if ((e = del(*f->k, f->ep, f->spare[i]))) return drop_and_fail(state, b, e);
}

// Registration sizes. The live kernel is capped by RLIMIT_NOFILE (20000 here), so it stops at
// 15,000 idle registrations and compares ADD/DEL at 10^4.
constexpr int kSimSizes[] = {1'000, 10'000, 100'000, 1'000'000};
constexpr int kLiveSizes[] = {1'000, 10'000, 15'000};
constexpr int kSimCtlSizes[] = {1'000'000, 10'000};
constexpr int kLiveCtlSize = 10'000;

[[maybe_unused]] const bool registered = [] {
  auto* w = benchmark::RegisterBenchmark("epoll_wait_one_ready/sim", bm_wait_one_ready,
                                         Backend::sim);
  for (int n : kSimSizes) w->Arg(n);
  for (int n : kSimCtlSizes) {
    benchmark::RegisterBenchmark("epoll_ctl_add/sim", bm_ctl_add, Backend::sim)->Arg(n);
    benchmark::RegisterBenchmark("epoll_ctl_del/sim", bm_ctl_del, Backend::sim)->Arg(n);
  }
  w = benchmark::RegisterBenchmark("epoll_wait_one_ready/live", bm_wait_one_ready,
                                   Backend::live);
  for (int n : kLiveSizes) w->Arg(n);
  benchmark::RegisterBenchmark("epoll_ctl_add/live", bm_ctl_add, Backend::live)
      ->Arg(kLiveCtlSize);
  benchmark::RegisterBenchmark("epoll_ctl_del/live", bm_ctl_del, Backend::live)
      ->Arg(kLiveCtlSize);
  return true;
}();

}  // namespace
}  // namespace edgecase::bench
