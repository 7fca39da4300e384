// Tests of the fault plan (world/fault_plan.cc): names, the description line, and the swarm
// draw pinned for fixed seeds.
#include <array>
#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>

#include <catch2/catch.hpp>

#include "edgecase/scenario.h"

namespace {

using edgecase::Fault;
using edgecase::fault_name;
using edgecase::FaultKind;
using edgecase::FaultPlan;
using edgecase::kFaultCount;

// Seeds the swarm's frequency check draws.
constexpr uint64_t kSwarmSeeds = 1000;
// Each fault must be on for between these many of kSwarmSeeds (1/2 expected; the binomial's
// standard deviation is about 16, so this band is six of them either side).
constexpr int kMinOn = 400;
constexpr int kMaxOn = 600;

FaultKind kind(size_t i) { return static_cast<FaultKind>(i); }

}  // namespace

TEST_CASE("fault plan: every fault has its case-file name, in FaultKind order", "[case][faults]") {
  constexpr std::array<std::string_view, kFaultCount> expected = {
      "split",        "coalesce", "delay",      "small-buffers", "short-write", "eintr",
      "accept-abort", "fd-limit", "half-close", "peer-reset",    "slow-reader"};
  for (size_t i = 0; i < kFaultCount; ++i) REQUIRE(fault_name(kind(i)) == expected[i]);
  REQUIRE(fault_name(FaultKind::slow_reader) == "slow-reader");
  REQUIRE(fault_name(FaultKind::split) == "split");
}

TEST_CASE("fault plan: describe() names every fault in order, off or its per mille",
          "[case][faults]") {
  FaultPlan p = FaultPlan::none();
  p[FaultKind::split] = Fault{true, 250};
  p[FaultKind::delay] = Fault{true, 1000};
  p[FaultKind::eintr] = Fault{true, 0};
  p[FaultKind::peer_reset] = Fault{false, 500};  // off hides its probability
  p[FaultKind::slow_reader] = Fault{true, 1};
  REQUIRE(p.describe() ==
          "faults: split=250 coalesce=off delay=1000 small-buffers=off short-write=off eintr=0 "
          "accept-abort=off fd-limit=off half-close=off peer-reset=off slow-reader=1");
  REQUIRE(FaultPlan::none().describe() ==
          "faults: split=off coalesce=off delay=off small-buffers=off short-write=off eintr=off "
          "accept-abort=off fd-limit=off half-close=off peer-reset=off slow-reader=off");
}

TEST_CASE("fault plan: all(p) turns every fault on at p, none() turns all off", "[case][faults]") {
  for (uint32_t per_mille : {0u, 1u, 250u, 1000u}) {
    const FaultPlan p = FaultPlan::all(per_mille);
    for (size_t i = 0; i < kFaultCount; ++i) {
      REQUIRE(p.on(kind(i)));
      REQUIRE(p[kind(i)] == Fault{true, per_mille});
    }
  }
  for (size_t i = 0; i < kFaultCount; ++i) REQUIRE_FALSE(FaultPlan::none().on(kind(i)));
  REQUIRE(FaultPlan::all(500).describe() ==
          "faults: split=500 coalesce=500 delay=500 small-buffers=500 short-write=500 eintr=500 "
          "accept-abort=500 fd-limit=500 half-close=500 peer-reset=500 slow-reader=500");
}

// The expected plans come from a python3 transcription of splitmix64, of Rng::below's
// rejection sampling and of the swarm's order of draws (two per fault: on/off, then the menu
// index), run on this machine, not from this code. A change here changes every seed's plan.
TEST_CASE("fault plan: swarm(seed) is pinned for seeds 1 and 2", "[case][faults]") {
  REQUIRE(FaultPlan::swarm(1).describe() ==
          "faults: split=200 coalesce=off delay=50 small-buffers=off short-write=off eintr=500 "
          "accept-abort=50 fd-limit=off half-close=1000 peer-reset=500 slow-reader=off");
  REQUIRE(FaultPlan::swarm(2).describe() ==
          "faults: split=1000 coalesce=200 delay=off small-buffers=1000 short-write=500 "
          "eintr=off accept-abort=off fd-limit=1000 half-close=off peer-reset=off "
          "slow-reader=1000");
  // An off fault records no probability, so a plan equals the one its description implies.
  REQUIRE(FaultPlan::swarm(1)[FaultKind::coalesce] == Fault{});
  REQUIRE(FaultPlan::swarm(1) == FaultPlan::swarm(1));
  REQUIRE_FALSE(FaultPlan::swarm(1) == FaultPlan::swarm(2));
}

TEST_CASE("fault plan: across 1,000 seeds each fault is on about half the time, from the menu",
          "[case][faults]") {
  std::array<int, kFaultCount> on{};
  std::set<uint32_t> menu;
  for (uint64_t seed = 0; seed < kSwarmSeeds; ++seed) {
    const FaultPlan p = FaultPlan::swarm(seed);
    for (size_t i = 0; i < kFaultCount; ++i) {
      if (!p.faults[i].on) {
        REQUIRE(p.faults[i].per_mille == 0);
        continue;
      }
      ++on[i];
      menu.insert(p.faults[i].per_mille);
    }
  }
  for (size_t i = 0; i < kFaultCount; ++i) {
    INFO(fault_name(kind(i)) << " on for " << on[i] << " of " << kSwarmSeeds << " seeds");
    REQUIRE(on[i] >= kMinOn);
    REQUIRE(on[i] <= kMaxOn);
  }
  REQUIRE(menu == std::set<uint32_t>{50, 200, 500, 1000});
}
