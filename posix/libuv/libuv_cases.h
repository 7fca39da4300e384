// What the libuv echo servers' tests share (libuv_echo_test.cc: the published example;
// libuv_correct_test.cc: a correct server): generated echo cases on port 7000 with every fault
// on, run through the interposition layer, each report counted (HuntOptions::on_case).
#pragma once

#include <catch2/catch.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <set>
#include <string>

#include "edgecase/gen.h"
#include "edgecase/posix.h"
#include "edgecase/scenario.h"
#include "props/hunt.h"

namespace edgecase::libuv_cases {

constexpr uint16_t kPort = 7000;        // both servers' DEFAULT_PORT
constexpr uint64_t kSimCases = 1000;    // issue 11, item 11
constexpr uint64_t kLiveCases = 50;
constexpr uint64_t kFirstSeed = 1;

// What the runs came to (HuntOptions::on_case): runs per verdict, violations per oracle, and
// the first report with a violation outside `expected`, an undecided verdict or a case error.
struct Tally {
  explicit Tally(const std::set<std::string>& oracles_expected) : expected(oracles_expected) {}
  const std::set<std::string>& expected;
  uint64_t clean = 0, violating = 0, undecided = 0, case_errors = 0;
  std::map<std::string, uint64_t> oracles;
  std::string first_unexpected;
  void count(const Report& r) {
    bool unexpected = !r.case_errors.empty() || !r.kit_limit.empty();
    for (const Violation& v : r.violations) {
      ++oracles[v.oracle];
      unexpected = unexpected || expected.count(v.oracle) == 0;
    }
    if (!r.case_errors.empty()) ++case_errors;
    else if (!r.violations.empty()) ++violating;
    else if (!r.kit_limit.empty()) ++undecided;
    else ++clean;
    if (unexpected && first_unexpected.empty()) first_unexpected = r.format();
  }
};

inline HuntOptions every_case(uint64_t cases, Backend backend, Tally& tally) {
  HuntOptions o;
  o.first_seed = kFirstSeed;
  o.seeds = cases;
  o.shrink = false;  // the counts are the point; a surprise is reported as generated
  o.run.backend = backend;
  o.run.isolate = true;  // as edgecase check runs an outside handler
  o.run.trace = true;    // the first surprise's report carries its trace's tail
  o.on_case = [&tally](uint64_t, const Report& r) { tally.count(r); };
  return o;
}

// Generated echo cases for handler `name` on port 7000, every fault on in every case
// (edgecase check --faults all).
inline GenOptions echo_cases(const char* name) {
  GenOptions g;
  g.handler = name;
  g.port = kPort;
  g.every_fault = true;
  return g;
}

// Runs `cases` generated cases of `g` against the handler entered at `entry`, counting each.
inline HuntResult run(posix::Entry entry, const GenOptions& g, uint64_t cases, Backend backend,
                      Tally& t) {
  const auto t0 = std::chrono::steady_clock::now();
  const HuntResult r = hunt(*builtin_protocol("echo"), g, every_case(cases, backend, t),
                            posix::make_handler(g.handler, entry, posix::options_for(backend)));
  std::string oracles;
  for (const auto& [name, n] : t.oracles) oracles += " " + name + " x" + std::to_string(n);
  WARN(g.handler << " on " << (backend == Backend::live ? "live" : "sim") << ": " << r.generated
       << " generated cases in "
       << std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count()
       << " s: " << t.clean << " clean, " << t.violating << " violating, " << t.undecided
       << " undecided, " << t.case_errors << " case errors; violations:" << oracles);
  return r;
}

// Every case ran and was decided, and nothing but the server's known bugs fired.
inline void check_no_false_alarm(const Tally& t, const HuntResult& r, uint64_t cases) {
  INFO(t.first_unexpected);
  CHECK(r.out_of_time.empty());
  CHECK(r.generated == cases);
  CHECK(t.first_unexpected.empty());
  CHECK(t.undecided == 0);
  CHECK(t.case_errors == 0);
  CHECK(t.clean + t.violating == cases);
}
}  // namespace edgecase::libuv_cases
