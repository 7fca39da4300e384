// A correct libuv echo server (posix/libuv/echo_correct.c: SIGPIPE ignored, uv_shutdown once
// the queued writes are done, then uv_close) on Debian's static libuv, through the interposition
// layer, label posix (posix/README.md, "libuv"): issue 11, item 11. 1,000 generated echo cases
// with every fault on in every case in the simulation, and 50 on live loopback sockets with
// every fault on too: no violation at all, no run the kit cannot decide, no case error.
// What that took in the kit:
//   - live quiescence counts a connection the handler closed while its peer still waits to
//     read (harness/live_run.cc, bytes_in_flight_to_readers): the kernel still owes that peer
//     the rest of the reply and the FIN, so the run is not stalled (it was a false `stall`:
//     without it, 3 of libuv_echo_test.cc's 50 live runs end so).
//   - libuv's EMFILE trick (src/unix/stream.c, uv__emfile_trick: out of fds, it accepts and
//     closes every waiting connection unread) is load shedding, not a cut-off reply: a
//     connection accepted while the handler was out of fds and closed before any read of it
//     is not judged a cut-off (docs/ORACLES.md, "Shed at the fd limit"); before, each was a
//     false `stream-corrupt` under the fd-limit fault (tests/unit/oracle_test.cc, "a
//     connection shed unread at the fd limit is no cut-off reply").
//   - open goes through the Kernel (kernel_calls.def, `open`): live, libuv's spare fd on
//     "/dev/null" and "/" is the run's own, so live runs take the fd-limit fault too (before,
//     its close was bad-fd and the live runs left fd-limit out).
#include <catch2/catch.hpp>

#include <chrono>
#include <map>
#include <set>
#include <string>

#include "edgecase/gen.h"
#include "edgecase/posix.h"
#include "edgecase/scenario.h"
#include "props/hunt.h"

extern "C" int edgecase_entry_libuv_echo_correct(int argc, char** argv);

using namespace edgecase;

namespace {
constexpr uint16_t kPort = 7000;        // echo_correct.c's DEFAULT_PORT
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

HuntOptions every_case(uint64_t cases, Backend backend, Tally& tally) {
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

// Generated echo cases for libuv_echo on port 7000, every fault on in every case (edgecase
// check --faults all).
GenOptions echo_cases() {
  GenOptions g;
  g.handler = "libuv_echo_correct";
  g.port = kPort;
  g.every_fault = true;
  return g;
}

HuntResult run(const GenOptions& g, uint64_t cases, Backend backend, Tally& t) {
  const auto t0 = std::chrono::steady_clock::now();
  const HuntResult r =
      hunt(*builtin_protocol("echo"), g, every_case(cases, backend, t),
           posix::make_handler("libuv_echo_correct", edgecase_entry_libuv_echo_correct,
                               posix::options_for(backend)));
  std::string oracles;
  for (const auto& [name, n] : t.oracles) oracles += " " + name + " x" + std::to_string(n);
  WARN("libuv correct echo on " << (backend == Backend::live ? "live" : "sim") << ": " << r.generated
       << " generated cases in "
       << std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count()
       << " s: " << t.clean << " clean, " << t.violating << " violating, " << t.undecided
       << " undecided, " << t.case_errors << " case errors; violations:" << oracles);
  return r;
}

// Every case ran and was decided, and nothing but the server's known bugs fired.
void check_no_false_alarm(const Tally& t, const HuntResult& r, uint64_t cases) {
  INFO(t.first_unexpected);
  CHECK(r.out_of_time.empty());
  CHECK(r.generated == cases);
  CHECK(t.first_unexpected.empty());
  CHECK(t.undecided == 0);
  CHECK(t.case_errors == 0);
  CHECK(t.clean + t.violating == cases);
}
}  // namespace


// Nothing is expected: any violation is a false alarm or a bug of the server's.
const std::set<std::string> kNone;

TEST_CASE("posix: libuv correct echo: 1000 generated cases with every fault on (sim)",
          "[posix][libuv]") {
  Tally t{kNone};
  const HuntResult r = run(echo_cases(), kSimCases, Backend::sim, t);
  check_no_false_alarm(t, r, kSimCases);
  CHECK(t.violating == 0);
  CHECK(t.clean == kSimCases);
}

TEST_CASE("posix: libuv correct echo: 50 generated cases with every fault on (live)",
          "[posix][libuv][live]") {
  Tally t{kNone};
  const HuntResult r = run(echo_cases(), kLiveCases, Backend::live, t);
  check_no_false_alarm(t, r, kLiveCases);
  CHECK(t.violating == 0);
  CHECK(t.clean == kLiveCases);
}
