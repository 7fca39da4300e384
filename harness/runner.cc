// The runner (include/edgecase/runner.h): one case, one backend, the oracles, a report.
#include "edgecase/runner.h"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <stdexcept>
#include <sys/wait.h>
#include <unistd.h>

#include "edgecase/strace.h"
#include "handlers/handlers.h"
#include "harness/live_run.h"
#include "harness/observer.h"
#include "harness/oracles.h"
#include "harness/report_wire.h"
#include "harness/sim_run.h"

namespace edgecase {

namespace {

RunEnd run_end(const sim::World::Result& r) {
  RunEnd e;
  switch (r.outcome) {
    case sim::World::Outcome::exited: e.how = RunEnd::How::exited; return e;
    case sim::World::Outcome::threw:
      e.how = RunEnd::How::threw;
      e.error = r.error;
      return e;
    case sim::World::Outcome::stopped: break;
  }
  const Stop& s = *r.stop;
  e.call = s.call;
  e.fd = s.fd;
  e.at = s.at;
  switch (s.reason) {
    case Stop::Reason::quiescent:
      e.how = (s.call == "epoll_wait" || s.call == "epoll_pwait") ? RunEnd::How::idle
                                                                  : RunEnd::How::blocked;
      break;
    case Stop::Reason::step_budget: e.how = RunEnd::How::step_budget; break;
    case Stop::Reason::time_limit: e.how = RunEnd::How::time_limit; break;
    case Stop::Reason::oracle: e.how = RunEnd::How::oracle; break;
  }
  return e;
}

std::string ending_text(const sim::World::Result& r) {
  switch (r.outcome) {
    case sim::World::Outcome::exited: return "handler returned";
    case sim::World::Outcome::threw: return "handler threw: " + r.error;
    case sim::World::Outcome::stopped: break;
  }
  return r.stop->message();
}

const ProtocolChecker& checker_for(const Case& c, const RunOptions& o) {
  if (o.checker != nullptr) return *o.checker;
  const ProtocolChecker* p = find_checker(c.scenario.protocol);
  if (p == nullptr)
    throw std::invalid_argument(fmt::format("unknown protocol \"{}\" (known: {})",
                                            c.scenario.protocol,
                                            fmt::join(checker_names(), ", ")));
  return *p;
}

// What both backends share once the handler has stopped: the oracles and the report.
Report judge_run(const Case& c, Backend backend, const sim::World::Result& result,
                 RunView& view, const std::vector<const Peer*>& peers) {
  Report r;
  r.backend = backend;
  r.handler = c.scenario.handler;
  r.fault_plan = c.faults.describe();
  r.ending = ending_text(result);
  r.violations = view.calls.violations();
  std::vector<Violation> end = judge(view, r.undecided);
  r.violations.insert(r.violations.end(), end.begin(), end.end());
  for (const Peer* p : peers) r.peers.push_back(p->status());
  r.case_text = write_case(c);
  r.steps = view.calls.calls();
  r.end = view.now;
  return r;
}

std::vector<PeerEnd> peer_ends(const std::vector<const Peer*>& peers,
                               const std::vector<PeerScript>& scripts) {
  std::vector<PeerEnd> out;
  for (size_t i = 0; i < peers.size(); ++i) out.push_back({peers[i], &scripts[i]});
  return out;
}

Report run_sim(const Handler& handler, const Case& c, const RunOptions& o) {
  const ProtocolChecker& checker = checker_for(c, o);
  SimRunOptions so;
  so.trace = o.trace;
  so.step_budget = o.step_budget;
  SimRun run(c, so);
  sim::World& w = run.world();
  Observer calls(w.handler_kernel(), w.server(), w.server(), [&w] { return w.now(); });
  const sim::World::Result result = run.run([&](Kernel&) { handler(calls); });
  RunView view{Backend::sim, w.server(), w.server(), calls,
               peer_ends(run.peers(), run.scripts()), run_end(result), w.now(), checker};
  Report r = judge_run(c, Backend::sim, result, view, run.peers());
  const auto& tail = w.trace().tail();
  r.last_calls.assign(tail.begin(), tail.end());
  return r;
}

// The last calls of a live run, stamped with the run's elapsed time.
class LiveTail {
 public:
  static constexpr size_t kLines = 50;
  explicit LiveTail(const LiveRun& run) : run_(run) {}
  void line(const std::string& s) {
    tail_.push_back(fmt::format("{} {}", sim::Trace::stamp(run_.now()), s));
    if (tail_.size() > kLines) tail_.erase(tail_.begin());
  }
  const std::vector<std::string>& lines() const { return tail_; }

