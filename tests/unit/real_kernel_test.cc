// RealKernel (the live backend) and the /proc/self/fdinfo parser behind its interest_set.
// Only AF_UNIX and loopback; every call here returns at once (nonblocking fds, timeout 0).
#include "edgecase/real_kernel.h"

#include <catch2/catch.hpp>

#include <cerrno>
#include <climits>
#include <cstdint>
#include <fcntl.h>
#include <memory>
#include <netinet/in.h>
#include <stdexcept>
#include <string>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <vector>

#include "real/fdinfo.h"

namespace {

using edgecase::Interest;
using edgecase::RealKernel;
using edgecase::real::parse_epoll_fdinfo;

bool fd_is_open(int fd) { return ::fcntl(fd, F_GETFD) != -1; }

bool fd_is_closed(int fd) {
  errno = 0;
  return ::fcntl(fd, F_GETFD) == -1 && errno == EBADF;
}

int add(RealKernel& k, int epfd, int fd, uint32_t events, uint64_t data) {
  epoll_event ev{};
  ev.events = events;
  ev.data.u64 = data;
  return k.epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev);
}

int mod(RealKernel& k, int epfd, int fd, uint32_t events, uint64_t data) {
  epoll_event ev{};
  ev.events = events;
  ev.data.u64 = data;
  return k.epoll_ctl(epfd, EPOLL_CTL_MOD, fd, &ev);
}

constexpr uint32_t kErrHup = EPOLLERR | EPOLLHUP;

