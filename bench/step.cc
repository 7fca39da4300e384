// (a) One event-loop step — a write on one end, an epoll_wait that reports the other end, and a
// read that drains it — on a nonblocking AF_UNIX socketpair or pipe, with the read end
// registered level- or edge-triggered. The same code runs on the simulation and on the live
// kernel; step_ratio alternates batches of steps on both in one benchmark and reports the
// median nanoseconds per step of each and live/sim.
#include <algorithm>
#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <sys/epoll.h>
#include <vector>

#include "bench/common.h"

namespace edgecase::bench {
namespace {

// Bytes per write: one small message, as in a request/response loop.
constexpr size_t kPayload = 64;
// Steps per backend per step_ratio iteration: long enough that the two clock reads around a
// batch are noise, short enough that both backends see the same machine conditions.
constexpr int kRatioBatch = 256;

// One epoll instance watching the read end of one channel.
struct StepFixture {
  std::unique_ptr<Kernel> k;
  int ep = -1;
  Channel ch;
  std::byte buf[kPayload]{};
};

const char* open_step(StepFixture* f, Backend b, Transport t, bool et) {
  f->k = make_kernel(b, kFdSlack);
  if (!f->k) return "raising RLIMIT_NOFILE";
  f->ep = f->k->epoll_create1(0);
  if (f->ep < 0) return "epoll_create1";
  if (const char* e = open_channel(*f->k, t, &f->ch)) return e;
  return add(*f->k, f->ep, f->ch.rx, EPOLLIN | (et ? EPOLLET : 0u));
}

// Exactly kPayload bytes written, one EPOLLIN event for the read end, kPayload bytes read.
const char* step(StepFixture& f) {
  Kernel& k = *f.k;
  ssize_t n = k.write(f.ch.tx, f.buf, kPayload);
  if (n != static_cast<ssize_t>(kPayload)) {
    if (n >= 0) errno = 0;
    return "write";
  }
  if (const char* e = expect_one_in(k, f.ep, f.ch.rx)) return e;
  n = k.read(f.ch.rx, f.buf, kPayload);
  if (n != static_cast<ssize_t>(kPayload)) {
    if (n >= 0) errno = 0;
    return "read";
  }
  return nullptr;
}

void bm_step(benchmark::State& state, Backend b, Transport t, bool et) {
  StepFixture f;
  if (const char* e = open_step(&f, b, t, et)) return fail(state, e);
  for (auto _ : state) {
    if (const char* e = step(f)) return fail(state, e);
  }
  state.SetItemsProcessed(state.iterations());
}

// Runs kRatioBatch steps and appends their wall time per step to *ns.
const char* timed_batch(StepFixture& f, std::vector<double>* ns) {
  auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < kRatioBatch; ++i)
    if (const char* e = step(f)) return e;
  std::chrono::duration<double, std::nano> d = std::chrono::steady_clock::now() - t0;
  ns->push_back(d.count() / kRatioBatch);
  return nullptr;
}

double median(std::vector<double> v) {
  auto mid = v.begin() + static_cast<std::ptrdiff_t>(v.size() / 2);
  std::nth_element(v.begin(), mid, v.end());
  return *mid;
}

// live/sim is the median over iterations of (live batch time / sim batch time): the two batches
// of one iteration run back to back, so they share the machine's conditions of the moment (the
// machine is shared; a compile on the other core slows both), and a batch that was preempted
// is an outlier the median ignores. sim_ns and live_ns are the medians of each side.
void bm_step_ratio(benchmark::State& state, Transport t, bool et) {
  StepFixture sim, live;
  if (const char* e = open_step(&sim, Backend::sim, t, et)) return fail(state, e);
  if (const char* e = open_step(&live, Backend::live, t, et)) return fail(state, e);
  std::vector<double> sim_ns, live_ns, ratios;
  sim_ns.reserve(static_cast<size_t>(state.max_iterations));
  live_ns.reserve(static_cast<size_t>(state.max_iterations));
  ratios.reserve(static_cast<size_t>(state.max_iterations));
  for (auto _ : state) {
    if (const char* e = timed_batch(sim, &sim_ns)) return fail(state, e);
    if (const char* e = timed_batch(live, &live_ns)) return fail(state, e);
    ratios.push_back(live_ns.back() / sim_ns.back());
  }
  state.counters["sim_ns"] = median(sim_ns);
  state.counters["live_ns"] = median(live_ns);
  state.counters["live/sim"] = median(ratios);
  state.SetItemsProcessed(state.iterations() * kRatioBatch * 2);
}

[[maybe_unused]] const bool registered = [] {
  for (Transport t : {Transport::socketpair, Transport::pipe}) {
    for (bool et : {false, true}) {
      std::string suffix = std::string(name(t)) + (et ? "/ET" : "/LT");
      for (Backend b : {Backend::sim, Backend::live})
        benchmark::RegisterBenchmark(("step/" + suffix + "/" + name(b)).c_str(), bm_step, b,
                                     t, et);
      benchmark::RegisterBenchmark(("step_ratio/" + suffix).c_str(), bm_step_ratio, t, et);
    }
  }
  return true;
}();

}  // namespace
}  // namespace edgecase::bench
