// `edgecase demo`: the kit against every seed server and every fixed version, on the simulated
// world and on live sockets, as one table (docs/DEMO.md).
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>

#include "edgecase/scenario.h"

namespace edgecase::tools {

struct DemoOptions {
  // Generated cases per buggy server (the hunt stops early once every expected bug is found).
  static constexpr uint64_t kDefaultSeeds = 300;
  // Generated cases every fixed version must pass, in the simulation and on live sockets.
  static constexpr uint64_t kDefaultFixedSim = 1000;
  static constexpr uint64_t kDefaultFixedLive = 20;
  // A live run that takes longer (slow readers read in real time) is undecided, not failed.
  static constexpr Nanos kLiveTimeLimit = 1'000 * kNanosPerMilli;

  uint64_t seeds = kDefaultSeeds;
  uint64_t fixed_sim = kDefaultFixedSim;
  uint64_t fixed_live = kDefaultFixedLive;
  bool live = true;
  std::string out_dir = "edgecase-demo";  // case files are written here
  bool verbose = false;                    // print each finding's full report
};

// Prints the table to `out`. Returns 0 when every reachable seed bug was found and every fixed
// version is clean, 1 otherwise.
int run_demo(const DemoOptions& options, std::FILE* out);

}  // namespace edgecase::tools
