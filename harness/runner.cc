// The runner (include/edgecase/runner.h): one case, one backend, the oracles, a report.
#include "edgecase/runner.h"

#include <cassert>
#include <cerrno>
#include <chrono>
#include <algorithm>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <stdexcept>
#include <sys/socket.h>
#include <sys/wait.h>
#include <variant>
#include <unistd.h>

#include "edgecase/strace.h"
#include "harness/live_run.h"
#include "harness/observer.h"
#include "harness/oracles.h"
#include "harness/report_wire.h"
#include "harness/sim_run.h"

namespace edgecase {

namespace {

Nanos elapsed_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t)
      .count();
}

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
    case Stop::Reason::wall_time: e.how = RunEnd::How::kit_limit; break;
    case Stop::Reason::exited: e.how = RunEnd::How::exited; break;
    case Stop::Reason::crashed: e.how = RunEnd::How::crashed; break;
    case Stop::Reason::sigpipe: e.how = RunEnd::How::sigpipe; break;
    case Stop::Reason::unsupported: e.how = RunEnd::How::kit_limit; break;
  }
  e.error = s.detail;
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

// The handler the case names, from the registry the caller handed over (RunOptions::handlers).
Handler named_handler(const Case& c, const RunOptions& o) {
  if (o.handlers == nullptr)
    throw std::invalid_argument(fmt::format(
        "unknown handler \"{}\" (no handler registry given: RunOptions::handlers)",
        c.scenario.handler));
  return o.handlers->get(c.scenario.handler, c.scenario);
}

const ProtocolChecker& checker_for(const Case& c, const RunOptions& o) {
  if (o.checker != nullptr) return *o.checker;
  const CheckerRegistry& known = o.checkers != nullptr ? *o.checkers : builtin_checkers();
  const ProtocolChecker* p = known.find(c.scenario.protocol);
  if (p == nullptr)
    throw std::invalid_argument(fmt::format("unknown protocol \"{}\" (known: {})",
                                            c.scenario.protocol,
                                            fmt::join(known.names(), ", ")));
  return *p;
}

// "60.000 s": a kit limit's figure.
std::string seconds_text(Nanos t) {
  return fmt::format("{}.{:03} s", t / (1000 * kNanosPerMilli), t / kNanosPerMilli % 1000);
}

// Whether the kit's wall-time limit ended the run, and the report's words for it ("" if not).
std::string wall_time_text(const sim::World::Result& result, Nanos limit, Nanos elapsed) {
  if (!result.stop || limit <= 0) return {};
  const Stop::Reason why = result.stop->reason;
  // Live, the wall-time limit is the live run's time limit when it is the smaller one.
  if (why != Stop::Reason::wall_time && why != Stop::Reason::time_limit) return {};
  if (why == Stop::Reason::time_limit && elapsed < limit) return {};
  return fmt::format("the wall-time limit ({}) ended the run after {}", seconds_text(limit),
                     seconds_text(elapsed));
}

// Whether the interposition layer met a call the model cannot honour, and the report's words
// for it ("" if not): the kit's limit, not the handler's bug (posix/README.md).
std::string unsupported_text(const sim::World::Result& result) {
  if (!result.stop || result.stop->reason != Stop::Reason::unsupported) return {};
  return result.stop->detail;
}

// A handler that did work (moved a byte, accepted, closed) in at least one call of this many
// was at work, not spinning, when the step budget ended its run: the budget is the kit's
// limit, and the case needs more (a spin moves a byte once in hundreds of wakeups, if at all;
// a working loop in two or three calls: a wait, a read, a write).
constexpr uint64_t kWorkingCallShare = 8;

