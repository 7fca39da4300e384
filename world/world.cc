// The world's loop: the clock, the event queue, the handler's blocking points and quiescence.
#include "world/world.h"

#include <cassert>
#include <cstring>
#include <fmt/format.h>
#include <sys/epoll.h>

#include "edgecase/strace.h"
#include "sim/file.h"
#include "world/handler_kernel.h"

namespace edgecase {

std::string_view stop_reason_name(Stop::Reason r) {
  switch (r) {
    case Stop::Reason::quiescent: return "quiescent";
    case Stop::Reason::step_budget: return "step-budget";
    case Stop::Reason::time_limit: return "time-limit";
    case Stop::Reason::oracle: return "oracle";
    case Stop::Reason::wall_time: return "wall-time-limit";
    case Stop::Reason::exited: return "exited";
    case Stop::Reason::crashed: return "crashed";
    case Stop::Reason::sigpipe: return "sigpipe";
    case Stop::Reason::unsupported: return "unsupported";
  }
  return "?";
}

std::string Stop::message() const {
  if (!detail.empty()) return detail;  // the layer's line names the call and its arguments
  return fmt::format("stopped ({}) in {}({}) at {}", stop_reason_name(reason), call, fd,
                     sim::Trace::stamp(at));
}

namespace sim {

namespace {
// The peers' epoll instance collects at most this many ready peers per wakeup; the rest stay
// ready and are collected by the next round.
constexpr int kPeerEventsPerRound = 64;
// A lowered fd limit leaves the handler this many fds at most beyond those it had open when it
// first waited (at least one).
constexpr uint64_t kFdLimitMaxHeadroom = 4;
}  // namespace

struct World::ActorSlot {
  std::unique_ptr<Actor> actor;
  uint64_t timer = 0;  // the pending event's id, 0 when none
  Nanos timer_at = 0;
};

World::World(WorldOptions options)
    : options_(std::move(options)),
      random_(options_.seed),
      server_(std::make_unique<SimKernel>(options_.server)),
      remote_(std::make_unique<SimKernel>(
          SimOptions{.nofile = WorldOptions::kPeerHostNofile}, *server_)) {
  server_->set_scheduler(this);
  remote_->set_scheduler(this);
  if (options_.network) network_ = std::make_unique<Network>(server_->net(), *this);
  auto calls = std::make_unique<HandlerKernel>(*this, *server_);
  if (options_.trace) {
    handler_calls_ = std::move(calls);
    handler_kernel_ = std::make_unique<TracingKernel>(
        *handler_calls_, [this](const std::string& line) { trace_.line(now(), line); });
  } else {
    handler_kernel_ = std::move(calls);
  }
  peers_epfd_ = remote_->epoll_create1(EPOLL_CLOEXEC);
  assert(peers_epfd_ >= 0);
  remote_->file_at(peers_epfd_)->wait_queue()->add(&peers_entry_);
}

World::~World() {
  // Teardown sends FINs and RSTs: let them be delivered at once rather than queued.
  network_.reset();
  if (File* f = remote_->file_at(peers_epfd_)) f->wait_queue()->remove(&peers_entry_);
  server_->set_scheduler(nullptr);
  remote_->set_scheduler(nullptr);
  actors_.clear();
  remote_.reset();
  server_.reset();
}

// --- time, faults, trace ------------------------------------------------------------------------

void World::set_clock(Nanos t) {
  server_->set_now_ns(t);
  remote_->set_now_ns(t);
}

bool World::fire(FaultKind k) {
  const Fault& f = options_.faults[k];
  if (!f.on) return false;
  return random_.chance(Stream::faults, f.per_mille, Fault::kPerMille);
}

void World::trace(std::string_view line) {
  if (options_.trace) trace_.line(now(), line);
}

// --- actors -------------------------------------------------------------------------------------

Actor& World::add_actor(std::unique_ptr<Actor> a) {
  auto slot = std::make_unique<ActorSlot>();
  slot->actor = std::move(a);
  actors_.push_back(std::move(slot));
  return *actors_.back()->actor;
}

uint32_t World::index_of(const Actor& a) const {
  for (uint32_t i = 0; i < actors_.size(); ++i)
    if (actors_[i]->actor.get() == &a) return i;
  assert(false && "not an actor of this world");
  return 0;
}

void World::wake_at(Actor& a, Nanos at) {
  const uint32_t i = index_of(a);
  ActorSlot& s = *actors_[i];
  if (s.timer) queue_.cancel(s.timer);
  s.timer_at = std::max(at, now());
  s.timer = queue_.push(s.timer_at, Event{Event::Kind::actor, i});
}

void World::start_when_ready(Actor& a, Nanos delay) {
  if (waited_) wake_at(a, now() + delay); else starts_.emplace_back(index_of(a), delay);
}

void World::start_actors() {
  for (auto [i, delay] : starts_) wake_at(*actors_[i]->actor, now() + delay);
  starts_.clear();
}

void World::watch(Actor& a, int remote_fd) {
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
  ev.data.u64 = index_of(a);
  if (remote_->epoll_ctl(peers_epfd_, EPOLL_CTL_ADD, remote_fd, &ev) != 0) {
    const int r = remote_->epoll_ctl(peers_epfd_, EPOLL_CTL_MOD, remote_fd, &ev);
    assert(r == 0);
    (void)r;
  }
}

int World::peers_woken(WaitEntry* entry, uint32_t) {
  World& w = *static_cast<PeersEntry*>(entry)->world;
  if (!w.peers_event_pending_) {
    w.peers_event_pending_ = true;
    w.queue_.push(w.now(), Event{Event::Kind::peers, 0});
  }
  return 0;
}

void World::run_ready_actors() {
  peers_event_pending_ = false;
  epoll_event evs[kPeerEventsPerRound];
  const int n = remote_->epoll_wait(peers_epfd_, evs, kPeerEventsPerRound, 0);
  assert(n >= 0);
  for (int i = 0; i < n; ++i) actors_[evs[i].data.u64]->actor->act(*this);
}

// --- events -------------------------------------------------------------------------------------

void World::schedule_delivery(Nanos at, uint32_t flow) {
  queue_.push(std::max(at, now()), Event{Event::Kind::delivery, flow});
}

void World::run_event(const Event& e) {
  ++events_run_;
  switch (e.kind) {
    case Event::Kind::delivery: network_->deliver_next(e.index); break;
    case Event::Kind::actor:
      actors_[e.index]->timer = 0;
      actors_[e.index]->actor->act(*this);
      break;
    case Event::Kind::peers: run_ready_actors(); break;
  }
}

void World::advance_to(Nanos t) {
  assert(t >= now() && "time only moves forward");
  for (;;) {
    if (const std::optional<Nanos> timer = timer_before_events(t)) {
      set_clock(*timer);  // the hosts' timers due then fire
      continue;
    }
    if (queue_.empty() || queue_.next_time() > t) break;
    auto [at, e] = queue_.pop();
    set_clock(at);
    run_event(e);
  }
  set_clock(t);
}

uint64_t World::settle(uint64_t max_events) {
  uint64_t n = 0;
  while (!queue_.empty() && n < max_events) {
    auto [at, e] = queue_.pop();
    set_clock(at);
    run_event(e);
    ++n;
  }
  return n;
}

// --- the handler ----------------------------------------------------------------------------------

void World::stop(Stop::Reason r, const char* call, int fd) {
  throw Stop{r, call, fd, now()};
}

// The kit's wall-time limit: reads the clock every kWallCheckPeriod calls and events, and only
// ever to stop the run (nothing else depends on it).
void World::check_wall_time(const char* call, int fd) {
  if (options_.wall_time_limit <= 0 || --until_wall_check_ > 0) return;
  until_wall_check_ = kWallCheckPeriod;
  const auto elapsed = std::chrono::steady_clock::now() - started_;
  if (std::chrono::duration_cast<std::chrono::nanoseconds>(elapsed).count() >
      options_.wall_time_limit)
    stop(Stop::Reason::wall_time, call, fd);
}

void World::on_call(const char* call, int fd) {
  check_wall_time(call, fd);
  if (++steps_ > options_.step_budget) stop(Stop::Reason::step_budget, call, fd);
  const Nanos t = now() + kCallCost;
  if (t > options_.time_limit) stop(Stop::Reason::time_limit, call, fd);
  advance_to(t);
}

void World::on_first_wait() {
  waited_ = true;
  start_actors();
  if (!fire(FaultKind::fd_limit)) return;
  const int limit = static_cast<int>(server_->open_fd_count() +
                                     random_.between(Stream::faults, 1, kFdLimitMaxHeadroom));
  server_->set_nofile(limit);
  trace(fmt::format("fault: fd-limit: RLIMIT_NOFILE lowered to {}", limit));
}

WaitResult World::wait(WaitQueue& wq, std::optional<Nanos> deadline, const char* call, int fd) {
  if (!waited_) on_first_wait();
  std::optional<Nanos> signal_at;
  if (std::strcmp(call, "epoll_wait") == 0 && fire(FaultKind::eintr))
    signal_at = now() + static_cast<Nanos>(random_.between(Stream::faults, 0, kMaxSignalDelay));
  Waiter w;
  wq.add(&w);
  WaitGuard guard{wq, w};
  bool ran_event = false;  // a queued event ran during this wait (a timer alone does not count)
  for (;;) {
    if (w.woken) {
      // Woken by its own timer with nothing else happening: as idle as a timeout.
      if (ran_event) idle_timeouts_ = 0; else count_idle(call, fd);
      return WaitResult::woken;
    }
    std::optional<Nanos> until = deadline;
    if (signal_at && (!until || *signal_at < *until)) until = signal_at;
    if (const std::optional<Nanos> timer = timer_before_events(until)) {
      if (*timer > options_.time_limit) stop(Stop::Reason::time_limit, call, fd);
      check_wall_time(call, fd);
      set_clock(*timer);  // the timers due then fire, and may wake the caller
      continue;
    }
    if (!queue_.empty() && (!until || queue_.next_time() <= *until)) {
      auto [at, e] = queue_.pop();
      if (at > options_.time_limit) stop(Stop::Reason::time_limit, call, fd);
      check_wall_time(call, fd);
      set_clock(at);
      run_event(e);
      ran_event = true;
      continue;
    }
    if (!until) stop(Stop::Reason::quiescent, call, fd);
    if (*until > options_.time_limit) stop(Stop::Reason::time_limit, call, fd);
    set_clock(*until);
    if (signal_at && *until == *signal_at) {
      trace(fmt::format("signal: {}({}) interrupted", call, fd));
      return WaitResult::interrupted;
    }
    count_idle(call, fd);
    return WaitResult::timed_out;
  }
}

// A timeout (or a timer's wakeup) with nothing else happening since the last one, again and
// again: nothing ever will. Events run between two waits count too (a handler writing on a
// timer to a reading peer has its deliveries run by its own calls, not by its waits).
void World::count_idle(const char* call, int fd) {
  idle_timeouts_ = events_run_ == 0 ? idle_timeouts_ + 1 : 0;
  events_run_ = 0;
  const int idle_limit = options_.idle_timeouts_for_quiescence;
  if (idle_limit > 0 && idle_timeouts_ >= idle_limit && queue_.empty())
    stop(Stop::Reason::quiescent, call, fd);
}

World::Result World::run_caught(const std::function<void(Kernel&)>& handler, Kernel& k) {
  Result result{Outcome::exited, std::nullopt, ""};
  try {
    handler(k);
  } catch (const Stop& s) {
    result.outcome = Outcome::stopped;
    result.stop = s;
  } catch (const std::exception& e) {
    result.outcome = Outcome::threw;
    result.error = e.what();
  } catch (...) {
    result.outcome = Outcome::threw;
    result.error = "an exception not derived from std::exception";
  }
  return result;
}

World::Result World::run(const std::function<void(Kernel&)>& handler) {
  Result result = run_caught(handler, handler_kernel());
  // A stop from outside the world (posix/: exit, abort, SIGPIPE) knows no virtual time: it
  // happened now, before the world goes on settling.
  if (result.stop && result.stop->at == 0) result.stop->at = now();
  waited_ = true;
  start_actors();  // a handler that never waited still has clients knocking
  switch (result.outcome) {
    case Outcome::stopped: trace("handler " + result.stop->message()); break;
    case Outcome::exited: trace("handler returned"); break;
    case Outcome::threw: trace("handler threw: " + result.error); break;
  }
  settle();
  return result;
}

}  // namespace sim
}  // namespace edgecase
