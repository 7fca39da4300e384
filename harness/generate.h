// Scenarios drawn from a seed: the standard shapes the tests, benchmarks and tools use.
#pragma once

#include <cstdint>

#include "edgecase/case_file.h"

namespace edgecase {

// Echo: each peer connects, then for each of its messages sends a random number of pattern
// bytes and expects them back, then closes. Messages are dealt round-robin to the peers.
struct EchoShape {
  uint32_t peers = 4;
  uint32_t messages = 16;         // in total, over all peers
  uint64_t max_message = 2048;    // bytes, at least 1
  Nanos max_start = 1 * kNanosPerMilli;  // peers start between 0 and this
};

// A pure function of (seed, shape): the sizes and starts come from a generator seeded with
// seed ^ kScenarioSalt, independent of the world's streams for the same seed.
Scenario echo_scenario(uint64_t seed, const EchoShape& shape = {});
inline constexpr uint64_t kScenarioSalt = 0x5ce7a7105ce7a710ULL;

// The case the determinism checks and the benchmark run: the echo scenario for `seed`, the
// "echo" handler, and `faults`.
Case echo_case(uint64_t seed, const FaultPlan& faults, const EchoShape& shape = {});

}  // namespace edgecase