// Whether the simulated time limit, or the step budget with the handler still at work, ended
// the run, and the report's words for it ("" if not): the case outgrew the run's limits,
// which says nothing about the handler.
std::string outgrown_text(const sim::World::Result& result, const Observer& calls,
                          uint64_t step_budget, Nanos time_limit) {
  if (!result.stop) return {};
  const Stop::Reason why = result.stop->reason;
  // The simulation reaches its time limit only while something keeps the world busy: peers
  // sleeping, starting late or reading slowly, or a handler at work (a handler that lost an
  // event leaves the world quiescent, one that spins is the busy-loop oracle's). Live, the
  // time limit is wall time (wall_time_text).
  if (why == Stop::Reason::time_limit && time_limit > 0)
    return fmt::format("the time limit ({} of virtual time) ran out: the case does not fit "
                       "the world's time limit",
                       seconds_text(time_limit));
  if (why != Stop::Reason::step_budget) return {};
  const uint64_t n = calls.calls();
  if (n == 0 || calls.productive_calls() * kWorkingCallShare < n) return {};
  return fmt::format("the step budget ({} calls) ran out while the handler was still at work "
                     "({} of its {} calls moved bytes, accepted or closed): the case needs a "
                     "larger RunOptions::step_budget",
                     step_budget, calls.productive_calls(), n);
}

// The handler's counts, with the half-closes its reads met: peers that shut down their write
// side on the connection whose end of file the handler read.
RunStats run_stats(const Observer& calls, const std::vector<const Peer*>& peers) {
  RunStats st = calls.stats();
  for (const Peer* p : peers)
    if (p->shut_write() && p->local_port() != 0 && calls.eof_read_from(p->local_port()))
      ++st.half_closes;
  return st;
}

// A connection refused where the handler never listened on the case's port: the case names a
// port the handler does not use (edgecase check --port, GenOptions::port, a handler's PORT), so
// no oracle could judge anything. A case that cannot run, not a clean run.
std::string nothing_listened(const Case& c, const Observer& calls,
                             const std::vector<const Peer*>& peers, const std::string& ending) {
  if (calls.listened_on(c.scenario.port)) return "";
  for (const Peer* p : peers)
    if (p->failure().find("ECONNREFUSED") != std::string::npos)
      return fmt::format("peer#{}'s connection was refused and the handler never listened on "
                         "port {}: is that the port it listens on?{}",
                         p->index(), c.scenario.port,
                         ending.empty() ? "" : " The handler ended: " + ending);
  return "";
}

// What both backends share once the handler has stopped: the oracles and the report. A run a
// kit limit ended, or whose case could not run as written, is not judged by the final-state
// oracles: what they would find is the kit's or the case's doing, not the handler's.
Report judge_run(const Case& c, Backend backend, const sim::World::Result& result,
                 RunView& view, const std::vector<const Peer*>& peers,
                 const std::string& kit_limit, bool report_text) {
  Report r;
  r.backend = backend;
  r.handler = c.scenario.handler;
  if (report_text) r.fault_plan = c.faults.describe();
  r.ending = ending_text(result);
  r.violations = view.calls.violations();
  for (const Peer* p : peers)
    if (peer_failure_is_case_error(p->failure()))
      r.case_errors.push_back(fmt::format("peer#{} failed for a reason of its own: {}",
                                          p->index(), p->failure()));
  r.kit_limit = kit_limit;
  if (!kit_limit.empty()) {
    r.ending = kit_limit + " (" + r.ending + ")";
    r.undecided.push_back(kit_limit + ": the final-state oracles were not run");
  }
  if (r.case_errors.empty() && r.kit_limit.empty()) {
    std::vector<Violation> end = judge(view, r.undecided);
    r.violations.insert(r.violations.end(), end.begin(), end.end());
    // Only for a run judged clean: a handler that crashed, exited or spun before it listened
    // is judged for that.
    if (r.violations.empty()) {
      // How the handler ended, when it did (a usage message and exit(1) for a missing argv).
      const bool ended = result.outcome != sim::World::Outcome::stopped ||
                         result.stop->reason != Stop::Reason::quiescent;
      if (std::string e = nothing_listened(c, view.calls, peers, ended ? r.ending : "");
          !e.empty())
        r.case_errors.push_back(std::move(e));
    }
  }
  if (report_text) {
    for (const Peer* p : peers) r.peers.push_back(p->status());
    r.case_text = write_case(c);
  }
  r.steps = view.calls.calls();
  r.end = view.now;
  r.stats = run_stats(view.calls, peers);
  return r;
}