// A listening AF_UNIX stream socket on an autobound abstract address, so that tests running in
// parallel never collide on a name. Returns the listener and fills `addr`/`len`.
int unix_listener(RealKernel& k, sockaddr_un& addr, socklen_t& len) {
  int l = k.socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  REQUIRE(l >= 0);
  sockaddr_un any{};
  any.sun_family = AF_UNIX;
  REQUIRE(k.bind(l, reinterpret_cast<sockaddr*>(&any), sizeof(sa_family_t)) == 0);  // autobind
  REQUIRE(k.listen(l, 8) == 0);
  addr = {};
  len = sizeof addr;
  REQUIRE(k.getsockname(l, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
  return l;
}

}  // namespace

// --- parse_epoll_fdinfo ----------------------------------------------------------------------

TEST_CASE("parse_epoll_fdinfo reads tfd lines as printed by the kernel", "[real]") {
  const std::string text =
      "pos:\t0\n"
      "flags:\t02\n"
      "mnt_id:\t17\n"
      "ino:\t1038\n"
      "tfd:        5 events:       19 data:                5  pos:0 ino:1ac3 sdev:9\n"
      "tfd:        4 events: 80000019 data: 123456789abcdef0  pos:0 ino:1ac3 sdev:9\n"
      "tfd:       12 events: 40000000 data: ffffffffffffffff  pos:0 ino:1ac4 sdev:9\n"
      "tfd: 2147483647 events: ffffffff data: 0  pos:0 ino:1 sdev:9\n";
  std::vector<Interest> got = parse_epoll_fdinfo(text);
  // File order, not sorted.
  REQUIRE(got == std::vector<Interest>{
                     {5, 0x19, 5},
                     {4, 0x80000019u, 0x123456789abcdef0ull},
                     {12, 0x40000000u, 0xffffffffffffffffull},
                     {INT_MAX, 0xffffffffu, 0},
                 });
}

TEST_CASE("parse_epoll_fdinfo: no registrations, other fdinfo, odd spacing", "[real]") {
  CHECK(parse_epoll_fdinfo("").empty());
  CHECK(parse_epoll_fdinfo("pos:\t0\nflags:\t02\nmnt_id:\t17\nino:\t1038\n").empty());
  // A pipe's or an eventfd's fdinfo has no tfd lines either.
  CHECK(parse_epoll_fdinfo("pos:\t0\nflags:\t00\nmnt_id:\t16\nino:\t6858\neventfd-count: 0\n")
            .empty());
  // Tabs, leading blanks, CRLF, no trailing newline, nothing after data.
  CHECK(parse_epoll_fdinfo("\t tfd:\t3\tevents:\t1c\tdata:\tABCDEF\r\ntfd: 7 events: 1 data: 0") ==
        std::vector<Interest>{{3, 0x1c, 0xabcdef}, {7, 1, 0}});
  // Blank lines are fine.
  CHECK(parse_epoll_fdinfo("\n\n tfd: 1 events: 19 data: 2\n\n").size() == 1);
}

TEST_CASE("parse_epoll_fdinfo throws naming a malformed tfd line", "[real]") {
  using Catch::Matchers::Contains;
  const char* bad[] = {
      "tfd:",
      "tfd:   ",
      "tfd:4 events: 19 data: 5",                     // no space after the label
      "tfd: x events: 19 data: 5",                    // fd not a number
      "tfd: -1 events: 19 data: 5",                   // negative fd
      "tfd: +1 events: 19 data: 5",                   // sign
      "tfd: 2147483648 events: 19 data: 5",           // fd > INT_MAX
      "tfd: 99999999999999999999999 events: 19 data: 5",
      "tfd: 4 events: 19",                            // data missing
      "tfd: 4 data: 5",                               // events missing
      "tfd: 4 events: data: 5",                       // events value missing
      "tfd: 4 events: 19 data:",                      // data value missing
      "tfd: 4 events: 0x19 data: 5",                  // 0x prefix
      "tfd: 4 events: 1g data: 5",                    // not hex
      "tfd: 4 events: 100000000 data: 5",             // events beyond 32 bits
      "tfd: 4 events: 19 data: 10000000000000000",    // data beyond 64 bits
      "tfd: 4 events: 19 data: 5x",                   // trailing junk in number
      "tfd: 4 evnts: 19 data: 5",                     // wrong label
      "tfd: 4 events:19 data: 5",                     // label glued to its value
  };
  for (const char* line : bad) {
    INFO(line);
    std::string text = std::string("pos:\t0\ntfd: 1 events: 19 data: 1\n") + line + "\n";
    CHECK_THROWS_AS(parse_epoll_fdinfo(text), std::runtime_error);
    CHECK_THROWS_WITH(parse_epoll_fdinfo(text), Contains(line));
  }
  // Binary junk after a valid prefix is also rejected, never read past the end.
  std::string junk("tfd: 1 events: 19 data: \0\xff", 26);
  CHECK_THROWS_AS(parse_epoll_fdinfo(junk), std::runtime_error);
}

// --- interest_set against the live kernel ----------------------------------------------------

TEST_CASE("interest_set follows ADD, MOD and DEL", "[real]") {
  RealKernel k;
  int ep = k.epoll_create1(EPOLL_CLOEXEC);
  REQUIRE(ep >= 0);
  int sv[2];
  REQUIRE(k.socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) == 0);

  auto set = k.interest_set(ep);
  REQUIRE(set.has_value());  // an epoll fd with no registrations: empty, not nullopt
  CHECK(set->empty());

  // Register the higher fd first: the result is sorted by fd regardless of kernel order.
  REQUIRE(add(k, ep, sv[1], EPOLLOUT, 0x1'0000'0001ull) == 0);
  REQUIRE(add(k, ep, sv[0], EPOLLIN, 5) == 0);
  CHECK(k.interest_set(ep) == std::vector<Interest>{
                                  {sv[0], EPOLLIN | kErrHup, 5},
                                  {sv[1], EPOLLOUT | kErrHup, 0x1'0000'0001ull},
                              });

  // MOD replaces both events and data; data above 2^32 survives in full.
  REQUIRE(mod(k, ep, sv[0], EPOLLIN | EPOLLRDHUP | EPOLLPRI, 0xfedcba9876543210ull) == 0);
  CHECK(k.interest_set(ep) == std::vector<Interest>{
                                  {sv[0], EPOLLIN | EPOLLPRI | EPOLLRDHUP | kErrHup,
                                   0xfedcba9876543210ull},
                                  {sv[1], EPOLLOUT | kErrHup, 0x1'0000'0001ull},
                              });

  REQUIRE(k.epoll_ctl(ep, EPOLL_CTL_DEL, sv[1], nullptr) == 0);
  CHECK(k.interest_set(ep) == std::vector<Interest>{
                                  {sv[0], EPOLLIN | EPOLLPRI | EPOLLRDHUP | kErrHup,
                                   0xfedcba9876543210ull},
                              });
  REQUIRE(k.epoll_ctl(ep, EPOLL_CTL_DEL, sv[0], nullptr) == 0);
  set = k.interest_set(ep);
  REQUIRE(set.has_value());
  CHECK(set->empty());
}

