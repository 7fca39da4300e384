// Issue 9 item 3: the kit's limits are the kit's. A run the wall-time limit or the isolation
// timeout ends is undecided, with the limit and the figure, and names no handler oracle.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <unistd.h>

#include "edgecase/runner.h"
#include "handlers/handlers.h"
#include "harness/generate.h"
#include "props/hunt.h"

namespace edgecase {
namespace {

// Enough work that the world checks its wall clock many times (every 1,024 calls and events).
Case long_case() {
  return echo_case(5, FaultPlan::none(),
                   EchoShape{.peers = 2, .messages = 8, .max_message = 1 << 20});
}

void require_undecided(const Report& r, std::string_view limit_words) {
  INFO(r.format());
  CHECK(r.violations.empty());
  CHECK_FALSE(r.clean());
  CHECK(r.case_errors.empty());
  CHECK(r.kit_limit.find(limit_words) != std::string::npos);
  CHECK(r.ending.find(limit_words) != std::string::npos);
  REQUIRE_FALSE(r.undecided.empty());
  CHECK(r.undecided.back().find(limit_words) != std::string::npos);
  CHECK(r.format().find("UNDECIDED") != std::string::npos);
}

TEST_CASE("kit limits: a sim run past a tiny wall-time limit is undecided", "[runner][limits]") {
  RunOptions o;
  o.handlers = &edgecase::handlers::builtins();
  o.wall_time_limit = 1;  // 1 ns: the first check ends the run
  require_undecided(run_case(long_case(), o), "wall-time limit (0.000 s)");
  o.isolate = true;
  require_undecided(run_case(long_case(), o), "wall-time limit");
}

TEST_CASE("kit limits: a live run past a tiny wall-time limit is undecided", "[runner][limits][live]") {
  RunOptions o;
  o.handlers = &edgecase::handlers::builtins();
  o.backend = Backend::live;
  o.wall_time_limit = 1;
  require_undecided(run_case(long_case(), o), "wall-time limit");
}

TEST_CASE("kit limits: the wall-time limit never changes a run that finishes within it",
          "[runner][limits]") {
  RunOptions none;
  none.handlers = &edgecase::handlers::builtins();
  none.wall_time_limit = 0;
  const Report a = run_case(long_case(), none);
  const Report b = run_case(long_case(), edgecase::handlers::with_builtins());
  CHECK(a.clean());
  CHECK(a.format() == b.format());
}

// A correct server moving many bytes is at work when the step budget runs out: the case
// outgrew the budget, which is the kit's limit, not a busy loop of the handler's.
TEST_CASE("kit limits: a step budget that runs out on a working handler is undecided",
          "[runner][limits]") {
  RunOptions o;
  o.handlers = &edgecase::handlers::builtins();
  o.step_budget = 200;  // far fewer calls than 2 x 8 messages of up to 1 MiB need
  for (const Backend b : {Backend::sim, Backend::live}) {
    o.backend = b;
    const Report r = run_case(long_case(), o);
    require_undecided(r, "step budget (200 calls) ran out while the handler was still at work");
    CHECK_FALSE(r.found(oracle::kBusyLoop));
  }
}

// The same budget on a handler that spins without progress stays the handler's busy-loop.
TEST_CASE("kit limits: a step budget that runs out on a spinning handler is a busy loop",
          "[runner][limits]") {
  RunOptions o;
  o.handlers = &edgecase::handlers::builtins();
  o.step_budget = 200;
  const Report r = run_case(
      [](Kernel& k) {
        int fds[2];
        REQUIRE(k.pipe2(fds, O_NONBLOCK) == 0);
        char c;
        for (;;) (void)k.read(fds[0], &c, 1);  // EAGAIN forever, never waits
      },
      long_case(), o);
  INFO(r.format());
  CHECK(r.found(oracle::kBusyLoop));
  CHECK(r.kit_limit.empty());
}

TEST_CASE("kit limits: the isolation timeout is undecided, not handler-blocked",
          "[runner][limits][isolate]") {
  RunOptions o;
  o.handlers = &edgecase::handlers::builtins();
  o.isolate = true;
  o.isolation_timeout = 300 * kNanosPerMilli;
  // Blocks outside the kit's calls, where no limit of the world's can stop it.
  const Report r = run_case([](Kernel&) { ::pause(); }, long_case(), o);
  require_undecided(r, "isolation timeout (0.300 s)");
  CHECK_FALSE(r.found(oracle::kHandlerBlocked));
}

}  // namespace
}  // namespace edgecase

namespace edgecase {
namespace {

TEST_CASE("kit limits: a hunt stops at its time budget and says so", "[search][limits]") {
  HuntOptions o;
  o.run.handlers = &edgecase::handlers::builtins();
  o.seeds = 1'000'000;  // far more than any budget here lets run
  o.run.trace = false;
  o.time_budget = 1;  // 1 ns: spent before the second case
  const HuntResult r = hunt("echo", "echo", Scenario::kDefaultPort, o);
  INFO(r.out_of_time);
  CHECK(r.generated <= 1);
  CHECK(r.out_of_time.find("time budget") != std::string::npos);
  HuntOptions unbounded = o;
  unbounded.seeds = 3;
  unbounded.time_budget = 0;
  const HuntResult all = hunt("echo", "echo", Scenario::kDefaultPort, unbounded);
  CHECK(all.generated == 3);
  CHECK(all.out_of_time.empty());
}

}  // namespace
}  // namespace edgecase