std::vector<PeerEnd> peer_ends(const std::vector<const Peer*>& peers,
                               const std::vector<PeerScript>& scripts) {
  std::vector<PeerEnd> out;
  for (size_t i = 0; i < peers.size(); ++i) out.push_back({peers[i], &scripts[i]});
  return out;
}

Report run_sim(const Handler& handler, const Case& c, const RunOptions& o) {
  const std::unique_ptr<ProtocolCheck> check = checker_for(c, o).start();
  SimRunOptions so;
  so.trace = o.trace;
  so.step_budget = o.step_budget;
  so.check = check.get();
  so.wall_time_limit = o.wall_time_limit;
  so.keep_trace = o.whole_trace != nullptr;
  so.trace_sink = o.trace_sink;
  if (so.keep_trace || so.trace_sink) so.trace = true;
  const auto started = std::chrono::steady_clock::now();  // the kit's limit only
  SimRun run(c, so);
  sim::World& w = run.world();
  Observer calls(w.handler_kernel(), w.server(), w.server(), [&w] { return w.now(); });
  const sim::World::Result result = run.run([&](Kernel&) { handler(calls); });
  RunView view{Backend::sim, w.server(), w.server(), calls,
               peer_ends(run.peers(), run.scripts()), run_end(result), w.now(), *check};
  const bool wall = result.stop && result.stop->reason == Stop::Reason::wall_time;
  std::string kit_limit =
      wall ? wall_time_text(result, o.wall_time_limit, elapsed_since(started))
           : outgrown_text(result, calls, o.step_budget, so.time_limit);
  if (kit_limit.empty()) kit_limit = unsupported_text(result);
  Report r = judge_run(c, Backend::sim, result, view, run.peers(), kit_limit, o.report_text);
  const auto& tail = w.trace().tail();
  r.last_calls.assign(tail.begin(), tail.end());
  if (o.whole_trace != nullptr) *o.whole_trace = w.trace().all();
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
  const std::unique_ptr<ProtocolCheck> check = checker_for(c, o).start();
  ignore_sigpipe();  // a peer's reset must give the handler EPIPE, not kill the process
  // The same peers as the simulation runs: the scripts with the fault plan's changes.
  SimRunOptions so;
  so.trace = false;
  const SimRun scripts_of(c, so);
  LiveRunOptions lo;
  lo.settle = o.live_settle;
  // Live time is wall time: the kit's wall-time limit, when smaller, is the run's time limit.
  lo.time_limit = o.wall_time_limit > 0 ? std::min(o.live_time_limit, o.wall_time_limit)
                                        : o.live_time_limit;
  lo.step_budget = o.step_budget;
  lo.check = check.get();
  LiveRun run(c, scripts_of.scripts(), lo);
  LiveTail tail(run);
  TracingKernel traced(run.handler_kernel(), [&tail](const std::string& s) { tail.line(s); });
  Observer calls(traced, run.real(), run.real(), [&run] { return run.now(); });
  // The server's read order, as the handler's reads returned it (docs/PROTOCOLS.md).
  calls.set_read_hook([&run, &check](uint16_t port, uint64_t total) {
    for (const Peer* p : run.peers())
      if (p->local_port() == port) {
        check->server_read(p->conversation(), p->connect_offset() + total);
        return;
      }
  });
  const sim::World::Result result = run.run([&](Kernel&) { handler(calls); });
  RunView view{Backend::live, run.real(), run.real(), calls,
               peer_ends(run.peers(), run.scripts()), run_end(result), run.now(), *check};
  const bool wall = o.wall_time_limit > 0 && o.wall_time_limit <= o.live_time_limit;
  std::string kit_limit = wall ? wall_time_text(result, o.wall_time_limit, run.now()) : "";
  if (kit_limit.empty()) kit_limit = outgrown_text(result, calls, o.step_budget, 0);
  if (kit_limit.empty()) kit_limit = unsupported_text(result);
  Report r = judge_run(c, Backend::live, result, view, run.peers(), kit_limit, o.report_text);
  for (std::string& u : run.unapplied_faults()) r.undecided.push_back(std::move(u));
  r.last_calls = tail.lines();
  return r;
}

