// Hunting bugs: generated cases (case_from_seed, edgecase/gen.h) run against a handler until
// the oracles fire, then each failing case shrunk by rapidcheck to a local minimum that still
// makes the same oracle fire.
//
// Generation is a pure function of (protocol, options, seed): the scenario (peers, their kinds,
// requests, starts) and the fault plan both come from the seed, so any case found is a seed away
// from being found again, and its case file replays it exactly.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "edgecase/case_file.h"
#include "edgecase/gen.h"
#include "edgecase/report.h"
#include "edgecase/runner.h"

namespace edgecase {

// The size of a case, for "smallest": peers, steps and payload bytes, compared in that order.
struct CaseSize {
  size_t peers = 0;
  size_t steps = 0;
  uint64_t bytes = 0;
  size_t faults = 0;  // faults that can fire (on, with a probability above 0)
  auto operator<=>(const CaseSize&) const = default;
};
CaseSize case_size(const Case& c);

struct HuntOptions {
  uint64_t first_seed = 1;
  uint64_t seeds = 200;          // cases to generate
  RunOptions run;                // backend sim; isolate for handlers that may crash
  bool shrink = true;
  uint64_t max_shrink_runs = 400;  // runs the shrinker may spend per oracle found
  bool stop_at_first = false;    // stop after the first failing case (tests of one oracle)
  // Oracles worth a finding: others are counted in HuntResult::seen but neither shrunk nor
  // reported, and the hunt stops once every target was found. Empty: every oracle.
  std::vector<std::string> targets;
  // The kit's limit on the whole hunt, in wall-clock time (0: none): no case is generated and
  // no shrink run is made once it is spent; HuntResult::out_of_time then says so. Only ever
  // stops the hunt: the runs it makes are the same as without it.
  Nanos time_budget = kDefaultTimeBudget;
  static constexpr Nanos kDefaultTimeBudget = 600'000 * kNanosPerMilli;
  // Called after each generated case has run (shrink runs are not generated cases), with the
  // number run so far and the case's report: a caller's progress line and its own counts
  // (undecided runs, cases that cannot run). It only watches: the hunt is the same without it.
  std::function<void(uint64_t generated, const Report& report)> on_case;
};

struct Finding {
  std::string oracle;   // the oracle this case makes fire
  Case smallest;        // the smallest case found that still makes it fire
  Report report;        // its report
  uint64_t seed = 0;    // the generated seed that first found it
  uint64_t runs = 0;    // runs spent: generation up to it, plus shrinking
  uint64_t generated = 0;    // generated cases run up to and including the one that found it
  uint64_t shrink_runs = 0;  // runs the shrinker spent on it
  CaseSize first_size;       // the size of the generated case that found it
};

struct HuntResult {
  std::vector<Finding> findings;  // one per oracle found, in the order first found
  uint64_t runs = 0;              // all runs made
  uint64_t clean_runs = 0;        // generated cases that passed
  uint64_t generated = 0;         // generated cases run
  // Every oracle any generated case made fire, with the number of cases, in the order first
  // seen (targets or not).
  std::vector<std::pair<std::string, uint64_t>> seen;
  // Not empty when the time budget ended the hunt early, e.g. "the time budget (600.000 s) ran
  // out after 312 generated cases": the hunt is undecided past that point, not clean.
  std::string out_of_time;
  // A finding for `oracle`, or nullptr.
  const Finding* find(std::string_view oracle) const;
};

// Runs case_from_seed(protocol, gen, seed) for the seeds of `options` against the handler the
// cases name (handlers/registry, gen.handler) or `handler`, checked with protocol.checker
// unless options.run names a checker.
HuntResult hunt(const Protocol& protocol, const GenOptions& gen, const HuntOptions& options,
                const Handler& handler = {});
// The same for a built-in protocol by name ("echo", "line", "hello"; std::invalid_argument if
// unknown), the cases named for `handler_name` listening on `port`.
HuntResult hunt(std::string_view handler_name, std::string_view protocol, uint16_t port,
                const HuntOptions& options, const Handler& handler = {});

}  // namespace edgecase
