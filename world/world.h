// The deterministic world a handler runs in (sim only).
//
// A World owns two simulated hosts on one network: the server's (the SimKernel the handler
// calls) and the peers' (a second SimKernel whose fds the handler never sees). Between them
// runs the network model (world/network.h). Time is virtual, in integer nanoseconds; what
// happens next is kept in one event queue ordered by (time, push order): segment deliveries,
// actors' timers (the peers), and signals. The hosts' own timers (timerfds, sim/hrtimer.h)
// stay in their kernels; the world runs them in time order with its events, a timer before
// an event due at the same instant. A wait woken by a timer with nothing else happening
// counts toward quiescence as a timeout does; settle() runs only queued events (timers fire
// on the way, none after the last event).
//
// The world only moves when the handler lets it, as a single CPU would:
//   - every handler call costs kCallCost of virtual time, and the events due by then run
//     first (so a busy loop still sees the network progress, and burns virtual time);
//   - at a blocking point (epoll_wait with a timeout, a blocking read, write, accept4,
//     connect), SimKernel sleeps through World::wait, which runs events in time order until
//     the caller is woken, its timeout expires, or a signal interrupts it.
// When nothing can ever happen again the run is quiescent: the blocked handler is stopped by
// throwing edgecase::Stop (not a std::exception, so the handler's own catch cannot swallow
// it), run() returns, and the world stays intact for the oracles.
//
// Everything observable is a function of (options, seed, handler): no wall-clock time (but the
// kit's wall-time limit, which only ever stops a run), no pointer values, no hashing order, no
// standard library distributions.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "edgecase/kernel.h"
#include "edgecase/scenario.h"
#include "edgecase/sim_kernel.h"
#include "world/event_queue.h"
#include "world/network.h"
#include "world/random.h"
#include "world/trace.h"
#include "sim/wait.h"

namespace edgecase {

// Why the world stopped the handler.
struct Stop {
  enum class Reason : uint8_t {
    quiescent,    // nothing can ever happen again
    step_budget,  // the handler made more calls than the budget allows
    time_limit,   // virtual time passed the limit
    oracle,       // an oracle watching the calls ended the run (busy-loop: no progress)
    wall_time,    // the kit's wall-time limit passed (WorldOptions::wall_time_limit)
    // Raised by the interposition layer (posix/), which ends the run where Linux would end the
    // process or where the kit cannot go on:
    exited,       // the handler called exit() or _exit(): it ended as if it had returned
    crashed,      // the handler called abort(): SIGABRT would have killed the process
    sigpipe,      // a write met EPIPE with SIGPIPE at its default disposition, unblocked
    unsupported,  // a call the layer routes that the model cannot honour (the kit's limit)
  };
  Reason reason;
  std::string call;  // the call that was stopped, e.g. "epoll_wait"
  int fd = -1;
  Nanos at = 0;
  // What the layer says about the stop, one line naming the call and its arguments (posix/);
  // empty for the world's own stops.
  std::string detail = {};
  std::string message() const;
};
std::string_view stop_reason_name(Stop::Reason r);

namespace sim {

class World;

// Something in the world that acts on its own: a peer. It runs when a timer it set is due or
// when a file it watches is woken, and is always free to find there is nothing to do.
class Actor {
 public:
  virtual ~Actor() = default;
  virtual void act(World& w) = 0;
};

struct WorldOptions {
  // A handler that needs more calls than this is stuck or spinning.
  static constexpr uint64_t kDefaultStepBudget = 200'000;
  static constexpr Nanos kDefaultTimeLimit = 60'000 * kNanosPerMilli;
  static constexpr int kPeerHostNofile = 4096;

