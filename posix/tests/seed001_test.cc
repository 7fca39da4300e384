// Seed 001 compiled from its original text (posix/seeds/001_server.cc, main renamed on the
// command line, its missing #includes and ERR_EXIT in seeds/001_prelude.h, force-included)
// through the interposition layer, label posix: its std::cout output reaches the run's log (the
// Scope routes the standard streams), and the hunt finds the bugs the port's hunt finds
// (tests/seeds/seeds_test.cc, "001's bugs") and SIGPIPE, which the port cannot show.
#include <catch2/catch.hpp>

#include <chrono>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>

#include "edgecase/gen.h"
#include "edgecase/posix.h"
#include "edgecase/sim_kernel.h"
#include "posix/tests/seed_hunt.h"
#include "props/hunt.h"

extern "C" int edgecase_entry_seed001_original(int argc, char** argv);

using namespace edgecase;

#if defined(__SANITIZE_ADDRESS__)
#define EDGECASE_SEED001_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define EDGECASE_SEED001_ASAN 1
#endif
#endif
#ifndef EDGECASE_SEED001_ASAN
#define EDGECASE_SEED001_ASAN 0
#endif

namespace {
constexpr bool kAsan = EDGECASE_SEED001_ASAN != 0;
// As the port's hunt (tests/seeds/seeds_test.cc): generated cases, isolated runs (the seed
// overflows a stack buffer), a budget that ends a spinning handler early, a bounded shrink.
using seed_hunt::kStepBudget;
constexpr uint16_t kPort = 6667;  // the seed's htons(6667)

Handler original(posix::HandlerOptions o = {}) {
  return posix::make_handler("seed001", edgecase_entry_seed001_original, std::move(o));
}
}  // namespace

// libstdc++ writes std::cout from its shared library, past --wrap: without the Scope's routing
// the seed's output would go to the test's real stdout and the log would stay empty.
TEST_CASE("posix: std::cout, std::cerr and std::clog go to the session's log in a scope",
          "[posix][seed001]") {
  SimKernel sim;
  std::string out, err;
  posix::SessionOptions so;
  so.log = [&out, &err](int fd, std::string_view bytes) { (fd == 1 ? out : err) += bytes; };
  std::streambuf* const before = std::cout.rdbuf();
  {
    const posix::Scope scope(sim, so);
    CHECK(std::cout.rdbuf() != before);
    std::cout << std::hex << 255 << std::endl;
    std::cerr << "e";
    std::clog << "c";
    std::string in = "untouched";
    std::cin >> in;  // an empty stdin: end of file, nothing read
    CHECK(in == "untouched");
    CHECK(std::cin.eof());
  }
  CHECK(out == "ff\n");
  CHECK(err == "ec");
  // The kit's streams are back as they were: buffer, format flags, state.
  CHECK(std::cout.rdbuf() == before);
  CHECK((std::cout.flags() & std::ios::basefield) == std::ios::dec);
  CHECK_FALSE(std::cin.eof());
}

TEST_CASE("posix: seed 001 as published: its std::cout output is the run's log",
          "[posix][seed001]") {
  auto log = std::make_shared<std::string>();
  posix::HandlerOptions ho;
  ho.session.log = [log](int fd, std::string_view bytes) {
    if (fd == 1) *log += bytes;
  };
  GenOptions g;
  g.handler = "seed001";
  g.port = kPort;
  g.faults = false;
  const Case c = case_from_seed(*builtin_protocol("echo"), g, 1).value();
  RunOptions ro;
  ro.step_budget = kStepBudget;
  const Report rep = run_case(original(ho), c, ro);
  INFO(rep.format() << "\nlog:\n" << *log);
  CHECK(rep.kit_limit.empty());
  // Its open("/dev/null") is the layer's F_DUPFD of the model's fd 0: not bad-fd (a process
  // owns its fds 0-2), nothing else found in this case either.
  CHECK(rep.violations.empty());
  // The seed's first line: its open("/dev/null") is the model's /dev/null, fd 3 (the lowest
  // free one, before the listener), as in the port.
  CHECK(log->rfind("idlefd3\n", 0) == 0);
  CHECK(log->find("ip=127.0.0.1 port=") != std::string::npos);  // inet_ntoa of the peer
}

TEST_CASE("posix: seed 001 as published: the hunt finds the port's bugs",
          "[posix][seed001][live]") {
  // The port's three (tests/seeds/seeds_test.cc, builds without AddressSanitizer): the write
  // loop's restart at offset 0 (stream-corrupt), strcpy of >= 1024 bytes into buf[1024]
  // (handler-crashed), read() == 0 closing before the echo (reply-lost-after-half-close); and
  // one the port cannot show: write() without MSG_NOSIGNAL to a peer that reset, with SIGPIPE
  // at its default disposition, kills the published server.
  HuntOptions o = seed_hunt::options({"stream-corrupt", "handler-crashed", "killed-by-sigpipe"});
  // Under AddressSanitizer, string(buf) on the unterminated 1024-byte buffer that the half-close
  // bug needs crashes first (the port's hunt, tests/seeds/seeds_test.cc, says the same): there
  // the half-close bug and its live run are left to the builds without it (CI's clang++ build).
  if (!kAsan) o.targets.push_back("reply-lost-after-half-close");
  // The counts in `seen` vary a little from run to run (handler-crashed 68 or 69 of the first
  // 129 cases): after strcpy overflows buf, what the server does depends on the stack bytes it
  // overwrote, addresses ASLR moves. The targets are found in every run (10 of 10 here).
  const HuntResult r =
      seed_hunt::hunt_targets("seed001", "seed001 (original text)", kPort, o, original());
  // Live: the smallest half-close case runs on loopback sockets with the same compiled seed
  // (isolated: it overflows a stack buffer). (The SIGPIPE case's smallest keeps short writes
  // and EINTR, which are not injected live.) Live, what the overflowed server does next depends on the stack bytes it overwrote, which
  // the kit's own frames left there (they change with the kit's code; forks of one process
  // share its ASLR layout, so a retry would not help): with this build it loses the reply in
  // about four processes of five and crashes or writes stack bytes first in the fifth, each a
  // finding of its own. The bug is found live either way; the report names what came first.
  if (kAsan) {
    WARN("seed001: reply-lost-after-half-close is hunted in builds without AddressSanitizer "
         "(the crash masks it)");
    return;
  }
  RunOptions ro;
  ro.backend = Backend::live;
  ro.isolate = true;
  const Report live = run_case(original(posix::options_for(Backend::live)),
                               r.find("reply-lost-after-half-close")->smallest, ro);
  INFO("live\n" << live.format());
  WARN("seed001 live, the half-close case: reply-lost-after-half-close "
       << (live.found("reply-lost-after-half-close") ? "found" : "not found") << "; "
       << live.violations.size() << " violations, ending: " << live.ending);
  CHECK(!live.violations.empty());
  CHECK(live.kit_limit.empty());
}
