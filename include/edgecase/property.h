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
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "edgecase/gen.h"
#include "edgecase/report.h"
#include "edgecase/runner.h"

namespace edgecase {

struct PropertyOptions {
  // Runs rapidcheck's shrinking may spend on a failure: each is one run of the handler, and
  // an isolated run under AddressSanitizer costs ~0.1 s. Past it every further shrink is
  // rejected unrun, so the smallest case so far is the minimal one.
  static constexpr uint64_t kDefaultShrinkRuns = 500;

  GenOptions gen;           // the handler's name and port, the cases' shape
  // backend sim; isolate for a handler that may crash. Generated cases and shrinks run
  // untraced (trace is ignored: several times faster); the minimal case runs again traced.
  RunOptions run;
  // Cases and seed: 0 takes rapidcheck's (RC_PARAMS max_success, seed; 100 and random by
  // default). A fixed seed makes the run reproducible in CI.
  int cases = 0;
  uint64_t seed = 0;
  uint64_t max_shrink_runs = kDefaultShrinkRuns;  // 0: no limit
  // rapidcheck ramps its size from 0 to 100 over the first 100 cases, small cases first. An
  // event loop's deeper bugs need large cases (two requests in one segment, a read that fills
  // a 1 KiB buffer and then EOF), which the ramp reaches only late: over the seed servers'
  // bugs, cases until found had medians up to 500 on the ramp and up to 77 at full size
  // (docs/PROPERTIES.md). So every case is drawn at full size (gen.h kFullSize), as the hunt
  // draws them; false: rapidcheck's ramp. Shrinking is the same either way.
  bool full_size = true;
  // Oracles to look past: a case whose every violation is of one of these counts as a pass
  // (or as undecided, as a clean run would), and a case failing with others fails with the
  // first one not listed. For a server whose shallow bug every case trips, so that a property
  // can find the next bug while the first is being fixed. A crash or a sanitizer's report is
  // "handler-crashed", ignored only if listed (the run ends there: bugs after it are unseen).
  std::vector<std::string> ignore;
  bool confirm_live = false;  // run the minimal failing case once on live sockets
  std::string case_dir = ".";  // where the failing case's file is written ("": not written)
  bool verbose = true;         // print the verdict (on failure: report, reproduce string, file)
  // What the printed replay command (`EDGECASE_REPLAY=FILE BINARY ...`) puts after the binary:
  // the test's name for a Catch2 binary of several tests; empty for a binary that runs this
  // one check and nothing else (edgecase_add_handler's NAME_test).
  std::string replay_test_name = "[your test's name]";
};

struct PropertyResult {
  bool passed = true;
  int cases = 0;           // cases run before the verdict (not counting shrinking)
  // The oracle the property failed with: the minimal case's first violation not in
  // PropertyOptions::ignore (the report may list ignored ones before it). "" when it passed.
  std::string oracle;
  uint64_t shrink_runs = 0;  // runs spent shrinking
  // The cases that reached each edge, by stats_tags name ("short-read", "eagain", ...):
  // the generated cases only (not the shrinks), failing one included.
  std::map<std::string, int> tags;
  Case minimal;            // the smallest failing case (when !passed)
  Report report;           // its report, traced
  std::optional<Report> live;  // its report on live sockets (confirm_live)
  std::string reproduce;   // rapidcheck's reproduce string: RC_PARAMS="reproduce=..."
  std::string case_file;   // the path written (or replayed), or ""
  bool replayed = false;   // the case came from EDGECASE_REPLAY, not from the generator
  // The generated cases discarded, by reason: the kit's limit that ended the run, or why the
  // case could not run (a port the handler never listened on, a peer's own failure).
  std::map<std::string, int> undecided;
  // Why no verdict could be reached (an unreadable EDGECASE_REPLAY file, a rapidcheck
  // error); passed is false then. Empty otherwise.
  std::string error;
  explicit operator bool() const { return passed; }
};

// Runs the property "every generated case passes every oracle" for `handler` speaking
// `protocol`, under rapidcheck's test loop (its property id is "check_server HANDLER
// PROTOCOL": RC_PARAMS="reproduce=..." replays a failure of the call with that id). A failing
// case shrinks while it still shows the oracle it first failed with. A case the kit could not
// decide (a kit limit ended it, or a peer failed for reasons of its own) is discarded, not
// passed. Violations of PropertyOptions::ignore's oracles count as none.
//
// EDGECASE_REPLAY=FILE: when the file's handler and protocol are this call's
// (GenOptions::handler, protocol.name), the case is run (traced) instead of generated cases,
// and the result says whether it passes: the documented way to replay a case whose handler
// lives in your own test binary. Other calls run as usual (filter your tests to the one you
// replay). A file that cannot be read or parsed fails with `error` set; never throws for it.
PropertyResult check_server(const Handler& handler, const Protocol& protocol,
                            const PropertyOptions& options = {});

// The environment variable check_server replays from.
inline constexpr std::string_view kReplayEnv = "EDGECASE_REPLAY";

}  // namespace edgecase
