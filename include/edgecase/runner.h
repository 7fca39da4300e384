// The runner: give it a handler and a case, it runs the case's peers against the handler on
// the simulated world or on live loopback sockets, stops the handler when nothing more can
// happen (or at a budget), runs the oracles, and returns a report.
//
//   edgecase::Report r = edgecase::run_case(my_server, the_case, {.backend = Backend::sim});
//   if (!r.clean()) fmt::print("{}", r.format());   // each violation, evidence, last calls
//
// A handler is any callable taking Kernel& that runs its own loop (it binds its own listener
// where the case's scenario says). Simulated runs are a pure function of the case: the same
// case gives the same report on any build. Live runs are bounded in time; a check that cannot
// decide on live state says so in Report::undecided instead of guessing.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "edgecase/case_file.h"
#include "edgecase/kernel.h"
#include "edgecase/protocol.h"
#include "edgecase/report.h"

namespace edgecase {

using Handler = std::function<void(Kernel&)>;

// Handlers known by name: a case file's `handler` line, for run_case(c), IsolatedRunner, replay
// and the `edgecase` command. The runner knows no handler of its own: it is handed a registry
// (RunOptions::handlers). The kit's built-in handlers (the reference echo server, the seed
// servers) are not in the library a user links; the kit's tools, tests and fuzz targets link
// them (handlers/, target edgecase_handlers) and pass handlers::builtins().
class HandlerRegistry {
 public:
  // Makes the handler for a scenario (it listens at the scenario's address and port).
  using Factory = std::function<Handler(const Scenario&)>;

  // Adds (or replaces) `name`. `own_port`: the port the handler hard-codes whatever the
  // scenario says (the seed servers do, as published); a case for it names that port.
  void add(std::string name, Factory make, std::optional<uint16_t> own_port = std::nullopt);
  // The handler called `name`, set up for `scenario`; an empty function if there is none.
  Handler find(std::string_view name, const Scenario& scenario) const;
  // As find(), but std::invalid_argument naming the known handlers if there is none.
  Handler get(std::string_view name, const Scenario& scenario) const;
  std::optional<uint16_t> own_port(std::string_view name) const;
  std::vector<std::string> names() const;  // sorted

 private:
  struct Entry {
    std::string name;
    Factory make;
    std::optional<uint16_t> own_port;
  };
  const Entry* entry(std::string_view name) const;
  std::vector<Entry> entries_;  // sorted by name
};

struct RunOptions {
  // A handler making more calls than this is spinning (sim) ...
  static constexpr uint64_t kDefaultStepBudget = 200'000;
  // ... or, live, still running after this much wall time.
  static constexpr Nanos kDefaultLiveTimeLimit = 5'000 * kNanosPerMilli;
  // Live quiescence: nothing moved (no peer progress, no handler call but waits) for this long.
  static constexpr Nanos kDefaultLiveSettle = 50 * kNanosPerMilli;

  // The kit's own limits, in wall-clock time (docs/DETERMINISM.md: they never change a run that
  // finishes within them). A case still running after `wall_time_limit` is stopped (sim and
  // live); an isolated child that has not answered after `isolation_timeout` is killed. Either
  // way the report is undecided (Report::kit_limit says which limit and the figure) and no
  // final-state oracle runs: the kit's limit is not the handler's bug. 0: no limit. Keep the
  // isolation timeout above the wall-time limit (the default: 10 s above), or the parent kills
  // a child the wall-time limit would have stopped with a report.
  static constexpr Nanos kDefaultWallTimeLimit = 60'000 * kNanosPerMilli;
  static constexpr Nanos kDefaultIsolationTimeout = kDefaultWallTimeLimit + 10'000 * kNanosPerMilli;