TEST_CASE("interest_set shows EPOLLET, EPOLLEXCLUSIVE and a disarmed EPOLLONESHOT", "[real]") {
  RealKernel k;
  int ep = k.epoll_create(1);
  REQUIRE(ep >= 0);
  int sv[2];
  REQUIRE(k.socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) == 0);
  int efd = k.eventfd(0, EFD_NONBLOCK);
  REQUIRE(efd >= 0);

  REQUIRE(add(k, ep, sv[0], EPOLLIN | EPOLLET, 1) == 0);
  REQUIRE(add(k, ep, sv[1], EPOLLIN | EPOLLONESHOT, 2) == 0);
  REQUIRE(add(k, ep, efd, EPOLLIN | EPOLLEXCLUSIVE, 3) == 0);
  CHECK(k.interest_set(ep) == std::vector<Interest>{
                                  {sv[0], EPOLLIN | kErrHup | EPOLLET, 1},
                                  {sv[1], EPOLLIN | kErrHup | EPOLLONESHOT, 2},
                                  {efd, EPOLLIN | kErrHup | EPOLLEXCLUSIVE, 3},
                              });
  CHECK((EPOLLIN | kErrHup | EPOLLET) == 0x80000019u);

  // Make sv[1] readable; epoll_wait reports it once and disarms it.
  REQUIRE(k.write(sv[0], "x", 1) == 1);
  epoll_event out[4];
  int n = k.epoll_wait(ep, out, 4, 0);
  REQUIRE(n == 1);
  uint64_t fired = out[0].data.u64;  // epoll_event is packed: copy before Catch binds a ref
  CHECK(fired == 2);
  CHECK(k.interest_set(ep) == std::vector<Interest>{
                                  {sv[0], EPOLLIN | kErrHup | EPOLLET, 1},
                                  {sv[1], EPOLLONESHOT, 2},  // only the private bit is left
                                  {efd, EPOLLIN | kErrHup | EPOLLEXCLUSIVE, 3},
                              });
  CHECK(k.epoll_wait(ep, out, 4, 0) == 0);

  // MOD rearms.
  REQUIRE(mod(k, ep, sv[1], EPOLLIN | EPOLLONESHOT, 4) == 0);
  auto set = k.interest_set(ep);
  REQUIRE(set.has_value());
  REQUIRE(set->size() == 3);
  CHECK((*set)[1] == Interest{sv[1], EPOLLIN | kErrHup | EPOLLONESHOT, 4});
}

TEST_CASE("interest_set lists a file registered through two fds twice", "[real]") {
  RealKernel k;
  int ep = k.epoll_create1(0);
  int sv[2];
  REQUIRE(k.socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) == 0);
  int d = k.dup(sv[0]);
  REQUIRE(d >= 0);
  REQUIRE(add(k, ep, d, EPOLLOUT, 20) == 0);
  REQUIRE(add(k, ep, sv[0], EPOLLIN, 10) == 0);
  CHECK(k.interest_set(ep) == std::vector<Interest>{
                                  {sv[0], EPOLLIN | kErrHup, 10},
                                  {d, EPOLLOUT | kErrHup, 20},
                              });
  // Closing one fd leaves its registration in place while the file lives on through the
  // other: the kernel still prints the closed number.
  REQUIRE(k.close(sv[0]) == 0);
  CHECK(k.interest_set(ep) == std::vector<Interest>{
                                  {sv[0], EPOLLIN | kErrHup, 10},
                                  {d, EPOLLOUT | kErrHup, 20},
                              });
  // Closing the last fd releases the file and both registrations.
  REQUIRE(k.close(d) == 0);
  auto set = k.interest_set(ep);
  REQUIRE(set.has_value());
  CHECK(set->empty());
}

