// Differential fuzzing: the bytes are a sequence of calls (the differential property's ops,
// props/differential_ops.h) over pipes, eventfds, socketpairs and nested epolls, run step by
// step on the simulated and on the live kernel of this process. The first step whose strace
// lines differ, or a simulation invariant that breaks, aborts with both sides printed.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <vector>

#include "edgecase/live_match.h"
#include "edgecase/real_kernel.h"
#include "edgecase/runner.h"
#include "edgecase/sim_kernel.h"
#include "props/differential_ops.h"

namespace {

using namespace edgecase;
using namespace edgecase::differential;

// Ops per input: the property's CI sizes (rapidcheck's default max size is 100); longer
// sequences are the nightly's (-max_len raises the bytes, not this bound).
constexpr size_t kMaxOps = 100;
// Handle indices as the property draws them.
constexpr uint32_t kMaxHandleIndex = 63;
constexpr uint64_t kMaxEpollData = 999;
// Byte counts as the property's gen_count draws them: small, a page or so, exact thresholds.
constexpr uint32_t kCountEdges[] = {4095, 4096, 4097, 8192, 65536, 70000};
constexpr uint32_t kSmallCount = 64;
constexpr uint32_t kPageCount = 4096;
constexpr uint32_t kEpollBits[] = {EPOLLIN,     EPOLLOUT,    EPOLLRDHUP,     EPOLLPRI,
                                   EPOLLET,     EPOLLONESHOT, EPOLLRDNORM,   EPOLLWRNORM,
                                   EPOLLEXCLUSIVE, EPOLLERR, EPOLLHUP,       EPOLLWAKEUP};

// op.n: a byte count, an event mask or any value, as the property's generator mixes them.
uint32_t decode_n(FuzzedDataProvider& in) {
  switch (in.ConsumeIntegralInRange<int>(0, 4)) {
    case 0: return in.ConsumeIntegralInRange<uint32_t>(0, kSmallCount);
    case 1: return in.ConsumeIntegralInRange<uint32_t>(kSmallCount, kPageCount + 1);
    case 2: return in.PickValueInArray(kCountEdges);
    case 3: {
      uint32_t m = 0;
      for (uint32_t bit : kEpollBits)
        if (in.ConsumeIntegralInRange<int>(0, 3) == 0) m |= bit;
      return m;
    }
    default: return in.ConsumeIntegral<uint32_t>();
  }
}

std::vector<Op> decode_ops(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  std::vector<Op> ops;
  while (in.remaining_bytes() > 0 && ops.size() < kMaxOps) {
    Op op{};
    op.kind = static_cast<OpKind>(in.ConsumeIntegralInRange<int>(0, kOpKinds - 1));
    op.a = in.ConsumeIntegralInRange<uint32_t>(0, kMaxHandleIndex);
    op.b = in.ConsumeIntegralInRange<uint32_t>(0, kMaxHandleIndex);
    op.n = decode_n(in);
    op.data = in.ConsumeIntegralInRange<uint64_t>(0, kMaxEpollData);
    ops.push_back(op);
  }
  return ops;
}

[[noreturn]] void report(const std::string& what, const std::vector<std::string>& sim,
                         const std::vector<std::string>& live) {
  std::fprintf(stderr, "fuzz_differential: %s\n%s", what.c_str(), side_by_side(sim, live).c_str());
  std::abort();
}

SimOptions options_like_live() {
  SimOptions o = sim_options_like_live();
  // Fans of dups can open more fds than the model's default limit: give it the live one.
  rlimit nofile{};
  if (::getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur != RLIM_INFINITY)
    o.nofile = static_cast<int>(std::min<rlim_t>(nofile.rlim_cur, INT32_MAX));
  return o;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  edgecase::ignore_sigpipe();  // a live write to a closed pipe returns EPIPE, as simulated
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const SimOptions options = options_like_live();
  const std::vector<Op> ops = decode_ops(data, size);
  SimKernel sim(options);
  mirror_open_fds(sim);
  std::vector<std::string> trace_sim, trace_live;
  Seen seen;
  RealKernel live;  // closes its fds when the input is done: the next starts from the same fds
  Runner rs(sim, sim);
  Runner rl(live, sim);
  for (const Op& drawn : ops) {
    if (!rs.admissible(drawn)) continue;
    const Op op = rs.prepare(drawn);
    const std::vector<std::string> a = rs.step(op, seen);
    const std::vector<std::string> b = rl.step(op, seen);
    trace_sim.insert(trace_sim.end(), a.begin(), a.end());
    trace_live.insert(trace_live.end(), b.begin(), b.end());
    if (a != b) report("the backends disagree at the last line", trace_sim, trace_live);
    if (const std::string broken = sim.check_invariants(); !broken.empty())
      report("simulation invariant broken: " + broken, trace_sim, trace_live);
  }
  return 0;
}
