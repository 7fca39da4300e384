// Tests of world/world.h: the virtual clock and the call cost, the event queue's order, the
// handler's blocking points and quiescence, the Stop signal and the run's outcomes, actors
// (timers, watches, delayed starts), the faults the world itself fires (EINTR, the fd limit),
// and two worlds in one process. Peer-level faults are in sim_run_test.cc.
#include "world/world.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <arpa/inet.h>
#include <cerrno>
#include <cstdint>
#include <fcntl.h>
#include <fmt/format.h>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <type_traits>
#include <vector>

#include "edgecase/inspect.h"
#include "edgecase/scenario.h"

namespace {

using edgecase::Fault;
using edgecase::FaultKind;
using edgecase::FaultPlan;
using edgecase::Interest;
using edgecase::Kernel;
using edgecase::kNanosPerMicro;
using edgecase::kNanosPerMilli;
using edgecase::Nanos;
using edgecase::Stop;
using edgecase::sim::Actor;
using edgecase::sim::World;
using edgecase::sim::WorldOptions;
using Outcome = World::Outcome;
using Reason = Stop::Reason;

constexpr Nanos kCall = World::kCallCost;
constexpr Nanos kMs = kNanosPerMilli;
// Fds a scan for the world's own epoll instance on the peers' host looks at: it is among the
// first the host opens.
constexpr int kScanFds = 64;

WorldOptions options(FaultPlan faults = FaultPlan::none(), uint64_t seed = 1) {
  WorldOptions o;
  o.seed = seed;
  o.faults = faults;
  return o;
}

FaultPlan only(FaultKind k, uint32_t per_mille) {
  FaultPlan p = FaultPlan::none();
  p[k] = Fault{true, per_mille};
  return p;
}

// An actor running a test's function, which is given the actor itself (to re-arm it).
class FnActor final : public Actor {
 public:
  using Fn = std::function<void(World&, Actor&)>;
  explicit FnActor(Fn f) : f_(std::move(f)) {}
  void act(World& w) override { f_(w, *this); }