Report run_direct(const Handler& handler, const Case& c, const RunOptions& o) {
  return o.backend == Backend::sim ? run_sim(handler, c, o) : run_live(handler, c, o);
}

}  // namespace

namespace {

// The report of a case validate_case rejects: not run, the errors as case errors.
std::optional<Report> invalid_case_report(const Case& c, const RunOptions& o) {
  if (check_case(c)) return std::nullopt;  // the caller reports what cannot even be written
  const std::vector<CaseError> errors = validate_case(c);
  if (errors.empty()) return std::nullopt;
  Report r;
  r.backend = o.backend;
  r.handler = c.scenario.handler;
  r.fault_plan = c.faults.describe();
  r.ending = "not run: the case cannot run as written";
  for (const CaseError& e : errors) r.case_errors.push_back(e.message);
  r.case_text = write_case(c);
  return r;
}

bool contains(std::string_view s, std::string_view part) {
  return s.find(part) != std::string_view::npos;
}

}  // namespace

bool peer_failure_is_case_error(std::string_view failure) {
  if (failure.empty()) return false;
  // The peer's own side could not do what the script asks: its host's resources (socket:
  // EMFILE, ENFILE, ENOBUFS), its own socket options, a step where the script has no socket.
  for (std::string_view own : {": socket: ", "no socket", "unknown step", "setsockopt",
                               "getsockopt", "getpeername", "rcvbuf:", ": close: "})
    if (contains(failure, own)) return true;
  // What the server (or the network between) did to the connection: refused (nothing
  // listens), reset, aborted, closed early (end of file, EPIPE), a shutdown on a connection
  // the server already reset (ENOTCONN), a handshake that timed out.
  for (std::string_view server : {"ECONNREFUSED", "ECONNRESET", "ECONNABORTED", "EPIPE",
                                  "ENOTCONN", "ETIMEDOUT", "end of file"})
    if (contains(failure, server)) return false;
  // Anything else (EADDRNOTAVAIL, EISCONN, EINVAL, ...) is a step the peer could not make
  // where the script put it.
  return true;
}

void ignore_sigpipe() {
  struct sigaction ignore = {};
  ignore.sa_handler = SIG_IGN;
  const int r = ::sigaction(SIGPIPE, &ignore, nullptr);
  assert(r == 0);  // SIGPIPE is a valid, catchable signal: sigaction cannot fail
  (void)r;
}

// --- isolated runs ----------------------------------------------------------------------------

