// Differential property: random sequences of calls over pipes, eventfds, socketpairs and
// (nested) epolls run on the simulated and the live kernel, step by step, and must produce the
// same strace line at every step: same return value, errno, bytes and event masks.
//
// Besides single calls, two ops build shapes that single calls rarely reach: a chain of 2 to 5
// new epolls, and a fan (one target through up to 51 dup'd fds into one epoll, half the time
// the most deeply nested one), so that sequences hit EP_MAX_NESTS and the wakeup-path limits of
// reverse_path_check (see docs/semantics-epoll.md). Sizes up to 400 (the nightly run,
// scripts/nightly.sh) reach them often; CI's sizes seldom.
//
// Both backends see the same fd numbers: the simulation occupies every fd this process has
// open (mirror_open_fds), and the live backend closes its fds after each sequence. Every fd is
// nonblocking, so no live call can block. A mismatch shrinks to a minimal sequence, printed
// from both sides.
#include <catch2/catch.hpp>
#include <rapidcheck.h>
#include <rapidcheck/catch.h>

#include <cerrno>
#include <fcntl.h>
#include <sys/resource.h>
#include <fmt/format.h>
#include <string>
#include <tuple>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include <ostream>
#include <vector>

#include "edgecase/live_match.h"
#include "edgecase/real_kernel.h"
#include "edgecase/sim_kernel.h"
#include "edgecase/strace.h"
#include "props/differential_ops.h"

// rapidcheck prints an Op found by argument-dependent lookup, in the Op's namespace.
namespace edgecase::differential {
void showValue(const Op& op, std::ostream& os) {
  os << kOpNames[static_cast<int>(op.kind)] << "(a=" << op.a << " b=" << op.b << " n=" << op.n
     << " data=" << op.data << ")";
}
}  // namespace edgecase::differential

namespace {

using namespace edgecase;
using namespace edgecase::differential;

// Byte counts: mostly small, sometimes a page or more so that pipes fill up.
rc::Gen<uint32_t> gen_count() {
  return rc::gen::weightedOneOf<uint32_t>({
      {6, rc::gen::inRange<uint32_t>(0, 64)},
      {3, rc::gen::inRange<uint32_t>(64, 4097)},
      {2, rc::gen::element<uint32_t>(4095, 4096, 4097, 8192, 65536, 70000)},
  });
}

rc::Gen<uint32_t> gen_epoll_events() {
  static constexpr uint32_t kBits[] = {EPOLLIN, EPOLLOUT, EPOLLRDHUP, EPOLLPRI, EPOLLET, EPOLLONESHOT,
                                EPOLLRDNORM, EPOLLWRNORM, EPOLLEXCLUSIVE, EPOLLERR, EPOLLHUP, EPOLLWAKEUP};
  return rc::gen::map(rc::gen::container<std::vector<bool>>(std::size(kBits), rc::gen::weightedElement<bool>({{3, false}, {1, true}})),
                      [](const std::vector<bool>& on) {
                        uint32_t m = 0;
                        for (size_t i = 0; i < on.size(); ++i)
                          if (on[i]) m |= kBits[i];
                        return m;
                      });
}

// Epoll calls and epoll creation weigh more than the rest: they are what the property is about,
// and nesting (ELOOP, depth) needs several epolls in one sequence.
rc::Gen<OpKind> gen_kind() {
  auto weight = [](int k) {
    auto kind = static_cast<OpKind>(k);
    return kind == OpKind::create_epoll || kind == OpKind::epoll_add || kind == OpKind::epoll_wait ? 5 : 2;
  };
  int total = 0;
  for (int k = 0; k < kOpKinds; ++k) total += weight(k);
  return rc::gen::map(rc::gen::inRange(0, total), [weight](int x) {
    int k = 0;
    while (x >= weight(k)) x -= weight(k++);
    return static_cast<OpKind>(k);
  });
}

}  // namespace

namespace rc {
template <>
struct Arbitrary<Op> {
  static Gen<Op> arbitrary() {
    return gen::build<Op>(
        gen::set(&Op::kind, gen_kind()),
        gen::set(&Op::a, gen::inRange<uint32_t>(0, 64)), gen::set(&Op::b, gen::inRange<uint32_t>(0, 64)),
        gen::set(&Op::n, gen::oneOf(gen_count(), gen_epoll_events(), gen::arbitrary<uint32_t>())),
        gen::set(&Op::data, gen::inRange<uint64_t>(0, 1000)));
  }
};
}  // namespace rc