  uint64_t seed = 0;
  FaultPlan faults = FaultPlan::none();
  SimOptions server;     // the handler's host
  bool network = true;   // false: segments are delivered within the sending call (loopback)
  uint64_t step_budget = kDefaultStepBudget;
  Nanos time_limit = kDefaultTimeLimit;
  // The kit's limit in wall-clock time from the world's construction (0: none). The only clock
  // the world reads, and only to stop: a run that ends within it is the same run without it
  // (docs/DETERMINISM.md).
  Nanos wall_time_limit = 0;
  bool trace = true;     // false: no trace lines are formatted (benchmarks)
  // Timed waits expiring in a row with nothing happening before the run counts as quiescent;
  // 0 never stops on that ground (tests that wait for "nothing happens" on purpose).
  int idle_timeouts_for_quiescence = kDefaultIdleTimeouts;
  static constexpr int kDefaultIdleTimeouts = 3;
};

class World final : public Scheduler, public Network::Host {
 public:
  // Virtual time each handler call takes: about a loopback syscall.
  static constexpr Nanos kCallCost = 1 * kNanosPerMicro;
  // A timed wait that expires this many times in a row with nothing else happening in between
  // ends the run as quiescent: a handler polling a timer forever would otherwise never stop.
  static constexpr int kIdleTimeoutsForQuiescence = WorldOptions::kDefaultIdleTimeouts;
  // When the EINTR fault fires, the signal arrives within this much of the wait starting.
  static constexpr Nanos kMaxSignalDelay = 1 * kNanosPerMilli;

  explicit World(WorldOptions options);
  ~World() override;
  World(const World&) = delete;
  World& operator=(const World&) = delete;

  // --- the hosts --------------------------------------------------------------------------
  SimKernel& server() { return *server_; }
  SimKernel& remote() { return *remote_; }
  // What a handler is given: the server kernel with the per-call cost, the step budget, the
  // call faults (short writes, ECONNABORTED) and the trace.
  Kernel& handler_kernel() { return *handler_kernel_; }

  // --- time, randomness, faults, trace ---------------------------------------------------------
  Nanos now() const override { return server_->now_ns(); }
  Random& random() { return random_; }
  const FaultPlan& faults() const { return options_.faults; }
  // True when fault `k` is on and fires at this opportunity (the faults stream).
  bool fire(FaultKind k) override;
  Trace& trace() { return trace_; }
  bool tracing() const override { return options_.trace; }
  void trace(std::string_view line) override;  // a world event at now()

  // --- actors ---------------------------------------------------------------------------------
  Actor& add_actor(std::unique_ptr<Actor> a);
  // Runs `a` at time `at` (at most one timer per actor: a new one replaces the old).
  void wake_at(Actor& a, Nanos at);
  // Runs `a` for the first time `delay` after the handler first waits (or returns): a server
  // is ready for its clients once its loop is waiting, and clients that arrive during its
  // set-up would only ever be refused.
  void start_when_ready(Actor& a, Nanos delay);
  // Runs `a` whenever the peers' host socket `fd` reports an edge (EPOLLIN, EPOLLOUT,
  // EPOLLRDHUP, errors). The world watches through an edge-triggered epoll instance of its own
  // on the peers' host, so a closed socket simply stops being watched, as in any program.
  void watch(Actor& a, int remote_fd);

  // --- running --------------------------------------------------------------------------------
  enum class Outcome : uint8_t { stopped, exited, threw };
  struct Result {
    Outcome outcome;
    std::optional<Stop> stop;  // when stopped
    std::string error;         // when threw: what()
  };
  // Runs `handler` on `k` and says how it ended: it returned, threw (what()), or was stopped
  // (Stop). Shared with live runs, which end handlers the same way.
  static Result run_caught(const std::function<void(Kernel&)>& handler, Kernel& k);
  // Runs the handler on handler_kernel() until it returns, throws, or is stopped. Then lets
  // the world settle (deliveries and peers run while the handler does nothing, as if it were
  // blocked) so that the final state is the one the oracles must judge.
  Result run(const std::function<void(Kernel&)>& handler);
  // Runs due events up to `t` (the clock ends at t). Used by the handler kernel's call cost
  // and by tests that drive the world without a handler.
  void advance_to(Nanos t);
  // Runs every event, however far in the future, until the queue is empty or `max_events`
  // ran. Returns the number run.
  uint64_t settle(uint64_t max_events = kSettleMaxEvents);
  static constexpr uint64_t kSettleMaxEvents = 1'000'000;

