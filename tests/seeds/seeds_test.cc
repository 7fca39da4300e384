// The seed servers' bugs found by the hunt (label `seeds`): for each bug of
// /work/shared/design/seed-bugs.md that a single-threaded run can reach, the hunt over generated
// cases (props/hunt.h, case_from_seed; no hand-written scenario) finds it and names the right oracle, and
// shrinks the case; every fixed version passes 1,000 generated cases with swarm faults in the
// simulation and 50 on live loopback sockets. docs/SEARCH.md has the figures.
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "handlers/handlers.h"
#include "props/hunt.h"

#if defined(__SANITIZE_ADDRESS__)
#define EDGECASE_SEEDS_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define EDGECASE_SEEDS_ASAN 1
#endif
#endif
#ifndef EDGECASE_SEEDS_ASAN
#define EDGECASE_SEEDS_ASAN 0
#endif

#if EDGECASE_SEEDS_ASAN
// The isolated runs' children crash by the hundred here (000's printf, 001's strcpy, 003's
// strlen): symbolizing each report's stack took half the label's time. The report still names
// the error and the frame's address; the oracle (handler-crashed) does not depend on it.
extern "C" const char* __asan_default_options() { return "symbolize=0"; }
#endif

namespace edgecase {
namespace {

constexpr bool kAsan = EDGECASE_SEEDS_ASAN != 0;

// Generated cases a buggy seed's hunt may run before it must have found every target. The
// rarest target (001's reply lost after a half-close) first shows after ~300 cases.
constexpr uint64_t kHuntSeeds = 1500;
// Runs the shrinker may spend per finding. Under AddressSanitizer an isolated run costs ~0.1 s
// (the forked child faults in its copy of a large heap and shadow) and a crashing one ~0.3 s
// more, so the sanitizer build shrinks less (the figures in docs/SEARCH.md are from the plain
// build).
constexpr uint64_t kShrinkRuns = kAsan ? 40 : 150;
// A buggy seed spinning or blocked is cut at this many calls (correct runs of generated cases
// need far fewer, except a slow reader's): formatting and judging 200,000 calls per spinning run
// under AddressSanitizer took most of the label's time.
constexpr uint64_t kBuggyStepBudget = 20'000;
// Fixed versions: generated cases run clean, in the simulation and live.
constexpr uint64_t kFixedSimCases = 1000;
constexpr uint64_t kFixedLiveCases = 50;
// Live, a slow reader (the slow-reader fault) of the 16 KiB a generated peer then sends at most
// may take seconds of real time: the default 5 s limit cut such runs short, and the oracles
// call a run cut at the time limit a stall.
constexpr Nanos kLiveTimeLimit = 30'000 * kNanosPerMilli;

// The case the hunt draws for `seed` (case_from_seed) and its shrink tree.
rc::Shrinkable<Case> generated_tree(std::string_view handler, std::string_view protocol,
                                    uint16_t port, uint64_t seed) {
  GenOptions o;
  o.handler = std::string(handler);
  o.port = port;
  return case_from_seed(*builtin_protocol(protocol), o, seed);
}
Case generated(std::string_view handler, std::string_view protocol, uint16_t port,
               uint64_t seed) {
  return generated_tree(handler, protocol, port, seed).value();
}

std::string_view protocol_of(std::string_view handler) {
  return handler.substr(0, 7) == "seed000" ? "hello" : "echo";
}

uint16_t port_of(std::string_view handler) { return *handlers::own_port(handler); }

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

std::string size_text(const CaseSize& z) {
  return std::to_string(z.peers) + " peers, " + std::to_string(z.steps) + " steps, " +
         std::to_string(z.bytes) + " bytes, " + std::to_string(z.faults) + " faults";
}

std::string seen_text(const HuntResult& r) {
  std::string s;
  for (const auto& [name, n] : r.seen) s += " " + name + " x" + std::to_string(n);
  return s;
}

// Hunts `handler` (isolated: the buggy seeds crash) until every target is found, and checks
// each finding: the right oracle, a shrunk case no bigger than the one generated.
void hunt_for(std::string_view handler, const std::vector<std::string>& targets) {
  HuntOptions o;
  o.run.handlers = &edgecase::handlers::builtins();
  o.seeds = kHuntSeeds;
  o.targets = targets;
  o.max_shrink_runs = kShrinkRuns;
  o.run.isolate = true;
  o.run.trace = false;
  o.run.step_budget = kBuggyStepBudget;
  const auto t0 = std::chrono::steady_clock::now();
  const HuntResult r = hunt(handler, protocol_of(handler), port_of(handler), o);
  WARN(handler << ": " << r.generated << " generated cases, " << r.runs << " runs, "
               << seconds_since(t0) << " s; seen:" << seen_text(r));
  for (const std::string& target : targets) {
    INFO(handler << ": hunting " << target << "; seen:" << seen_text(r) << " " << r.out_of_time);
    const Finding* f = r.find(target);
    REQUIRE(f != nullptr);
    WARN(handler << " " << target << ": found by seed " << f->seed << " (generated case "
                 << f->generated << "), " << f->shrink_runs << " shrink runs, "
                 << size_text(f->first_size) << " -> " << size_text(case_size(f->smallest))
                 << "\n"
                 << f->report.format());  // ends with the case file
    CHECK(f->report.found(target));
    // rapidcheck's shrinks are smaller in the generator's structure, not in every count: a
    // fault turned off may give a peer its full byte budget back, a kind shrunk to plain
    // may take a step more. Never more peers, and steps and faults together fewer or as many.
    const CaseSize z = case_size(f->smallest);
    CHECK(z.peers <= f->first_size.peers);
    CHECK(z.steps + z.faults <= f->first_size.steps + f->first_size.faults);
  }
}

// Every generated case clean; a finding fails with its shrunk case and report.
void fixed_clean(std::string_view handler, uint64_t cases, const RunOptions& run,
                 uint64_t shrink_runs) {
  HuntOptions o;
  o.run.handlers = &edgecase::handlers::builtins();
  o.seeds = cases;
  o.max_shrink_runs = shrink_runs;
  o.run = run;
  const auto t0 = std::chrono::steady_clock::now();
  const HuntResult r = hunt(handler, protocol_of(handler), port_of(handler), o);
  WARN(handler << " on " << backend_name(run.backend) << ": " << r.clean_runs << " of "
               << r.generated << " generated cases clean, " << seconds_since(t0) << " s");
  for (const Finding& f : r.findings)
    FAIL_CHECK(handler << ": " << f.oracle << " on generated seed " << f.seed << ", shrunk in "
                       << f.shrink_runs << " runs to\n"
                       << f.report.format());  // ends with the case file
  INFO(r.out_of_time);  // the hunt's time budget (HuntOptions) ran out: undecided
  CHECK(r.clean_runs == cases);
}

}  // namespace

// --- the generator and the shrinker ----------------------------------------------------------

TEST_CASE("search: generated cases are valid, replayable and deterministic", "[seeds][search]") {
  constexpr uint64_t kCases = 400;
  for (const char* protocol : {"echo", "hello"}) {
    for (uint64_t seed = 1; seed <= kCases; ++seed) {
      const Case c = generated("seed002", protocol, 6888, seed);
      INFO(protocol << " seed " << seed);
      REQUIRE_FALSE(check_case(c).has_value());
      REQUIRE(validate_case(c).empty());
      REQUIRE(generated("seed002", protocol, 6888, seed) == c);
      const auto back = parse_case(write_case(c));
      REQUIRE(std::holds_alternative<Case>(back));
      REQUIRE(std::get<Case>(back) == c);
      REQUIRE(c.seed == seed);
      CHECK((!c.faults.on(FaultKind::eintr) || c.faults[FaultKind::eintr].per_mille <= 500));
    }
  }
  REQUIRE_FALSE(generated("seed002", "echo", 6888, 1) == generated("seed002", "echo", 6888, 2));
}

// What the bug classes need, each in some of the first 200 cases.
TEST_CASE("search: the generator reaches the shapes the bugs need", "[seeds][search]") {
  using Op = Step::Op;
  bool over_1k = false, exact_1k = false, over_10k = false, pipelined = false, together = false;
  bool half_close = false, reconnect = false, small_window = false, long_line = false;
  // Bug class 16 needs several connections readable in one epoll_wait batch: three or more peers
  // with one script, all starting at 0, without the delay fault to spread their arrivals.
  uint64_t batch = 0;
  for (uint64_t seed = 1; seed <= 200; ++seed) {
    for (const char* protocol : {"echo", "hello"}) {
      const Case c = generated("x", protocol, 7000, seed);
      const auto& peers = c.scenario.peers;
      batch += peers.size() >= 3 && !c.faults.on(FaultKind::delay) &&
               std::all_of(peers.begin(), peers.end(),
                           [&](const PeerScript& q) { return q == PeerScript{0, peers[0].steps}; });
      size_t at_zero = 0;
      for (const PeerScript& p : c.scenario.peers) {
        at_zero += p.start == 0;
        size_t connects = 0, sends_in_a_row = 0, data_in_a_row = 0;
        for (const Step& st : p.steps) {
          connects += st.op == Op::connect;
          over_1k |= st.op == Op::send && st.n > 1024;
          exact_1k |= st.op == Op::send && st.n == 1024;
          over_10k |= st.op == Op::send && st.n > 10240;
          half_close |= st.op == Op::shutdown_write;
          small_window |= st.op == Op::rcvbuf;
          sends_in_a_row = st.op == Op::send && (st.data.empty() || st.data.back() == '\n')
                               ? sends_in_a_row + 1
                               : (st.op == Op::send ? sends_in_a_row : 0);
          pipelined |= sends_in_a_row >= 2;
          data_in_a_row = st.op == Op::send && !st.data.empty() ? data_in_a_row + 1 : 0;
          long_line |= data_in_a_row >= 2;  // a line longer than one data step (1024 bytes)
        }
        reconnect |= connects >= 2;
      }
      together |= at_zero >= 2;
    }
  }
  CHECK(over_1k);
  CHECK(exact_1k);
  CHECK(over_10k);
  CHECK(pipelined);
  CHECK(together);
  CHECK(half_close);
  CHECK(reconnect);
  CHECK(small_window);
  CHECK(long_line);
  INFO(batch << " batch-shaped cases");
  CHECK(batch >= 30);  // one seed in 8: about 50 of these 400 cases
}

TEST_CASE("search: the shrinker keeps what makes the predicate hold, and no more",
          "[seeds][search]") {
  // "Some echo message is 1000 bytes or more": the smallest such case is one peer sending one
  // message of 1000..1999 bytes (halving stops there), no faults, started at once.
  const auto big_message = [](const Case& c) {
    for (const PeerScript& p : c.scenario.peers)
      for (const Step& st : p.steps)
        if (st.op == Step::Op::send && st.n >= 1000) return true;
    return false;
  };
  uint64_t seed = 1;
  while (!big_message(generated("x", "echo", 7000, seed)) ||
         generated("x", "echo", 7000, seed).scenario.peers.size() < 3)
    ++seed;
  const rc::Shrinkable<Case> tree = generated_tree("x", "echo", 7000, seed);
  const auto [s, steps] = rc::shrinkable::findLocalMin(tree, big_message);
  INFO("seed " << seed << ", " << steps << " shrinks taken\n" << write_case(s));
  REQUIRE(big_message(s));
  const CaseSize z = case_size(s);
  CHECK(z.peers == 1);
  CHECK(z.steps == 4);  // connect, send, expect, close
  CHECK(z.bytes >= 1000);
  CHECK(z.bytes <= case_size(tree.value()).bytes);
  CHECK(z.faults == 0);
  CHECK(s.scenario.peers[0].start == 0);
  // Deterministic.
  CHECK(rc::shrinkable::findLocalMin(tree, big_message).first == s);
}

TEST_CASE("search: the shrinker keeps hello lines whole", "[seeds][search]") {
  // "Some request line is longer than 1024 bytes": the smallest keeps one line of 1025..2049
  // bytes, still ending in '\n', still answered by one expect_line.
  const auto long_line = [](const Case& c) {
    for (const PeerScript& p : c.scenario.peers) {
      size_t line = 0;
      for (const Step& st : p.steps) {
        if (st.op != Step::Op::send) continue;
        line += st.data.empty() ? st.n : st.data.size();
        if (!st.data.empty() && st.data.back() == '\n') {
          if (line > 1024) return true;
          line = 0;
        }
      }
    }
    return false;
  };
  uint64_t seed = 1;
  while (!long_line(generated("x", "hello", 8000, seed))) ++seed;
  const rc::Shrinkable<Case> tree = generated_tree("x", "hello", 8000, seed);
  const Case s = rc::shrinkable::findLocalMin(tree, long_line).first;
  INFO("seed " << seed << "\n" << write_case(s));
  REQUIRE(long_line(s));
  REQUIRE(s.scenario.peers.size() == 1);
  size_t expects = 0;
  for (const Step& st : s.scenario.peers[0].steps) expects += st.op == Step::Op::expect_line;
  CHECK(expects == 1);
  CHECK(case_size(s).bytes <= case_size(tree.value()).bytes);
}

// --- the seed bugs ----------------------------------------------------------------------------

TEST_CASE("seeds: 000's bugs, found by the hunt", "[seeds][seed000]") {
  // Coalesced requests get one reply (stall); a long request two replies, and every reply after
  // the first starts with the NUL of the one before (stream-corrupt); DEL without close
  // (fd-leak); printf("%s") of a full, unterminated buffer (AddressSanitizer: handler-crashed).
  // The blocking send to a peer that stops reading (handler-blocked) is not reachable: see
  // docs/SEARCH.md.
  std::vector<std::string> targets{"stream-corrupt", "fd-leak"};
  if (kAsan) {
    // Under AddressSanitizer the printf crash comes first in most cases that would show the
    // stall (1,100 of 1,500 generated cases crash, and none of the rest stalls): the plain
    // builds (CI's clang++ build) hunt the stall.
    targets.emplace_back("handler-crashed");
    WARN("seed000: the stall is hunted in builds without AddressSanitizer (the crash masks it)");
  } else {
    targets.emplace_back("stall");
  }
  if (!kAsan)
    WARN("seed000: the unterminated printf(\"%s\") is observable only under AddressSanitizer "
         "(this build has none): not hunted");
  hunt_for("seed000", targets);
}

TEST_CASE("seeds: 001's bugs, found by the hunt", "[seeds][seed001]") {
  // Re-sends from offset 0 after a short write, drops the rest on EAGAIN (stream-corrupt);
  // strcpy of 1024 bytes or more into buf[1024] (handler-crashed: SIGSEGV, or ASan); a read of
  // exactly 1024 bytes followed by EOF closes without echoing (reply-lost-after-half-close).
  std::vector<std::string> targets{"stream-corrupt", "handler-crashed"};
  if (!kAsan)
    targets.emplace_back("reply-lost-after-half-close");
  else
    WARN("seed001: reply-lost-after-half-close needs a read that fills the 1024-byte buffer, "
         "and under AddressSanitizer string(buf) on that unterminated buffer crashes first: "
         "not hunted in this build");
  hunt_for("seed001", targets);
}

TEST_CASE("seeds: 002's bugs, found by the hunt", "[seeds][seed002]") {
  hunt_for("seed002", {"lost-accept", "lost-read-event", "stream-corrupt"});
}

TEST_CASE("seeds: 003's bugs, found by the hunt", "[seeds][seed003]") {
  hunt_for("seed003", {"lost-accept", "lost-read-event", "bad-fd"});
}

// --- the fixed versions -----------------------------------------------------------------------
// One test case per version and backend, so that ctest -j runs them side by side.

namespace {

void fixed_sim(std::string_view handler) {
  RunOptions run;
  run.handlers = &edgecase::handlers::builtins();
  run.trace = false;
  fixed_clean(handler, kFixedSimCases, run, kShrinkRuns);
}

void fixed_live(std::string_view handler) {
  RunOptions run;
  run.handlers = &edgecase::handlers::builtins();
  run.backend = Backend::live;
  run.live_time_limit = kLiveTimeLimit;
  fixed_clean(handler, kFixedLiveCases, run, 0);
}

}  // namespace

TEST_CASE("seeds: seed000-fixed passes 1000 generated cases (sim)", "[seeds][fixed]") {
  fixed_sim("seed000-fixed");
}
TEST_CASE("seeds: seed001-fixed passes 1000 generated cases (sim)", "[seeds][fixed]") {
  fixed_sim("seed001-fixed");
}
TEST_CASE("seeds: seed002-fixed passes 1000 generated cases (sim)", "[seeds][fixed]") {
  fixed_sim("seed002-fixed");
}
TEST_CASE("seeds: seed003-fixed passes 1000 generated cases (sim)", "[seeds][fixed]") {
  fixed_sim("seed003-fixed");
}
TEST_CASE("seeds: seed000-fixed passes 50 generated cases (live)", "[seeds][fixed][live]") {
  fixed_live("seed000-fixed");
}
TEST_CASE("seeds: seed001-fixed passes 50 generated cases (live)", "[seeds][fixed][live]") {
  fixed_live("seed001-fixed");
}
TEST_CASE("seeds: seed002-fixed passes 50 generated cases (live)", "[seeds][fixed][live]") {
  fixed_live("seed002-fixed");
}
TEST_CASE("seeds: seed003-fixed passes 50 generated cases (live)", "[seeds][fixed][live]") {
  fixed_live("seed003-fixed");
}

// A tool, not a test: `HANDLER=seed000 SEEDS=1000 [FIRST=1] [TARGET=stall] [SHRINK=1]
// [SHRINK_RUNS=400] [ISOLATE=1] [LIVE=1] [BUDGET=20000] [SHOW=1] seeds_tests
// "[.explore]"` prints what the hunt sees.
TEST_CASE("seeds: explore", "[.explore]") {
  const auto env = [](const char* name) { return std::getenv(name); };
  const std::string handler = env("HANDLER") ? env("HANDLER") : "seed000";
  HuntOptions o;
  o.run.handlers = &edgecase::handlers::builtins();
  o.seeds = env("SEEDS") ? std::strtoull(env("SEEDS"), nullptr, 10) : 200;
  o.shrink = env("SHRINK") != nullptr;
  if (env("FIRST")) o.first_seed = std::strtoull(env("FIRST"), nullptr, 10);
  if (env("TARGET")) o.targets = {env("TARGET")};
  o.run.trace = false;
  o.run.isolate = env("ISOLATE") != nullptr;
  if (env("LIVE")) o.run.backend = Backend::live;
  if (env("BUDGET")) o.run.step_budget = std::strtoull(env("BUDGET"), nullptr, 10);
  if (env("SHRINK_RUNS")) o.max_shrink_runs = std::strtoull(env("SHRINK_RUNS"), nullptr, 10);
  const auto t0 = std::chrono::steady_clock::now();
  const HuntResult r = hunt(handler, protocol_of(handler), port_of(handler), o);
  WARN(handler << ": " << r.generated << " cases, " << r.clean_runs << " clean, " << r.runs
               << " runs, " << seconds_since(t0) << " s; seen:" << seen_text(r));
  for (const Finding& f : r.findings) {
    WARN("  " << f.oracle << " first at seed " << f.seed << " (case " << f.generated
              << "), shrink runs " << f.shrink_runs << ": " << size_text(f.first_size) << " -> "
              << size_text(case_size(f.smallest)));
    if (env("SHOW")) WARN(f.report.format());
  }
}

}  // namespace edgecase

