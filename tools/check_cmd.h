// `edgecase check`: generated cases against one handler, on the simulation or on live sockets,
// with a summary on standard output, a case file per finding, and reports for CI (JUnit XML,
// JSON). Exit 0 clean, 1 found, 2 usage or input error, 3 undecided (a limit of the kit's
// ended runs or the whole check, and nothing was found).
#pragma once

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>

#include "tools/so_handler.h"

namespace edgecase::tools {

struct CheckOptions {
  // Generated cases a check runs unless --cases says otherwise: what the README's example and a
  // CI job run in a few seconds on the simulation.
  static constexpr uint64_t kDefaultCases = 200;
  // The most cases one check may be asked for; a larger hunt is several checks over seed ranges
  // (--seed), as the nightly workflow's matrix does.
  static constexpr uint64_t kMaxCases = 10'000'000;
  // Generated cases per JUnit testcase of clean runs.
  static constexpr uint64_t kJunitBatch = 100;
  // A long check prints a progress line on standard error at most this often.
  static constexpr std::chrono::milliseconds kProgressEvery{1000};
  // The whole check's wall-clock budget, in seconds, unless --time-limit says otherwise.
  static constexpr double kDefaultTimeLimit = 600;

  std::string handler;          // a built-in handler's name
  SharedObject so;              // or a handler's shared object (--so, --entry, --arg)
  std::string backend = "sim";  // sim or live
  uint64_t cases = kDefaultCases;
  uint64_t seed = 1;            // the first generated seed
  std::string faults = "swarm"; // none, swarm, all, or a comma-separated list of fault names
  std::string protocol;         // empty: the handler's own (hello for seed000*, else echo)
  int port = -1;                // -1: the handler's own port, or the kit's default (--so: required)
  double time_limit = kDefaultTimeLimit;
  std::string out_dir;          // a case file per finding
  std::string trace_path;       // the full trace of the first finding's smallest case (sim)
  std::string junit_path;
  std::string json_path;
  bool timeline = false;        // a timeline (.html) beside each case file (sim, with --out)
  bool perfetto = false;        // and the run in the Chrome trace event format (.json)
  bool quiet = false;           // no progress lines
  bool list = false;            // print the built-in handlers and the fault names, then exit

  CLI::App* command = nullptr;
  void add_to(CLI::App& app);
};

// Runs the check the options describe; the exit code above. Input errors are reported on
// standard error before anything runs.
int run_check(const CheckOptions& options, std::FILE* out);

}  // namespace edgecase::tools
