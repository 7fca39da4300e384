// timerfd (fs/timerfd.c): creation and its errors, the expiration count read(2) returns, one-shot
// and periodic timers, TFD_TIMER_ABSTIME, disarming, the old value settime reports, and the
// EPOLLIN wakeup when the timer fires, for epoll and poll waiters.
//
// Time differs between the backends, as byte thresholds do for socket buffers: the simulation
// runs on a virtual clock that moves only while a call waits, so its figures are exact; the
// live kernel's clock runs on while the test does, so live cases use short real timeouts (a few
// ms) and assert bands instead (an expiration count of at least the intervals a wait of known
// minimum length spans; a remaining time within the armed value). Each such assertion says
// which it is. Errors, masks and the counts that do not depend on elapsed time are exact on both.
#include <cstdint>
#include <ctime>
#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/timerfd.h>
#include <sys/uio.h>

#include "sim/timerfd.h"
#include "tests/conformance/backend.h"

namespace edgecase::conformance {
namespace {

constexpr long kMs = 1'000'000;           // nanoseconds
constexpr int kShortMs = 5;               // a timer that fires "soon" on the live kernel
constexpr int kLongMs = 10'000;           // a timer that never fires during a case
constexpr int kFireWaitMs = 2'000;        // how long a live wait may take for a kShortMs timer

int make_tfd(Kernel& k, int clockid = CLOCK_MONOTONIC, int flags = TFD_NONBLOCK | TFD_CLOEXEC) {
  int fd = k.timerfd_create(clockid, flags);
  INFO("timerfd_create errno " << errno);
  REQUIRE(fd >= 0);
  return fd;
}

itimerspec spec(long value_ns, long interval_ns = 0) {
  itimerspec t{};
  t.it_value = {value_ns / 1'000'000'000, value_ns % 1'000'000'000};
  t.it_interval = {interval_ns / 1'000'000'000, interval_ns % 1'000'000'000};
  return t;
}

long ns_of(const timespec& t) { return t.tv_sec * 1'000'000'000L + t.tv_nsec; }

void arm(Kernel& k, int fd, long value_ns, long interval_ns = 0, int flags = 0) {
  const itimerspec t = spec(value_ns, interval_ns);
  REQUIRE(k.timerfd_settime(fd, flags, &t, nullptr) == 0);
}

// The expirations read(2) returns; REQUIREs that it returned 8 bytes.
uint64_t expirations(Kernel& k, int fd) {
  uint64_t n = 0;
  INFO("read errno " << errno);
  REQUIRE(k.read(fd, &n, sizeof n) == 8);
  return n;
}

long now_ns(Kernel& k, clockid_t c = CLOCK_MONOTONIC) {
  timespec t{};
  REQUIRE(k.clock_gettime(c, &t) == 0);
  return ns_of(t);
}

// poll(2) on one fd; returns revents, REQUIREs that the call succeeded.
short poll_one(Kernel& k, int fd, short events, int timeout) {
  pollfd p{fd, events, 0};
  const int n = k.poll(&p, 1, timeout);
  INFO("poll errno " << errno);
  REQUIRE(n >= 0);
  REQUIRE(n == (p.revents ? 1 : 0));
  return p.revents;
}

// Lets at least `ms` pass: the simulation's clock moves by exactly that much.
void sleep_ms(Kernel& k, int ms) { REQUIRE(k.poll(nullptr, 0, ms) == 0); }

// Arms `fd` to expire now (TFD_TIMER_ABSTIME at the clock's current time): it fires at once.
// A millisecond passes first: the simulated monotonic clock starts at 0, where nothing is past.
void fire_now(Kernel& k, int fd) {
  sleep_ms(k, 1);
  const long t = now_ns(k);
  REQUIRE(t > 0);
  arm(k, fd, t, 0, TFD_TIMER_ABSTIME);
}

}  // namespace

BACKEND_TEST("timerfd: clocks and flags timerfd_create accepts", "[timerfd][errno]") {
  TestType b;
  auto& k = b.k;
  for (int c : {CLOCK_MONOTONIC, CLOCK_REALTIME, CLOCK_BOOTTIME}) make_tfd(k, c, TFD_CLOEXEC);
  for (int c : {CLOCK_PROCESS_CPUTIME_ID, CLOCK_THREAD_CPUTIME_ID, CLOCK_MONOTONIC_RAW,
                CLOCK_REALTIME_COARSE, CLOCK_MONOTONIC_COARSE, CLOCK_TAI, -1, 100}) {
    INFO("clock " << c);
    REQUIRE_ERRNO(k.timerfd_create(c, 0), EINVAL);
  }
  REQUIRE_ERRNO(k.timerfd_create(CLOCK_MONOTONIC, O_APPEND), EINVAL);
  REQUIRE_ERRNO(k.timerfd_create(CLOCK_MONOTONIC, TFD_TIMER_ABSTIME), EINVAL);
  // The flags are checked before the clock.
  REQUIRE_ERRNO(k.timerfd_create(CLOCK_PROCESS_CPUTIME_ID, O_APPEND), EINVAL);
  // The alarm clocks need CAP_WAKE_ALARM; the simulation is told whether this process has it.
  for (int c : {CLOCK_REALTIME_ALARM, CLOCK_BOOTTIME_ALARM}) {
    if (sim_options().cap_wake_alarm) {
      int fd = make_tfd(k, c, TFD_CLOEXEC);
      arm(k, fd, kLongMs * kMs);
    } else {
      REQUIRE_ERRNO(k.timerfd_create(c, 0), EPERM);
    }
  }
}

BACKEND_TEST("timerfd: F_GETFL is O_RDWR (+O_NONBLOCK), TFD_CLOEXEC is on the fd only",
             "[timerfd]") {
  TestType b;
  auto& k = b.k;
  int a = make_tfd(k, CLOCK_MONOTONIC, 0);
  REQUIRE(k.fcntl(a, F_GETFL) == O_RDWR);
  REQUIRE(k.fcntl(a, F_GETFD) == 0);
  int c = make_tfd(k, CLOCK_REALTIME, TFD_NONBLOCK | TFD_CLOEXEC);
  REQUIRE(k.fcntl(c, F_GETFL) == (O_RDWR | O_NONBLOCK));
  REQUIRE(k.fcntl(c, F_GETFD) == FD_CLOEXEC);
}

BACKEND_TEST("timerfd: a disarmed timer: no count, EAGAIN, nothing to poll, zero gettime",
             "[timerfd]") {
  TestType b;
  auto& k = b.k;
  int fd = make_tfd(k);
  uint64_t n = 7;
  REQUIRE_ERRNO(k.read(fd, &n, sizeof n), EAGAIN);
  REQUIRE(n == 7);
  REQUIRE(poll_one(k, fd, POLLIN | POLLOUT | POLLPRI, 0) == 0);
  itimerspec cur = spec(1, 1);
  REQUIRE(k.timerfd_gettime(fd, &cur) == 0);
  REQUIRE(ns_of(cur.it_value) == 0);
  REQUIRE(ns_of(cur.it_interval) == 0);
}

BACKEND_TEST("timerfd: read needs 8 bytes, no write, FIONREAD is ENOTTY, recv is ENOTSOCK",
             "[timerfd][errno]") {
  TestType b;
  auto& k = b.k;
  int fd = make_tfd(k);
  fire_now(k, fd);
  uint64_t n = 0;
  REQUIRE_ERRNO(k.read(fd, &n, 4), EINVAL);  // before the count is looked at
  REQUIRE_ERRNO(k.read(fd, &n, 0), EINVAL);
  REQUIRE_ERRNO(k.write(fd, &n, sizeof n), EINVAL);
  REQUIRE_ERRNO(k.write(fd, &n, 0), EINVAL);
  iovec empty{&n, 0};
  REQUIRE_ERRNO(k.writev(fd, &empty, 1), EINVAL);  // no write op: refused before the vector
  REQUIRE(k.readv(fd, &empty, 1) == 0);            // an empty read never reaches the timer
  int avail = -1;
  REQUIRE_ERRNO(k.ioctl(fd, FIONREAD, &avail), ENOTTY);
  REQUIRE_ERRNO(k.recv(fd, &n, sizeof n, 0), ENOTSOCK);
  // A larger buffer still gets 8 bytes; the count is still there after the failed reads.
  uint64_t big[2] = {0, 99};
  REQUIRE(k.read(fd, big, sizeof big) == 8);
  REQUIRE(big[0] == 1);
  REQUIRE(big[1] == 99);
}

BACKEND_TEST("timerfd: settime and gettime errors, in the kernel's order", "[timerfd][errno]") {
  TestType b;
  auto& k = b.k;
  int fd = make_tfd(k);
  int efd = k.eventfd(0, EFD_CLOEXEC);
  REQUIRE(efd >= 0);
  itimerspec ok = spec(kLongMs * kMs);
  REQUIRE_ERRNO(k.timerfd_settime(fd, 0, nullptr, nullptr), EFAULT);
  REQUIRE_ERRNO(k.timerfd_settime(fd, 4, &ok, nullptr), EINVAL);
  REQUIRE_ERRNO(k.timerfd_settime(999, 0, &ok, nullptr), EBADF);
  REQUIRE_ERRNO(k.timerfd_settime(999, 8, &ok, nullptr), EINVAL);  // flags before the fd
  REQUIRE_ERRNO(k.timerfd_settime(999, 0, nullptr, nullptr), EFAULT);  // the copy first
  REQUIRE_ERRNO(k.timerfd_settime(efd, 0, &ok, nullptr), EINVAL);
  itimerspec bad = ok;
  bad.it_value.tv_nsec = 1'000'000'000;
  REQUIRE_ERRNO(k.timerfd_settime(fd, 0, &bad, nullptr), EINVAL);
  bad = ok;
  bad.it_value.tv_nsec = -1;
  REQUIRE_ERRNO(k.timerfd_settime(fd, 0, &bad, nullptr), EINVAL);
  bad = ok;
  bad.it_value.tv_sec = -1;
  REQUIRE_ERRNO(k.timerfd_settime(fd, 0, &bad, nullptr), EINVAL);
  bad = spec(0);
  bad.it_interval.tv_nsec = 1'000'000'000;  // checked even when it_value disarms
  REQUIRE_ERRNO(k.timerfd_settime(fd, 0, &bad, nullptr), EINVAL);
  itimerspec cur{};
  REQUIRE_ERRNO(k.timerfd_gettime(999, &cur), EBADF);
  REQUIRE_ERRNO(k.timerfd_gettime(efd, &cur), EINVAL);
  REQUIRE_ERRNO(k.timerfd_gettime(fd, nullptr), EFAULT);
  // None of the failed calls armed anything.
  REQUIRE(k.timerfd_gettime(fd, &cur) == 0);
  REQUIRE(ns_of(cur.it_value) == 0);
}

BACKEND_TEST("timerfd: a one-shot timer fires once, poll wakes with POLLIN alone", "[timerfd]") {
  TestType b;
  auto& k = b.k;
  int fd = make_tfd(k);
  arm(k, fd, kShortMs * kMs);
  itimerspec cur{};
  REQUIRE(k.timerfd_gettime(fd, &cur) == 0);
  if (TestType::live) {  // band: some of the 5 ms may have passed already
    REQUIRE(ns_of(cur.it_value) > 0);
    REQUIRE(ns_of(cur.it_value) <= kShortMs * kMs);
  } else {  // exact: no virtual time passes between calls
    REQUIRE(ns_of(cur.it_value) == kShortMs * kMs);
  }
  REQUIRE(ns_of(cur.it_interval) == 0);
  const long before = now_ns(k);
  // timerfd_poll reports EPOLLIN only (no RDNORM), whatever else is asked.
  REQUIRE(poll_one(k, fd, POLLIN | POLLRDNORM | POLLOUT, kFireWaitMs) == POLLIN);
  const long waited = now_ns(k) - before;
  if (TestType::live) REQUIRE(waited > 0);            // band: fired after some real time
  else REQUIRE(waited == kShortMs * kMs);             // exact: at the expiry
  REQUIRE(expirations(k, fd) == 1);
  uint64_t n = 0;
  REQUIRE_ERRNO(k.read(fd, &n, sizeof n), EAGAIN);
  REQUIRE(poll_one(k, fd, POLLIN, 0) == 0);
  REQUIRE(k.timerfd_gettime(fd, &cur) == 0);  // an expired one-shot timer has nothing left
  REQUIRE(ns_of(cur.it_value) == 0);
}

BACKEND_TEST("timerfd: a blocking read sleeps until the expiration", "[timerfd]") {
  TestType b;
  auto& k = b.k;
  int fd = make_tfd(k, CLOCK_MONOTONIC, TFD_CLOEXEC);
  arm(k, fd, kShortMs * kMs);
  REQUIRE(expirations(k, fd) == 1);
  // FIONBIO makes it nonblocking like TFD_NONBLOCK.
  int on = 1;
  REQUIRE(k.ioctl(fd, FIONBIO, &on) == 0);
  uint64_t n = 0;
  REQUIRE_ERRNO(k.read(fd, &n, sizeof n), EAGAIN);
}

BACKEND_TEST("timerfd: a periodic timer counts every interval missed since the last read",
             "[timerfd][interval]") {
  TestType b;
  auto& k = b.k;
  int fd = make_tfd(k);
  constexpr long kInterval = 2 * kMs;
  arm(k, fd, kInterval, kInterval);
  sleep_ms(k, 11);  // expirations at 2, 4, 6, 8 and 10 ms have all passed
  const uint64_t n = expirations(k, fd);
  if (TestType::live) REQUIRE(n >= 5);  // band: the wait lasts at least 11 ms
  else REQUIRE(n == 5);                 // exact
  // The timer was re-armed by the read: the next expiry is within one interval.
  itimerspec cur{};
  REQUIRE(k.timerfd_gettime(fd, &cur) == 0);
  REQUIRE(ns_of(cur.it_interval) == kInterval);
  if (TestType::live) {
    REQUIRE(ns_of(cur.it_value) > 0);
    REQUIRE(ns_of(cur.it_value) <= kInterval);
  } else {
    REQUIRE(ns_of(cur.it_value) == 1 * kMs);  // next at 12 ms, now 11 ms
  }
  REQUIRE(poll_one(k, fd, POLLIN, kFireWaitMs) == POLLIN);
  const uint64_t m = expirations(k, fd);
  if (TestType::live) REQUIRE(m >= 1);
  else REQUIRE(m == 1);
}

BACKEND_TEST("timerfd: gettime catches a periodic timer up and keeps the count it owes",
             "[timerfd][interval]") {
  TestType b;
  auto& k = b.k;
  int fd = make_tfd(k);
  constexpr long kInterval = 2 * kMs;
  arm(k, fd, kInterval, kInterval);
  sleep_ms(k, 7);  // 2, 4, 6
  itimerspec cur{};
  REQUIRE(k.timerfd_gettime(fd, &cur) == 0);
  if (!TestType::live) REQUIRE(ns_of(cur.it_value) == 1 * kMs);  // exact: next at 8 ms
  sleep_ms(k, 2);  // and 8
  const uint64_t n = expirations(k, fd);
  if (TestType::live) REQUIRE(n >= 4);  // band
  else REQUIRE(n == 4);                 // exact: 3 counted by gettime, 1 since
}

BACKEND_TEST("timerfd: settime reports the old setting and resets the count", "[timerfd]") {
  TestType b;
  auto& k = b.k;
  int fd = make_tfd(k);
  arm(k, fd, kLongMs * kMs, 3 * kMs);
  itimerspec next = spec(2L * kLongMs * kMs);
  itimerspec old{};
  REQUIRE(k.timerfd_settime(fd, 0, &next, &old) == 0);
  REQUIRE(ns_of(old.it_interval) == 3 * kMs);
  if (TestType::live) {  // band
    REQUIRE(ns_of(old.it_value) > 0);
    REQUIRE(ns_of(old.it_value) <= kLongMs * kMs);
  } else {  // exact
    REQUIRE(ns_of(old.it_value) == kLongMs * kMs);
  }
  // A fired, unread timer: settime drops the count, and poll no longer reports it.
  fire_now(k, fd);
  REQUIRE(poll_one(k, fd, POLLIN, 0) == POLLIN);
  REQUIRE(k.timerfd_settime(fd, 0, &next, &old) == 0);
  REQUIRE(ns_of(old.it_value) == 0);  // it expired: nothing remained
  REQUIRE(poll_one(k, fd, POLLIN, 0) == 0);
  uint64_t n = 0;
  REQUIRE_ERRNO(k.read(fd, &n, sizeof n), EAGAIN);
}

BACKEND_TEST("timerfd: an it_value of 0 disarms", "[timerfd]") {
  TestType b;
  auto& k = b.k;
  int fd = make_tfd(k);
  arm(k, fd, kShortMs * kMs, kShortMs * kMs);
  itimerspec off = spec(0, kShortMs * kMs);  // an interval alone arms nothing
  itimerspec old{};
  REQUIRE(k.timerfd_settime(fd, 0, &off, &old) == 0);
  REQUIRE(ns_of(old.it_interval) == kShortMs * kMs);
  REQUIRE(poll_one(k, fd, POLLIN, 3 * kShortMs) == 0);
  itimerspec cur{};
  REQUIRE(k.timerfd_gettime(fd, &cur) == 0);
  REQUIRE(ns_of(cur.it_value) == 0);
  REQUIRE(ns_of(cur.it_interval) == kShortMs * kMs);  // kept, though nothing runs
}

BACKEND_TEST("timerfd: TFD_TIMER_ABSTIME in the past fires at once, on either clock",
             "[timerfd][abstime]") {
  TestType b;
  auto& k = b.k;
  // The simulated monotonic clock starts at 0 (boot): let it reach 2 s so that it has a past.
  // (The live one has run since the machine booted.)
  if (!TestType::live) sleep_ms(k, 2'000);
  for (int c : {CLOCK_MONOTONIC, CLOCK_REALTIME}) {
    INFO("clock " << c);
    int fd = make_tfd(k, c);
    arm(k, fd, now_ns(k, c) - 1000 * kMs, 0, TFD_TIMER_ABSTIME);
    REQUIRE(expirations(k, fd) == 1);  // exact on both: no wait was needed
    // A periodic one counts every interval since its first expiry.
    arm(k, fd, now_ns(k, c) - 10 * kMs, 1 * kMs, TFD_TIMER_ABSTIME);
    const uint64_t n = expirations(k, fd);
    if (TestType::live) REQUIRE(n >= 11);  // band: 0 to 10 ms ago, and time goes on
    else REQUIRE(n == 11);                 // exact
    // In the future: not yet.
    arm(k, fd, now_ns(k, c) + kLongMs * kMs, 0, TFD_TIMER_ABSTIME);
    uint64_t none = 0;
    REQUIRE_ERRNO(k.read(fd, &none, sizeof none), EAGAIN);
    itimerspec cur{};
    REQUIRE(k.timerfd_gettime(fd, &cur) == 0);  // gettime is relative, whatever was set
    REQUIRE(ns_of(cur.it_value) > 0);
    REQUIRE(ns_of(cur.it_value) <= kLongMs * kMs);
  }
}

BACKEND_TEST("timerfd: TFD_IOC_SET_TICKS sets the count and wakes", "[timerfd]") {
  TestType b;
  auto& k = b.k;
  int fd = make_tfd(k);
  uint64_t ticks = 5;
  REQUIRE(k.ioctl(fd, sim::kTfdIocSetTicks, reinterpret_cast<int*>(&ticks)) == 0);
  REQUIRE(poll_one(k, fd, POLLIN, 0) == POLLIN);
  REQUIRE(expirations(k, fd) == 5);
  ticks = 0;
  REQUIRE_ERRNO(k.ioctl(fd, sim::kTfdIocSetTicks, reinterpret_cast<int*>(&ticks)), EINVAL);
  REQUIRE_ERRNO(k.ioctl(fd, sim::kTfdIocSetTicks, nullptr), EFAULT);
}

BACKEND_TEST("timerfd: in epoll with EPOLLET, a firing wakes a blocked epoll_wait once",
             "[timerfd][epoll]") {
  TestType b;
  auto& k = b.k;
  int fd = make_tfd(k);
  int ep = k.epoll_create1(EPOLL_CLOEXEC);
  REQUIRE(ep >= 0);
  add(k, ep, fd, EPOLLIN | EPOLLET, 42);
  REQUIRE(wait(k, ep, 4, 0).empty());
  arm(k, fd, kShortMs * kMs, kShortMs * kMs);
  const long before = now_ns(k);
  REQUIRE(wait(k, ep, 4, kFireWaitMs) == std::vector<Ev>{{EPOLLIN, 42}});
  if (!TestType::live) REQUIRE(now_ns(k) - before == kShortMs * kMs);  // exact: at the expiry
  // Edge-triggered: nothing new until the next expiration, although the count is unread.
  REQUIRE(wait(k, ep, 4, 0).empty());
  // The next interval's expiration is not queued (the timer waits for its read), so the
  // item stays quiet; reading re-arms it and the next expiry is a new edge.
  const uint64_t n = expirations(k, fd);
  if (TestType::live) REQUIRE(n >= 1);
  else REQUIRE(n == 1);
  REQUIRE(wait(k, ep, 4, kFireWaitMs) == std::vector<Ev>{{EPOLLIN, 42}});
  // Closing the timer removes the item; nothing fires into the epoll afterwards.
  REQUIRE(k.close(fd) == 0);
  REQUIRE(wait(k, ep, 4, 2 * kShortMs).empty());
}

}  // namespace edgecase::conformance
