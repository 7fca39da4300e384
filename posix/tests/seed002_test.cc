// Seed 002 compiled from its original text (posix/seeds/002_server.c, main renamed on the
// command line only) through the interposition layer, label posix: the hunt finds the bug
// classes the port's hunt finds (tests/seeds/seeds_test.cc, "002's bugs") and SIGPIPE, which
// the port cannot show; its setrlimit call is reached.
#include <catch2/catch.hpp>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>

#include <chrono>
#include <string>

#include "edgecase/gen.h"
#include "edgecase/posix.h"
#include "props/hunt.h"

extern "C" int edgecase_entry_seed002_original(int argc, char** argv);

using namespace edgecase;

namespace {
// As the port's hunt (tests/seeds/seeds_test.cc): generated cases, isolated runs, a budget
// that ends a spinning handler early, a bounded shrink.
constexpr uint64_t kHuntSeeds = 1500;
constexpr uint64_t kShrinkRuns = 150;
constexpr uint64_t kStepBudget = 20'000;
constexpr uint16_t kPort = 6888;  // the seed's servPort
constexpr rlim_t kSeedNofile = 10000;  // the seed's MAXEPOLLSIZE, its RLIMIT_NOFILE
constexpr rlim_t kLoweredNofile = 1024;  // the child's limit before the seed sets its own

Handler original() { return posix::make_handler("seed002", edgecase_entry_seed002_original); }
}  // namespace

TEST_CASE("posix: seed 002 as published: the hunt finds the port's bugs", "[posix][seed002]") {
  HuntOptions o;
  o.seeds = kHuntSeeds;
  // The port's three, and one the port cannot show: write() without MSG_NOSIGNAL to a peer
  // that reset, with SIGPIPE at its default disposition, kills the published server.
  o.targets = {"lost-accept", "lost-read-event", "stream-corrupt", "killed-by-sigpipe"};
  o.max_shrink_runs = kShrinkRuns;
  o.run.isolate = true;
  o.run.trace = false;
  o.run.step_budget = kStepBudget;
  const auto t0 = std::chrono::steady_clock::now();
  const HuntResult r = hunt("seed002", "echo", kPort, o, original());
  std::string seen;
  for (const auto& [name, n] : r.seen) seen += " " + name + " x" + std::to_string(n);
  WARN("seed002 (original text): " << r.generated << " generated cases, " << r.runs << " runs, "
       << std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count()
       << " s; seen:" << seen);
  for (const std::string& target : o.targets) {
    INFO("hunting " << target << "; seen:" << seen << " " << r.out_of_time);
    const Finding* f = r.find(target);
    REQUIRE(f != nullptr);
    INFO(f->report.format());
    CHECK(f->report.found(target));
    CHECK(f->report.kit_limit.empty());  // found by the oracle, not stopped by the layer
  }
}

// setrlimit is not in Kernel yet (include/edgecase/kernel_calls.def): the layer does not route it,
// so the seed's setrlimit(RLIMIT_NOFILE, 10000) is the real call, on the process that runs the
// handler. This test pins that gap: the call is reached (the process's limit becomes the
// seed's), and the server goes on to its socket calls. The run is in a child process: the seed
// lowers the hard limit too, which a process without CAP_SYS_RESOURCE cannot raise back. When
// setrlimit lands in Kernel and wrap.list, the first CHECK fails: turn it into "the model's
// limit is 10000 and the process's is untouched".
TEST_CASE("posix: seed 002 reaches its setrlimit call (gap: not routed to the model yet)",
          "[posix][seed002]") {
  rlimit before{};
  REQUIRE(getrlimit(RLIMIT_NOFILE, &before) == 0);
  if (before.rlim_max < kSeedNofile)
    WARN("the hard RLIMIT_NOFILE is " << before.rlim_max << ": the seed's setrlimit fails here");
  int out[2];
  REQUIRE(::pipe(out) == 0);
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    ::close(out[0]);
    rlimit lowered = before;
    lowered.rlim_cur = std::min<rlim_t>(before.rlim_max, kLoweredNofile);
    setrlimit(RLIMIT_NOFILE, &lowered);
    GenOptions g;
    g.handler = "seed002";
    g.port = kPort;
    g.faults = false;
    const Case c = case_from_seed(*builtin_protocol("echo"), g, 1).value();
    RunOptions ro;
    ro.step_budget = kStepBudget;
    const Report rep = run_case(original(), c, ro);  // in this process: its limit is the seed's
    rlimit after{};
    getrlimit(RLIMIT_NOFILE, &after);
    const uint64_t result[2] = {after.rlim_cur, rep.steps};
    const bool sent = ::write(out[1], result, sizeof result) == sizeof result;
    ::_exit(sent ? 0 : 1);
  }
  ::close(out[1]);
  uint64_t result[2] = {0, 0};
  const bool got = ::read(out[0], result, sizeof result) == sizeof result;
  ::close(out[0]);
  int status = 0;
  ::waitpid(child, &status, 0);
  REQUIRE(got);
  if (before.rlim_max >= kSeedNofile) {
    CHECK(result[0] == kSeedNofile);  // reached, and applied to the real process
    CHECK(result[1] > 0);             // then the server went on to its socket calls
  }
}

// The smallest case the simulation found for each bug runs on live loopback sockets with the
// same compiled seed, through the live backend: the layer's routing works live too, and the
// bugs are real (the port's demo shows the same: "live sockets: yes").
TEST_CASE("posix: seed 002 as published: its bugs found in the simulation reproduce live",
          "[posix][seed002][live]") {
  HuntOptions o;
  o.seeds = kHuntSeeds;
  o.targets = {"lost-accept", "lost-read-event"};
  o.max_shrink_runs = kShrinkRuns;
  o.run.isolate = true;
  o.run.trace = false;
  o.run.step_budget = kStepBudget;
  const HuntResult r = hunt("seed002", "echo", kPort, o, original());
  const Handler live = posix::make_handler(
      "seed002", edgecase_entry_seed002_original, posix::options_for(Backend::live));
  for (const std::string& target : o.targets) {
    const Finding* f = r.find(target);
    REQUIRE(f != nullptr);
    RunOptions ro;
    ro.backend = Backend::live;
    ro.isolate = true;  // the seed's setrlimit and its stack stay in a child
    const Report rep = run_case(live, f->smallest, ro);
    INFO(target << "\n" << rep.format());
    CHECK(rep.found(target));
  }
}
