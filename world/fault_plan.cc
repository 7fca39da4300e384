// The fault plan's names, the swarm draw and its one-line description (edgecase/scenario.h).
#include <array>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "edgecase/scenario.h"
#include "world/random.h"

namespace edgecase {

namespace {

// Case files and reports spell faults with these names: changing one breaks old case files.
constexpr std::array<std::string_view, kFaultCount> kFaultNames = {
    "split",       "coalesce",     "delay",     "small-buffers", "short-write", "eintr",
    "accept-abort", "fd-limit",    "half-close", "peer-reset",   "slow-reader",
};

// The swarm's probabilities: from rare (a fault that fires at most now and then, so runs get
// far) to always (every opportunity, the harshest schedule Linux allows). A small menu rather
// than a uniform draw, so that reports and case files show few, recognisable values.
constexpr std::array<uint32_t, 4> kSwarmPerMille = {50, 200, 500, 1000};

// The swarm draws from a generator of its own, seeded with seed ^ kSwarmSalt ("swarm" in
// ASCII). The world's streams are seeded with SplitMix64 outputs at (seed + i * gamma) (see
// sim::Random::stream_seed), so drawing the plan never moves them, and the plan does not
// change when the world adds a stream. Changing the salt or the order of draws changes every
// seed's plan: old case files keep their plans (they record them), old seeds do not.
constexpr uint64_t kSwarmSalt = 0x0000'0073'7761'726dULL;

}  // namespace

std::string_view fault_name(FaultKind k) {
  const auto i = static_cast<size_t>(k);
  assert(i < kFaultCount);
  return i < kFaultCount ? kFaultNames[i] : std::string_view("unknown");
}

FaultPlan FaultPlan::all(uint32_t per_mille) {
  assert(per_mille <= Fault::kPerMille);
  FaultPlan plan;
  for (Fault& f : plan.faults) f = Fault{true, per_mille};
  return plan;
}

// Two draws per fault, in FaultKind order, whatever the first one says: a fault's draw never
// depends on the faults before it being on or off.
FaultPlan FaultPlan::swarm(uint64_t seed) {
  sim::Rng rng(seed ^ kSwarmSalt);
  FaultPlan plan;
  for (Fault& f : plan.faults) {
    const bool on = rng.chance(1, 2);
    const uint32_t per_mille = kSwarmPerMille[rng.below(kSwarmPerMille.size())];
    f = on ? Fault{true, per_mille} : Fault{};
  }
  return plan;
}

std::string FaultPlan::describe() const {
  std::string out = "faults:";
  for (size_t i = 0; i < kFaultCount; ++i) {
    out += ' ';
    out += fault_name(static_cast<FaultKind>(i));
    out += '=';
    out += faults[i].on ? std::to_string(faults[i].per_mille) : std::string("off");
  }
  return out;
}

}  // namespace edgecase
