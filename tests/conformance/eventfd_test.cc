// eventfd (fs/eventfd.c): the counter's arithmetic and errors, and its wakeups: every
// successful write wakes EPOLLIN (so ET fires per write, even of 0), every successful read
// wakes EPOLLOUT. The live kernel is the oracle.
#include <cstdint>
#include <fcntl.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>

#include "tests/conformance/backend.h"

namespace edgecase::conformance {
namespace {

constexpr uint64_t kMax = UINT64_MAX;  // never accepted by write(2)

int make_efd(Kernel& k, unsigned init = 0, int flags = EFD_NONBLOCK | EFD_CLOEXEC) {
  int fd = k.eventfd(init, flags);
  INFO("eventfd errno " << errno);
  REQUIRE(fd >= 0);
  return fd;
}

int make_ep(Kernel& k) {
  int ep = k.epoll_create1(EPOLL_CLOEXEC);
  REQUIRE(ep >= 0);
  return ep;
}

ssize_t put(Kernel& k, int fd, uint64_t v) { return k.write(fd, &v, sizeof v); }

uint64_t get(Kernel& k, int fd) {
  uint64_t v = 0;
  REQUIRE(k.read(fd, &v, sizeof v) == 8);
  return v;
}

using Evs = std::vector<Ev>;

}  // namespace

BACKEND_TEST("eventfd: flags other than SEMAPHORE, CLOEXEC, NONBLOCK are EINVAL",
             "[eventfd][errno]") {
  TestType b;
  auto& k = b.k;
  REQUIRE_ERRNO(k.eventfd(0, O_RDWR), EINVAL);
  REQUIRE_ERRNO(k.eventfd(0, O_WRONLY | O_RDWR), EINVAL);  // O_WRONLY alone is EFD_SEMAPHORE
  REQUIRE_ERRNO(k.eventfd(0, EFD_NONBLOCK | O_APPEND), EINVAL);
  REQUIRE_ERRNO(k.eventfd(0, 0x100), EINVAL);
  int fd = make_efd(k, 0, EFD_SEMAPHORE | EFD_CLOEXEC | EFD_NONBLOCK);
  REQUIRE(fd >= 0);
}

BACKEND_TEST("eventfd: F_GETFL is O_RDWR (+O_NONBLOCK), CLOEXEC is on the fd only",
             "[eventfd]") {
  TestType b;
  auto& k = b.k;
  int a = make_efd(k, 0, 0);
  REQUIRE(k.fcntl(a, F_GETFL) == O_RDWR);
  REQUIRE(k.fcntl(a, F_GETFD) == 0);
  int c = make_efd(k, 0, EFD_CLOEXEC | EFD_NONBLOCK | EFD_SEMAPHORE);
  REQUIRE(k.fcntl(c, F_GETFL) == (O_RDWR | O_NONBLOCK));  // SEMAPHORE and CLOEXEC not shown
  REQUIRE(k.fcntl(c, F_GETFD) == FD_CLOEXEC);
  int d = k.dup(c);
  REQUIRE(d >= 0);
  REQUIRE(k.fcntl(d, F_GETFD) == 0);
}

BACKEND_TEST("eventfd: initval is the count, a read takes it all, then EAGAIN", "[eventfd]") {
  TestType b;
  auto& k = b.k;
  int fd = make_efd(k, 42);
  REQUIRE(get(k, fd) == 42);
  uint64_t v = 7;
  REQUIRE_ERRNO(k.read(fd, &v, sizeof v), EAGAIN);
  REQUIRE(v == 7);
  REQUIRE(put(k, fd, 3) == 8);
  REQUIRE(put(k, fd, 4) == 8);
  REQUIRE(get(k, fd) == 7);
}

BACKEND_TEST("eventfd: EFD_SEMAPHORE reads 1 at a time", "[eventfd][semaphore]") {
  TestType b;
  auto& k = b.k;
  int fd = make_efd(k, 3, EFD_NONBLOCK | EFD_SEMAPHORE);
  REQUIRE(get(k, fd) == 1);
  REQUIRE(get(k, fd) == 1);
  REQUIRE(put(k, fd, 5) == 8);
  for (int i = 0; i < 6; ++i) REQUIRE(get(k, fd) == 1);
  uint64_t v;
  REQUIRE_ERRNO(k.read(fd, &v, sizeof v), EAGAIN);
}

BACKEND_TEST("eventfd: reads need at least 8 bytes and return exactly 8", "[eventfd][errno]") {
  TestType b;
  auto& k = b.k;
  int fd = make_efd(k, 9);
  uint64_t buf[2] = {0, 0};
  REQUIRE_ERRNO(k.read(fd, buf, 0), EINVAL);
  REQUIRE_ERRNO(k.read(fd, buf, 7), EINVAL);
  REQUIRE(k.read(fd, buf, 16) == 8);
  REQUIRE(buf[0] == 9);
  REQUIRE_ERRNO(k.read(fd, buf, 4), EINVAL);  // the size is checked before the count
}

BACKEND_TEST("eventfd: writes must be exactly 8 bytes", "[eventfd][errno]") {
  TestType b;
  auto& k = b.k;
  int fd = make_efd(k);
  uint64_t buf[2] = {1, 1};
  REQUIRE_ERRNO(k.write(fd, buf, 0), EINVAL);
  REQUIRE_ERRNO(k.write(fd, buf, 4), EINVAL);
  REQUIRE_ERRNO(k.write(fd, buf, 16), EINVAL);  // Linux >= 6.9; older kernels took 8 of them
  uint64_t v;
  REQUIRE_ERRNO(k.read(fd, &v, sizeof v), EAGAIN);  // nothing was added
}

BACKEND_TEST("eventfd: writing 0xffffffffffffffff is EINVAL", "[eventfd][errno]") {
  TestType b;
  auto& k = b.k;
  int fd = make_efd(k, 0, 0);  // blocking: EINVAL comes before any wait
  REQUIRE_ERRNO(put(k, fd, kMax), EINVAL);
  REQUIRE(put(k, fd, kMax - 1) == 8);
  REQUIRE_ERRNO(put(k, fd, kMax), EINVAL);
  REQUIRE(get(k, fd) == kMax - 1);
}

BACKEND_TEST("eventfd: the count tops out at 2^64-2, past that a write is EAGAIN",
             "[eventfd][overflow]") {
  TestType b;
  auto& k = b.k;
  int fd = make_efd(k, 1);
  REQUIRE_ERRNO(put(k, fd, kMax - 1), EAGAIN);  // 1 + (2^64-2) would reach 2^64-1
  REQUIRE(put(k, fd, kMax - 2) == 8);          // exactly 2^64-2
  REQUIRE_ERRNO(put(k, fd, 1), EAGAIN);
  REQUIRE(put(k, fd, 0) == 8);  // adding 0 always fits
  REQUIRE(get(k, fd) == kMax - 1);
  REQUIRE(put(k, fd, kMax - 1) == 8);
}

BACKEND_TEST("eventfd: poll: IN while count > 0, OUT while count < 2^64-2, never ERR by write",
             "[eventfd][epoll]") {
  TestType b;
  auto& k = b.k;
  int fd = make_efd(k);
  int ep = make_ep(k);
  add(k, ep, fd, EPOLLIN | EPOLLOUT | EPOLLRDNORM | EPOLLWRNORM);
  REQUIRE(wait(k, ep) == Evs{{EPOLLOUT, static_cast<uint64_t>(fd)}});  // no RDNORM/WRNORM ever
  REQUIRE(put(k, fd, 1) == 8);
  REQUIRE(wait(k, ep) == Evs{{EPOLLIN | EPOLLOUT, static_cast<uint64_t>(fd)}});
  REQUIRE(put(k, fd, kMax - 3) == 8);  // count 2^64-3: one more still fits
  REQUIRE(wait(k, ep) == Evs{{EPOLLIN | EPOLLOUT, static_cast<uint64_t>(fd)}});
  REQUIRE(put(k, fd, 1) == 8);  // count 2^64-2: the highest a write can reach
  REQUIRE(wait(k, ep) == Evs{{EPOLLIN, static_cast<uint64_t>(fd)}});
  REQUIRE(get(k, fd) == kMax - 1);
  REQUIRE(wait(k, ep) == Evs{{EPOLLOUT, static_cast<uint64_t>(fd)}});
}

BACKEND_TEST("eventfd: LT IN reports until read, a write of 0 to a zero count reports nothing",
             "[eventfd][epoll][lt]") {
  TestType b;
  auto& k = b.k;
  int fd = make_efd(k);
  int ep = make_ep(k);
  add(k, ep, fd, EPOLLIN);
  REQUIRE(put(k, fd, 0) == 8);
  REQUIRE(wait(k, ep).empty());  // woken, but the count is 0: dropped at collection
  REQUIRE(put(k, fd, 2) == 8);
  REQUIRE(wait(k, ep) == Evs{{EPOLLIN, static_cast<uint64_t>(fd)}});
  REQUIRE(wait(k, ep) == Evs{{EPOLLIN, static_cast<uint64_t>(fd)}});
  REQUIRE(get(k, fd) == 2);
  REQUIRE(wait(k, ep).empty());
}

BACKEND_TEST("eventfd: ET IN fires on every write, even of 0, without a read",
             "[eventfd][epoll][et]") {
  TestType b;
  auto& k = b.k;
  int fd = make_efd(k);
  int ep = make_ep(k);
  add(k, ep, fd, EPOLLIN | EPOLLET);
  REQUIRE(wait(k, ep).empty());
  REQUIRE(put(k, fd, 1) == 8);
  REQUIRE(wait(k, ep) == Evs{{EPOLLIN, static_cast<uint64_t>(fd)}});
  REQUIRE(wait(k, ep).empty());
  REQUIRE(put(k, fd, 1) == 8);
  REQUIRE(wait(k, ep) == Evs{{EPOLLIN, static_cast<uint64_t>(fd)}});
  REQUIRE(put(k, fd, 0) == 8);
  REQUIRE(wait(k, ep) == Evs{{EPOLLIN, static_cast<uint64_t>(fd)}});
  REQUIRE(put(k, fd, 0) == 8);
  REQUIRE(put(k, fd, 0) == 8);
  REQUIRE(wait(k, ep) == Evs{{EPOLLIN, static_cast<uint64_t>(fd)}});  // queued once
  REQUIRE(wait(k, ep).empty());
}

BACKEND_TEST("eventfd: ET: a read wakes OUT, a write does not wake an OUT-only item",
             "[eventfd][epoll][et]") {
  TestType b;
  auto& k = b.k;
  int fd = make_efd(k, 5, EFD_NONBLOCK | EFD_SEMAPHORE);
  int ep = make_ep(k);
  add(k, ep, fd, EPOLLOUT | EPOLLET);
  REQUIRE(wait(k, ep) == Evs{{EPOLLOUT, static_cast<uint64_t>(fd)}});
  REQUIRE(put(k, fd, 1) == 8);  // key EPOLLIN: not in the item's mask
  REQUIRE(wait(k, ep).empty());
  REQUIRE(get(k, fd) == 1);  // OUT did not change, but every read wakes it
  REQUIRE(wait(k, ep) == Evs{{EPOLLOUT, static_cast<uint64_t>(fd)}});
  REQUIRE(get(k, fd) == 1);
  REQUIRE(wait(k, ep) == Evs{{EPOLLOUT, static_cast<uint64_t>(fd)}});
  REQUIRE(wait(k, ep).empty());
}

BACKEND_TEST("eventfd: ET IN|OUT: a write reports both bits, a read reports OUT",
             "[eventfd][epoll][et]") {
  TestType b;
  auto& k = b.k;
  int fd = make_efd(k, 0, EFD_NONBLOCK | EFD_SEMAPHORE);
  int ep = make_ep(k);
  add(k, ep, fd, EPOLLIN | EPOLLOUT | EPOLLET);
  REQUIRE(wait(k, ep) == Evs{{EPOLLOUT, static_cast<uint64_t>(fd)}});
  REQUIRE(put(k, fd, 2) == 8);
  REQUIRE(wait(k, ep) == Evs{{EPOLLIN | EPOLLOUT, static_cast<uint64_t>(fd)}});
  REQUIRE(get(k, fd) == 1);
  REQUIRE(wait(k, ep) == Evs{{EPOLLIN | EPOLLOUT, static_cast<uint64_t>(fd)}});  // count 1
  REQUIRE(get(k, fd) == 1);
  REQUIRE(wait(k, ep) == Evs{{EPOLLOUT, static_cast<uint64_t>(fd)}});
}

BACKEND_TEST("eventfd: failed reads and writes wake nobody", "[eventfd][epoll][et]") {
  TestType b;
  auto& k = b.k;
  int fd = make_efd(k);
  int ep = make_ep(k);
  add(k, ep, fd, EPOLLIN | EPOLLOUT | EPOLLET);
  REQUIRE(wait(k, ep) == Evs{{EPOLLOUT, static_cast<uint64_t>(fd)}});
  uint64_t v;
  REQUIRE_ERRNO(k.read(fd, &v, sizeof v), EAGAIN);  // count 0
  REQUIRE_ERRNO(k.read(fd, &v, 4), EINVAL);
  REQUIRE(wait(k, ep).empty());
  REQUIRE(put(k, fd, kMax - 1) == 8);
  REQUIRE(wait(k, ep) == Evs{{EPOLLIN, static_cast<uint64_t>(fd)}});
  REQUIRE_ERRNO(put(k, fd, 1), EAGAIN);  // overflow
  REQUIRE_ERRNO(put(k, fd, kMax), EINVAL);
  REQUIRE(wait(k, ep).empty());
}

BACKEND_TEST("eventfd: ONESHOT reports once, MOD re-arms", "[eventfd][epoll][oneshot]") {
  TestType b;
  auto& k = b.k;
  int fd = make_efd(k);
  int ep = make_ep(k);
  add(k, ep, fd, EPOLLIN | EPOLLONESHOT, 1);
  REQUIRE(put(k, fd, 1) == 8);
  REQUIRE(wait(k, ep) == Evs{{EPOLLIN, 1}});
  REQUIRE(put(k, fd, 1) == 8);
  REQUIRE(wait(k, ep).empty());
  mod(k, ep, fd, EPOLLIN | EPOLLOUT | EPOLLONESHOT, 2);
  REQUIRE(wait(k, ep) == Evs{{EPOLLIN | EPOLLOUT, 2}});
  REQUIRE(get(k, fd) == 2);
  REQUIRE(wait(k, ep).empty());
}

BACKEND_TEST("eventfd: FIONREAD is ENOTTY, FIONBIO works", "[eventfd][ioctl]") {
  TestType b;
  auto& k = b.k;
  int fd = make_efd(k, 0, 0);
  int n = -1;
  REQUIRE_ERRNO(k.ioctl(fd, FIONREAD, &n), ENOTTY);
  int on = 1;
  REQUIRE(k.ioctl(fd, FIONBIO, &on) == 0);
  REQUIRE(k.fcntl(fd, F_GETFL) == (O_RDWR | O_NONBLOCK));
  uint64_t v;
  REQUIRE_ERRNO(k.read(fd, &v, sizeof v), EAGAIN);
}

BACKEND_TEST("eventfd: F_SETFL O_NONBLOCK turns a blocking eventfd nonblocking",
             "[eventfd][nonblock]") {
  TestType b;
  auto& k = b.k;
  int fd = make_efd(k, 0, 0);
  REQUIRE(k.fcntl(fd, F_SETFL, O_NONBLOCK) == 0);
  uint64_t v;
  REQUIRE_ERRNO(k.read(fd, &v, sizeof v), EAGAIN);
  REQUIRE(put(k, fd, kMax - 1) == 8);
  REQUIRE_ERRNO(put(k, fd, 1), EAGAIN);
  REQUIRE(k.fcntl(fd, F_SETFL, 0) == 0);
  REQUIRE(k.fcntl(fd, F_GETFL) == O_RDWR);
  REQUIRE(get(k, fd) == kMax - 1);  // blocking, but the count is there
}

BACKEND_TEST("eventfd: a dup shares the counter and the registration outlives close",
             "[eventfd][epoll]") {
  TestType b;
  auto& k = b.k;
  int fd = make_efd(k);
  int d = k.dup(fd);
  REQUIRE(d >= 0);
  int ep = make_ep(k);
  add(k, ep, fd, EPOLLIN | EPOLLET, 5);
  REQUIRE(k.close(fd) == 0);
  REQUIRE(put(k, d, 3) == 8);
  REQUIRE(wait(k, ep) == Evs{{EPOLLIN, 5}});
  REQUIRE(get(k, d) == 3);
}

// --- simulation only: blocking calls that can never complete -----------------------------------

TEST_CASE("eventfd: blocking read at count 0 is a deadlock", "[eventfd][sim]") {
  SimKernel k;
  int fd = k.eventfd(0, 0);
  REQUIRE(fd >= 0);
  uint64_t v;
  REQUIRE_THROWS_AS(k.read(fd, &v, sizeof v), Deadlock);
  uint64_t one = 1;
  REQUIRE(k.write(fd, &one, sizeof one) == 8);
  REQUIRE(k.read(fd, &v, sizeof v) == 8);
}

TEST_CASE("eventfd: blocking write that would overflow is a deadlock", "[eventfd][sim]") {
  SimKernel k;
  int fd = k.eventfd(0, 0);
  REQUIRE(fd >= 0);
  uint64_t big = UINT64_MAX - 1;
  REQUIRE(k.write(fd, &big, sizeof big) == 8);
  uint64_t one = 1;
  REQUIRE_THROWS_AS(k.write(fd, &one, sizeof one), Deadlock);
}

TEST_CASE("eventfd: EMFILE at the fd limit", "[eventfd][sim]") {
  SimOptions o;
  o.nofile = 3;  // stdio takes all three
  SimKernel k(o);
  REQUIRE_ERRNO(k.eventfd(0, 0), EMFILE);
  REQUIRE_ERRNO(k.eventfd(0, 0x100), EINVAL);  // flags are checked first
}

}  // namespace edgecase::conformance