  Backend backend = Backend::sim;
  // Run in a forked child process, so that a crash or an AddressSanitizer report becomes a
  // handler-crashed violation instead of ending the caller. Use it for untrusted handlers.
  bool isolate = false;
  uint64_t step_budget = kDefaultStepBudget;
  Nanos live_time_limit = kDefaultLiveTimeLimit;
  Nanos live_settle = kDefaultLiveSettle;
  Nanos wall_time_limit = kDefaultWallTimeLimit;
  Nanos isolation_timeout = kDefaultIsolationTimeout;
  // Keep the trace's tail for the report (sim; off is several times faster).
  bool trace = true;
  // Fill the report's text (fault_plan, peers, case_text). Off, only the verdict is filled
  // (violations, undecided, case_errors, kit_limit, ending, steps, end, stats): for a caller
  // that runs many cases and re-runs a failing one for its report (the fuzz targets).
  bool report_text = true;
  // Where the scenario's protocol is looked up by name (not owned; must outlive the call; an
  // IsolatedRunner's child uses it as it was when the child was forked); nullptr: the
  // built-ins (CheckerRegistry::builtins()).
  const CheckerRegistry* checkers = nullptr;
  // Overrides the checker the scenario's protocol names (not owned; must outlive the call).
  const ProtocolChecker* checker = nullptr;
  // Where run_case(c) and IsolatedRunner look up the case's handler by name (not owned; must
  // outlive the call); nullptr: no handler is known by name (pass the handler itself).
  const HandlerRegistry* handlers = nullptr;
  // Sim, not isolated: every line of the run's trace is stored here (a timeline's input,
  // edgecase/timeline.h). Not owned; nullptr: only the tail is kept (Report::last_calls).
  std::vector<std::string>* whole_trace = nullptr;
  // Sim, not isolated: each trace line as it is written (a timeline recorded in a child that
  // may crash keeps every line before the crash). Empty: none.
  std::function<void(const std::string&)> trace_sink = nullptr;
};

// Sets the process's SIGPIPE disposition to SIG_IGN (idempotent; never restored). A live run
// drives real sockets in this process: the handler's write() to a connection its peer reset
// would otherwise raise SIGPIPE and kill the kit with it, instead of returning EPIPE as the
// simulation does. run_case calls it before every live run, the isolated child when it starts,
// and the kit's entry points (edgecase, the test and benchmark mains) first thing. It is the
// only process-wide state the runner changes (docs/LIVE.md).
void ignore_sigpipe();

// Whether a peer's failure text (Peer::failure()) is the case's own problem rather than the
// server's doing: the peers' host could not create a socket (EMFILE, ENFILE), a step could not
// run where the script put it (no socket, a connect on a connected socket, EADDRNOTAVAIL), a
// socket option was refused. The server's doing, judged by the oracles: a refused, reset or
// aborted connection, an end of file or EPIPE before the script was done (docs/ORACLES.md).
bool peer_failure_is_case_error(std::string_view failure);

// Runs `handler` against case `c`. A case that validate_case rejects is not run: the report
// holds the errors in case_errors.
Report run_case(const Handler& handler, const Case& c, const RunOptions& options = {});
// Runs the handler the case names, from options.handlers; std::invalid_argument if unknown.
Report run_case(const Case& c, const RunOptions& options = {});

// Runs many cases isolated, in one child process that stays alive between them: a crash costs
// one respawn instead of a fork per run. The child resolves each case's handler by name (from
// options.handlers), or
// runs `handler` if one is given (the child's copy of it, taken when the child is forked).
// Not copyable; the child is killed when the runner is destroyed.
class IsolatedRunner {
 public:
  explicit IsolatedRunner(RunOptions options, Handler handler = {});
  ~IsolatedRunner();
  IsolatedRunner(const IsolatedRunner&) = delete;
  IsolatedRunner& operator=(const IsolatedRunner&) = delete;

  // As run_case(c, options) with options.isolate; std::invalid_argument for an unknown
  // handler or protocol.
  Report run(const Case& c);
  // Child processes started so far (the first, plus one after each crash).
  uint64_t workers_started() const;

  struct Worker;  // the child process and its sockets (runner.cc)

 private:
  RunOptions options_;
  Handler handler_;
  std::unique_ptr<Worker> worker_;
  uint64_t started_ = 0;
};

}  // namespace edgecase