 private:
  const LiveRun& run_;
  std::vector<std::string> tail_;
};

Report run_live(const Handler& handler, const Case& c, const RunOptions& o) {
  const ProtocolChecker& checker = checker_for(c, o);
  // The same peers as the simulation runs: the scripts with the fault plan's changes.
  SimRunOptions so;
  so.trace = false;
  const SimRun scripts_of(c, so);
  LiveRunOptions lo;
  lo.settle = o.live_settle;
  lo.time_limit = o.live_time_limit;
  lo.step_budget = o.step_budget;
  LiveRun run(c, scripts_of.scripts(), lo);
  LiveTail tail(run);
  TracingKernel traced(run.handler_kernel(), [&tail](const std::string& s) { tail.line(s); });
  Observer calls(traced, run.real(), run.real(), [&run] { return run.now(); });
  const sim::World::Result result = run.run([&](Kernel&) { handler(calls); });
  RunView view{Backend::live, run.real(), run.real(), calls,
               peer_ends(run.peers(), run.scripts()), run_end(result), run.now(), checker};
  Report r = judge_run(c, Backend::live, result, view, run.peers());
  r.last_calls = tail.lines();
  return r;
}

Report run_direct(const Handler& handler, const Case& c, const RunOptions& o) {
  return o.backend == Backend::sim ? run_sim(handler, c, o) : run_live(handler, c, o);
}

}  // namespace

// --- isolated runs ----------------------------------------------------------------------------

namespace {

// How long the parent waits for an isolated child before killing it: a sim run is bounded by
// its step budget, a live one by its time limit; this only catches a handler that blocks in
// something the kit does not control (a real syscall outside the Kernel).
constexpr int kIsolatedSimTimeoutMs = 120'000;
constexpr int kIsolatedLiveSlackMs = 10'000;
// The child's stderr kept for the crash report (AddressSanitizer's report is a few KiB).
constexpr size_t kMaxChildStderr = 256 * 1024;

// Reads both pipes until both close or the deadline passes. False on timeout.
bool drain(int out_fd, int err_fd, std::string& out, std::string& err, int timeout_ms) {
  pollfd p[2] = {{out_fd, POLLIN, 0}, {err_fd, POLLIN, 0}};
  std::string* sinks[2] = {&out, &err};
  int open = 2;
  int waited_ms = 0;
  constexpr int kSliceMs = 100;
  while (open > 0) {
    const int n = ::poll(p, 2, kSliceMs);
    if (n < 0 && errno != EINTR) return false;
    if (n == 0 && (waited_ms += kSliceMs) >= timeout_ms) return false;
    for (int i = 0; i < 2; ++i) {
      if (p[i].fd < 0 || p[i].revents == 0) continue;
      char buf[16384];
      const ssize_t got = ::read(p[i].fd, buf, sizeof buf);
      if (got <= 0) {
        p[i].fd = -1;
        --open;
      } else if (sinks[i]->size() < kMaxChildStderr || i == 0) {
        sinks[i]->append(buf, static_cast<size_t>(got));
      }
    }
  }
  return true;
}

// The sanitizer's headline ("AddressSanitizer: stack-buffer-overflow on address ...") or the
// last line of stderr.
std::string crash_headline(const std::string& err) {
  for (std::string_view key : {"ERROR: AddressSanitizer:", "runtime error:", "ERROR: LeakSanitizer:"}) {
    const size_t at = err.find(key);
    if (at == std::string::npos) continue;
    const size_t start = err.rfind('\n', at);
    const size_t end = err.find('\n', at);
    return err.substr(start == std::string::npos ? 0 : start + 1,
                      end == std::string::npos ? std::string::npos : end - start - 1);
  }
  return {};
}

// The frame of the handler where a sanitizer report points, e.g. "#1 ... in seed001(...)".
std::string crash_frame(const std::string& err) {
  const size_t at = err.find("    #");
  if (at == std::string::npos) return {};
  const size_t end = err.find('\n', at);
  return err.substr(at + 4, end == std::string::npos ? std::string::npos : end - at - 4);
}

Report crash_report(const Case& c, const RunOptions& o, int status, const std::string& err,
                    bool timed_out) {
  Report r;
  r.backend = o.backend;
  r.handler = c.scenario.handler;
  r.fault_plan = c.faults.describe();
  r.case_text = write_case(c);
  Violation v;
  v.oracle = std::string(oracle::kHandlerCrashed);
  if (timed_out) {
    r.ending = "killed: the isolated run did not finish in time";
    v.oracle = std::string(oracle::kHandlerBlocked);
    v.evidence.detail = "the handler's process was still running at the isolation timeout "
                        "(blocked outside the kit's calls?)";
  } else if (WIFSIGNALED(status)) {
    r.ending = fmt::format("crashed: {}", strsignal(WTERMSIG(status)));
    v.evidence.detail = r.ending;
  } else {
    r.ending = fmt::format("crashed: exit status {}", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    v.evidence.detail = r.ending;
  }
  if (const std::string h = crash_headline(err); !h.empty()) {
    v.evidence.detail = h;
    if (const std::string f = crash_frame(err); !f.empty()) v.evidence.detail += " | " + f;
  }
  r.violations.push_back(std::move(v));
  return r;
}

Report run_isolated(const Handler& handler, const Case& c, const RunOptions& o) {
  checker_for(c, o);  // a bad protocol is the caller's error, not the child's crash
  int out[2];
  int err[2];
  if (::pipe2(out, O_CLOEXEC) != 0) throw std::runtime_error("pipe2 failed");
  if (::pipe2(err, O_CLOEXEC) != 0) {
    ::close(out[0]);
    ::close(out[1]);
    throw std::runtime_error("pipe2 failed");
  }
  std::fflush(nullptr);
  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    // Whatever the child prints (a sanitizer's report, a test framework's signal handler) goes
    // to the parent's crash report, not to the parent's output.
    ::dup2(err[1], STDOUT_FILENO);
    ::dup2(err[1], STDERR_FILENO);
    ::close(out[0]);
    ::close(err[0]);
    RunOptions direct = o;
    direct.isolate = false;
    std::string wire;
    try {
      wire = report_to_wire(run_direct(handler, c, direct));
    } catch (const std::exception& e) {
      std::fprintf(stderr, "edgecase: isolated run failed: %s\n", e.what());
      ::_exit(3);
    }
    size_t off = 0;
    while (off < wire.size()) {
      const ssize_t n = ::write(out[1], wire.data() + off, wire.size() - off);
      if (n <= 0) ::_exit(4);
      off += static_cast<size_t>(n);
    }
    ::_exit(0);
  }
  ::close(out[1]);
  ::close(err[1]);
  std::string wire;
  std::string errors;
  const int timeout_ms = o.backend == Backend::sim
                             ? kIsolatedSimTimeoutMs
                             : static_cast<int>(o.live_time_limit / kNanosPerMilli) +
                                   kIsolatedLiveSlackMs;
  const bool finished = drain(out[0], err[0], wire, errors, timeout_ms);
  ::close(out[0]);
  ::close(err[0]);
  if (!finished) ::kill(pid, SIGKILL);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (finished && WIFEXITED(status) && WEXITSTATUS(status) == 0)
    if (std::optional<Report> r = report_from_wire(wire)) return *r;
  return crash_report(c, o, status, errors, !finished);
}

}  // namespace

Report run_case(const Handler& handler, const Case& c, const RunOptions& options) {
  return options.isolate ? run_isolated(handler, c, options) : run_direct(handler, c, options);
}

Report run_case(const Case& c, const RunOptions& options) {
  const Handler h = handlers::find(c.scenario.handler, c.scenario);
  if (!h)
    throw std::invalid_argument(fmt::format("unknown handler \"{}\" (known: {})",
                                            c.scenario.handler,
                                            fmt::join(handlers::names(), ", ")));
  return run_case(h, c, options);
}

}  // namespace edgecase
