// A property for your own server: generated cases (edgecase/gen.h) run against your handler
// on the simulation under rapidcheck, shrunk to the smallest failing case when one fails.
//
//   #include <catch2/catch.hpp>
//   #include "edgecase/property.h"
//
//   TEST_CASE("my server survives any conversation") {
//     edgecase::PropertyOptions o;
//     o.gen.handler = "my_server";   // the name case files give it
//     o.gen.port = 8080;             // where my_server listens
//     CHECK(edgecase::check_server(my_server, edgecase::echo_protocol(), o));
//   }
//
// On failure it prints the minimal case's report (violations, evidence, the trace's tail),
// rapidcheck's reproduce string, and writes the case file (PropertyOptions::case_dir) that
// `EDGECASE_REPLAY=FILE ./your_tests` (or `edgecase replay` for the kit's own handlers)
// replays. With `confirm_live`, the minimal case also runs on live loopback sockets.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "edgecase/gen.h"
#include "edgecase/report.h"
#include "edgecase/runner.h"

namespace edgecase {

struct PropertyOptions {
  GenOptions gen;           // the handler's name and port, the cases' shape
  RunOptions run;           // backend sim; isolate for a handler that may crash
  // Cases and seed: 0 takes rapidcheck's (RC_PARAMS max_success, seed; 100 and random by
  // default). A fixed seed makes the run reproducible in CI.
  int cases = 0;
  uint64_t seed = 0;
  bool confirm_live = false;  // run the minimal failing case once on live sockets
  std::string case_dir = ".";  // where the failing case's file is written ("": not written)
  bool verbose = true;         // print the failure (report, reproduce string, case file)
};

struct PropertyResult {
  bool passed = true;
  int cases = 0;           // cases run before the verdict (not counting shrinking)
  Case minimal;            // the smallest failing case (when !passed)
  Report report;           // its report, traced
  std::optional<Report> live;  // its report on live sockets (confirm_live)
  std::string reproduce;   // rapidcheck's reproduce string: RC_PARAMS="reproduce=..."
  std::string case_file;   // the path written, or ""
  explicit operator bool() const { return passed; }
};

// Runs the property "every generated case passes every oracle" for `handler` speaking
// `protocol`. Replays the case file named by the environment variable EDGECASE_REPLAY instead,
// when it is set and names this handler (GenOptions::handler): the documented way to replay a
// case whose handler lives in your own test binary.
PropertyResult check_server(const Handler& handler, const Protocol& protocol,
                            const PropertyOptions& options = {});

// The environment variable check_server replays from.
inline constexpr std::string_view kReplayEnv = "EDGECASE_REPLAY";

}  // namespace edgecase
