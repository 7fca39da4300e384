// Replay: a case's run is a pure function of the case, so running it again (on this build or
// another) must give the same trace, line for line.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "edgecase/case_file.h"
#include "edgecase/runner.h"

namespace edgecase {

// The first line where two traces differ.
struct TraceDifference {
  size_t line = 0;                  // 1-based
  std::optional<std::string> expected;  // nullopt: the expected trace had ended
  std::optional<std::string> actual;    // nullopt: the actual trace had ended
  std::string message() const;      // "trace differs at line 12:\n  expected: ...\n  actual:   ..."
};

// nullopt when the traces are identical.
std::optional<TraceDifference> compare_traces(const std::vector<std::string>& expected,
                                              const std::vector<std::string>& actual);

// Runs the case in the simulated world with its handler, named in `handlers`, and returns
// every trace line.
std::vector<std::string> trace_of(const Case& c, const HandlerRegistry& handlers);

// Runs the case with tracing and returns the trace's hash (Trace::hash) and line count.
struct TraceSummary {
  uint64_t hash = 0;
  uint64_t lines = 0;
  friend bool operator==(const TraceSummary&, const TraceSummary&) = default;
};
TraceSummary trace_summary(const Case& c, const HandlerRegistry& handlers);

}  // namespace edgecase
