// Seed 003's loop fragment in its minimal completion (posix/seeds/003_server.cc: the fragment
// line for line, every added line listed) through the interposition layer, label posix: the
// hunt finds the bugs the port's hunt finds (tests/seeds/seeds_test.cc, "003's bugs").
#include <catch2/catch.hpp>

#include <chrono>
#include <string>

#include "edgecase/gen.h"
#include "edgecase/posix.h"
#include "posix/tests/seed_hunt.h"
#include "props/hunt.h"

extern "C" int edgecase_entry_seed003_original(int argc, char** argv);

using namespace edgecase;

namespace {
// As the port's hunt (tests/seeds/seeds_test.cc).
using seed_hunt::kStepBudget;
constexpr uint16_t kPort = 8003;  // the completion's (and the port's) listener

Handler original() { return posix::make_handler("seed003", edgecase_entry_seed003_original); }
}  // namespace

TEST_CASE("posix: seed 003's fragment, completed: the hunt finds the port's bugs",
          "[posix][seed003][live]") {
  // The port's three: one accept per ET event (lost-accept), one read per ET event
  // (lost-read-event), the epoll_data union misused and sockfd never set from the event: the
  // read branch reads fd -1 (bad-fd).
  const HuntOptions o = seed_hunt::options({"lost-accept", "lost-read-event", "bad-fd"});
  const HuntResult r =
      seed_hunt::hunt_targets("seed003", "seed003 (completed fragment)", kPort, o, original());
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
