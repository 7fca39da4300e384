// (f) Bytes through one connection: a one-peer echo case (connect; N bytes of the peer's
// pattern sent as messages of M bytes, each followed by `expect M`; close) with the reference
// echo handler, through run_case as
// `edgecase run` runs it (trace on, every oracle), on the simulation and on live loopback
// sockets. Time per run, MB/s, and the peak resident memory of the run: VmHWM of
// /proc/self/status after resetting it (`5` into /proc/self/clear_refs) before the run, so the
// figure is the run's own and not an earlier benchmark's in the same process.
// Issue 9, item 2: 64 MiB on the simulation at least 20x faster than at c0d6aea, at most 64 MB
// peak RSS; live limited by the sockets, not by the peer. With M = N (one message) the
// reference server holds what it read until the peer reads, N bytes of its own memory: that
// is the handler's cost, which the M = 1 MiB rows leave out.
#include <algorithm>
#include <cstdint>
#include <fstream>
#include <string>

#include "bench/common.h"
#include "handlers/handlers.h"
#include "edgecase/runner.h"

namespace edgecase::bench {
namespace {

constexpr double kBytesPerMB = 1e6;
constexpr uint64_t kKiB = 1024;
constexpr uint64_t kMiB = 1024 * kKiB;

Case echo_bytes_case(uint64_t n, uint64_t message) {
  Case c;
  c.scenario.handler = "echo";
  c.scenario.protocol = "echo";
  c.seed = 1;
  PeerScript p;
  p.steps = {Step{Step::Op::connect, 0, 0, ""}};
  for (uint64_t sent = 0; sent < n; sent += message) {
    const uint64_t m = std::min(message, n - sent);
    p.steps.push_back(Step{Step::Op::send, m, 0, ""});
    p.steps.push_back(Step{Step::Op::expect, m, 0, ""});
  }
  p.steps.push_back(Step{Step::Op::close, 0, 0, ""});
  c.scenario.peers.push_back(p);
  return c;
}

// Resets the peak resident set size (Linux >= 4.0); false if it cannot.
bool reset_peak_rss() {
  std::ofstream f("/proc/self/clear_refs");
  f << "5";
  f.flush();
  return static_cast<bool>(f);
}

// VmHWM in bytes (0 if unreadable).
double peak_rss_bytes() {
  std::ifstream f("/proc/self/status");
  std::string key;
  while (f >> key) {
    if (key == "VmHWM:") {
      double kb = 0;
      f >> kb;
      return kb * kKiB;
    }
    std::string rest;
    std::getline(f, rest);
  }
  return 0;
}

void echo_stream(benchmark::State& state, Backend backend) {
  const auto n = static_cast<uint64_t>(state.range(0));
  const Case c = echo_bytes_case(n, static_cast<uint64_t>(state.range(1)));
  RunOptions o;
  o.handlers = &handlers::builtins();
  o.backend = backend == Backend::sim ? edgecase::Backend::sim : edgecase::Backend::live;
  double peak = 0;
  for (auto _ : state) {
    state.PauseTiming();
    if (!reset_peak_rss()) {
      errno = 0;
      return fail(state, "/proc/self/clear_refs");
    }
    state.ResumeTiming();
    const Report r = run_case(c, o);
    state.PauseTiming();
    peak = std::max(peak, peak_rss_bytes());
    if (!r.clean()) {
      errno = 0;
      return fail(state, ("the echo case was not clean: " + r.format()).substr(0, 2000).c_str());
    }
    state.ResumeTiming();
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * n));
  state.counters["peak_RSS_MB"] = peak / kBytesPerMB;
  state.SetLabel(name(backend));
}

[[maybe_unused]] const bool registered = [] {
  for (Backend b : {Backend::sim, Backend::live})
    benchmark::RegisterBenchmark((std::string("stream/") + name(b) + "/echo_one_peer").c_str(),
                                 [b](benchmark::State& s) { echo_stream(s, b); })
        ->ArgNames({"bytes", "message"})
        ->Args({static_cast<int64_t>(1 * kMiB), static_cast<int64_t>(1 * kMiB)})
        ->Args({static_cast<int64_t>(64 * kMiB), static_cast<int64_t>(1 * kMiB)})
        ->Args({static_cast<int64_t>(64 * kMiB), static_cast<int64_t>(64 * kMiB)})
        ->Iterations(1)
        ->Unit(benchmark::kMillisecond);
  return true;
}();

}  // namespace
}  // namespace edgecase::bench
