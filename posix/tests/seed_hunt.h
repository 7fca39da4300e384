// What the seed servers' tests (posix/tests/seed00N_test.cc) share: the hunt as the ports'
// (tests/seeds/seeds_test.cc) runs it, and the check that each target was found.
#pragma once

#include <catch2/catch.hpp>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "edgecase/runner.h"
#include "props/hunt.h"

namespace edgecase::seed_hunt {

// Generated cases, isolated runs, a budget that ends a spinning handler early, a bounded
// shrink: as the port's hunt.
constexpr uint64_t kHuntSeeds = 1500;
constexpr uint64_t kShrinkRuns = 150;
constexpr uint64_t kStepBudget = 20'000;

inline HuntOptions options(std::vector<std::string> targets) {
  HuntOptions o;
  o.seeds = kHuntSeeds;
  o.targets = std::move(targets);
  o.max_shrink_runs = kShrinkRuns;
  o.run.isolate = true;
  o.run.trace = false;
  o.run.step_budget = kStepBudget;
  return o;
}

// Hunts `handler` (named `name` in case files) for o.targets on `port`, warns what it saw as
// `label`, and checks every target was found by its oracle, not stopped by the layer.
inline HuntResult hunt_targets(const std::string& name, const std::string& label, uint16_t port,
                               const HuntOptions& o, const Handler& handler) {
  const auto t0 = std::chrono::steady_clock::now();
  const HuntResult r = hunt(name, "echo", port, o, handler);
  std::string seen;
  for (const auto& [oracle, n] : r.seen) seen += " " + oracle + " x" + std::to_string(n);
  WARN(label << ": " << r.generated << " generated cases, " << r.runs << " runs, "
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
  return r;
}

}  // namespace edgecase::seed_hunt
