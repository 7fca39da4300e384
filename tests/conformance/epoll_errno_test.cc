// epoll's errors and the order in which the kernel checks them (do_epoll_ctl, do_epoll_wait,
// do_epoll_create): when several apply to one call, the first check wins, so the cases here
// combine faults on purpose.
#include <climits>
#include <fcntl.h>
#include <sys/eventfd.h>

#include "tests/conformance/backend.h"

namespace edgecase::conformance {
namespace {

constexpr uint32_t kErrHup = EPOLLERR | EPOLLHUP;
// EP_MAX_EVENTS: INT_MAX / sizeof(struct epoll_event), the largest maxevents accepted.
constexpr int kMaxEvents = static_cast<int>(INT_MAX / sizeof(epoll_event));
// An op number that is none of ADD (1), DEL (2) and MOD (3).
constexpr int kBadOp = 99;

int make_ep(Kernel& k, int flags = EPOLL_CLOEXEC) {
  int ep = k.epoll_create1(flags);
  INFO("epoll_create1 errno " << errno);
  REQUIRE(ep >= 0);
  return ep;
}

int make_efd(Kernel& k, unsigned init = 0) {
  int fd = k.eventfd(init, EFD_NONBLOCK | EFD_CLOEXEC);
  INFO("eventfd errno " << errno);
  REQUIRE(fd >= 0);
  return fd;
}

void efd_write(Kernel& k, int fd, uint64_t v = 1) { REQUIRE(k.write(fd, &v, sizeof v) == 8); }

// A number that is certainly not open: opened, then closed.
int closed_fd(Kernel& k) {
  int fd = make_ep(k);
  REQUIRE(k.close(fd) == 0);
  return fd;
}

int ctl(Kernel& k, int ep, int op, int fd, uint32_t events = EPOLLIN, uint64_t data = 0) {
  epoll_event ev{};
  ev.events = events;
  ev.data.u64 = data;
  return k.epoll_ctl(ep, op, fd, &ev);
}

}  // namespace

// --- epoll_ctl -------------------------------------------------------------------------------

BACKEND_TEST("epoll_ctl: a NULL event is EFAULT for ADD, MOD and unknown ops, checked first", "[epoll][errno]") {
  TestType b;
  auto& k = b.k;
  int ep = make_ep(k);
  int e = make_efd(k);
  REQUIRE_ERRNO(k.epoll_ctl(ep, EPOLL_CTL_ADD, e, nullptr), EFAULT);
  add(k, ep, e, EPOLLIN, 1);
  REQUIRE_ERRNO(k.epoll_ctl(ep, EPOLL_CTL_MOD, e, nullptr), EFAULT);
  REQUIRE_ERRNO(k.epoll_ctl(ep, kBadOp, e, nullptr), EFAULT);
  // Copying the event in comes before looking at either fd.
  REQUIRE_ERRNO(k.epoll_ctl(-1, EPOLL_CTL_ADD, -1, nullptr), EFAULT);
  REQUIRE_ERRNO(k.epoll_ctl(e, EPOLL_CTL_MOD, e, nullptr), EFAULT);
  REQUIRE(b.inspect().interest_set(ep) == std::vector<Interest>{{e, EPOLLIN | kErrHup, 1}});
}

BACKEND_TEST("epoll_ctl: DEL accepts a NULL event", "[epoll][errno]") {
  TestType b;
  auto& k = b.k;
  int ep = make_ep(k);
  int e = make_efd(k);
  add(k, ep, e, EPOLLIN, 1);
  REQUIRE(k.epoll_ctl(ep, EPOLL_CTL_DEL, e, nullptr) == 0);
  REQUIRE_ERRNO(k.epoll_ctl(ep, EPOLL_CTL_DEL, e, nullptr), ENOENT);
  REQUIRE_ERRNO(k.epoll_ctl(-1, EPOLL_CTL_DEL, e, nullptr), EBADF);
  add(k, ep, e, EPOLLIN, 2);
  epoll_event ignored{};
  ignored.events = EPOLLEXCLUSIVE | EPOLLONESHOT;  // DEL never reads the event
  REQUIRE(k.epoll_ctl(ep, EPOLL_CTL_DEL, e, &ignored) == 0);
}

BACKEND_TEST("epoll_ctl: EBADF for a bad epfd, then for a bad fd", "[epoll][errno]") {
  TestType b;
  auto& k = b.k;
  int ep = make_ep(k);
  int e = make_efd(k);
  int gone = closed_fd(k);
  for (int op : {EPOLL_CTL_ADD, EPOLL_CTL_MOD, EPOLL_CTL_DEL, kBadOp}) {
    INFO("op " << op);
    REQUIRE_ERRNO(ctl(k, -1, op, e), EBADF);
    REQUIRE_ERRNO(ctl(k, gone, op, e), EBADF);
    REQUIRE_ERRNO(ctl(k, INT_MAX, op, e), EBADF);
    REQUIRE_ERRNO(ctl(k, ep, op, -1), EBADF);
    REQUIRE_ERRNO(ctl(k, ep, op, gone), EBADF);
    // A bad fd is found before epfd is seen not to be an epoll instance.
    REQUIRE_ERRNO(ctl(k, e, op, gone), EBADF);
  }
  REQUIRE(b.inspect().interest_set(ep)->empty());
}

BACKEND_TEST("epoll_ctl: EINVAL when epfd is not an epoll, before ENOENT and EEXIST", "[epoll][errno]") {
  TestType b;
  auto& k = b.k;
  int ep = make_ep(k);
  int e = make_efd(k);
  int f = make_efd(k);
  int p[2];
  REQUIRE(k.pipe2(p, O_NONBLOCK | O_CLOEXEC) == 0);
  add(k, ep, e, EPOLLIN, 1);
  for (int op : {EPOLL_CTL_ADD, EPOLL_CTL_MOD, EPOLL_CTL_DEL}) {
    INFO("op " << op);
    REQUIRE_ERRNO(ctl(k, f, op, e), EINVAL);
    REQUIRE_ERRNO(ctl(k, p[0], op, e), EINVAL);
    REQUIRE_ERRNO(ctl(k, e, op, ep), EINVAL);  // epfd and fd swapped
    REQUIRE_ERRNO(ctl(k, f, op, f), EINVAL);   // fd == epfd, neither an epoll
  }
}

BACKEND_TEST("epoll_ctl: epfd == fd is EINVAL for every op", "[epoll][errno]") {
  TestType b;
  auto& k = b.k;
  int ep = make_ep(k);
  for (int op : {EPOLL_CTL_ADD, EPOLL_CTL_MOD, EPOLL_CTL_DEL}) {
    INFO("op " << op);
    REQUIRE_ERRNO(ctl(k, ep, op, ep), EINVAL);  // not ENOENT for MOD and DEL
  }
}

BACKEND_TEST("epoll_ctl: an unknown op is EINVAL, after the fd checks", "[epoll][errno]") {
  TestType b;
  auto& k = b.k;
  int ep = make_ep(k);
  int e = make_efd(k);
  REQUIRE_ERRNO(ctl(k, ep, kBadOp, e), EINVAL);
  REQUIRE_ERRNO(ctl(k, ep, 0, e), EINVAL);
  REQUIRE_ERRNO(ctl(k, ep, -1, e), EINVAL);
  add(k, ep, e, EPOLLIN, 1);
  REQUIRE_ERRNO(ctl(k, ep, kBadOp, e), EINVAL);  // registered or not
  REQUIRE_ERRNO(ctl(k, ep, kBadOp, -1), EBADF);
  REQUIRE(b.inspect().interest_set(ep) == std::vector<Interest>{{e, EPOLLIN | kErrHup, 1}});
}

BACKEND_TEST("epoll_ctl: the key is (description, fd): a dup of a registered fd is ENOENT", "[epoll][errno][interest]") {
  TestType b;
  auto& k = b.k;
  int ep = make_ep(k);
  int e = make_efd(k);
  int d = k.dup(e);
  REQUIRE(d >= 0);
  add(k, ep, e, EPOLLIN, 1);
  REQUIRE_ERRNO(ctl(k, ep, EPOLL_CTL_MOD, d, EPOLLOUT), ENOENT);
  REQUIRE_ERRNO(k.epoll_ctl(ep, EPOLL_CTL_DEL, d, nullptr), ENOENT);
  add(k, ep, d, EPOLLOUT, 2);
  REQUIRE_ERRNO(ctl(k, ep, EPOLL_CTL_ADD, d, EPOLLOUT), EEXIST);
}

BACKEND_TEST("epoll_ctl: EXCLUSIVE misuse is EINVAL before EEXIST and ENOENT", "[epoll][errno][exclusive]") {
  TestType b;
  auto& k = b.k;
  int ep = make_ep(k);
  int e = make_efd(k);
  int unregistered = make_efd(k);
  add(k, ep, e, EPOLLIN, 1);
  REQUIRE_ERRNO(ctl(k, ep, EPOLL_CTL_ADD, e, EPOLLIN | EPOLLEXCLUSIVE | EPOLLONESHOT), EINVAL);
  REQUIRE_ERRNO(ctl(k, ep, EPOLL_CTL_ADD, e, EPOLLIN | EPOLLEXCLUSIVE), EEXIST);
  REQUIRE_ERRNO(ctl(k, ep, EPOLL_CTL_MOD, unregistered, EPOLLIN | EPOLLEXCLUSIVE), EINVAL);
  REQUIRE_ERRNO(ctl(k, ep, EPOLL_CTL_MOD, unregistered, EPOLLIN), ENOENT);
  // ...but after EBADF and the not-an-epoll EINVAL.
  REQUIRE_ERRNO(ctl(k, ep, EPOLL_CTL_MOD, -1, EPOLLIN | EPOLLEXCLUSIVE), EBADF);
}

BACKEND_TEST("epoll_ctl: ELOOP is checked on ADD only", "[epoll][errno][nested]") {
  TestType b;
  auto& k = b.k;
  int a = make_ep(k);
  int c = make_ep(k);
  add(k, a, c, EPOLLIN, 1);
  REQUIRE_ERRNO(ctl(k, c, EPOLL_CTL_ADD, a), ELOOP);
  REQUIRE_ERRNO(ctl(k, c, EPOLL_CTL_MOD, a), ENOENT);
  REQUIRE_ERRNO(k.epoll_ctl(c, EPOLL_CTL_DEL, a, nullptr), ENOENT);
  REQUIRE_ERRNO(ctl(k, a, EPOLL_CTL_ADD, c), EEXIST);
  mod(k, a, c, EPOLLIN | EPOLLET, 2);
}

// --- epoll_wait ------------------------------------------------------------------------------

BACKEND_TEST("epoll_wait: EBADF is checked before maxevents", "[epoll][errno][wait]") {
  TestType b;
  auto& k = b.k;
  int gone = closed_fd(k);
  epoll_event evs[4];
  for (int maxevents : {1, 0, -1, kMaxEvents + 1}) {
    INFO("maxevents " << maxevents);
    REQUIRE_ERRNO(k.epoll_wait(-1, evs, maxevents, 0), EBADF);
    REQUIRE_ERRNO(k.epoll_wait(gone, evs, maxevents, -1), EBADF);  // returns, never blocks
    REQUIRE_ERRNO(k.epoll_pwait(gone, evs, maxevents, -1, nullptr), EBADF);
    REQUIRE_ERRNO(k.epoll_wait(-1, nullptr, maxevents, 0), EBADF);
  }
}

BACKEND_TEST("epoll_wait: maxevents must be in [1, INT_MAX / sizeof(epoll_event)]", "[epoll][errno][wait]") {
  TestType b;
  auto& k = b.k;
  int ep = make_ep(k);
  int e = make_efd(k, 1);
  std::vector<epoll_event> evs(4);
  for (int maxevents : {0, -1, INT_MIN, kMaxEvents + 1, INT_MAX}) {
    INFO("maxevents " << maxevents);
    REQUIRE_ERRNO(k.epoll_wait(ep, evs.data(), maxevents, 0), EINVAL);
    REQUIRE_ERRNO(k.epoll_pwait(ep, evs.data(), maxevents, -1, nullptr), EINVAL);
    REQUIRE_ERRNO(k.epoll_wait(e, evs.data(), maxevents, 0), EINVAL);
  }
  // The largest value is accepted; with nothing ready nothing is written.
  REQUIRE(k.epoll_wait(ep, evs.data(), kMaxEvents, 0) == 0);
}

BACKEND_TEST("epoll_wait: EINVAL on an fd that is not an epoll instance", "[epoll][errno][wait]") {
  TestType b;
  auto& k = b.k;
  int e = make_efd(k, 1);
  int p[2];
  REQUIRE(k.pipe2(p, O_NONBLOCK | O_CLOEXEC) == 0);
  epoll_event evs[4];
  REQUIRE_ERRNO(k.epoll_wait(e, evs, 4, 0), EINVAL);
  REQUIRE_ERRNO(k.epoll_wait(p[0], evs, 4, -1), EINVAL);
  REQUIRE_ERRNO(k.epoll_pwait(p[1], evs, 4, -1, nullptr), EINVAL);
  REQUIRE_ERRNO(k.epoll_wait(e, nullptr, 4, 0), EINVAL);
}

BACKEND_TEST("epoll_wait: NULL events returns 0 with nothing ready and EFAULT with something", "[epoll][errno][wait]") {
  TestType b;
  auto& k = b.k;
  int ep = make_ep(k);
  int e = make_efd(k);
  int lt = make_efd(k);
  add(k, ep, e, EPOLLIN | EPOLLET, 1);
  add(k, ep, lt, EPOLLIN, 2);
  // A NULL area passes the range check; only copying an event out faults.
  REQUIRE(k.epoll_wait(ep, nullptr, 4, 0) == 0);
  REQUIRE(k.epoll_pwait(ep, nullptr, 4, 0, nullptr) == 0);
  efd_write(k, e);
  REQUIRE_ERRNO(k.epoll_wait(ep, nullptr, 4, 0), EFAULT);
  REQUIRE_ERRNO(k.epoll_wait(ep, nullptr, 4, -1), EFAULT);
  // The item that could not be copied goes back to the head: the ET event is not lost.
  efd_write(k, lt);
  REQUIRE(wait(k, ep) == std::vector<Ev>{{EPOLLIN, 1}, {EPOLLIN, 2}});
  REQUIRE_ERRNO(k.epoll_wait(ep, nullptr, 4, 0), EFAULT);  // the LT item is queued again
}

// --- epoll_create ------------------------------------------------------------------------------

BACKEND_TEST("epoll_create: size <= 0 is EINVAL, any positive size works", "[epoll][errno][create]") {
  TestType b;
  auto& k = b.k;
  REQUIRE_ERRNO(k.epoll_create(0), EINVAL);
  REQUIRE_ERRNO(k.epoll_create(-1), EINVAL);
  REQUIRE_ERRNO(k.epoll_create(INT_MIN), EINVAL);
  int ep1 = k.epoll_create(1);
  int ep2 = k.epoll_create(INT_MAX);
  REQUIRE(ep1 >= 0);
  REQUIRE(ep2 > ep1);
  REQUIRE(k.fcntl(ep1, F_GETFD) == 0);  // never close-on-exec
  REQUIRE(k.fcntl(ep1, F_GETFL) == O_RDWR);
  REQUIRE(b.inspect().interest_set(ep2)->empty());
}

BACKEND_TEST("epoll_create1: flags other than EPOLL_CLOEXEC are EINVAL", "[epoll][errno][create]") {
  TestType b;
  auto& k = b.k;
  for (int flags : {O_NONBLOCK, -1, 1, EPOLL_CLOEXEC | O_NONBLOCK, O_RDWR, INT_MIN}) {
    INFO("flags " << flags);
    REQUIRE_ERRNO(k.epoll_create1(flags), EINVAL);
  }
}

BACKEND_TEST("epoll_create1: EPOLL_CLOEXEC sets FD_CLOEXEC, F_GETFL is O_RDWR either way", "[epoll][create][fd]") {
  TestType b;
  auto& k = b.k;
  int plain = make_ep(k, 0);
  int cloexec = make_ep(k, EPOLL_CLOEXEC);
  REQUIRE(k.fcntl(plain, F_GETFD) == 0);
  REQUIRE(k.fcntl(cloexec, F_GETFD) == FD_CLOEXEC);
  REQUIRE(k.fcntl(plain, F_GETFL) == O_RDWR);
  REQUIRE(k.fcntl(cloexec, F_GETFL) == O_RDWR);
  int d = k.dup(cloexec);
  REQUIRE(k.fcntl(d, F_GETFD) == 0);
  REQUIRE(b.inspect().interest_set(d)->empty());
}

// --- EPERM ---------------------------------------------------------------------------------------

// /dev/null has no poll method. The simulation opens it as fds 0-2; the live case opens its own.
BACKEND_TEST("epoll_ctl: EPERM for a file without poll, after EBADF and before EINVAL", "[epoll][errno]") {
  TestType b;
  auto& k = b.k;
  int ep = make_ep(k);
  int e = make_efd(k);
  int null = 0;
  if constexpr (TestType::live) null = ::open("/dev/null", O_RDWR | O_CLOEXEC);
  REQUIRE(null >= 0);
  REQUIRE_ERRNO(ctl(k, ep, EPOLL_CTL_ADD, null), EPERM);
  REQUIRE_ERRNO(ctl(k, ep, EPOLL_CTL_MOD, null), EPERM);
  REQUIRE_ERRNO(k.epoll_ctl(ep, EPOLL_CTL_DEL, null, nullptr), EPERM);
  REQUIRE_ERRNO(ctl(k, null, EPOLL_CTL_ADD, null), EPERM);  // before epfd == fd
  REQUIRE_ERRNO(ctl(k, e, EPOLL_CTL_ADD, null), EPERM);     // before "epfd is not an epoll"
  REQUIRE_ERRNO(ctl(k, null, EPOLL_CTL_ADD, e), EINVAL);
  REQUIRE_ERRNO(ctl(k, -1, EPOLL_CTL_ADD, null), EBADF);
  REQUIRE_ERRNO(k.epoll_ctl(ep, EPOLL_CTL_ADD, null, nullptr), EFAULT);
  REQUIRE(b.inspect().interest_set(ep)->empty());
  if constexpr (TestType::live) REQUIRE(::close(null) == 0);
}

}  // namespace edgecase::conformance
