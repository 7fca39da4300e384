#include "harness/replay.h"

#include <algorithm>
#include <fmt/format.h>

#include "harness/sim_run.h"

namespace edgecase {

std::string TraceDifference::message() const {
  auto show = [](const std::optional<std::string>& s) {
    return s ? *s : std::string("(end of trace)");
  };
  return fmt::format("trace differs at line {}:\n  expected: {}\n  actual:   {}", line,
                     show(expected), show(actual));
}

std::optional<TraceDifference> compare_traces(const std::vector<std::string>& expected,
                                              const std::vector<std::string>& actual) {
  const size_t common = std::min(expected.size(), actual.size());
  for (size_t i = 0; i < common; ++i)
    if (expected[i] != actual[i]) return TraceDifference{i + 1, expected[i], actual[i]};
  if (expected.size() == actual.size()) return std::nullopt;
  TraceDifference d;
  d.line = common + 1;
  if (common < expected.size()) d.expected = expected[common];
  if (common < actual.size()) d.actual = actual[common];
  return d;
}

std::vector<std::string> trace_of(const Case& c, const HandlerRegistry& handlers) {
  SimRun run(c, SimRunOptions{.keep_trace = true});
  run.run(handlers);
  return run.world().trace().all();
}

TraceSummary trace_summary(const Case& c, const HandlerRegistry& handlers) {
  SimRun run(c);
  run.run(handlers);
  return {run.world().trace().hash(), run.world().trace().count()};
}

}  // namespace edgecase
