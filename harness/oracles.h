// The oracles that judge a run's final state, when the handler can do nothing more (bug
// classes 1-7, 12, 14, 18, 20, 21 of bug-classes.md). Those that judge single calls run in
// the Observer as the calls return (harness/observer.h). docs/ORACLES.md describes each.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "edgecase/inspect.h"
#include "edgecase/protocol.h"
#include "edgecase/report.h"
#include "harness/observer.h"
#include "harness/peer.h"

namespace edgecase {

// How the handler's run ended.
struct RunEnd {
  enum class How : uint8_t {
    idle,         // stopped in epoll_wait/epoll_pwait: nothing could ever wake it
    blocked,      // stopped in another blocking call (read, write, accept4, connect, ...)
    exited,       // the handler returned
    threw,        // the handler threw (`error` holds what())
    step_budget,  // stopped at the step budget
    time_limit,   // stopped at the time limit
    oracle,       // the Observer stopped it (busy-loop)
    kit_limit,    // the kit's wall-time limit (the run is not judged: runner.cc)
    crashed,      // the handler called abort() (posix/: the layer ends the run)
    sigpipe,      // SIGPIPE would have killed the process (posix/: the layer ends the run)
  };
  How how = How::idle;
  std::string call;   // the call it was stopped in
  int fd = -1;
  Nanos at = 0;
  std::string error;  // threw: what(); stopped by the layer (posix/): its line
};

// One peer at the end: its engine (sent, received, status) and its script as run (with the
// fault plan's changes).
struct PeerEnd {
  const Peer* peer = nullptr;
  const PeerScript* script = nullptr;
};

struct RunView {
  Backend backend = Backend::sim;
  Inspect& inspect;        // the handler's host
  Kernel& quiet;           // the handler's host, untraced and free (getpeername, fcntl)
  const Observer& calls;
  std::vector<PeerEnd> peers;  // peer#i is peers[i - 1]
  RunEnd end;
  Nanos now = 0;
  ProtocolCheck& check;  // the run's protocol check, fed by the peers as bytes arrived
};

// The final-state oracles, in a fixed order: handler-threw, handler-crashed and
// killed-by-sigpipe (runs the interposition layer ended, posix/), handler-exited, handler-blocked,
// busy-loop (budget), lost-accept, lost-read-event, disarmed-forever, stuck-output,
// reply-lost-after-half-close, stream-corrupt, fd-leak, then stall if a peer still waits and
// nothing above explains it. Live checks that cannot decide append to `undecided`.
std::vector<Violation> judge(const RunView& v, std::vector<std::string>& undecided);

}  // namespace edgecase
