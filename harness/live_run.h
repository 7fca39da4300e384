// One case run on live loopback sockets: the real syscalls, the case's peers on real
// nonblocking sockets in the same process and thread, driven at the handler's blocking points
// as the world drives them in the simulation.
//
// The handler is given a LiveKernel: RealKernel, except at the points where a real call could
// block. There the peers run (Peer::run on the RealKernel), then the real call is made with a
// short bounded timeout (epoll_wait) or as a nonblocking attempt (a read, write, accept4 or
// connect on a blocking fd), and this repeats until the call can complete or its own timeout
// expires. When nothing has moved for `settle` (no peer made progress, the handler made no
// call but these waits) the run is quiescent: the handler is stopped by throwing
// edgecase::Stop in the call it is in, exactly as in the simulation, and the oracles run on
// the live state (FIONREAD, SIOCOUTQ, /proc/self/fdinfo).
//
// Ports: a handler that binds the scenario's port gets an ephemeral port instead (bind asks
// for port 0 on the same address), and the peers connect to the port it got, so that runs in
// parallel processes never collide and no TIME_WAIT blocks the next run.
//
// Faults on live (docs/LIVE.md): the peers' script faults (small peer buffers, slow readers,
// half-close, reset) arrive applied in the scripts; short-write and small-buffers set a small
// SO_SNDBUF on every socket the handler accepts (short-write also gives each peer the smallest
// receive buffer), so the handler's writes really come back short; eintr interrupts the
// handler's real epoll_wait with a timer signal (harness/live_interrupt.h). The network faults
// (split, coalesce, delay), accept-abort and fd-limit are not applied: unapplied_faults().
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "edgecase/case_file.h"
#include "edgecase/kernel.h"
#include "edgecase/real_kernel.h"
#include "harness/peer.h"
#include "world/world.h"

namespace edgecase {

struct LiveRunOptions {
  Nanos settle = 50 * kNanosPerMilli;      // quiescence: nothing moved for this long
  // ... or for this long once every peer is done (or failed): with no client left to act,
  // nothing but the handler's own timers could still move on loopback, so a short quiet spell
  // proves it (a clean 4-peer echo case takes 7 ms instead of 52). Capped by `settle`.
  Nanos done_settle = 5 * kNanosPerMilli;
  Nanos time_limit = 5'000 * kNanosPerMilli;  // wall time; then Stop(time_limit)
  uint64_t step_budget = 200'000;           // handler calls; then Stop(step_budget)
  ProtocolCheck* check = nullptr;  // fed every chunk the peers receive (not owned)
  // Longest single real epoll_wait/poll slice between two peer runs.
  static constexpr int kSliceMs = 1;
};

class LiveRun {
 public:
  // The send buffer Linux gives a socket asked for the smallest: SOCK_MIN_SNDBUF, 2 *
  // (2048 + SKB_DATA_ALIGN(sizeof(struct sk_buff))) on x86_64 (sock_setsockopt clamps to it).
  static constexpr int kMinSndbuf = 4608;
  // What a socket asks for to get it (the kernel doubles the request, then clamps).
  static constexpr int kMinSndbufRequest = 1;
  // A peer's smallest receive buffer, asked for before it connects: SOCK_MIN_RCVBUF (2,304
  // bytes) once doubled and clamped. With it a reply of a few KiB no longer fits what the
  // handler's write may queue, so the write is cut short.
  static constexpr uint64_t kMinRcvbufRequest = 1;
  // The signal the eintr fault sends to the running thread (InterruptTimer).
  static int interrupt_signal();

  // `scripts`: the peers' scripts as the fault plan changed them (SimRun::scripts() of the
  // same case), so both backends run the same peers. With short-write or small-buffers, a
  // peer with no rcvbuf step before its connect gets one (kMinRcvbufRequest): scripts() says.
  LiveRun(const Case& c, std::vector<PeerScript> scripts, LiveRunOptions options = {});
  ~LiveRun();  // closes every fd the run created (the handler's and the peers')

  // What the handler is given.
  Kernel& handler_kernel();
  // The real kernel underneath, for inspection (untraced, not driving peers).
  RealKernel& real();
  // Runs `handler` (which must call handler_kernel(), usually through an Observer wrapping it)
  // until it returns, throws, or is stopped; then lets the peers settle (bounded by `settle`).
  sim::World::Result run(const std::function<void(Kernel&)>& handler);
  // One sentence per fault of the plan that can fire (on, above 0 per mille) and that live
  // sockets cannot apply, for Report::undecided.
  std::vector<std::string> unapplied_faults() const;
  // Nanoseconds since the run began (steady clock).
  Nanos now() const;
  // peer#i is peers()[i - 1].
  const std::vector<const Peer*>& peers() const;
  const std::vector<PeerScript>& scripts() const;
  uint64_t steps() const;  // handler calls

 private:
  friend class LiveKernel;  // the handler's kernel, inside live_run.cc
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace edgecase
