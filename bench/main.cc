// The benchmark program's entry point: Google Benchmark's own main (flags such as
// --benchmark_filter, --benchmark_repetitions). The benchmarks register themselves in
// step.cc, scale.cc and memory.cc.
#include <benchmark/benchmark.h>

BENCHMARK_MAIN();