TEST_CASE("interest_set is nullopt for anything but an epoll fd", "[real]") {
  RealKernel k;
  int p[2];
  REQUIRE(k.pipe2(p, O_NONBLOCK) == 0);
  int sv[2];
  REQUIRE(k.socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
  int efd = k.eventfd(0, 0);
  int ep = k.epoll_create1(0);
  REQUIRE(k.close(ep) == 0);

  errno = 1234;
  CHECK_FALSE(k.interest_set(p[0]).has_value());
  CHECK_FALSE(k.interest_set(sv[0]).has_value());
  CHECK_FALSE(k.interest_set(efd).has_value());
  CHECK_FALSE(k.interest_set(ep).has_value());  // closed
  CHECK_FALSE(k.interest_set(-1).has_value());
  CHECK_FALSE(k.interest_set(INT_MAX).has_value());
  CHECK(errno == 1234);  // Inspect leaves errno alone
}

// --- bytes_to_read / bytes_to_send -----------------------------------------------------------

TEST_CASE("bytes_to_read and bytes_to_send on a socketpair", "[real]") {
  RealKernel k;
  int sv[2];
  REQUIRE(k.socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) == 0);
  CHECK(k.bytes_to_read(sv[0]) == uint64_t{0});
  CHECK(k.bytes_to_read(sv[1]) == uint64_t{0});
  CHECK(k.bytes_to_send(sv[0]) == uint64_t{0});

  REQUIRE(k.send(sv[0], "hello", 5, MSG_NOSIGNAL) == 5);
  CHECK(k.bytes_to_read(sv[1]) == uint64_t{5});
  CHECK(k.bytes_to_read(sv[0]) == uint64_t{0});
  // Live AF_UNIX counts the skb's truesize, not the payload: at least the 5 bytes.
  auto queued = k.bytes_to_send(sv[0]);
  REQUIRE(queued.has_value());
  CHECK(*queued >= 5);
  CHECK(k.bytes_to_send(sv[1]) == uint64_t{0});

  char buf[8];
  REQUIRE(k.recv(sv[1], buf, 2, 0) == 2);
  CHECK(k.bytes_to_read(sv[1]) == uint64_t{3});
  CHECK(k.bytes_to_send(sv[0]).value_or(0) > 0);  // skb still queued
  REQUIRE(k.read(sv[1], buf, sizeof buf) == 3);
  CHECK(k.bytes_to_read(sv[1]) == uint64_t{0});
  CHECK(k.bytes_to_send(sv[0]) == uint64_t{0});
}

TEST_CASE("bytes_to_read on a pipe, bytes_to_send nullopt for non-sockets", "[real]") {
  RealKernel k;
  int p[2];
  REQUIRE(k.pipe2(p, O_NONBLOCK | O_CLOEXEC) == 0);
  CHECK(k.bytes_to_read(p[0]) == uint64_t{0});
  REQUIRE(k.write(p[1], "abc", 3) == 3);
  CHECK(k.bytes_to_read(p[0]) == uint64_t{3});
  CHECK_FALSE(k.bytes_to_send(p[0]).has_value());
  CHECK_FALSE(k.bytes_to_send(p[1]).has_value());

  int efd = k.eventfd(1, EFD_NONBLOCK);
  int ep = k.epoll_create1(0);
  REQUIRE(efd >= 0);
  REQUIRE(ep >= 0);
  errno = 4321;
  CHECK_FALSE(k.bytes_to_read(efd).has_value());  // ENOTTY
  CHECK_FALSE(k.bytes_to_read(ep).has_value());   // EINVAL
  CHECK_FALSE(k.bytes_to_send(efd).has_value());
  CHECK_FALSE(k.bytes_to_send(ep).has_value());
  CHECK_FALSE(k.bytes_to_read(-1).has_value());
  CHECK_FALSE(k.bytes_to_send(-1).has_value());
  CHECK(errno == 4321);
}

TEST_CASE("bytes_to_read and bytes_to_send on listening sockets", "[real]") {
  RealKernel k;
  sockaddr_un addr;
  socklen_t len;
  int l = unix_listener(k, addr, len);
  CHECK_FALSE(k.bytes_to_read(l).has_value());  // FIONREAD: EINVAL when listening
  CHECK(k.bytes_to_send(l) == uint64_t{0});     // AF_UNIX SIOCOUTQ does not check the state

  int t = k.socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  REQUIRE(t >= 0);
  sockaddr_in in{};
  in.sin_family = AF_INET;
  in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  in.sin_port = 0;
  REQUIRE(k.bind(t, reinterpret_cast<sockaddr*>(&in), sizeof in) == 0);
  CHECK(k.bytes_to_send(t) == uint64_t{0});  // unconnected TCP: nothing queued
  REQUIRE(k.listen(t, 4) == 0);
  CHECK_FALSE(k.bytes_to_read(t).has_value());  // EINVAL
  CHECK_FALSE(k.bytes_to_send(t).has_value());  // TCP SIOCOUTQ: EINVAL when listening
}

// --- pass-through --------------------------------------------------------------------------

