// Seed 003's loop fragment in its minimal completion (posix/seeds/003_server.cc: the fragment
// line for line, every added line listed) through the interposition layer, label posix: the
// hunt finds the bugs the port's hunt finds (tests/seeds/seeds_test.cc, "003's bugs").
#include <catch2/catch.hpp>

#include <chrono>
#include <string>

#include "edgecase/gen.h"
#include "edgecase/posix.h"
#include "props/hunt.h"

extern "C" int edgecase_entry_seed003_original(int argc, char** argv);

using namespace edgecase;

namespace {
// As the port's hunt (tests/seeds/seeds_test.cc).
constexpr uint64_t kHuntSeeds = 1500;
constexpr uint64_t kShrinkRuns = 150;
constexpr uint64_t kStepBudget = 20'000;
constexpr uint16_t kPort = 8003;  // the completion's (and the port's) listener

Handler original() { return posix::make_handler("seed003", edgecase_entry_seed003_original); }
}  // namespace

TEST_CASE("posix: seed 003's fragment, completed: the hunt finds the port's bugs",
          "[posix][seed003][live]") {
  HuntOptions o;
  o.seeds = kHuntSeeds;
  // The port's three: one accept per ET event (lost-accept), one read per ET event
  // (lost-read-event), the epoll_data union misused and sockfd never set from the event: the
  // read branch reads fd -1 (bad-fd).
  o.targets = {"lost-accept", "lost-read-event", "bad-fd"};
  o.max_shrink_runs = kShrinkRuns;
  o.run.isolate = true;
  o.run.trace = false;
  o.run.step_budget = kStepBudget;
  const auto t0 = std::chrono::steady_clock::now();
  const HuntResult r = hunt("seed003", "echo", kPort, o, original());
  std::string seen;
  for (const auto& [name, n] : r.seen) seen += " " + name + " x" + std::to_string(n);
  WARN("seed003 (completed fragment): " << r.generated << " generated cases, " << r.runs
       << " runs, " << std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count()
       << " s; seen:" << seen);
  for (const std::string& target : o.targets) {
    INFO("hunting " << target << "; seen:" << seen << " " << r.out_of_time);
    const Finding* f = r.find(target);
    REQUIRE(f != nullptr);
    INFO(f->report.format());
    CHECK(f->report.found(target));
    CHECK(f->report.kit_limit.empty());  // found by the oracle, not stopped by the layer
  }
  // The union misuse puts a pointer (md, on the seed's stack) in epoll data: traces name it
  // ptr#N, never its address (docs/DETERMINISM.md), so the bad-fd case reports the same on
  // every run, in any process.
  RunOptions ro;
  ro.step_budget = kStepBudget;
  const Report traced = run_case(original(), r.find("bad-fd")->smallest, ro);
  INFO(traced.format());
  CHECK(traced.found("bad-fd"));
  CHECK(traced.format().find("data.ptr=ptr#1") != std::string::npos);
  CHECK(traced.format() == run_case(original(), r.find("bad-fd")->smallest, ro).format());
  // Live: the smallest cases run on loopback sockets with the same compiled completion and
  // find the same bugs there.
  const Handler live = posix::make_handler("seed003", edgecase_entry_seed003_original,
                                           posix::options_for(Backend::live));
  for (const std::string target : {"lost-read-event", "bad-fd"}) {
    RunOptions lo;
    lo.backend = Backend::live;
    lo.isolate = true;
    const Report rep = run_case(live, r.find(target)->smallest, lo);
    INFO(target << " live\n" << rep.format());
    CHECK(rep.found(target));
  }
}
