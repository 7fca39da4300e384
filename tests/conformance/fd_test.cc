// The fd table and open file descriptions (fs/file.c, fs/fcntl.c): lowest free number, dup,
// dup2, F_DUPFD, FD_CLOEXEC (per fd) against O_NONBLOCK (per description), close.
#include <climits>
#include <fcntl.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/uio.h>

#include "tests/conformance/backend.h"

namespace edgecase::conformance {
namespace {

// Far above any number a case opens, far below every RLIMIT_NOFILE (sim 1024, live 20000 here).
constexpr int kHighFd = 900;
// Above every RLIMIT_NOFILE of both backends.
constexpr int kBeyondLimit = 1 << 20;

int make_efd(Kernel& k, unsigned init = 0, int flags = EFD_NONBLOCK) {
  int fd = k.eventfd(init, flags);
  INFO("eventfd errno " << errno);
  REQUIRE(fd >= 0);
  return fd;
}

void efd_write(Kernel& k, int fd, uint64_t v = 1) { REQUIRE(k.write(fd, &v, sizeof v) == 8); }

uint64_t efd_read(Kernel& k, int fd) {
  uint64_t v = 0;
  REQUIRE(k.read(fd, &v, sizeof v) == 8);
  return v;
}

// `n` fresh fds, each the lowest free number when it was opened: every number between the first
// and the last that is not among them is held by something else, so closing some of them makes
// those the lowest free ones.
std::vector<int> placeholders(Kernel& k, int n) {
  std::vector<int> fds;
  for (int i = 0; i < n; ++i) fds.push_back(make_efd(k));
  return fds;
}

}  // namespace

BACKEND_TEST("fd: every kind of fd takes the lowest free number", "[fd]") {
  TestType b;
  auto& k = b.k;
  auto h = placeholders(k, 8);
  REQUIRE(k.close(h[5]) == 0);
  REQUIRE(k.close(h[2]) == 0);
  REQUIRE(k.epoll_create1(0) == h[2]);
  REQUIRE(k.epoll_create(1) == h[5]);
  REQUIRE(k.close(h[5]) == 0);
  REQUIRE(k.close(h[2]) == 0);
  REQUIRE(k.close(h[7]) == 0);
  int p[2];
  REQUIRE(k.pipe2(p, O_NONBLOCK) == 0);
  REQUIRE(p[0] == h[2]);
  REQUIRE(p[1] == h[5]);
  REQUIRE(k.eventfd(0, 0) == h[7]);
  REQUIRE(k.close(h[1]) == 0);
  REQUIRE(k.dup(h[0]) == h[1]);
  REQUIRE(k.close(h[1]) == 0);
  REQUIRE(k.fcntl(h[0], F_DUPFD, 0) == h[1]);
  REQUIRE(k.close(h[6]) == 0);
  REQUIRE(k.close(h[4]) == 0);
  int sv[2];
  REQUIRE(k.socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
  REQUIRE(sv[0] == h[4]);
  REQUIRE(sv[1] == h[6]);
}

BACKEND_TEST("fd: a closed number is reused at once", "[fd]") {
  TestType b;
  auto& k = b.k;
  int a = make_efd(k);
  for (int round = 0; round < 3; ++round) {
    REQUIRE(k.close(a) == 0);
    REQUIRE(k.epoll_create1(EPOLL_CLOEXEC) == a);
    REQUIRE(k.close(a) == 0);
    REQUIRE(k.eventfd(0, 0) == a);
  }
}

BACKEND_TEST("fd: dup shares the description: one counter, one O_NONBLOCK", "[fd]") {
  TestType b;
  auto& k = b.k;
  int e = make_efd(k);
  int d = k.dup(e);
  REQUIRE(d > e);
  efd_write(k, d, 5);
  REQUIRE(efd_read(k, e) == 5);
  uint64_t v = 0;
  REQUIRE_ERRNO(k.read(d, &v, sizeof v), EAGAIN);
  REQUIRE(k.close(e) == 0);
  efd_write(k, d, 2);  // the description lives on through d
  REQUIRE(efd_read(k, d) == 2);
}

BACKEND_TEST("fd: dup2 onto itself returns the fd and changes nothing", "[fd]") {
  TestType b;
  auto& k = b.k;
  int e = make_efd(k, 3, EFD_NONBLOCK | EFD_CLOEXEC);
  REQUIRE(k.dup2(e, e) == e);
  REQUIRE(k.fcntl(e, F_GETFD) == FD_CLOEXEC);  // unlike dup2 onto another fd
  REQUIRE(efd_read(k, e) == 3);
  int gone = make_efd(k);
  REQUIRE(k.close(gone) == 0);
  REQUIRE_ERRNO(k.dup2(gone, gone), EBADF);
}

BACKEND_TEST("fd: dup2 onto an open fd closes it silently, the new fd is not close-on-exec", "[fd]") {
  TestType b;
  auto& k = b.k;
  int a = make_efd(k, 7);
  int target = make_efd(k, 9, EFD_NONBLOCK | EFD_CLOEXEC);
  REQUIRE(k.dup2(a, target) == target);
  REQUIRE(k.fcntl(target, F_GETFD) == 0);
  REQUIRE(efd_read(k, target) == 7);  // a's counter: target's old eventfd is gone
  uint64_t v = 0;
  REQUIRE_ERRNO(k.read(a, &v, sizeof v), EAGAIN);
  // Onto a free number far above the others: exactly that number.
  REQUIRE(k.dup2(a, kHighFd) == kHighFd);
  efd_write(k, kHighFd, 4);
  REQUIRE(efd_read(k, a) == 4);
  REQUIRE(k.close(kHighFd) == 0);
}

BACKEND_TEST("fd: dup2 with a bad oldfd or newfd is EBADF and closes nothing", "[fd]") {
  TestType b;
  auto& k = b.k;
  int a = make_efd(k, 1);
  int open_target = make_efd(k, 2);
  int gone = make_efd(k);
  REQUIRE(k.close(gone) == 0);
  REQUIRE_ERRNO(k.dup2(a, -1), EBADF);
  REQUIRE_ERRNO(k.dup2(a, kBeyondLimit), EBADF);
  REQUIRE_ERRNO(k.dup2(a, INT_MAX), EBADF);
  REQUIRE_ERRNO(k.dup2(gone, open_target), EBADF);
  REQUIRE_ERRNO(k.dup2(-1, open_target), EBADF);
  REQUIRE(efd_read(k, open_target) == 2);  // still its own eventfd
  REQUIRE_ERRNO(k.dup(gone), EBADF);
  REQUIRE_ERRNO(k.dup(-1), EBADF);
}

BACKEND_TEST("fd: F_DUPFD returns the lowest free number >= its argument", "[fd]") {
  TestType b;
  auto& k = b.k;
  int e = make_efd(k);
  int r1 = k.fcntl(e, F_DUPFD, kHighFd);
  REQUIRE(r1 == kHighFd);
  int r2 = k.fcntl(e, F_DUPFD, kHighFd);
  REQUIRE(r2 == kHighFd + 1);
  REQUIRE(k.close(r1) == 0);
  REQUIRE(k.fcntl(e, F_DUPFD_CLOEXEC, kHighFd) == kHighFd);
  int low = k.fcntl(e, F_DUPFD, 0);  // 0: the lowest free number overall, as dup
  REQUIRE(low > e);
  REQUIRE(low < kHighFd);
  REQUIRE(k.close(low) == 0);
  REQUIRE(k.dup(e) == low);
}

BACKEND_TEST("fd: F_DUPFD with a negative or too large argument is EINVAL", "[fd][errno]") {
  TestType b;
  auto& k = b.k;
  int e = make_efd(k);
  for (int cmd : {F_DUPFD, F_DUPFD_CLOEXEC}) {
    REQUIRE_ERRNO(k.fcntl(e, cmd, -1), EINVAL);
    REQUIRE_ERRNO(k.fcntl(e, cmd, kBeyondLimit), EINVAL);
    REQUIRE_ERRNO(k.fcntl(e, cmd, INT_MIN), EINVAL);
    REQUIRE_ERRNO(k.fcntl(-1, cmd, 0), EBADF);  // EBADF first
  }
}

BACKEND_TEST("fd: F_DUPFD reads its argument as an int: the upper 32 bits are ignored", "[fd]") {
  TestType b;
  auto& k = b.k;
  int e = make_efd(k);
  constexpr long kUpper = 1L << 32;
  REQUIRE(k.fcntl(e, F_DUPFD, kUpper + kHighFd) == kHighFd);
  int lowest = k.fcntl(e, F_DUPFD, LONG_MIN);  // low half 0: the lowest free number
  REQUIRE(lowest > e);
  REQUIRE(lowest < kHighFd);
  REQUIRE(k.close(lowest) == 0);
  REQUIRE(k.dup(e) == lowest);
  REQUIRE_ERRNO(k.fcntl(e, F_DUPFD, kUpper - 1), EINVAL);  // low half -1
  REQUIRE(k.fcntl(e, F_SETFD, kUpper | FD_CLOEXEC) == 0);
  REQUIRE(k.fcntl(e, F_GETFD) == FD_CLOEXEC);
}

BACKEND_TEST("fd: F_DUPFD_CLOEXEC sets FD_CLOEXEC on the new fd, F_DUPFD, dup and dup2 do not", "[fd]") {
  TestType b;
  auto& k = b.k;
  int e = make_efd(k, 0, EFD_NONBLOCK | EFD_CLOEXEC);
  int c = k.fcntl(e, F_DUPFD_CLOEXEC, 0);
  int plain = k.fcntl(e, F_DUPFD, 0);
  int d = k.dup(e);
  int spare = make_efd(k);
  REQUIRE(k.dup2(e, spare) == spare);
  REQUIRE(k.fcntl(c, F_GETFD) == FD_CLOEXEC);
  REQUIRE(k.fcntl(plain, F_GETFD) == 0);
  REQUIRE(k.fcntl(d, F_GETFD) == 0);
  REQUIRE(k.fcntl(spare, F_GETFD) == 0);
  REQUIRE(k.fcntl(e, F_GETFD) == FD_CLOEXEC);
  int p = make_efd(k);
  REQUIRE(k.fcntl(k.fcntl(p, F_DUPFD_CLOEXEC, 0), F_GETFD) == FD_CLOEXEC);
}

BACKEND_TEST("fd: F_SETFD keeps FD_CLOEXEC only and is per fd", "[fd]") {
  TestType b;
  auto& k = b.k;
  int e = make_efd(k);
  int d = k.dup(e);
  REQUIRE(k.fcntl(e, F_GETFD) == 0);
  REQUIRE(k.fcntl(e, F_SETFD, FD_CLOEXEC) == 0);
  REQUIRE(k.fcntl(e, F_GETFD) == FD_CLOEXEC);
  REQUIRE(k.fcntl(d, F_GETFD) == 0);
  REQUIRE(k.fcntl(d, F_SETFD, 0xff) == 0);
  REQUIRE(k.fcntl(d, F_GETFD) == FD_CLOEXEC);
  REQUIRE(k.fcntl(e, F_SETFD, 0xfe) == 0);
  REQUIRE(k.fcntl(e, F_GETFD) == 0);
  REQUIRE_ERRNO(k.fcntl(-1, F_SETFD, FD_CLOEXEC), EBADF);
  REQUIRE_ERRNO(k.fcntl(-1, F_GETFD), EBADF);
}

BACKEND_TEST("fd: O_NONBLOCK belongs to the description and is shared by dups", "[fd]") {
  TestType b;
  auto& k = b.k;
  int e = make_efd(k, 0, 0);  // blocking
  int d = k.dup(e);
  REQUIRE(k.fcntl(e, F_GETFL) == O_RDWR);
  REQUIRE(k.fcntl(d, F_SETFL, O_NONBLOCK) == 0);
  REQUIRE(k.fcntl(e, F_GETFL) == (O_RDWR | O_NONBLOCK));
  REQUIRE(k.fcntl(d, F_GETFD) == 0);
  uint64_t v = 0;
  REQUIRE_ERRNO(k.read(e, &v, sizeof v), EAGAIN);  // would block forever without the flag
  REQUIRE(k.fcntl(e, F_SETFL, 0) == 0);
  REQUIRE(k.fcntl(d, F_GETFL) == O_RDWR);
  int one = 1;
  REQUIRE(k.ioctl(e, FIONBIO, &one) == 0);  // FIONBIO is the same flag
  REQUIRE(k.fcntl(d, F_GETFL) == (O_RDWR | O_NONBLOCK));
  int zero = 0;
  REQUIRE(k.ioctl(d, FIONBIO, &zero) == 0);
  REQUIRE(k.fcntl(e, F_GETFL) == O_RDWR);
}

BACKEND_TEST("fd: F_GETFL shows the access mode and O_NONBLOCK, F_SETFL keeps the access mode", "[fd]") {
  TestType b;
  auto& k = b.k;
  int p[2];
  REQUIRE(k.pipe2(p, O_CLOEXEC) == 0);
  REQUIRE(k.fcntl(p[0], F_GETFL) == O_RDONLY);
  REQUIRE(k.fcntl(p[1], F_GETFL) == O_WRONLY);
  REQUIRE(k.fcntl(p[1], F_SETFL, O_NONBLOCK | O_RDWR) == 0);
  REQUIRE(k.fcntl(p[1], F_GETFL) == (O_WRONLY | O_NONBLOCK));
  REQUIRE(k.fcntl(p[0], F_GETFD) == FD_CLOEXEC);
  int q[2];
  REQUIRE(k.pipe2(q, O_NONBLOCK) == 0);
  REQUIRE(k.fcntl(q[0], F_GETFL) == (O_RDONLY | O_NONBLOCK));
  REQUIRE(k.fcntl(q[0], F_GETFD) == 0);
  REQUIRE(k.fcntl(make_efd(k, 0, EFD_NONBLOCK), F_GETFL) == (O_RDWR | O_NONBLOCK));
  int ce = make_efd(k, 0, EFD_CLOEXEC | EFD_SEMAPHORE);  // neither flag shows in F_GETFL
  REQUIRE(k.fcntl(ce, F_GETFL) == O_RDWR);
  REQUIRE(k.fcntl(ce, F_GETFD) == FD_CLOEXEC);
  int sv[2];
  REQUIRE(k.socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) == 0);
  REQUIRE(k.fcntl(sv[0], F_GETFL) == (O_RDWR | O_NONBLOCK));
  REQUIRE(k.socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
  REQUIRE(k.fcntl(sv[1], F_GETFL) == O_RDWR);
  REQUIRE(k.fcntl(sv[1], F_GETFD) == FD_CLOEXEC);
}

BACKEND_TEST("fd: read on a write end and write on a read end are EBADF", "[fd][errno]") {
  TestType b;
  auto& k = b.k;
  int p[2];
  REQUIRE(k.pipe2(p, O_NONBLOCK) == 0);
  char c = 'x';
  REQUIRE_ERRNO(k.read(p[1], &c, 1), EBADF);
  REQUIRE_ERRNO(k.write(p[0], &c, 1), EBADF);
  REQUIRE(k.write(p[1], &c, 1) == 1);
  REQUIRE(k.read(p[0], &c, 1) == 1);
}

BACKEND_TEST("fd: readv and writev check the file mode before the iovec", "[fd][errno]") {
  TestType b;
  auto& k = b.k;
  int p[2];
  REQUIRE(k.pipe2(p, O_NONBLOCK) == 0);
  int ep = k.epoll_create1(0);
  char c = 'x';
  iovec iov{&c, 1};
  REQUIRE_ERRNO(k.readv(p[1], &iov, -1), EBADF);
  REQUIRE_ERRNO(k.readv(p[1], nullptr, 1), EBADF);
  REQUIRE_ERRNO(k.writev(p[0], &iov, -1), EBADF);
  REQUIRE_ERRNO(k.writev(p[0], &iov, 0), EBADF);
  REQUIRE_ERRNO(k.readv(ep, &iov, -1), EINVAL);  // an epoll has no read method
  REQUIRE_ERRNO(k.readv(ep, &iov, 0), EINVAL);
  REQUIRE_ERRNO(k.writev(ep, &iov, 1), EINVAL);
  REQUIRE_ERRNO(k.readv(p[0], &iov, -1), EINVAL);  // the right end: the iovec is checked
  REQUIRE(k.readv(p[0], &iov, 0) == 0);
  REQUIRE(k.writev(p[1], &iov, 1) == 1);
  REQUIRE(k.readv(p[0], &iov, 1) == 1);
}

BACKEND_TEST("fd: a nonblocking read is EAGAIN when empty and 0 at EOF", "[fd]") {
  TestType b;
  auto& k = b.k;
  int p[2];
  REQUIRE(k.pipe2(p, O_NONBLOCK) == 0);
  int sv[2];
  REQUIRE(k.socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) == 0);
  char buf[8];
  REQUIRE_ERRNO(k.read(p[0], buf, sizeof buf), EAGAIN);
  REQUIRE_ERRNO(k.read(sv[0], buf, sizeof buf), EAGAIN);
  REQUIRE(k.close(p[1]) == 0);
  REQUIRE(k.shutdown(sv[1], SHUT_WR) == 0);
  REQUIRE(k.read(p[0], buf, sizeof buf) == 0);
  REQUIRE(k.read(sv[0], buf, sizeof buf) == 0);
}

BACKEND_TEST("fd: close of a bad fd is EBADF, and so is a second close", "[fd][errno]") {
  TestType b;
  auto& k = b.k;
  int e = make_efd(k);
  REQUIRE(k.close(e) == 0);
  REQUIRE_ERRNO(k.close(e), EBADF);
  REQUIRE_ERRNO(k.close(-1), EBADF);
  REQUIRE_ERRNO(k.close(INT_MIN), EBADF);
  REQUIRE_ERRNO(k.close(kBeyondLimit), EBADF);
  REQUIRE_ERRNO(k.close(kHighFd), EBADF);
}

BACKEND_TEST("fd: every call on a closed fd is EBADF, an unknown fcntl is EINVAL", "[fd][errno]") {
  TestType b;
  auto& k = b.k;
  int live = make_efd(k);
  int e = make_efd(k);
  REQUIRE(k.close(e) == 0);
  char buf[8] = {};
  int one = 1;
  REQUIRE_ERRNO(k.read(e, buf, sizeof buf), EBADF);
  REQUIRE_ERRNO(k.write(e, buf, sizeof buf), EBADF);
  REQUIRE_ERRNO(k.fcntl(e, F_GETFL), EBADF);
  REQUIRE_ERRNO(k.fcntl(e, F_SETFL, O_NONBLOCK), EBADF);
  REQUIRE_ERRNO(k.fcntl(e, F_DUPFD, 0), EBADF);
  REQUIRE_ERRNO(k.ioctl(e, FIONBIO, &one), EBADF);
  REQUIRE_ERRNO(k.dup(e), EBADF);
  constexpr int kUnknownFcntl = 9999;
  REQUIRE_ERRNO(k.fcntl(live, kUnknownFcntl), EINVAL);
  REQUIRE_ERRNO(k.fcntl(e, kUnknownFcntl), EBADF);
}

// --- simulation only ---------------------------------------------------------------------------

TEST_CASE("fd sim: SimOptions::nofile makes EMFILE at the limit", "[fd][sim]") {
  constexpr int kNofile = 16;
  SimOptions o = sim_options();
  o.nofile = kNofile;
  SimKernel k(o);
  int first = k.epoll_create1(0);
  REQUIRE(first == 3);  // after stdin, stdout and stderr
  for (int fd = first + 1; fd < kNofile; ++fd) REQUIRE(k.dup(first) == fd);
  REQUIRE_ERRNO(k.epoll_create1(0), EMFILE);
  REQUIRE_ERRNO(k.epoll_create(1), EMFILE);
  REQUIRE_ERRNO(k.dup(first), EMFILE);
  REQUIRE_ERRNO(k.fcntl(first, F_DUPFD, 0), EMFILE);
  REQUIRE_ERRNO(k.fcntl(first, F_DUPFD, kNofile - 1), EMFILE);
  REQUIRE_ERRNO(k.fcntl(first, F_DUPFD, kNofile), EINVAL);  // the start itself is too large
  REQUIRE_ERRNO(k.eventfd(0, 0), EMFILE);
  int p[2] = {-1, -1};
  REQUIRE_ERRNO(k.pipe2(p, 0), EMFILE);
  REQUIRE(k.dup2(first, kNofile - 1) == kNofile - 1);  // replacing is fine at the limit
  REQUIRE_ERRNO(k.dup2(first, kNofile), EBADF);
  REQUIRE(k.close(9) == 0);
  REQUIRE_ERRNO(k.pipe2(p, 0), EMFILE);  // one free slot is not enough, and stays free
  REQUIRE(k.close(5) == 0);
  REQUIRE(k.pipe2(p, 0) == 0);
  REQUIRE(p[0] == 5);
  REQUIRE(p[1] == 9);
  REQUIRE_ERRNO(k.eventfd(0, 0), EMFILE);
  REQUIRE(k.close(p[1]) == 0);
  REQUIRE(k.eventfd(0, 0) == 9);
  REQUIRE(k.check_invariants() == "");
}

TEST_CASE("fd sim: a blocking read that nothing can satisfy is a deadlock", "[fd][sim]") {
  SimKernel k(sim_options());
  int e = k.eventfd(0, 0);
  int p[2];
  REQUIRE(e >= 0);
  REQUIRE(k.pipe2(p, 0) == 0);
  uint64_t v = 0;
  try {
    (void)k.read(e, &v, sizeof v);
    FAIL("read returned");
  } catch (const Deadlock& d) {
    REQUIRE(d.call == "read");
    REQUIRE(d.fd == e);
  }
  REQUIRE_THROWS_AS(k.read(p[0], &v, 1), Deadlock);  // a writer is open, but nobody runs it
  REQUIRE(k.close(p[1]) == 0);
  REQUIRE(k.read(p[0], &v, 1) == 0);  // EOF is no deadlock
  efd_write(k, e, 3);
  REQUIRE(k.read(e, &v, sizeof v) == 8);
  REQUIRE(v == 3);
  REQUIRE(k.check_invariants() == "");
}

}  // namespace edgecase::conformance