TEST_CASE("RealKernel passes results and errno through", "[real]") {
  RealKernel k;
  errno = 0;
  CHECK(k.close(-1) == -1);
  CHECK(errno == EBADF);
  errno = 0;
  CHECK(k.epoll_create1(12345) == -1);
  CHECK(errno == EINVAL);
  errno = 0;
  CHECK(k.epoll_create(0) == -1);
  CHECK(errno == EINVAL);
  errno = 0;
  epoll_event ev{};
  CHECK(k.epoll_ctl(-1, EPOLL_CTL_ADD, 0, &ev) == -1);
  CHECK(errno == EBADF);
  char c;
  errno = 0;
  CHECK(k.read(-1, &c, 1) == -1);
  CHECK(errno == EBADF);

  int sv[2];
  REQUIRE(k.socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
  // fcntl: the long arg reaches the kernel.
  CHECK((k.fcntl(sv[0], F_GETFL) & O_NONBLOCK) == 0);
  REQUIRE(k.fcntl(sv[0], F_SETFL, O_NONBLOCK) == 0);
  CHECK((k.fcntl(sv[0], F_GETFL) & O_NONBLOCK) != 0);
  REQUIRE(k.fcntl(sv[0], F_SETFD, FD_CLOEXEC) == 0);
  CHECK(k.fcntl(sv[0], F_GETFD) == FD_CLOEXEC);
  errno = 0;
  CHECK(k.recv(sv[0], &c, 1, 0) == -1);
  CHECK((errno == EAGAIN || errno == EWOULDBLOCK));
  // ioctl: the int pointer reaches the kernel.
  int on = 1;
  REQUIRE(k.ioctl(sv[1], FIONBIO, &on) == 0);
  CHECK((k.fcntl(sv[1], F_GETFL) & O_NONBLOCK) != 0);
  REQUIRE(k.send(sv[0], "ab", 2, MSG_NOSIGNAL) == 2);
  int avail = -1;
  REQUIRE(k.ioctl(sv[1], FIONREAD, &avail) == 0);
  CHECK(avail == 2);

  iovec iov[2] = {{&c, 1}, {&c, 1}};
  CHECK(k.readv(sv[1], iov, 2) == 2);
  char w[3] = {'x', 'y', 'z'};
  iovec wiov[2] = {{w, 1}, {w + 1, 2}};
  CHECK(k.writev(sv[1], wiov, 2) == 3);
  char r[3];
  CHECK(k.read(sv[0], r, 3) == 3);
  CHECK(std::string(r, 3) == "xyz");

  int type = 0;
  socklen_t tl = sizeof type;
  REQUIRE(k.getsockopt(sv[0], SOL_SOCKET, SO_TYPE, &type, &tl) == 0);
  CHECK(type == SOCK_STREAM);
  int rcvlowat = 2;
  CHECK(k.setsockopt(sv[0], SOL_SOCKET, SO_RCVLOWAT, &rcvlowat, sizeof rcvlowat) == 0);

  REQUIRE(k.shutdown(sv[0], SHUT_WR) == 0);
  CHECK(k.read(sv[1], &c, 1) == 0);  // EOF

  timespec ts{};
  CHECK(k.clock_gettime(CLOCK_MONOTONIC, &ts) == 0);
  errno = 0;
  CHECK(k.clock_gettime(static_cast<clockid_t>(-100), &ts) == -1);
  CHECK(errno == EINVAL);

  int ep = k.epoll_create1(0);
  epoll_event out[1];
  sigset_t mask;
  sigemptyset(&mask);
  CHECK(k.epoll_pwait(ep, out, 1, 0, &mask) == 0);
  CHECK(k.epoll_wait(ep, out, 1, 0) == 0);
  errno = 0;
  CHECK(k.epoll_wait(ep, out, 0, 0) == -1);
  CHECK(errno == EINVAL);
}

TEST_CASE("RealKernel connects and accepts on AF_UNIX", "[real]") {
  RealKernel k;
  sockaddr_un addr;
  socklen_t len;
  int l = unix_listener(k, addr, len);
  int c = k.socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
  REQUIRE(c >= 0);
  REQUIRE(k.connect(c, reinterpret_cast<sockaddr*>(&addr), len) == 0);  // AF_UNIX: synchronous
  int a = k.accept4(l, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
  REQUIRE(a >= 0);
  CHECK(k.owns(a));
  sockaddr_un peer{};
  socklen_t plen = sizeof peer;
  CHECK(k.getpeername(c, reinterpret_cast<sockaddr*>(&peer), &plen) == 0);
  CHECK(plen == len);
  errno = 0;
  CHECK(k.accept(l, nullptr, nullptr) == -1);
  CHECK((errno == EAGAIN || errno == EWOULDBLOCK));
}

// --- ownership -----------------------------------------------------------------------------

TEST_CASE("RealKernel's destructor closes the fds it handed out, and only those", "[real]") {
  int foreign[2];
  REQUIRE(::pipe2(foreign, O_CLOEXEC) == 0);
  std::vector<int> owned;
  int reused = -1;
  int dup2_same = -1;
  {
    auto k = std::make_unique<RealKernel>();
    int sv[2], p[2];
    REQUIRE(k->socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
    REQUIRE(k->pipe2(p, O_CLOEXEC) == 0);
    int ep = k->epoll_create1(EPOLL_CLOEXEC);
    int ep_old = k->epoll_create(4);
    int efd = k->eventfd(0, EFD_CLOEXEC);
    int s = k->socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    int d = k->dup(foreign[0]);  // a dup of a foreign fd is ours
    int f1 = k->fcntl(sv[0], F_DUPFD, 100);
    int f2 = k->fcntl(sv[0], F_DUPFD_CLOEXEC, 200);
    sockaddr_un addr;
    socklen_t len;
    int l = unix_listener(*k, addr, len);
    int c = k->socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
    REQUIRE(k->connect(c, reinterpret_cast<sockaddr*>(&addr), len) == 0);
    int a = k->accept4(l, nullptr, nullptr, SOCK_CLOEXEC);
    owned = {sv[0], sv[1], p[0], p[1], ep, ep_old, efd, s, d, f1, f2, l, c, a};
    CHECK(f1 >= 100);
    CHECK(f2 >= 200);

    // dup2 onto a number: it becomes ours (the new file replaces whatever was there).
    int target = k->fcntl(p[0], F_DUPFD_CLOEXEC, 300);  // ours, about to be replaced
    REQUIRE(k->dup2(efd, target) == target);
    owned.push_back(target);
    int hole = ::fcntl(sv[0], F_DUPFD_CLOEXEC, 400);  // foreign fd, then dup2'd over
    REQUIRE(hole >= 400);
    REQUIRE(k->dup2(sv[1], hole) == hole);
    owned.push_back(hole);
    for (int fd : owned) {
      INFO(fd);
      REQUIRE(fd >= 0);
      CHECK(k->owns(fd));
      CHECK(fd_is_open(fd));
    }

    // dup2(fd, fd) on a foreign fd does not make it ours.
    dup2_same = foreign[1];
    REQUIRE(k->dup2(dup2_same, dup2_same) == dup2_same);
    CHECK_FALSE(k->owns(dup2_same));

    // Closed through the kernel: forgotten, so a later foreign fd with that number survives.
    int gone = k->eventfd(0, EFD_CLOEXEC);
    REQUIRE(k->close(gone) == 0);
    CHECK_FALSE(k->owns(gone));
    reused = ::eventfd(0, EFD_CLOEXEC);
    REQUIRE(reused == gone);  // lowest free number
    CHECK_FALSE(k->owns(reused));

    // Failing calls adopt nothing.
    CHECK(k->dup(-1) == -1);
    CHECK(k->fcntl(-1, F_DUPFD, 0) == -1);
    CHECK_FALSE(k->owns(-1));

    errno = 777;
    k.reset();
    CHECK(errno == 777);  // the destructor preserves errno
  }
  for (int fd : owned) {
    INFO(fd);
    CHECK(fd_is_closed(fd));
  }
  CHECK(fd_is_open(foreign[0]));
  CHECK(fd_is_open(foreign[1]));
  CHECK(fd_is_open(reused));
  ::close(foreign[0]);
  ::close(foreign[1]);
  ::close(reused);
}

TEST_CASE("a failed close still forgets the fd", "[real]") {
  RealKernel k;
  int fd = k.eventfd(0, EFD_CLOEXEC);
  REQUIRE(fd >= 0);
  REQUIRE(::close(fd) == 0);  // behind the kernel's back
  CHECK(k.owns(fd));
  errno = 0;
  CHECK(k.close(fd) == -1);
  CHECK(errno == EBADF);
  CHECK_FALSE(k.owns(fd));
}

TEST_CASE("owned_count counts the fds owns() is true for", "[real]") {
  RealKernel k;
  CHECK(k.owned_count() == 0);
  int p[2];
  REQUIRE(k.pipe2(p, O_CLOEXEC) == 0);
  const int e = k.eventfd(0, EFD_CLOEXEC);
  REQUIRE(e >= 0);
  CHECK(k.owned_count() == 3);
  REQUIRE(k.close(p[0]) == 0);
  CHECK(k.owned_count() == 2);
  CHECK(k.close(p[0]) == -1);  // not open: nothing changes
  CHECK(k.owned_count() == 2);
}