 private:
  Fn f_;
};

Actor& add(World& w, FnActor::Fn f) {
  return w.add_actor(std::make_unique<FnActor>(std::move(f)));
}

// CLOCK_MONOTONIC through `k`, in nanoseconds; -1 if the call failed. (No REQUIRE inside a
// handler: Catch's failure would be caught by World::run as a handler exception.)
Nanos monotonic(Kernel& k) {
  timespec ts{};
  if (k.clock_gettime(CLOCK_MONOTONIC, &ts) != 0) return -1;
  return Nanos{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

bool trace_has(World& w, std::string_view needle) {
  const auto& lines = w.trace().all().empty()
                          ? std::vector<std::string>(w.trace().tail().begin(), w.trace().tail().end())
                          : w.trace().all();
  return std::any_of(lines.begin(), lines.end(),
                     [&](const std::string& l) { return l.find(needle) != std::string::npos; });
}

// The fds the world's epoll instance on the peers' host watches.
std::vector<int> watched(World& w) {
  for (int fd = 0; fd < kScanFds; ++fd) {
    if (auto set = w.remote().interest_set(fd)) {
      std::vector<int> fds;
      for (const Interest& i : *set) fds.push_back(i.fd);
      return fds;
    }
  }
  return {-1};
}

// --- the clock ------------------------------------------------------------------------------------

TEST_CASE("world: a trace stamp is \"[{:>7}.{:03}ms]\" of the virtual time", "[world]") {
  using edgecase::sim::Trace;
  for (edgecase::Nanos at : {edgecase::Nanos{0}, edgecase::Nanos{999}, edgecase::Nanos{1'000},
                             edgecase::Nanos{1'234'567}, edgecase::Nanos{60'000'000'000},
                             edgecase::Nanos{9'999'999'999'999}, edgecase::Nanos{123'456'789'012'345},
                             edgecase::Nanos{-1'500'000}})
    CHECK(Trace::stamp(at) == fmt::format("[{:>7}.{:03}ms]", at / edgecase::kNanosPerMilli,
                                          (at % edgecase::kNanosPerMilli) / edgecase::kNanosPerMicro));
  CHECK(Trace::stamp(2'100'000) == "[      2.100ms]");
}

TEST_CASE("world: the clock starts at 0 and every handler call costs kCallCost", "[world]") {
  World w(options());
  REQUIRE(w.now() == 0);
  REQUIRE(w.steps() == 0);
  std::vector<Nanos> seen;
  const auto r = w.run([&](Kernel& k) {
    for (int i = 0; i < 3; ++i) seen.push_back(monotonic(k));
  });
  REQUIRE(r.outcome == Outcome::exited);
  REQUIRE(seen == std::vector<Nanos>{kCall, 2 * kCall, 3 * kCall});
  REQUIRE(w.steps() == 3);
  REQUIRE(w.now() == 3 * kCall);
  REQUIRE(w.server().now_ns() == w.remote().now_ns());
}

TEST_CASE("world: epoll_wait with a timeout and nothing pending returns 0 at its deadline",
          "[world]") {
  World w(options());
  Nanos called = -1, returned = -1;
  int n = -2;
  const auto r = w.run([&](Kernel& k) {
    const int ep = k.epoll_create1(0);                // 1 call
    called = monotonic(k);                            // 2 calls
    epoll_event evs[4];
    n = k.epoll_wait(ep, evs, 4, 5);                  // charged, then 5 ms
    returned = monotonic(k);
  });
  REQUIRE(r.outcome == Outcome::exited);
  REQUIRE(n == 0);
  REQUIRE(called == 2 * kCall);
  REQUIRE(returned == 3 * kCall + 5 * kMs + kCall);
}

TEST_CASE("world: time never goes backwards, not even for a timer set in the past", "[world]") {
  World w(options());
  std::vector<Nanos> seen;
  // A ticker every 700 us that also re-arms a second actor in the past: it must run at the
  // ticker's time, never before it.
  Actor& late = add(w, [&](World& world, Actor&) { seen.push_back(world.now()); });
  Actor& ticker = add(w, [&](World& world, Actor& self) {
    seen.push_back(world.now());
    if (world.now() >= 40 * kMs) return;
    world.wake_at(late, world.now() - 3 * kMs);
    world.wake_at(self, world.now() + 700 * kNanosPerMicro);
  });
  w.wake_at(ticker, 0);
  std::vector<Nanos> handler_seen;
  const auto r = w.run([&](Kernel& k) {
    const int ep = k.epoll_create1(0);
    epoll_event evs[1];
    for (int i = 0; i < 30; ++i) {
      handler_seen.push_back(monotonic(k));
      k.epoll_wait(ep, evs, 1, i % 3);
    }
  });
  REQUIRE(r.outcome == Outcome::exited);
  REQUIRE(seen.size() > 40);
  REQUIRE(std::is_sorted(seen.begin(), seen.end()));
  REQUIRE(std::adjacent_find(handler_seen.begin(), handler_seen.end(),
                             [](Nanos a, Nanos b) { return b <= a; }) == handler_seen.end());
  REQUIRE(handler_seen.front() == 2 * kCall);
}

TEST_CASE("world: advance_to and settle run events in (time, push order)", "[world]") {
  World w(options());
  std::vector<std::string> order;
  auto recorder = [&](std::string name) {
    return [&order, name](World& world, Actor&) {
      order.push_back(name + "@" + std::to_string(world.now()));
    };
  };
  Actor& a = add(w, recorder("a"));
  Actor& b = add(w, recorder("b"));
  Actor& c = add(w, recorder("c"));
  w.wake_at(a, 20);
  w.wake_at(b, 10);
  w.wake_at(c, 10);
  w.advance_to(15);
  REQUIRE(order == std::vector<std::string>{"b@10", "c@10"});
  REQUIRE(w.now() == 15);
  w.advance_to(15);  // nothing more is due
  REQUIRE(order.size() == 2);
  REQUIRE(w.settle() == 1);
  REQUIRE(order == std::vector<std::string>{"b@10", "c@10", "a@20"});
  REQUIRE(w.now() == 20);

  // Same time: push order, including an event pushed while another at that time runs.
  order.clear();
  Actor& z = add(w, recorder("z"));
  Actor& x = add(w, [&](World& world, Actor&) {
    order.push_back("x@" + std::to_string(world.now()));
    world.wake_at(z, world.now());
  });
  Actor& y = add(w, recorder("y"));
  w.wake_at(x, 30);
  w.wake_at(y, 30);
  REQUIRE(w.settle() == 3);
  REQUIRE(order == std::vector<std::string>{"x@30", "y@30", "z@30"});
  REQUIRE(w.settle() == 0);
}

TEST_CASE("world: settle stops after max_events", "[world]") {
  World w(options());
  int runs = 0;
  Actor& forever = add(w, [&](World& world, Actor& self) {
    ++runs;
    world.wake_at(self, world.now() + 1);
  });
  w.wake_at(forever, 0);
  REQUIRE(w.settle(10) == 10);
  REQUIRE(runs == 10);
  REQUIRE(w.now() == 9);
}

// --- quiescence and the Stop signal --------------------------------------------------------------

TEST_CASE("world: epoll_wait(-1) with nothing pending is stopped as quiescent", "[world]") {
  World w(options());
  int ep = -1;
  bool returned = false;
  const auto r = w.run([&](Kernel& k) {
    ep = k.epoll_create1(0);
    epoll_event evs[1];
    k.epoll_wait(ep, evs, 1, -1);
    returned = true;
  });
  REQUIRE(r.outcome == Outcome::stopped);
  REQUIRE(r.stop.has_value());
  REQUIRE(r.stop->reason == Reason::quiescent);
  REQUIRE(r.stop->call == "epoll_wait");
  REQUIRE(r.stop->fd == ep);
  REQUIRE(r.stop->at == 2 * kCall);
  REQUIRE(r.error.empty());
  REQUIRE_FALSE(returned);
  REQUIRE(r.stop->message() == "stopped (quiescent) in epoll_wait(3) at " +
                                   edgecase::sim::Trace::stamp(2 * kCall));
  REQUIRE(trace_has(w, "handler stopped (quiescent) in epoll_wait(3)"));
}

static_assert(!std::is_base_of_v<std::exception, Stop>,
              "a handler's catch (const std::exception&) must not swallow Stop");

TEST_CASE("world: a handler's catch (const std::exception&) does not swallow Stop", "[world]") {
  World w(options());
  bool swallowed = false, after = false;
  const auto r = w.run([&](Kernel& k) {
    const int ep = k.epoll_create1(0);
    epoll_event evs[1];
    try {
      k.epoll_wait(ep, evs, 1, -1);
    } catch (const std::exception&) {
      swallowed = true;
    }
    after = true;
  });
  REQUIRE(r.outcome == Outcome::stopped);
  REQUIRE_FALSE(swallowed);
  REQUIRE_FALSE(after);
}

TEST_CASE("world: a blocking read on an empty pipe with nothing pending is quiescent in read",
          "[world]") {
  World w(options());
  int p[2] = {-1, -1};
  const auto r = w.run([&](Kernel& k) {
    if (k.pipe2(p, 0) != 0) throw std::runtime_error("pipe2");
    char buf[16];
    k.read(p[0], buf, sizeof buf);
  });
  REQUIRE(r.outcome == Outcome::stopped);
  REQUIRE(r.stop->reason == Reason::quiescent);
  REQUIRE(r.stop->call == "read");
  REQUIRE(r.stop->fd == p[0]);
  REQUIRE(w.server().bytes_to_read(p[0]) == std::optional<uint64_t>{0});
}

TEST_CASE("world: a blocking accept4 with no client ever coming is quiescent in accept4",
          "[world]") {
  World w(options());
  int lfd = -1;
  const auto r = w.run([&](Kernel& k) {
    lfd = k.socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(7000);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (k.bind(lfd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || k.listen(lfd, 8) != 0)
      throw std::runtime_error("listen");
    k.accept4(lfd, nullptr, nullptr, 0);
  });
  REQUIRE(r.outcome == Outcome::stopped);
  REQUIRE(r.stop->reason == Reason::quiescent);
  REQUIRE(r.stop->call == "accept4");
  REQUIRE(r.stop->fd == lfd);
}

TEST_CASE("world: a handler polling epoll_wait(10) forever is quiescent after "
          "kIdleTimeoutsForQuiescence idle timeouts", "[world]") {
  World w(options());
  int ep = -1, zeros = 0;
  const auto r = w.run([&](Kernel& k) {
    ep = k.epoll_create1(0);
    epoll_event evs[1];
    for (;;)
      if (k.epoll_wait(ep, evs, 1, 10) == 0) ++zeros;
  });
  REQUIRE(r.outcome == Outcome::stopped);
  REQUIRE(r.stop->reason == Reason::quiescent);
  REQUIRE(r.stop->call == "epoll_wait");
  REQUIRE(r.stop->fd == ep);
  REQUIRE(zeros == World::kIdleTimeoutsForQuiescence - 1);
  REQUIRE(r.stop->at == kCall + World::kIdleTimeoutsForQuiescence * (kCall + 10 * kMs));
}

TEST_CASE("world: a busy loop of epoll_wait(0) is stopped by the step budget", "[world]") {
  WorldOptions o = options();
  o.step_budget = 100;
  World w(o);
  int ep = -1, polls = 0;
  const auto r = w.run([&](Kernel& k) {
    ep = k.epoll_create1(0);
    epoll_event evs[1];
    for (;;) {
      k.epoll_wait(ep, evs, 1, 0);
      ++polls;
    }
  });
  REQUIRE(r.outcome == Outcome::stopped);
  REQUIRE(r.stop->reason == Reason::step_budget);
  REQUIRE(r.stop->call == "epoll_wait");
  REQUIRE(r.stop->fd == ep);
  REQUIRE(polls == 99);  // with epoll_create1, 100 calls; the 101st is stopped
  REQUIRE(w.steps() == 101);
  REQUIRE(r.stop->at == 100 * kCall);
  REQUIRE(trace_has(w, "handler stopped (step-budget) in epoll_wait(3)"));
}

TEST_CASE("world: a handler computing past the time limit is stopped with time_limit",
          "[world]") {
  WorldOptions o = options();
  o.time_limit = 50 * kCall;
  World w(o);
  int calls = 0;
  const auto r = w.run([&](Kernel& k) {
    for (;;) {
      monotonic(k);
      ++calls;
    }
  });
  REQUIRE(r.outcome == Outcome::stopped);
  REQUIRE(r.stop->reason == Reason::time_limit);
  REQUIRE(r.stop->call == "clock_gettime");
  REQUIRE(r.stop->fd == -1);
  REQUIRE(calls == 50);
  REQUIRE(r.stop->at == 50 * kCall);
}

TEST_CASE("world: a polling loop that events keep busy hits the time limit, not quiescence",
          "[world]") {
  constexpr Nanos kLimit = 100 * kMs;
  WorldOptions o = options();
  o.time_limit = kLimit;
  World w(o);
  // Something happens every 5 ms (it never wakes the handler), until well past the limit.
  Actor& ticker = add(w, [&](World& world, Actor& self) {
    if (world.now() < 2 * kLimit) world.wake_at(self, world.now() + 5 * kMs);
  });
  w.wake_at(ticker, 0);
  int zeros = 0;
  const auto r = w.run([&](Kernel& k) {
    const int ep = k.epoll_create1(0);
    epoll_event evs[1];
    for (;;)
      if (k.epoll_wait(ep, evs, 1, 10) == 0) ++zeros;
  });
  REQUIRE(r.outcome == Outcome::stopped);
  REQUIRE(r.stop->reason == Reason::time_limit);
  REQUIRE(r.stop->call == "epoll_wait");
  REQUIRE(zeros > World::kIdleTimeoutsForQuiescence);
  REQUIRE(r.stop->at <= kLimit);
  REQUIRE(r.stop->at > kLimit - 10 * kMs - kCall);
}

TEST_CASE("world: the run's outcome: returned, threw with its message", "[world]") {
  World w(options());
  SECTION("returning is exited") {
    const auto r = w.run([](Kernel& k) { monotonic(k); });
    REQUIRE(r.outcome == Outcome::exited);
    REQUIRE_FALSE(r.stop.has_value());
    REQUIRE(r.error.empty());
    REQUIRE(trace_has(w, "handler returned"));
  }
  SECTION("a std::runtime_error is threw, with what()") {
    const auto r = w.run([](Kernel& k) {
      monotonic(k);
      throw std::runtime_error("boom");
    });
    REQUIRE(r.outcome == Outcome::threw);
    REQUIRE_FALSE(r.stop.has_value());
    REQUIRE(r.error == "boom");
    REQUIRE(trace_has(w, "handler threw: boom"));
  }
  SECTION("anything else thrown is threw too") {
    const auto r = w.run([](Kernel&) { throw 42; });
    REQUIRE(r.outcome == Outcome::threw);
    REQUIRE(r.error == "an exception not derived from std::exception");
  }
}

TEST_CASE("world: after run() the server's fds are still open and inspectable", "[world]") {
  World w(options());
  int p[2] = {-1, -1};
  int ep = -1, first = -2;
  const auto r = w.run([&](Kernel& k) {
    if (k.pipe2(p, O_NONBLOCK) != 0 || k.write(p[1], "hello", 5) != 5)
      throw std::runtime_error("pipe");
    ep = k.epoll_create1(0);
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLET;
    ev.data.u64 = 77;
    if (k.epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev) != 0) throw std::runtime_error("ctl");
    epoll_event evs[4];
    first = k.epoll_wait(ep, evs, 4, -1);
    k.epoll_wait(ep, evs, 4, -1);  // edge-triggered and not drained: no new edge, ever
  });
  REQUIRE(first == 1);
  REQUIRE(r.outcome == Outcome::stopped);
  REQUIRE(r.stop->reason == Reason::quiescent);
  REQUIRE(r.stop->fd == ep);
  REQUIRE(w.server().bytes_to_read(p[0]) == std::optional<uint64_t>{5});
  const auto set = w.server().interest_set(ep);
  REQUIRE(set.has_value());
  REQUIRE(set->size() == 1);
  REQUIRE((*set)[0].fd == p[0]);
  REQUIRE((*set)[0].data == 77);
  REQUIRE(((*set)[0].events & (EPOLLIN | EPOLLET)) == (EPOLLIN | EPOLLET));
  REQUIRE(w.server().check_invariants().empty());
  char buf[8];
  REQUIRE(w.server().read(p[0], buf, sizeof buf) == 5);
  REQUIRE(std::string(buf, 5) == "hello");
}

// --- actors --------------------------------------------------------------------------------------

TEST_CASE("world: an actor's timer fires at its virtual time while the handler waits",
          "[world]") {
  World w(options());
  Nanos ran = -1;
  Actor& a = add(w, [&](World& world, Actor&) { ran = world.now(); });
  w.wake_at(a, 7 * kMs);
  int n = -2;
  const auto r = w.run([&](Kernel& k) {
    const int ep = k.epoll_create1(0);
    epoll_event evs[1];
    n = k.epoll_wait(ep, evs, 1, 20);
  });
  REQUIRE(r.outcome == Outcome::exited);
  REQUIRE(n == 0);
  REQUIRE(ran == 7 * kMs);
  REQUIRE(w.now() == 2 * kCall + 20 * kMs);
}

TEST_CASE("world: a handler's nanosleep runs the world until its deadline", "[world]") {
  World w(options());
  Nanos ran = -1;
  Actor& a = add(w, [&](World& world, Actor&) { ran = world.now(); });
  w.wake_at(a, 7 * kMs);
  int slept = -2;
  const auto r = w.run([&](Kernel& k) {
    const timespec t{0, 20 * kMs};
    slept = k.nanosleep(&t, nullptr);  // charged, then 20 ms
  });
  REQUIRE(r.outcome == Outcome::exited);
  REQUIRE(slept == 0);
  REQUIRE(ran == 7 * kMs);  // the actor ran while the handler slept
  REQUIRE(w.now() == kCall + 20 * kMs);
}

TEST_CASE("world: a new timer replaces the actor's pending one", "[world]") {
  World w(options());
  std::vector<Nanos> ran;
  Actor& a = add(w, [&](World& world, Actor&) { ran.push_back(world.now()); });
  SECTION("later") {
    w.wake_at(a, 5 * kMs);
    w.wake_at(a, 9 * kMs);
    REQUIRE(w.settle() == 1);
    REQUIRE(ran == std::vector<Nanos>{9 * kMs});
  }
  SECTION("earlier") {
    w.wake_at(a, 9 * kMs);
    w.wake_at(a, 2 * kMs);
    REQUIRE(w.settle() == 1);
    REQUIRE(ran == std::vector<Nanos>{2 * kMs});
  }
  SECTION("re-armed after it fired") {
    w.wake_at(a, 1 * kMs);
    w.advance_to(3 * kMs);
    w.wake_at(a, 4 * kMs);
    REQUIRE(w.settle() == 1);
    REQUIRE(ran == std::vector<Nanos>{1 * kMs, 4 * kMs});
  }
}

TEST_CASE("world: watch runs an actor on its socket's edges and stops once the fd is closed",
          "[world]") {
  World w(options());
  int sv[2] = {-1, -1};
  REQUIRE(w.remote().socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) == 0);
  int runs = 0;
  std::string got;
  Actor& a = add(w, [&](World& world, Actor&) {
    ++runs;
    char buf[64];
    ssize_t n;
    while ((n = world.remote().read(sv[0], buf, sizeof buf)) > 0)
      got.append(buf, static_cast<size_t>(n));
  });
  w.watch(a, sv[0]);
  REQUIRE(watched(w) == std::vector<int>{sv[0]});
  w.settle();  // the registration's own edge (writable), if any
  const int before = runs;
  REQUIRE(before <= 1);

  REQUIRE(w.remote().write(sv[1], "abc", 3) == 3);
  w.settle();
  REQUIRE(runs == before + 1);
  REQUIRE(got == "abc");
  REQUIRE(w.now() == 0);  // an edge runs the actor at once, without time passing
  w.settle();
  REQUIRE(runs == before + 1);  // edge-triggered: nothing new, no run

  REQUIRE(w.remote().write(sv[1], "de", 2) == 2);
  w.settle();
  REQUIRE(runs == before + 2);
  REQUIRE(got == "abcde");

  REQUIRE(w.remote().close(sv[0]) == 0);
  REQUIRE(watched(w).empty());
  REQUIRE(w.remote().shutdown(sv[1], SHUT_RDWR) == 0);
  w.settle();
  REQUIRE(runs == before + 2);
}

TEST_CASE("world: start_when_ready delays an actor until the handler first waits", "[world]") {
  World w(options());
  Nanos ran = -1, late_ran = -1;
  bool ran_before_wait = true;
  Actor& a = add(w, [&](World& world, Actor&) { ran = world.now(); });
  Actor& late = add(w, [&](World& world, Actor&) { late_ran = world.now(); });
  w.start_when_ready(a, 2 * kMs);
  REQUIRE(w.settle() == 0);  // nothing is scheduled before the handler waits
  Nanos waited_at = -1, second_wait_at = -1;
  const auto r = w.run([&](Kernel& k) {
    const int ep = k.epoll_create1(0);
    for (int i = 0; i < 5; ++i) monotonic(k);
    ran_before_wait = ran != -1;
    epoll_event evs[1];
    waited_at = w.now() + kCall;  // the wait starts once its call cost is paid
    k.epoll_wait(ep, evs, 1, 10);
    // Once the handler has waited, a new start is just a delay from now.
    w.start_when_ready(late, 1 * kMs);
    second_wait_at = w.now() + kCall;
    k.epoll_wait(ep, evs, 1, 10);
  });
  REQUIRE(r.outcome == Outcome::exited);
  REQUIRE_FALSE(ran_before_wait);
  REQUIRE(waited_at == 7 * kCall);
  REQUIRE(ran == waited_at + 2 * kMs);
  REQUIRE(late_ran == second_wait_at - kCall + 1 * kMs);
}

TEST_CASE("world: a handler that never waits still gets its actors started after it returns",
          "[world]") {
  World w(options());
  Nanos ran = -1;
  Actor& a = add(w, [&](World& world, Actor&) { ran = world.now(); });
  w.start_when_ready(a, 2 * kMs);
  const auto r = w.run([&](Kernel& k) {
    for (int i = 0; i < 3; ++i) monotonic(k);
  });
  REQUIRE(r.outcome == Outcome::exited);
  REQUIRE(ran == 3 * kCall + 2 * kMs);
}

// --- the faults the world fires itself -----------------------------------------------------------

TEST_CASE("world: eintr at 1000 per mille interrupts every blocking epoll_wait", "[world][fault]") {
  World w(options(only(FaultKind::eintr, Fault::kPerMille)));
  w.trace().keep_all(true);
  int r1 = -2, e1 = 0, r2 = -2, e2 = 0, r0 = -2;
  Nanos wait_start = -1, interrupted_at = -1;
  const auto r = w.run([&](Kernel& k) {
    const int ep = k.epoll_create1(0);
    epoll_event evs[1];
    wait_start = w.now() + kCall;
    r1 = k.epoll_wait(ep, evs, 1, -1);
    e1 = errno;
    interrupted_at = w.now();
    r2 = k.epoll_wait(ep, evs, 1, 10);
    e2 = errno;
    r0 = k.epoll_wait(ep, evs, 1, 0);  // does not block: nothing to interrupt
  });
  REQUIRE(r.outcome == Outcome::exited);
  REQUIRE(r1 == -1);
  REQUIRE(e1 == EINTR);
  REQUIRE(r2 == -1);
  REQUIRE(e2 == EINTR);
  REQUIRE(r0 == 0);
  REQUIRE(interrupted_at >= wait_start);
  REQUIRE(interrupted_at - wait_start <= World::kMaxSignalDelay);
  REQUIRE(trace_has(w, "signal: epoll_wait(3) interrupted"));
  REQUIRE(trace_has(w, "= -1 EINTR"));
}

TEST_CASE("world: eintr does not interrupt other blocking calls", "[world][fault]") {
  World w(options(only(FaultKind::eintr, Fault::kPerMille)));
  const auto r = w.run([&](Kernel& k) {
    int p[2];
    if (k.pipe2(p, 0) != 0) throw std::runtime_error("pipe2");
    char buf[4];
    k.read(p[0], buf, sizeof buf);
  });
  REQUIRE(r.outcome == Outcome::stopped);
  REQUIRE(r.stop->reason == Reason::quiescent);
  REQUIRE(r.stop->call == "read");
  REQUIRE_FALSE(trace_has(w, "signal:"));
}

TEST_CASE("world: eintr never fires when off or at 0 per mille", "[world][fault]") {
  const FaultPlan plan = GENERATE(FaultPlan::none(), only(FaultKind::eintr, 0));
  World w(options(plan));
  w.trace().keep_all(true);
  std::vector<int> results;
  const auto r = w.run([&](Kernel& k) {
    const int ep = k.epoll_create1(0);
    epoll_event evs[1];
    for (int i = 0; i < 2; ++i) results.push_back(k.epoll_wait(ep, evs, 1, 5));
  });
  REQUIRE(r.outcome == Outcome::exited);
  REQUIRE(results == std::vector<int>{0, 0});
  REQUIRE_FALSE(trace_has(w, "signal:"));
}

TEST_CASE("world: fd_limit lowers RLIMIT_NOFILE when the handler first waits", "[world][fault]") {
  World w(options(only(FaultKind::fd_limit, Fault::kPerMille)));
  w.trace().keep_all(true);
  size_t open_at_wait = 0;
  int pipes = 0, err = 0;
  const auto r = w.run([&](Kernel& k) {
    const int ep = k.epoll_create1(0);
    int p[2];
    if (k.pipe2(p, 0) != 0) throw std::runtime_error("pipe2 before the wait");
    open_at_wait = w.server().open_fd_count();
    epoll_event evs[1];
    k.epoll_wait(ep, evs, 1, 1);
    while (k.pipe2(p, 0) == 0) ++pipes;
    err = errno;
  });
  REQUIRE(r.outcome == Outcome::exited);
  REQUIRE(err == EMFILE);
  REQUIRE(pipes <= 2);  // at most 4 fds of headroom
  // Every fd below the limit was filled but at most one (a pipe needs two).
  const size_t open = w.server().open_fd_count();
  REQUIRE(trace_has(w, "fault: fd-limit: RLIMIT_NOFILE lowered to "));
  std::string line;
  for (const auto& l : w.trace().all())
    if (l.find("RLIMIT_NOFILE lowered to ") != std::string::npos) line = l;
  const int lowered = std::stoi(line.substr(line.rfind(' ') + 1));
  REQUIRE(lowered >= static_cast<int>(open_at_wait) + 1);
  REQUIRE(lowered <= static_cast<int>(open_at_wait) + 4);
  REQUIRE(open <= static_cast<size_t>(lowered));
  REQUIRE(open + 1 >= static_cast<size_t>(lowered));
}

TEST_CASE("world: without fd_limit, the handler keeps its 1024 fds", "[world][fault]") {
  World w(options(only(FaultKind::fd_limit, 0)));
  int pipes = 0;
  const auto r = w.run([&](Kernel& k) {
    const int ep = k.epoll_create1(0);
    epoll_event evs[1];
    k.epoll_wait(ep, evs, 1, 1);
    int p[2];
    while (pipes < 100 && k.pipe2(p, 0) == 0) ++pipes;
  });
  REQUIRE(r.outcome == Outcome::exited);
  REQUIRE(pipes == 100);
  REQUIRE_FALSE(trace_has(w, "fd-limit"));
}

// --- several worlds ------------------------------------------------------------------------------

TEST_CASE("world: two worlds alive at once do not interfere", "[world]") {
  World w1(options());
  World w2(options());
  Nanos ran1 = -1, ran2 = -1;
  Actor& a1 = add(w1, [&](World& world, Actor&) { ran1 = world.now(); });
  Actor& a2 = add(w2, [&](World& world, Actor&) { ran2 = world.now(); });
  w1.wake_at(a1, 5 * kMs);
  w2.wake_at(a2, 3 * kMs);
  w1.advance_to(10 * kMs);
  REQUIRE(ran1 == 5 * kMs);
  REQUIRE(ran2 == -1);
  REQUIRE(w2.now() == 0);
  w2.settle();
  REQUIRE(ran2 == 3 * kMs);
  REQUIRE(w1.now() == 10 * kMs);
}

TEST_CASE("world: a world run inside another world's handler leaves both unchanged", "[world]") {
  // The inner handler waits, then blocks for ever (quiescent); the outer one makes calls
  // around the inner run.
  auto inner = [](Kernel& k) {
    const int ep = k.epoll_create1(0);
    epoll_event evs[1];
    k.epoll_wait(ep, evs, 1, 7);
    k.epoll_wait(ep, evs, 1, -1);
  };
  uint64_t solo_inner = 0, solo_outer = 0;
  {
    World w(options());
    REQUIRE(w.run(inner).outcome == Outcome::stopped);
    solo_inner = w.trace().hash();
  }
  auto outer = [](Kernel& k, const std::function<void()>& middle) {
    const int ep = k.epoll_create1(0);
    epoll_event evs[1];
    k.epoll_wait(ep, evs, 1, 3);
    middle();
    k.epoll_wait(ep, evs, 1, 3);
  };
  {
    World w(options());
    REQUIRE(w.run([&](Kernel& k) { outer(k, [] {}); }).outcome == Outcome::exited);
    solo_outer = w.trace().hash();
  }
  World w1(options());
  World::Result inner_result{};
  uint64_t nested_inner = 0;
  Nanos inner_now = -1;
  const auto r = w1.run([&](Kernel& k) {
    outer(k, [&] {
      World w2(options());
      inner_result = w2.run(inner);
      nested_inner = w2.trace().hash();
      inner_now = w2.now();
    });
  });
  REQUIRE(r.outcome == Outcome::exited);
  REQUIRE(inner_result.outcome == Outcome::stopped);
  REQUIRE(inner_result.stop->reason == Reason::quiescent);
  REQUIRE(inner_now == 3 * kCall + 7 * kMs);
  REQUIRE(nested_inner == solo_inner);
  REQUIRE(w1.trace().hash() == solo_outer);
  REQUIRE(w1.now() == 3 * kCall + 6 * kMs);
}

}  // namespace
