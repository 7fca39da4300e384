// (h) Timelines (issue 12): what drawing a run costs next to running it. One echo case with
// every fault on and many peers (a large run: tens of thousands of trace lines), run with its
// whole trace kept (record_timeline), then read into lanes and written as the HTML page and as
// the Perfetto JSON. items_per_second is trace lines per second; bytes_per_line the file's size
// per trace line. docs/PERFORMANCE.md (h) compares the four in one run.
#include <cstdint>
#include <string>

#include "bench/common.h"
#include "edgecase/timeline.h"
#include "handlers/handlers.h"
#include "harness/generate.h"
#include "harness/timeline_model.h"

namespace edgecase::bench {
namespace {

constexpr uint64_t kSeed = 7;
constexpr uint32_t kAllFaultsPerMille = 200;
// The large run: 32 peers, 2,048 messages of up to 4 KiB over them all.
constexpr EchoShape kShape{32, 2048, 4096, 1 * kNanosPerMilli};

const Case& big_case() {
  static const Case c = echo_case(kSeed, FaultPlan::all(kAllFaultsPerMille), kShape);
  return c;
}

Timeline record() {
  RunOptions o;
  o.handlers = &handlers::builtins();
  return record_timeline(big_case(), o);
}

void report_lines(benchmark::State& state, size_t lines, size_t bytes) {
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * lines));
  state.counters["lines"] = static_cast<double>(lines);
  if (bytes > 0) state.counters["bytes_per_line"] = static_cast<double>(bytes) / lines;
}

// The run itself, keeping every line: the baseline the drawing is compared with.
void timeline_record(benchmark::State& state) {
  size_t lines = 0;
  for (auto _ : state) {
    const Timeline t = record();
    lines = t.trace.size();
    benchmark::DoNotOptimize(t.trace.data());
  }
  report_lines(state, lines, 0);
}

void timeline_model(benchmark::State& state) {
  const Timeline t = record();
  for (auto _ : state) {
    const timeline::Model m = timeline::build_model(t.trace);
    benchmark::DoNotOptimize(m.marks.data());
  }
  report_lines(state, t.trace.size(), 0);
}

void timeline_page(benchmark::State& state) {
  const Timeline t = record();
  size_t bytes = 0;
  for (auto _ : state) {
    const std::string page = timeline_html(t);
    bytes = page.size();
    benchmark::DoNotOptimize(page.data());
  }
  report_lines(state, t.trace.size(), bytes);
}

void timeline_json(benchmark::State& state) {
  const Timeline t = record();
  size_t bytes = 0;
  for (auto _ : state) {
    const std::string json = timeline_perfetto(t);
    bytes = json.size();
    benchmark::DoNotOptimize(json.data());
  }
  report_lines(state, t.trace.size(), bytes);
}

BENCHMARK(timeline_record)->Unit(benchmark::kMillisecond);
BENCHMARK(timeline_model)->Unit(benchmark::kMillisecond);
BENCHMARK(timeline_page)->Unit(benchmark::kMillisecond);
BENCHMARK(timeline_json)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace edgecase::bench
