// (e) Scenario runs per second: the standard 4-peer, 16-message echo case (harness/generate.h)
// with the reference echo handler, start to quiescence, world set-up and teardown included —
// with no faults and with every fault on, each with tracing off (only the run's results, as a
// search over seeds runs) and on (every line formatted and hashed, as a replay runs).
// items_per_second is runs per second (issue 3, item 12: at least 20,000).
#include <cstdint>
#include <string>
#include <vector>

#include "bench/common.h"
#include "handlers/handlers.h"
#include "harness/generate.h"
#include "harness/sim_run.h"

namespace edgecase::bench {
namespace {

// The seeds cycled through: enough that the figure is an average over scenarios (message
// sizes, start times, which faults fire), not one seed's; the cases are built before timing.
constexpr uint64_t kSeeds = 256;
// The all-faults probability, as `edgecase hashes --faults all` and the determinism tests use.
constexpr uint32_t kAllFaultsPerMille = 200;

void scenario_runs(benchmark::State& state) {
  const bool faults = state.range(0) != 0;
  const bool trace = state.range(1) != 0;
  std::vector<Case> cases;
  cases.reserve(kSeeds);
  for (uint64_t seed = 1; seed <= kSeeds; ++seed)
    cases.push_back(
        echo_case(seed, faults ? FaultPlan::all(kAllFaultsPerMille) : FaultPlan::none()));
  uint64_t i = 0;
  uint64_t handler_calls = 0;
  for (auto _ : state) {
    SimRun run(cases[i++ % kSeeds], SimRunOptions{.trace = trace});
    const sim::World::Result r = run.run(edgecase::handlers::builtins());
    // The echo handler is correct: every run must end with the world quiescent.
    if (r.outcome != sim::World::Outcome::stopped || r.stop->reason != Stop::Reason::quiescent) {
      state.SkipWithError("a run did not end quiescent");
      break;
    }
    handler_calls += run.world().steps();
    benchmark::DoNotOptimize(run.world().trace().hash());
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["calls_per_run"] =
      state.iterations() ? static_cast<double>(handler_calls) / state.iterations() : 0;
  state.SetLabel(std::string(faults ? "all faults" : "no faults") +
                 (trace ? ", trace on" : ", trace off"));
}
BENCHMARK(scenario_runs)
    ->ArgNames({"faults", "trace"})
    ->ArgsProduct({{0, 1}, {0, 1}})
    ->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace edgecase::bench