TEST_CASE("differential: random call sequences agree on both backends", "[differential]") {
  // How many sequences reached each interesting state: a property that never gets there proves
  // nothing about it, so each must be reached (checked after the run).
  struct Reached {
    int runs = 0, eagain = 0, short_write = 0, hup = 0, err = 0, reset = 0, epipe = 0, loop = 0,
        nested = 0, deepest = 0, path_limit = 0;
  } reached;
  SimOptions options = sim_options_like_live();
  // Fans of dups can open more fds than the model's default limit: give it the live one.
  rlimit nofile{};
  if (::getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur != RLIM_INFINITY)
    options.nofile = static_cast<int>(std::min<rlim_t>(nofile.rlim_cur, INT32_MAX));
  rc::prop("sim and live give the same result at every step", [&reached, &options](const std::vector<Op>& ops) {
    SimKernel sim(options);
    mirror_open_fds(sim);
    std::vector<std::string> trace_sim, trace_live;
    Seen seen;
    {
      RealKernel live;
      Runner rs(sim, sim);
      Runner rl(live, sim);
      for (const Op& generated : ops) {
        if (!rs.admissible(generated)) continue;
        const Op op = rs.prepare(generated);
        auto a = rs.step(op, seen);
        auto b = rl.step(op, seen);
        trace_sim.insert(trace_sim.end(), a.begin(), a.end());
        trace_live.insert(trace_live.end(), b.begin(), b.end());
        if (a != b) RC_FAIL("backends disagree at the last line:\n" + side_by_side(trace_sim, trace_live));
        std::string inv = sim.check_invariants();
        if (!inv.empty()) RC_FAIL("simulation invariant broken: " + inv + "\n" + side_by_side(trace_sim, trace_live));
      }
    }  // the live backend closes its fds here, so the next sequence starts from fd 3 again
    ++reached.runs;
    reached.eagain += seen.eagain;
    reached.short_write += seen.short_write;
    reached.hup += seen.hup;
    reached.err += seen.err;
    reached.reset += seen.reset;
    reached.epipe += seen.epipe;
    reached.loop += seen.loop;
    reached.nested += seen.nested;
    reached.deepest += seen.deepest;
    reached.path_limit += seen.path_limit;
    RC_TAG(seen.eagain ? "reaches EAGAIN" : "no EAGAIN");
    RC_CLASSIFY(seen.short_write, "short write");
    RC_CLASSIFY(seen.hup, "EPOLLHUP reported");
    RC_CLASSIFY(seen.err, "EPOLLERR reported");
    RC_CLASSIFY(seen.reset, "ECONNRESET");
    RC_CLASSIFY(seen.epipe, "EPIPE");
    RC_CLASSIFY(seen.loop, "ELOOP (nested epoll cycle)");
    RC_CLASSIFY(seen.nested, "nested epoll");
    RC_CLASSIFY(seen.deepest, "a chain of 5 epolls (EP_MAX_NESTS links)");
    RC_CLASSIFY(seen.path_limit, "EINVAL: too many wakeup paths");
  });
  // After a failing property Catch re-enters the test case only to finish it: nothing ran.
  if (reached.runs == 0) return;
  // A state reached by about 1% of sequences (ELOOP) says little when missed below 1,000 of
  // them; one that needs long sequences (a 5-epoll chain: 0.7%, a wakeup-path limit: 0.1% at
  // CI's sizes; 47% and 17% at the nightly size 400) below CI's 5,000. Each is reported always,
  // required only from its count on.
  constexpr int kRunsToRequireCommon = 1000;
  constexpr int kRunsToRequireRare = 5000;
  const std::tuple<const char*, int, int> states[] = {
      {"EAGAIN", reached.eagain, kRunsToRequireCommon},
      {"short write", reached.short_write, kRunsToRequireCommon},
      {"EPOLLHUP", reached.hup, kRunsToRequireCommon},
      {"EPOLLERR", reached.err, kRunsToRequireCommon},
      {"ECONNRESET", reached.reset, kRunsToRequireCommon},
      {"EPIPE", reached.epipe, kRunsToRequireCommon},
      {"ELOOP", reached.loop, kRunsToRequireCommon},
      {"nested epoll", reached.nested, kRunsToRequireCommon},
      {"5-epoll chain", reached.deepest, kRunsToRequireRare},
      {"path limit", reached.path_limit, kRunsToRequireRare}};
  std::string summary = fmt::format("{} sequences (shrink steps included); reached:", reached.runs);
  for (const auto& [name, n, required_from] : states)
    summary += fmt::format(" {} {:.1f}%", name, 100.0 * n / reached.runs);
  WARN(summary);
  for (const auto& [name, n, required_from] : states) {
    if (reached.runs < required_from) continue;
    INFO("no generated sequence reached " << name);
    CHECK(n > 0);
  }
}
