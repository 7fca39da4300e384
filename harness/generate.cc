#include "harness/generate.h"

#include <algorithm>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "world/random.h"

namespace edgecase {

Scenario echo_scenario(uint64_t seed, const EchoShape& shape) {
  sim::Rng rng(seed ^ kScenarioSalt);
  Scenario s;
  s.handler = "echo";
  s.protocol = "echo";
  s.peers.resize(shape.peers);
  for (PeerScript& p : s.peers) {
    p.start = static_cast<Nanos>(rng.between(0, static_cast<uint64_t>(shape.max_start)));
    p.steps.push_back(Step{Step::Op::connect, 0, 0, ""});
  }
  for (uint32_t m = 0; m < shape.messages && shape.peers > 0; ++m) {
    PeerScript& p = s.peers[m % shape.peers];
    const uint64_t n = rng.between(1, shape.max_message);
    p.steps.push_back(Step{Step::Op::send, n, 0, ""});
    p.steps.push_back(Step{Step::Op::expect, n, 0, ""});
  }
  for (PeerScript& p : s.peers) p.steps.push_back(Step{Step::Op::close, 0, 0, ""});
  return s;
}

Case echo_case(uint64_t seed, const FaultPlan& faults, const EchoShape& shape) {
  Case c;
  c.kit_version = std::string(build_kit_version());
  c.scenario = echo_scenario(seed, shape);
  c.seed = seed;
  c.faults = faults;
  return c;
}

}  // namespace edgecase