namespace {

// The child's stderr kept for the crash report (AddressSanitizer's report is a few KiB).
constexpr size_t kMaxChildStderr = 256 * 1024;

// The sanitizer's headline ("AddressSanitizer: stack-buffer-overflow on address ...") or the
// last line of stderr.
std::string crash_headline(const std::string& err) {
  // glibc's own aborts too: "*** buffer overflow detected ***: terminated" (_FORTIFY_SOURCE),
  // "*** stack smashing detected ***" (the stack protector).
  for (std::string_view key : {"ERROR: AddressSanitizer:", "runtime error:", "ERROR: LeakSanitizer:",
                               "*** buffer overflow detected", "*** stack smashing detected"}) {
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
    // The kit's limit, not the handler's verdict: a handler blocked outside the kit's calls
    // and a case too big for the limit look the same from here.
    r.kit_limit = fmt::format("the isolation timeout ({}) ended the run: the child process was "
                              "killed",
                              seconds_text(o.isolation_timeout));
    r.ending = r.kit_limit;
    r.undecided.push_back(r.kit_limit + "; no oracle was run");
    return r;
  }
  if (WIFSIGNALED(status)) {
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

// Writes all of `data` (the worker's socket never raises SIGPIPE: MSG_NOSIGNAL).
bool send_all(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

// One framed message: "<kind> <length>\n<bytes>". Kinds: case (parent to child), report and
// error (child to parent).
std::string frame(std::string_view kind, std::string_view body) {
  return fmt::format("{} {}\n", kind, body.size()) + std::string(body);
}

// Takes one complete frame off the front of `buf`; nullopt while incomplete.
std::optional<std::pair<std::string, std::string>> take_frame(std::string& buf) {
  const size_t nl = buf.find('\n');
  if (nl == std::string::npos) return std::nullopt;
  const size_t sp = buf.find(' ');
  if (sp == std::string::npos || sp > nl) throw std::runtime_error("isolated run: bad frame");
  const size_t len = std::stoull(buf.substr(sp + 1, nl - sp - 1));
  if (buf.size() < nl + 1 + len) return std::nullopt;
  auto out = std::make_pair(buf.substr(0, sp), buf.substr(nl + 1, len));
  buf.erase(0, nl + 1 + len);
  return out;
}

// The child's loop: read a case, run it, answer with the report (or the error), until the
// parent closes the socket.
[[noreturn]] void worker_main(int sock, const Handler& fixed, const RunOptions& o) {
  ignore_sigpipe();
  std::string in;
  char buf[65536];
  for (;;) {
    std::optional<std::pair<std::string, std::string>> req;
    while (!(req = take_frame(in))) {
      const ssize_t n = ::read(sock, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) ::_exit(0);
      in.append(buf, static_cast<size_t>(n));
    }
    std::string reply;
    try {
      auto parsed = parse_case(req->second);
      if (auto* err = std::get_if<CaseError>(&parsed))
        throw std::invalid_argument("isolated run: " + err->message);
      const Case& c = std::get<Case>(parsed);
      Handler h = fixed ? fixed : named_handler(c, o);
      reply = frame("report", report_to_wire(run_direct(h, c, o)));
    } catch (const std::exception& e) {
      reply = frame("error", e.what());
    }
    if (!send_all(sock, reply)) ::_exit(4);
  }
}

}  // namespace

struct IsolatedRunner::Worker {
  pid_t pid = -1;
  int sock = -1;  // requests out, reports in
  int err = -1;   // the child's stdout and stderr
  std::string in;

  ~Worker() {
    if (sock >= 0) ::close(sock);
    if (err >= 0) ::close(err);
    if (pid > 0) {
      ::kill(pid, SIGKILL);
      while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
      }
    }
  }
};

IsolatedRunner::IsolatedRunner(RunOptions options, Handler handler)
    : options_(options), handler_(std::move(handler)) {
  options_.isolate = false;  // what the child does with each case
}

IsolatedRunner::~IsolatedRunner() = default;

uint64_t IsolatedRunner::workers_started() const { return started_; }

namespace {

std::unique_ptr<IsolatedRunner::Worker> start_worker(const Handler& h, const RunOptions& o);

}  // namespace

Report IsolatedRunner::run(const Case& c) {
  checker_for(c, options_);  // a bad protocol is the caller's error, not the child's crash
  if (auto why = check_case(c)) throw std::invalid_argument("isolated run: " + *why);
  if (std::optional<Report> invalid = invalid_case_report(c, options_)) return *invalid;
  if (!worker_) {
    worker_ = start_worker(handler_, options_);
    ++started_;
  }
  Worker& w = *worker_;
  // Wall-clock, the kit's own limit (docs/DETERMINISM.md): a child that never answers.
  const auto started = std::chrono::steady_clock::now();
  std::string errors;
  bool dead = !send_all(w.sock, frame("case", write_case(c)));
  std::optional<std::pair<std::string, std::string>> reply;
  bool timed_out = false;
  pollfd p[2] = {{w.sock, POLLIN, 0}, {w.err, POLLIN, 0}};
  constexpr int kSliceMs = 100;
  while (!dead && !(reply = take_frame(w.in))) {
    const int n = ::poll(p, 2, kSliceMs);
    if (n < 0 && errno != EINTR) dead = true;
    if (n == 0 && options_.isolation_timeout > 0 &&
        elapsed_since(started) >= options_.isolation_timeout) {
      timed_out = dead = true;
      break;
    }
    char buf[65536];
    if (p[1].fd >= 0 && p[1].revents != 0) {
      const ssize_t got = ::read(w.err, buf, sizeof buf);
      if (got <= 0) p[1].fd = -1;
      else if (errors.size() < kMaxChildStderr) errors.append(buf, static_cast<size_t>(got));
    }
    if (p[0].revents != 0) {
      const ssize_t got = ::read(w.sock, buf, sizeof buf);
      if (got <= 0) dead = true;
      else w.in.append(buf, static_cast<size_t>(got));
    }
  }
  if (!dead) {
    if (reply->first == "error") throw std::invalid_argument(reply->second);
    if (std::optional<Report> r = report_from_wire(reply->second)) return *r;
    dead = true;
  }
  // The child died (or hangs): collect what it said and how it ended, then start afresh.
  if (timed_out) ::kill(w.pid, SIGKILL);
  for (char buf[65536];;) {
    const ssize_t got = ::read(w.err, buf, sizeof buf);
    if (got <= 0) break;
    if (errors.size() < kMaxChildStderr) errors.append(buf, static_cast<size_t>(got));
  }
  int status = 0;
  while (::waitpid(w.pid, &status, 0) < 0 && errno == EINTR) {
  }
  w.pid = -1;
  worker_.reset();
  Report r = crash_report(c, options_, status, errors, timed_out);
  return r;
}

namespace {

std::unique_ptr<IsolatedRunner::Worker> start_worker(const Handler& h, const RunOptions& o) {
  int sv[2];
  int err[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
    throw std::runtime_error("isolated run: socketpair failed");
  if (::pipe2(err, O_CLOEXEC) != 0) {
    ::close(sv[0]);
    ::close(sv[1]);
    throw std::runtime_error("isolated run: pipe2 failed");
  }
  std::fflush(nullptr);
  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("isolated run: fork failed");
  if (pid == 0) {
    // Whatever the child prints (a sanitizer's report, a test framework's signal handler) goes
    // to the parent's crash report, not to the parent's output.
    ::dup2(err[1], STDOUT_FILENO);
    ::dup2(err[1], STDERR_FILENO);
    // glibc writes its fatal messages (a fortified strcpy's "buffer overflow detected") to the
    // terminal unless told to use stderr: this child's stderr is the crash report's.
    ::setenv("LIBC_FATAL_STDERR_", "1", 1);
    ::close(sv[0]);
    ::close(err[0]);
    worker_main(sv[1], h, o);
  }
  ::close(sv[1]);
  ::close(err[1]);
  auto w = std::make_unique<IsolatedRunner::Worker>();
  w->pid = pid;
  w->sock = sv[0];
  w->err = err[0];
  // The stderr pipe is read only while a case runs; never let a read block after a crash.
  ::fcntl(w->err, F_SETFL, O_NONBLOCK);
  return w;
}

}  // namespace

Report run_case(const Handler& handler, const Case& c, const RunOptions& options) {
  if (std::optional<Report> invalid = invalid_case_report(c, options)) return *invalid;
  if (!options.isolate) return run_direct(handler, c, options);
  IsolatedRunner one(options, handler);
  return one.run(c);
}

Report run_case(const Case& c, const RunOptions& options) {
  return run_case(named_handler(c, options), c, options);
}

}  // namespace edgecase