// --- live reproduction (docs/LIVE.md) ---------------------------------------------------------
// A measurement, not a test: `[SEEDS=300] seeds_tests "[.live-repro]"` hunts each seed server
// on the simulation as the demo does, then runs each finding's shrunk case on live sockets (at
// most kLiveAttempts runs), and the generated case it was shrunk from when the shrunk one does
// not reproduce; prints which findings reproduce live (the same oracle named) per server and
// overall.
namespace edgecase {
namespace {

constexpr int kLiveAttempts = 3;
constexpr uint64_t kReproSeeds = 300;  // the demo's default

// The attempt (1-based) whose live run named `oracle`, or 0; `seen` gets the last run's oracles
// and undecided lines.
int reproduce_live(const Case& c, const std::string& oracle, std::string* seen) {
  RunOptions o;
  o.handlers = &edgecase::handlers::builtins();
  o.backend = Backend::live;
  o.isolate = true;
  o.trace = false;
  o.live_time_limit = kLiveTimeLimit;
  for (int i = 1; i <= kLiveAttempts; ++i) {
    const Report r = run_case(c, o);
    if (r.found(oracle)) return i;
    *seen = r.clean() ? "clean" : "";
    for (const std::string& name : r.oracles()) *seen += (seen->empty() ? "" : ",") + name;
    for (const std::string& u : r.undecided) *seen += "; undecided: " + u;
  }
  return 0;
}

}  // namespace

TEST_CASE("seeds: live reproduction of the hunt's findings", "[.live-repro]") {
  const char* env_seeds = std::getenv("SEEDS");
  const uint64_t seeds = env_seeds ? std::strtoull(env_seeds, nullptr, 10) : kReproSeeds;
  uint64_t all = 0;
  uint64_t all_live = 0;
  for (std::string_view server : {"seed000", "seed001", "seed002", "seed003"}) {
    HuntOptions o;
    o.run.handlers = &edgecase::handlers::builtins();
    o.seeds = seeds;
    o.max_shrink_runs = kShrinkRuns;
    o.run.isolate = true;
    o.run.trace = false;
    o.run.step_budget = kBuggyStepBudget;
    const HuntResult h = hunt(server, protocol_of(server), port_of(server), o);
    uint64_t live = 0;
    for (const Finding& f : h.findings) {
      std::string seen;
      std::string how;
      if (const int a = reproduce_live(f.smallest, f.oracle, &seen); a > 0) {
        how = fmt::format("yes (shrunk case, attempt {})", a);
      } else {
        const Case original =
            generated(server, protocol_of(server), port_of(server), f.seed);
        std::string seen_original;
        if (const int b = reproduce_live(original, f.oracle, &seen_original); b > 0)
          how = fmt::format("yes (generated case, attempt {})", b);
        else
          how = "NO: shrunk: " + seen + " | generated: " + seen_original;
      }
      if (how.substr(0, 3) == "yes") ++live;
      std::printf("%s  %-28s seed %-5llu %s\n", std::string(server).c_str(), f.oracle.c_str(),
                  static_cast<unsigned long long>(f.seed), how.c_str());
      if (how.substr(0, 3) != "yes") std::printf("    case:\n%s", write_case(f.smallest).c_str());
    }
    std::printf("%s: %llu of %zu findings reproduce live\n", std::string(server).c_str(),
                static_cast<unsigned long long>(live), h.findings.size());
    all += h.findings.size();
    all_live += live;
  }
  std::printf("seed servers: %llu of %llu findings reproduce live (%.0f%%)\n",
              static_cast<unsigned long long>(all_live), static_cast<unsigned long long>(all),
              all ? 100.0 * static_cast<double>(all_live) / static_cast<double>(all) : 0.0);
}

}  // namespace edgecase
