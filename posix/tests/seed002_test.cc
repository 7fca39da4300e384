// Seed 002 compiled from its original text (posix/seeds/002_server.c, main renamed on the
// command line only) through the interposition layer, label posix: the hunt finds the bug
// classes the port's hunt finds (tests/seeds/seeds_test.cc, "002's bugs") and SIGPIPE, which
// the port cannot show; its setrlimit call reaches the model.
#include <catch2/catch.hpp>
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <string>

#include "edgecase/gen.h"
#include "edgecase/posix.h"
#include "edgecase/sim_kernel.h"
#include "posix/tests/seed_hunt.h"
#include "props/hunt.h"

extern "C" int edgecase_entry_seed002_original(int argc, char** argv);

using namespace edgecase;

namespace {
// As the port's hunt (tests/seeds/seeds_test.cc): generated cases, isolated runs, a budget
// that ends a spinning handler early, a bounded shrink.
using seed_hunt::kStepBudget;
constexpr uint16_t kPort = 6888;  // the seed's servPort
constexpr rlim_t kSeedNofile = 10000;  // the seed's MAXEPOLLSIZE, its RLIMIT_NOFILE
constexpr int kSeedListener = 3;  // the seed's first socket, its listener

Handler original() { return posix::make_handler("seed002", edgecase_entry_seed002_original); }
}  // namespace

TEST_CASE("posix: seed 002 as published: the hunt finds the port's bugs", "[posix][seed002]") {
  // The port's three, and one the port cannot show: write() without MSG_NOSIGNAL to a peer
  // that reset, with SIGPIPE at its default disposition, kills the published server.
  const HuntOptions o = seed_hunt::options(
      {"lost-accept", "lost-read-event", "stream-corrupt", "killed-by-sigpipe"});
  seed_hunt::hunt_targets("seed002", "seed002 (original text)", kPort, o, original());
}

// The seed's setrlimit(RLIMIT_NOFILE, 10000) reaches the model (the layer routes setrlimit to
// the Kernel): the simulated process's limit becomes the seed's, the test process's stays as it
// was, and the server goes on to its socket calls. Alone (no World), the seed's first
// epoll_wait(-1) can never return: SimKernel throws Deadlock there.
TEST_CASE("posix: seed 002's setrlimit reaches the model, not the process", "[posix][seed002]") {
  rlimit before{};
  REQUIRE(getrlimit(RLIMIT_NOFILE, &before) == 0);
  SimKernel sim;
  rlimit model{};
  REQUIRE(sim.getrlimit(RLIMIT_NOFILE, &model) == 0);
  REQUIRE(model.rlim_cur != kSeedNofile);
  {
    const posix::Scope scope(sim);
    char name[] = "seed002";
    char* argv[] = {name, nullptr};
    CHECK_THROWS_AS(edgecase_entry_seed002_original(1, argv), Deadlock);
  }
  REQUIRE(sim.getrlimit(RLIMIT_NOFILE, &model) == 0);
  CHECK(model.rlim_cur == kSeedNofile);
  CHECK(model.rlim_max == kSeedNofile);
  CHECK(sim.fcntl(kSeedListener, F_GETFD) == 0);  // then it went on: its listener is open
  rlimit after{};
  REQUIRE(getrlimit(RLIMIT_NOFILE, &after) == 0);
  CHECK(after.rlim_cur == before.rlim_cur);
  CHECK(after.rlim_max == before.rlim_max);
  // Through the runner, in a World: the server runs on, and the process's limit is untouched.
  GenOptions g;
  g.handler = "seed002";
  g.port = kPort;
  g.faults = false;
  const Case c = case_from_seed(*builtin_protocol("echo"), g, 1).value();
  RunOptions ro;
  ro.step_budget = kStepBudget;
  const Report rep = run_case(original(), c, ro);
  INFO(rep.format());
  CHECK(rep.steps > 0);
  REQUIRE(getrlimit(RLIMIT_NOFILE, &after) == 0);
  CHECK(after.rlim_cur == before.rlim_cur);
}

// The smallest case the simulation found for each bug runs on live loopback sockets with the
// same compiled seed, through the live backend: the layer's routing works live too, and the
// bugs are real (the port's demo shows the same: "live sockets: yes").
TEST_CASE("posix: seed 002 as published: its bugs found in the simulation reproduce live",
          "[posix][seed002][live]") {
  HuntOptions o;
  o.seeds = seed_hunt::kHuntSeeds;
  o.targets = {"lost-accept", "lost-read-event"};
  o.max_shrink_runs = seed_hunt::kShrinkRuns;
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
    ro.isolate = true;  // live, the seed's setrlimit is the process's: it stays in a child
    const Report rep = run_case(live, f->smallest, ro);
    INFO(target << "\n" << rep.format());
    CHECK(rep.found(target));
  }
}