  // The handler's calls so far (each costs kCallCost).
  uint64_t steps() const { return steps_; }
  // Counts one handler call; throws Stop at the budget or the time limit. Then runs what is
  // due by now() + kCallCost.
  void on_call(const char* call, int fd);

  // Scheduler: SimKernel's blocking points.
  WaitResult wait(WaitQueue& wq, std::optional<Nanos> deadline, const char* call,
                  int fd) override;

 public:
  struct ActorSlot;

 private:
  struct Event {
    // delivery: a segment of a flow is due; actor: an actor's timer; peers: the peers' epoll
    // instance was woken and its ready actors must run.
    enum class Kind : uint8_t { delivery, actor, peers };
    Kind kind;
    uint32_t index;  // the flow, or the actor
  };

  void schedule_delivery(Nanos at, uint32_t flow) override;
  Rng& rng() override { return random_.stream(Stream::network); }
  void run_event(const Event& e);
  void run_ready_actors();
  static int peers_woken(WaitEntry* entry, uint32_t key);
  void set_clock(Nanos t);  // both hosts' clocks: their timers due by `t` fire
  // The earliest timer armed on either host (a timerfd), or nullopt. Inline: the world asks at
  // every call and every event.
  std::optional<Nanos> next_timer() const {
    const std::optional<Nanos> a = server_->next_timer_ns();
    const std::optional<Nanos> b = remote_->next_timer_ns();
    if (!a) return b;
    if (!b) return a;
    return std::min(*a, *b);
  }
  // That timer, if it is due by `until` (nullopt: no bound) and no queued event comes before
  // it: timers fire before events due at the same instant.
  std::optional<Nanos> timer_before_events(std::optional<Nanos> until) const {
    const std::optional<Nanos> timer = next_timer();
    if (!timer || (until && *timer > *until)) return std::nullopt;
    if (!queue_.empty() && queue_.next_time() < *timer) return std::nullopt;
    return timer;
  }
  // A wait ended with a timeout or a timer's wakeup: counts toward quiescence.
  void count_idle(const char* call, int fd);
  void on_first_wait();
  void start_actors();
  uint32_t index_of(const Actor& a) const;
  [[noreturn]] void stop(Stop::Reason r, const char* call, int fd);

  WorldOptions options_;
  Random random_;
  Trace trace_;
  std::unique_ptr<SimKernel> server_;
  std::unique_ptr<SimKernel> remote_;
  std::unique_ptr<Network> network_;
  std::unique_ptr<Kernel> handler_calls_;   // the HandlerKernel, when a tracer wraps it
  std::unique_ptr<Kernel> handler_kernel_;  // what the handler is given
  EventQueue<Event> queue_;
  std::vector<std::unique_ptr<ActorSlot>> actors_;
  int peers_epfd_ = -1;          // on the peers' host
  struct PeersEntry : WaitEntry {
    explicit PeersEntry(World* w) : WaitEntry(&World::peers_woken), world(w) {}
    World* world;
  } peers_entry_{this};
  bool peers_event_pending_ = false;
  std::vector<std::pair<uint32_t, Nanos>> starts_;  // (actor, delay) until the handler waits
  uint64_t steps_ = 0;
  // The wall-time limit's clock: read at the first handler call or event, then once every
  // kWallCheckPeriod of them.
  static constexpr uint64_t kWallCheckPeriod = 1024;
  std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
  uint64_t until_wall_check_ = 1;  // the first call or event checks
  void check_wall_time(const char* call, int fd);
  uint64_t events_run_ = 0;  // events run since the last idle timeout (quiescence)
  int idle_timeouts_ = 0;
  bool waited_ = false;      // the handler has reached a blocking point
};

}  // namespace sim
}  // namespace edgecase
