// What a run found: the violations the oracles named, with their evidence, the last calls the
// handler made, and the case file that replays the run. See docs/ORACLES.md for every oracle.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "edgecase/scenario.h"

namespace edgecase {

// Where a run happened: the simulated world, or live loopback sockets through the real syscalls.
enum class Backend : uint8_t { sim, live };
std::string_view backend_name(Backend b);  // "sim", "live"

// The oracles' names, as reports print them (bug-classes.md). Spelled once, here.
namespace oracle {
inline constexpr std::string_view kLostReadEvent = "lost-read-event";
inline constexpr std::string_view kLostAccept = "lost-accept";
inline constexpr std::string_view kDisarmedForever = "disarmed-forever";
inline constexpr std::string_view kStuckOutput = "stuck-output";
inline constexpr std::string_view kBusyLoop = "busy-loop";
inline constexpr std::string_view kStreamCorrupt = "stream-corrupt";
inline constexpr std::string_view kReplyLostAfterHalfClose = "reply-lost-after-half-close";
inline constexpr std::string_view kEventForClosedFd = "event-for-closed-fd";
inline constexpr std::string_view kUseAfterClose = "use-after-close";
inline constexpr std::string_view kCtlError = "ctl-error";
inline constexpr std::string_view kBadFd = "bad-fd";
inline constexpr std::string_view kHandlerExited = "handler-exited";
inline constexpr std::string_view kHandlerBlocked = "handler-blocked";
inline constexpr std::string_view kHandlerThrew = "handler-threw";
inline constexpr std::string_view kFdLeak = "fd-leak";
// A peer waits, nothing can happen, and no more specific oracle explains why (readiness hidden
// in user space, a reply never produced): bug class 6.
inline constexpr std::string_view kStall = "stall";
// The handler's process died: a signal, or AddressSanitizer's report (isolated runs only).
inline constexpr std::string_view kHandlerCrashed = "handler-crashed";
// A write, send or writev met EPIPE without MSG_NOSIGNAL while SIGPIPE was at its default
// disposition and unblocked: Linux would have killed the process (the interposition layer,
// posix/, tracks the disposition; a ported handler's Kernel calls never raise it).
inline constexpr std::string_view kKilledBySigpipe = "killed-by-sigpipe";
}  // namespace oracle

// What an oracle saw. Fields that do not apply stay empty.
struct Evidence {
  int fd = -1;                       // the handler's fd involved
  uint32_t peer = 0;                 // peer#N involved (0: none)
  std::optional<uint64_t> bytes;     // unread bytes, queued connections, bytes still expected
  std::optional<uint32_t> interest;  // the fd's registration as the interest set stores it
  std::optional<uint64_t> offset;    // stream-corrupt: the first differing offset
  Nanos at = 0;                      // virtual time (live: time since the run started)
  std::string detail;                // one line: what exactly was seen
  friend bool operator==(const Evidence&, const Evidence&) = default;
};

struct Violation {
  std::string oracle;  // one of edgecase::oracle
  Evidence evidence;
  // One line: "lost-read-event: fd 5 (EPOLLIN|EPOLLET) holds 1448 unread bytes ... at 2.100ms".
  std::string format() const;
  friend bool operator==(const Violation&, const Violation&) = default;
};

// What the handler's calls met in a run, counted where every call of the handler passes (the
// Observer, on both backends): which edges a case reached, for rapidcheck's RC_CLASSIFY and
// RC_TAG (stats_tags). A property that never reaches EAGAIN asserts nothing about it. Counting
// changes no call and no trace.
struct RunStats {
  uint64_t short_reads = 0;   // read/recv/readv that returned data, fewer bytes than asked
  uint64_t short_writes = 0;  // write/send/writev that returned fewer bytes than asked
  uint64_t eagain = 0;        // calls that failed with EAGAIN (EWOULDBLOCK)
  uint64_t eintr = 0;         // calls that failed with EINTR
  uint64_t resets = 0;        // calls that failed with ECONNRESET or EPIPE
  // Peers that half-closed (shutdown_write on their connection) and whose end of file one of
  // the handler's reads returned on that connection. A peer's close() sends the same FIN; the
  // server cannot tell them apart, so only a script's shutdown_write counts.
  uint64_t half_closes = 0;
  uint64_t emfile = 0;        // accept4 that failed with EMFILE
  uint64_t econnaborted = 0;  // accept4 that failed with ECONNABORTED
  friend bool operator==(const RunStats&, const RunStats&) = default;
};

// The tag of each count above 0, in this order: "short-read", "short-write", "eagain",
// "eintr", "reset", "half-close", "emfile", "econnaborted" (stable: suites and CI logs
// compare them). For RC_TAG / RC_CLASSIFY.
std::vector<std::string> stats_tags(const RunStats& s);

struct Report {
  Backend backend = Backend::sim;
  std::string handler;
  std::string fault_plan;   // FaultPlan::describe() of the case
  // How the run ended, one line: "quiescent in epoll_wait(3)", "handler returned",
  // "handler threw: ...", "crashed: SIGSEGV".
  std::string ending;
  std::vector<Violation> violations;  // in the order found; empty: pass
  std::vector<std::string> last_calls;  // the trace's tail, oldest first
  // What happened, in plain words (explain(), edgecase/timeline.h): filled where the whole
  // trace was kept (record_timeline, the edgecase command's run); empty otherwise.
  std::vector<std::string> story;
  std::vector<std::string> peers;       // each peer's status line at the end
  std::string case_text;  // the case file that replays this run (write_case)
  // case_text with a `# violation: ...` comment per violation after its first line: what
  // `edgecase replay` checks the run reproduces (no comment: a clean run). format() ends
  // with it.
  std::string recorded_case_text() const;
  // Checks that could not decide and why (a live run never guesses; a run a kit limit ended
  // is not judged); empty when every check decided.
  std::vector<std::string> undecided;
  // Why the case could not run as written: validate_case's errors (then it did not run), or a
  // peer that failed for a reason of its own (peer_failure_is_case_error). The handler is not
  // judged then: only the violations single calls showed as they returned are kept.
  std::vector<std::string> case_errors;
  // The kit's limit that ended the run, with its figure, e.g. "wall-time limit 60.000 s
  // reached after 60.001 s"; empty when none did. The run is undecided: the final-state oracles
  // did not run (RunOptions::wall_time_limit, isolation_timeout).
  std::string kit_limit;
  uint64_t steps = 0;  // handler calls
  Nanos end = 0;       // virtual time at the end (live: elapsed)
  RunStats stats;      // what the handler's calls met (also for runs a kit limit ended)

  // PASS: no violation, the case ran as written, and no kit limit ended it.
  bool clean() const { return violations.empty() && case_errors.empty() && kit_limit.empty(); }
  bool found(std::string_view oracle_name) const;
  // Oracle names found, each once, in the order first found.
  std::vector<std::string> oracles() const;
  // The full human-readable report: header, violations with evidence, peers, last calls, and
  // last the case file that replays the run, after the line "case file (replays this run):".
  std::string format() const;
};

}  // namespace edgecase
