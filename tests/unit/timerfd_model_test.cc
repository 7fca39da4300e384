// The timer model alone (sim/hrtimer.h, sim/timerfd.h) on the virtual clock, where every figure
// is exact: hrtimer_forward's arithmetic, expiration counts and interval catch-up, ABSTIME in
// the past, the old value settime reports, the firing order, the standalone kernel's blocking
// on a timer, and the world running timers in time order (and calling a handler that only its
// own timer wakes quiescent). The live kernel's agreement is pinned by the conformance cases
// (tests/conformance/timerfd_test.cc), in bands where time is involved.
#include <catch2/catch.hpp>

#include <cerrno>
#include <cstdint>
#include <ctime>
#include <sys/epoll.h>
#include <sys/timerfd.h>

#include "edgecase/sim_kernel.h"
#include "sim/hrtimer.h"
#include "world/world.h"

namespace {

using edgecase::Kernel;
using edgecase::SimKernel;
using edgecase::Stop;
using edgecase::sim::hrtimer_forward;
using edgecase::sim::Nanos;
using edgecase::sim::World;

constexpr Nanos kMs = 1'000'000;

itimerspec spec(Nanos value, Nanos interval = 0) {
  itimerspec t{};
  t.it_value = {static_cast<time_t>(value / 1'000'000'000),
                static_cast<long>(value % 1'000'000'000)};
  t.it_interval = {static_cast<time_t>(interval / 1'000'000'000),
                   static_cast<long>(interval % 1'000'000'000)};
  return t;
}

Nanos ns_of(const timespec& t) { return Nanos{t.tv_sec} * 1'000'000'000 + t.tv_nsec; }

int tfd(Kernel& k) {
  const int fd = k.timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
  REQUIRE(fd >= 0);
  return fd;
}

void arm(Kernel& k, int fd, Nanos value, Nanos interval = 0, int flags = 0) {
  const itimerspec t = spec(value, interval);
  REQUIRE(k.timerfd_settime(fd, flags, &t, nullptr) == 0);
}

// The count a read returns; 0 for EAGAIN.
uint64_t count(Kernel& k, int fd) {
  uint64_t n = 0;
  const ssize_t r = k.read(fd, &n, sizeof n);
  if (r < 0 && errno == EAGAIN) return 0;
  REQUIRE(r == 8);
  return n;
}

}  // namespace

TEST_CASE("hrtimer_forward: whole intervals past now, an expiry at now counts", "[timerfd]") {
  Nanos e = 10;
  REQUIRE(hrtimer_forward(e, 5, 10) == 0);  // still in the future: untouched
  REQUIRE(e == 10);
  REQUIRE(hrtimer_forward(e, 10, 10) == 1);
  REQUIRE(e == 20);
  REQUIRE(hrtimer_forward(e, 35, 10) == 2);  // 20 and 30 passed
  REQUIRE(e == 40);
  REQUIRE(hrtimer_forward(e, 60, 10) == 3);  // 40, 50 and exactly 60
  REQUIRE(e == 70);
  REQUIRE(hrtimer_forward(e, 70, 0) == 1);   // an interval under the resolution is 1 ns
  REQUIRE(e == 71);
}

TEST_CASE("timerfd model: expirations are exact on the virtual clock", "[timerfd]") {
  SimKernel k;
  const int fd = tfd(k);
  arm(k, fd, 3 * kMs, 3 * kMs);
  k.set_now_ns(3 * kMs - 1);
  REQUIRE(count(k, fd) == 0);
  k.set_now_ns(3 * kMs);  // due exactly now
  REQUIRE(k.poll_mask(fd) == EPOLLIN);
  k.set_now_ns(10 * kMs);
  REQUIRE(count(k, fd) == 3);  // 3, 6 and 9 ms
  REQUIRE(count(k, fd) == 0);
  REQUIRE(k.next_timer_ns() == 12 * kMs);  // re-armed by the read
}

TEST_CASE("timerfd model: a periodic timer catches up every interval missed, once read",
          "[timerfd]") {
  SimKernel k;
  const int fd = tfd(k);
  arm(k, fd, 1 * kMs, 1 * kMs);
  k.set_now_ns(1000 * kMs);
  // The timer fired once and waited for its reader: no callback per interval.
  REQUIRE(k.next_timer_ns() == std::nullopt);
  REQUIRE(count(k, fd) == 1000);
  k.set_now_ns(1000 * kMs + 2 * kMs + 1);
  itimerspec cur{};
  REQUIRE(k.timerfd_gettime(fd, &cur) == 0);  // gettime catches up too, keeping the count
  REQUIRE(ns_of(cur.it_value) == 1 * kMs - 1);
  REQUIRE(count(k, fd) == 2);
}

TEST_CASE("timerfd model: TFD_TIMER_ABSTIME in the past fires at once", "[timerfd]") {
  SimKernel k;
  k.set_now_ns(50 * kMs);
  const int fd = tfd(k);
  arm(k, fd, 20 * kMs, 0, TFD_TIMER_ABSTIME);
  REQUIRE(k.poll_mask(fd) == EPOLLIN);  // before any time passes
  REQUIRE(count(k, fd) == 1);
  arm(k, fd, 20 * kMs, 10 * kMs, TFD_TIMER_ABSTIME);  // 20, 30, 40 and 50 ms
  REQUIRE(count(k, fd) == 4);
  // CLOCK_REALTIME's absolute dates are on its own clock: one second before "now".
  const int rt = k.timerfd_create(CLOCK_REALTIME, TFD_NONBLOCK);
  REQUIRE(rt >= 0);
  timespec now{};
  REQUIRE(k.clock_gettime(CLOCK_REALTIME, &now) == 0);
  arm(k, rt, ns_of(now) - 1000 * kMs, 0, TFD_TIMER_ABSTIME);
  REQUIRE(count(k, rt) == 1);
  arm(k, rt, ns_of(now) + 1 * kMs, 0, TFD_TIMER_ABSTIME);
  REQUIRE(count(k, rt) == 0);
  REQUIRE(k.next_timer_ns() == 51 * kMs);
}

TEST_CASE("timerfd model: settime returns the old value, 0 disarms", "[timerfd]") {
  SimKernel k;
  const int fd = tfd(k);
  itimerspec old{};
  itimerspec next = spec(7 * kMs, 2 * kMs);
  REQUIRE(k.timerfd_settime(fd, 0, &next, &old) == 0);
  REQUIRE(ns_of(old.it_value) == 0);  // never armed
  k.set_now_ns(3 * kMs);
  next = spec(0);
  REQUIRE(k.timerfd_settime(fd, 0, &next, &old) == 0);
  REQUIRE(ns_of(old.it_value) == 4 * kMs);
  REQUIRE(ns_of(old.it_interval) == 2 * kMs);
  REQUIRE(k.next_timer_ns() == std::nullopt);
  // An expired periodic timer is moved forward before the old value is taken.
  arm(k, fd, 1 * kMs, 2 * kMs);  // 4, 6, 8 ms
  k.set_now_ns(9 * kMs);
  REQUIRE(k.timerfd_settime(fd, 0, &next, &old) == 0);
  REQUIRE(ns_of(old.it_value) == 1 * kMs);  // the next would have been at 10 ms
  REQUIRE(count(k, fd) == 0);               // and the count is dropped
}

TEST_CASE("timerfd model: timers fire in expiry order, ties in arming order", "[timerfd]") {
  SimKernel k;
  const int ep = k.epoll_create1(0);
  const int a = tfd(k), b = tfd(k), c = tfd(k);
  for (int fd : {a, b, c}) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = static_cast<uint64_t>(fd);
    REQUIRE(k.epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) == 0);
  }
  arm(k, a, 5 * kMs);
  arm(k, b, 2 * kMs);
  arm(k, c, 5 * kMs);
  k.set_now_ns(10 * kMs);
  epoll_event evs[4];
  REQUIRE(k.epoll_wait(ep, evs, 4, 0) == 3);  // the ready list is in firing order
  REQUIRE(evs[0].data.u64 == static_cast<uint64_t>(b));
  REQUIRE(evs[1].data.u64 == static_cast<uint64_t>(a));
  REQUIRE(evs[2].data.u64 == static_cast<uint64_t>(c));
}

TEST_CASE("timerfd model: a standalone kernel sleeps until its timer, or deadlocks without one",
          "[timerfd]") {
  SimKernel k;
  const int fd = k.timerfd_create(CLOCK_MONOTONIC, 0);  // blocking
  uint64_t n = 0;
  REQUIRE_THROWS_AS(k.read(fd, &n, sizeof n), edgecase::Deadlock);
  arm(k, fd, 4 * kMs);
  REQUIRE(k.read(fd, &n, sizeof n) == 8);
  REQUIRE(n == 1);
  REQUIRE(k.now_ns() == 4 * kMs);
  // A timer armed elsewhere does not wake this read, but moves the clock on its way.
  const int other = tfd(k);
  arm(k, other, 1 * kMs);
  REQUIRE_THROWS_AS(k.read(fd, &n, sizeof n), edgecase::Deadlock);
  REQUIRE(k.now_ns() == 5 * kMs);
}

TEST_CASE("timerfd model: closing a timerfd cancels its timer", "[timerfd]") {
  SimKernel k;
  const int fd = tfd(k);
  arm(k, fd, 1 * kMs);
  REQUIRE(k.next_timer_ns() == 1 * kMs);
  REQUIRE(k.close(fd) == 0);
  REQUIRE(k.next_timer_ns() == std::nullopt);
}

TEST_CASE("world: a timer wakes the handler at its expiry, before an event due then",
          "[timerfd][world]") {
  edgecase::sim::WorldOptions o;
  o.idle_timeouts_for_quiescence = World::kIdleTimeoutsForQuiescence;
  World w(o);
  Nanos woke = -1;
  int reads = 0;
  const auto r = w.run([&](Kernel& k) {
    const int ep = k.epoll_create1(0);
    const int fd = k.timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
    epoll_event ev{};
    ev.events = EPOLLIN;
    if (k.epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) != 0) return;
    const itimerspec t = spec(3 * kMs, 3 * kMs);
    if (k.timerfd_settime(fd, 0, &t, nullptr) != 0) return;
    for (;;) {
      epoll_event out[1];
      if (k.epoll_wait(ep, out, 1, -1) != 1) return;
      if (woke < 0) woke = w.now();
      uint64_t n = 0;
      if (k.read(fd, &n, sizeof n) == 8) ++reads;
    }
  });
  REQUIRE(woke == 4 * World::kCallCost + 3 * kMs);  // 4 calls, then the expiry: exact
  // Nothing but its own timer ever woke the handler: quiescent after as many idle wakeups as
  // timeouts would take.
  REQUIRE(r.outcome == World::Outcome::stopped);
  REQUIRE(r.stop->reason == Stop::Reason::quiescent);
  REQUIRE(reads == World::kIdleTimeoutsForQuiescence - 1);
}
