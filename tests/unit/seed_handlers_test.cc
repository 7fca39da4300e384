// Quick checks of the ported seed servers (handlers/seed*.cc): each fixed version serves every
// peer of generated scenarios correctly in the simulated world, and the buggy ports visibly
// misbehave under faults. The oracles that name each bug come with the runner; this only shows
// the ports run. Buggy ports with memory bugs run only on scenarios that cannot reach them
// (messages shorter than their buffers): the runner runs the rest in a subprocess under ASan.
#include <catch2/catch.hpp>

#include <cstdint>
#include <string>
#include <string_view>

#include "handlers/handlers.h"
#include "harness/generate.h"
#include "harness/sim_run.h"

namespace {

using edgecase::Case;
using edgecase::EchoShape;
using edgecase::FaultPlan;
using edgecase::Peer;
using edgecase::SimRun;
using edgecase::sim::World;

constexpr uint64_t kFixedSeeds = 30;  // per fixed version, no faults
constexpr uint64_t kBuggySeeds = 50;  // per buggy version, all faults at 200 per mille
constexpr uint32_t kFaultPerMille = 200;
// Below seed001's 1024-byte read and strcpy buffers: no full, unterminated buffer, no overflow,
// so the port is memory-safe on these scenarios outside ASan.
constexpr uint64_t kMemorySafeMaxMessage = 1000;

Case seed_case(std::string_view handler, uint64_t seed, const FaultPlan& faults,
               const EchoShape& shape = {}) {
  Case c = edgecase::echo_case(seed, faults, shape);
  c.scenario.handler = std::string(handler);
  c.scenario.port = *edgecase::handlers::own_port(handler);
  return c;
}

// Whether some peer of the run stalled, got back bytes it did not send, or finished without a
// failure and without its echo. A peer failing with ECONNRESET/EPIPE is not counted: the
// peer_reset and accept_abort faults do that to a correct server too.
bool misbehaved(SimRun& run) {
  for (const Peer* p : run.peers()) {
    if (!p->done()) return true;
    if (p->received() != p->sent().substr(0, p->received().size())) return true;
    if (p->failure().empty() && p->received() != p->sent()) return true;
    const bool by_reset = p->failure().find("ECONNRESET") != std::string::npos ||
                          p->failure().find("EPIPE") != std::string::npos;
    if (!p->failure().empty() && !by_reset) return true;
  }
  return false;
}

// All faults at kFaultPerMille, except those that make seed001 write short: its write loop
// then re-sends from offset 0, the duplicates let a peer send its next message early, a read
// pass collects 1024 bytes or more and the strcpy overflows its stack buffer (seen: SIGSEGV).
FaultPlan memory_safe_for_seed001() {
  FaultPlan p = FaultPlan::all(kFaultPerMille);
  for (auto k : {edgecase::FaultKind::short_write, edgecase::FaultKind::small_buffers,
                 edgecase::FaultKind::slow_reader})
    p[k] = edgecase::Fault{};
  return p;
}

}  // namespace

TEST_CASE("seeds: every seed name is known, with its own port", "[seeds-port]") {
  for (const char* name : {"seed001", "seed001-fixed", "seed002", "seed002-fixed", "seed003", "seed003-fixed"}) {
    INFO(name);
    REQUIRE(edgecase::handlers::own_port(name).has_value());
    REQUIRE(edgecase::handlers::find(name, {}));
  }
  REQUIRE(*edgecase::handlers::own_port("seed001") == 6667);
  REQUIRE(*edgecase::handlers::own_port("seed002") == 6888);
  REQUIRE_FALSE(edgecase::handlers::own_port("echo").has_value());
}

TEST_CASE("seeds: the fixed echo seeds echo every byte, no faults", "[seeds-port]") {
  const std::string name = GENERATE("seed001-fixed", "seed002-fixed", "seed003-fixed");
  for (uint64_t seed = 1; seed <= kFixedSeeds; ++seed) {
    SimRun run(seed_case(name, seed, FaultPlan::none()), {});
    const auto r = run.run();
    INFO(name << " seed " << seed << " error " << r.error);
    REQUIRE(r.outcome == World::Outcome::stopped);
    for (const Peer* p : run.peers()) {
      INFO(p->status() << " failure: " << p->failure());
      REQUIRE(p->done());
      REQUIRE(p->failure().empty());
      REQUIRE(p->received() == p->sent());
    }
  }
}

TEST_CASE("seeds: the buggy echo seeds misbehave under faults", "[seeds-port]") {
  const std::string name = GENERATE("seed001", "seed002", "seed003");
  EchoShape shape;
  FaultPlan plan = FaultPlan::all(kFaultPerMille);
  if (name == "seed001") {
    shape.max_message = kMemorySafeMaxMessage;
    plan = memory_safe_for_seed001();
  }
  uint64_t bad = 0, first_bad = 0;
  for (uint64_t seed = 1; seed <= kBuggySeeds; ++seed) {
    SimRun run(seed_case(name, seed, plan, shape), {});
    run.run();
    if (misbehaved(run)) {
      ++bad;
      if (first_bad == 0) first_bad = seed;
    }
  }
  WARN(name << ": " << bad << " of " << kBuggySeeds << " seeds misbehaved, first seed "
            << first_bad);
  REQUIRE(bad > 0);
}
