// The benchmark program's entry point: Google Benchmark's own main (flags such as
// --benchmark_filter, --benchmark_repetitions). The benchmarks register themselves in
// step.cc, scale.cc and memory.cc. Live benchmarks drive real sockets: SIGPIPE is ignored
// first (edgecase::ignore_sigpipe).
#include <benchmark/benchmark.h>

#include "edgecase/runner.h"

int main(int argc, char** argv) {
  edgecase::ignore_sigpipe();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
