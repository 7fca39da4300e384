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

#include <set>
#include <string>

#include "posix/libuv/libuv_cases.h"

extern "C" int edgecase_entry_libuv_echo_correct(int argc, char** argv);

using namespace edgecase;
using namespace edgecase::libuv_cases;

namespace {
// Nothing is expected: any violation is a false alarm or a bug of the server's.
const std::set<std::string> kNone;
}  // namespace

TEST_CASE("posix: libuv correct echo: 1000 generated cases with every fault on (sim)",
          "[posix][libuv]") {
  Tally t{kNone};
  const HuntResult r = run(edgecase_entry_libuv_echo_correct, echo_cases("libuv_echo_correct"),
                           kSimCases, Backend::sim, t);
  check_no_false_alarm(t, r, kSimCases);
  CHECK(t.violating == 0);
  CHECK(t.clean == kSimCases);
}

TEST_CASE("posix: libuv correct echo: 50 generated cases with every fault on (live)",
          "[posix][libuv][live]") {
  Tally t{kNone};
  const HuntResult r = run(edgecase_entry_libuv_echo_correct, echo_cases("libuv_echo_correct"),
                           kLiveCases, Backend::live, t);
  check_no_false_alarm(t, r, kLiveCases);
  CHECK(t.violating == 0);
  CHECK(t.clean == kLiveCases);
}
