// The interposition layer (posix/README.md), label posix: each wrapped call from handler code
// (probe.c, linked with --wrap) gives the same result and errno on the simulation and on the
// live backend, for a good and a bad argument; stdio goes to the log; SIGPIPE, exit and abort
// end the run as Linux would end the process; a call nobody models fails loudly and blames the
// kit; with no session, and from the kit's own code, the real calls are made.
#include <catch2/catch.hpp>
#include <dlfcn.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/timerfd.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "edgecase/gen.h"
#include "edgecase/posix.h"
#include "edgecase/real_kernel.h"
#include "edgecase/runner.h"
#include "edgecase/sim_kernel.h"
#include "posix/tests/probe.h"
#include "world/world.h"

using namespace edgecase;
using posix::Scope;

namespace {

constexpr int kBadFd = 1000;  // open on neither backend
constexpr int kFreeFd = 500;  // free on both backends: dup3's target
constexpr long kNanosPerSecond = 1'000'000'000;

// A probe's result: success, its value, and errno on failure.
struct Got {
  bool ok = false;
  long value = 0;
  int err = 0;
};

// The fds a probe opened, closed through the layer when it is done.
struct Env {
  std::vector<int> fds;
  int keep(int fd) {
    if (fd >= 0) fds.push_back(fd);
    return fd;
  }
  int pipe(int p[2]) {
    const int r = probe_pipe2(p, O_NONBLOCK);
    if (r == 0) keep(p[0]), keep(p[1]);
    return r;
  }
  int pair(int sv[2]) {
    const int r = probe_socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv);
    if (r == 0) keep(sv[0]), keep(sv[1]);
    return r;
  }
};

using Probe = std::function<long(Env&)>;

Got on(Kernel& k, const Probe& p) {
  const Scope scope(k);
  Env env;
  errno = 0;
  const long r = p(env);
  const Got g{r >= 0, r, r < 0 ? errno : 0};
  for (int fd : env.fds) probe_close(fd);
  return g;
}

// The same probe on both backends: the same success and errno, and the same value if `exact`
// (fd numbers differ: the live process has fds of its own).
void same(const char* what, const Probe& p, bool exact) {
  SimKernel sim;
  RealKernel live;
  const Got a = on(sim, p);
  const Got b = on(live, p);
  INFO(what << ": sim " << a.value << " errno " << a.err << ", live " << b.value << " errno "
            << b.err);
  CHECK(a.ok == b.ok);
  CHECK(a.err == b.err);
  if (exact) CHECK(a.value == b.value);
}

sockaddr_in loopback(uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(port);
  return a;
}

int tcp(Env& e) { return e.keep(probe_socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0)); }

int bound_listener(Env& e) {
  const int s = tcp(e);
  const sockaddr_in a = loopback(0);
  probe_bind(s, reinterpret_cast<const sockaddr*>(&a), sizeof a);
  probe_listen(s, 4);
  return s;
}

}  // namespace

TEST_CASE("posix: epoll calls agree on both backends", "[posix]") {
  same("epoll_create1(0)", [](Env& e) { return e.keep(probe_epoll_create1(0)); }, false);
  same("epoll_create1(-1)", [](Env&) { return probe_epoll_create1(-1); }, true);
  same("epoll_create(1)", [](Env& e) { return e.keep(probe_epoll_create(1)); }, false);
  same("epoll_create(0)", [](Env&) { return probe_epoll_create(0); }, true);
  same("epoll_ctl ADD a pipe", [](Env& e) {
    int p[2];
    e.pipe(p);
    const int ep = e.keep(probe_epoll_create1(0));
    epoll_event ev{};
    ev.events = EPOLLIN;
    return probe_epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev);
  }, true);
  same("epoll_ctl ADD a bad fd", [](Env& e) {
    const int ep = e.keep(probe_epoll_create1(0));
    epoll_event ev{};
    return probe_epoll_ctl(ep, EPOLL_CTL_ADD, kBadFd, &ev);
  }, true);
  same("epoll_wait on a ready pipe", [](Env& e) {
    int p[2];
    e.pipe(p);
    const int ep = e.keep(probe_epoll_create1(0));
    epoll_event ev{};
    ev.events = EPOLLIN;
    probe_epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev);
    probe_write(p[1], "x", 1);
    epoll_event out[4];
    return probe_epoll_wait(ep, out, 4, 0);
  }, true);
  same("epoll_wait on a bad fd", [](Env&) {
    epoll_event out[1];
    return probe_epoll_wait(kBadFd, out, 1, 0);
  }, true);
  same("epoll_pwait, maxevents 0", [](Env& e) {
    epoll_event out[1];
    return probe_epoll_pwait(e.keep(probe_epoll_create1(0)), out, 0, 0);
  }, true);
  same("epoll_pwait, nothing ready", [](Env& e) {
    epoll_event out[1];
    return probe_epoll_pwait(e.keep(probe_epoll_create1(0)), out, 1, 0);
  }, true);
}

TEST_CASE("posix: socket calls agree on both backends", "[posix]") {
  same("socket(AF_INET, SOCK_STREAM)", [](Env& e) { return tcp(e); }, false);
  same("socket with an unknown flag", [](Env&) {
    return probe_socket(AF_INET, SOCK_STREAM | 0x40000000, 0);
  }, true);
  same("socketpair(AF_UNIX)", [](Env& e) { int sv[2]; return e.pair(sv); }, true);
  same("bind 127.0.0.1:0", [](Env& e) {
    const sockaddr_in a = loopback(0);
    return probe_bind(tcp(e), reinterpret_cast<const sockaddr*>(&a), sizeof a);
  }, true);
  same("bind a bad fd", [](Env&) {
    const sockaddr_in a = loopback(0);
    return probe_bind(kBadFd, reinterpret_cast<const sockaddr*>(&a), sizeof a);
  }, true);
  same("bind a short address", [](Env& e) {
    const sockaddr_in a = loopback(0);
    return probe_bind(tcp(e), reinterpret_cast<const sockaddr*>(&a), 4);
  }, true);
  same("listen", [](Env& e) { return probe_listen(tcp(e), 4); }, true);
  same("listen on a bad fd", [](Env&) { return probe_listen(kBadFd, 4); }, true);
  same("accept, nothing queued", [](Env& e) { return probe_accept(bound_listener(e)); }, true);
  same("accept4 on a bad fd", [](Env&) { return probe_accept4(kBadFd, 0); }, true);
  same("accept4 with a bad flag", [](Env& e) { return probe_accept4(bound_listener(e), -1); }, true);
  same("connect a bad fd", [](Env&) {
    const sockaddr_in a = loopback(1);
    return probe_connect(kBadFd, reinterpret_cast<const sockaddr*>(&a), sizeof a);
  }, true);
  same("connect with a short address", [](Env& e) {
    const sockaddr_in a = loopback(1);
    return probe_connect(tcp(e), reinterpret_cast<const sockaddr*>(&a), 4);
  }, true);
  same("shutdown(SHUT_WR)", [](Env& e) { int sv[2]; e.pair(sv); return probe_shutdown(sv[0], SHUT_WR); }, true);
  same("shutdown, bad how", [](Env& e) { int sv[2]; e.pair(sv); return probe_shutdown(sv[0], 7); }, true);
  same("shutdown a bad fd", [](Env&) { return probe_shutdown(kBadFd, SHUT_WR); }, true);
  same("send then recv", [](Env& e) {
    int sv[2];
    e.pair(sv);
    probe_send(sv[0], "abc", 3, MSG_NOSIGNAL);
    char b[8];
    return probe_recv(sv[1], b, sizeof b, 0);
  }, true);
  same("recv, nothing queued", [](Env& e) {
    int sv[2];
    e.pair(sv);
    char b[8];
    return probe_recv(sv[1], b, sizeof b, MSG_DONTWAIT);
  }, true);
  same("send on a bad fd", [](Env&) { return probe_send(kBadFd, "a", 1, 0); }, true);
  same("setsockopt SO_REUSEADDR", [](Env& e) {
    const int one = 1;
    return probe_setsockopt(tcp(e), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  }, true);
  same("setsockopt, short optlen", [](Env& e) {
    const int one = 1;
    return probe_setsockopt(tcp(e), SOL_SOCKET, SO_REUSEADDR, &one, 1);
  }, true);
  same("getsockopt SO_TYPE", [](Env& e) {
    int v = 0;
    socklen_t len = sizeof v;
    return probe_getsockopt(tcp(e), SOL_SOCKET, SO_TYPE, &v, &len) == 0 ? v : -1;
  }, true);
  same("getsockopt on a bad fd", [](Env&) {
    int v = 0;
    socklen_t len = sizeof v;
    return probe_getsockopt(kBadFd, SOL_SOCKET, SO_TYPE, &v, &len);
  }, true);
  same("getsockname of a bound socket", [](Env& e) {
    sockaddr_in a{};
    socklen_t len = sizeof a;
    return probe_getsockname(bound_listener(e), reinterpret_cast<sockaddr*>(&a), &len) == 0 ? a.sin_addr.s_addr : -1;
  }, true);
  same("getsockname of a pipe", [](Env& e) {
    int p[2];
    e.pipe(p);
    sockaddr_in a{};
    socklen_t len = sizeof a;
    return probe_getsockname(p[0], reinterpret_cast<sockaddr*>(&a), &len);
  }, true);
  same("getpeername, not connected", [](Env& e) {
    sockaddr_in a{};
    socklen_t len = sizeof a;
    return probe_getpeername(tcp(e), reinterpret_cast<sockaddr*>(&a), &len);
  }, true);
}

TEST_CASE("posix: read, write and descriptor calls agree on both backends", "[posix]") {
  same("write then read a pipe", [](Env& e) {
    int p[2];
    e.pipe(p);
    probe_write(p[1], "hello", 5);
    char b[16];
    return probe_read(p[0], b, sizeof b);
  }, true);
  same("read an empty nonblocking pipe", [](Env& e) {
    int p[2];
    e.pipe(p);
    char b[16];
    return probe_read(p[0], b, sizeof b);
  }, true);
  same("read a bad fd", [](Env&) { char b[4]; return probe_read(kBadFd, b, sizeof b); }, true);
  same("write a pipe's read end", [](Env& e) { int p[2]; e.pipe(p); return probe_write(p[0], "x", 1); }, true);
  same("writev then readv", [](Env& e) {
    int p[2];
    e.pipe(p);
    char a[] = "ab", b[] = "cde";
    const iovec out[2] = {{a, 2}, {b, 3}};
    probe_writev(p[1], out, 2);
    char in[8];
    const iovec iv[1] = {{in, sizeof in}};
    return probe_readv(p[0], iv, 1);
  }, true);
  same("writev with iovcnt -1", [](Env& e) { int p[2]; e.pipe(p); return probe_writev(p[1], nullptr, -1); }, true);
  same("readv a bad fd", [](Env&) { char in[4]; const iovec iv[1] = {{in, 4}}; return probe_readv(kBadFd, iv, 1); }, true);
  same("close", [](Env&) { int p[2]; probe_pipe(p); probe_close(p[1]); return probe_close(p[0]); }, true);
  same("close a bad fd", [](Env&) { return probe_close(kBadFd); }, true);
  same("syscall(SYS_close)", [](Env&) { int p[2]; probe_pipe(p); probe_close(p[1]); return probe_syscall_close(p[0]); }, true);
  same("syscall(SYS_close) a bad fd", [](Env&) { return probe_syscall_close(kBadFd); }, true);
  same("dup", [](Env& e) { int p[2]; e.pipe(p); return e.keep(probe_dup(p[0])) >= 0 ? 0 : -1; }, true);
  same("dup a bad fd", [](Env&) { return probe_dup(kBadFd); }, true);
  same("dup2 onto itself", [](Env& e) { int p[2]; e.pipe(p); return probe_dup2(p[0], p[0]) == p[0] ? 0 : -1; }, true);
  same("dup2 a bad fd", [](Env&) { return probe_dup2(kBadFd, kBadFd + 1); }, true);
  same("pipe", [](Env& e) { int p[2]; const int r = probe_pipe(p); e.keep(p[0]); e.keep(p[1]); return r; }, true);
  same("pipe2 with a bad flag", [](Env&) { int p[2]; return probe_pipe2(p, 0x12345678); }, true);
  same("eventfd", [](Env& e) { return e.keep(probe_eventfd(0, EFD_NONBLOCK)) >= 0 ? 0 : -1; }, true);
  same("eventfd with a bad flag", [](Env&) { return probe_eventfd(0, -1); }, true);
  same("fcntl F_GETFL", [](Env& e) { int p[2]; e.pipe(p); return probe_fcntl(p[0], F_GETFL, 0); }, true);
  same("fcntl F_SETFD", [](Env& e) { int p[2]; e.pipe(p); return probe_fcntl(p[0], F_SETFD, FD_CLOEXEC); }, true);
  same("fcntl a bad fd", [](Env&) { return probe_fcntl(kBadFd, F_GETFL, 0); }, true);
  same("ioctl FIONREAD", [](Env& e) {
    int p[2];
    e.pipe(p);
    probe_write(p[1], "abc", 3);
    int n = -1;
    return probe_ioctl(p[0], FIONREAD, &n) == 0 ? n : -1;
  }, true);
  same("ioctl FIONBIO", [](Env& e) {
    int p[2];
    e.pipe(p);
    int off = 0;
    probe_ioctl(p[0], FIONBIO, &off);
    return probe_fcntl(p[0], F_GETFL, 0) & O_NONBLOCK;
  }, true);
  same("ioctl on a bad fd", [](Env&) { int n = 0; return probe_ioctl(kBadFd, FIONREAD, &n); }, true);
  same("ioctl FIOCLEX", [](Env& e) {
    int p[2];
    e.pipe(p);
    probe_ioctl(p[0], FIOCLEX, nullptr);
    return probe_fcntl(p[0], F_GETFD, 0);
  }, true);
}

TEST_CASE("posix: recvfrom, sendto, recvmsg, sendmsg and dup3 agree on both backends",
          "[posix]") {
  same("sendto then recvfrom: no address on a stream", [](Env& e) {
    int sv[2];
    e.pair(sv);
    probe_sendto(sv[0], "abc", 3, MSG_NOSIGNAL, nullptr, 0);
    char b[8];
    sockaddr_in from{};
    socklen_t len = sizeof from;
    const ssize_t n = probe_recvfrom(sv[1], b, sizeof b, 0, reinterpret_cast<sockaddr*>(&from), &len);
    return len == 0 ? n : -100;
  }, true);
  same("recvfrom, nothing queued", [](Env& e) {
    int sv[2];
    e.pair(sv);
    char b[8];
    return probe_recvfrom(sv[1], b, sizeof b, MSG_DONTWAIT, nullptr, nullptr);
  }, true);
  same("recvfrom a bad fd", [](Env&) { char b[4]; return probe_recvfrom(kBadFd, b, 4, 0, nullptr, nullptr); }, true);
  same("sendto a bad fd", [](Env&) { return probe_sendto(kBadFd, "a", 1, 0, nullptr, 0); }, true);
  same("sendto with an oversized addrlen", [](Env& e) {
    int sv[2];
    e.pair(sv);
    const sockaddr_in a = loopback(1);
    return probe_sendto(sv[0], "a", 1, MSG_NOSIGNAL, reinterpret_cast<const sockaddr*>(&a), 1000);
  }, true);
  same("sendmsg then recvmsg", [](Env& e) {
    int sv[2];
    e.pair(sv);
    char a[] = "ab", b[] = "cde";
    iovec out[2] = {{a, 2}, {b, 3}};
    msghdr m{};
    m.msg_iov = out;
    m.msg_iovlen = 2;
    probe_sendmsg(sv[0], &m, MSG_NOSIGNAL);
    char in[8];
    iovec iv[1] = {{in, sizeof in}};
    msghdr r{};
    r.msg_iov = iv;
    r.msg_iovlen = 1;
    const ssize_t n = probe_recvmsg(sv[1], &r, 0);
    return r.msg_flags == 0 ? n : -100;
  }, true);
  same("recvmsg with too many iovecs", [](Env& e) {
    int sv[2];
    e.pair(sv);
    char in[8];
    iovec iv[1] = {{in, sizeof in}};
    msghdr r{};
    r.msg_iov = iv;
    r.msg_iovlen = IOV_MAX + 1;
    return probe_recvmsg(sv[1], &r, 0);
  }, true);
  same("sendmsg a bad fd", [](Env&) { msghdr m{}; return probe_sendmsg(kBadFd, &m, 0); }, true);
  same("dup3 onto a free fd", [](Env& e) {
    int p[2];
    e.pipe(p);
    const int fd = e.keep(probe_dup3(p[0], kFreeFd, O_CLOEXEC));
    return fd == kFreeFd ? probe_fcntl(fd, F_GETFD, 0) : -100;
  }, true);
  same("dup3 onto itself", [](Env& e) { int p[2]; e.pipe(p); return probe_dup3(p[0], p[0], 0); }, true);
  same("dup3 with a bad flag", [](Env& e) { int p[2]; e.pipe(p); return probe_dup3(p[0], kFreeFd, O_NONBLOCK); }, true);
}

TEST_CASE("posix: timerfd, poll, sleeps and limits agree on both backends", "[posix]") {
  same("timerfd_create", [](Env& e) { return e.keep(probe_timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK)) >= 0 ? 0 : -1; }, true);
  same("timerfd_create, bad clock", [](Env&) { return probe_timerfd_create(CLOCK_PROCESS_CPUTIME_ID, 0); }, true);
  same("timerfd_create, bad flag", [](Env&) { return probe_timerfd_create(CLOCK_MONOTONIC, -1); }, true);
  same("timerfd armed, not expired: EAGAIN, gettime", [](Env& e) {
    const int t = e.keep(probe_timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK));
    const itimerspec v{{0, 0}, {100, 0}};
    probe_timerfd_settime(t, 0, &v, nullptr);
    itimerspec now{};
    if (probe_timerfd_gettime(t, &now) != 0 || now.it_value.tv_sec < 99) return -100L;
    uint64_t n = 0;
    return static_cast<long>(probe_read(t, &n, sizeof n));
  }, true);
  same("timerfd_settime, bad tv_nsec", [](Env& e) {
    const itimerspec v{{0, 0}, {0, kNanosPerSecond}};
    return probe_timerfd_settime(e.keep(probe_timerfd_create(CLOCK_MONOTONIC, 0)), 0, &v, nullptr);
  }, true);
  same("timerfd_settime a pipe", [](Env& e) {
    int p[2];
    e.pipe(p);
    const itimerspec v{{0, 0}, {1, 0}};
    return probe_timerfd_settime(p[0], 0, &v, nullptr);
  }, true);
  same("timerfd_gettime a bad fd", [](Env&) { itimerspec v{}; return probe_timerfd_gettime(kBadFd, &v); }, true);
  same("poll a pipe with data", [](Env& e) {
    int p[2];
    e.pipe(p);
    probe_write(p[1], "x", 1);
    pollfd fds[2] = {{p[0], POLLIN, 0}, {p[1], POLLIN, 0}};
    const int n = probe_poll(fds, 2, 0);
    return n * 1000 + fds[0].revents * 10 + fds[1].revents;
  }, true);
  same("poll a bad fd and a negative one", [](Env&) {
    pollfd fds[2] = {{kBadFd, POLLIN, 0}, {-1, POLLIN, 0}};
    const int n = probe_poll(fds, 2, 0);
    return n * 1000 + fds[0].revents * 10 + fds[1].revents;
  }, true);
  same("poll a full pipe for POLLOUT, nothing ready", [](Env& e) {
    int p[2];
    e.pipe(p);
    pollfd fds[1] = {{p[0], POLLOUT, 0}};
    return probe_poll(fds, 1, 0);
  }, true);
  same("clock_getres(CLOCK_MONOTONIC)", [](Env&) {
    timespec res{};
    return probe_clock_getres(CLOCK_MONOTONIC, &res) == 0 ? res.tv_sec * kNanosPerSecond + res.tv_nsec : -1;
  }, true);
  same("clock_getres, NULL res", [](Env&) { return probe_clock_getres(CLOCK_REALTIME, nullptr); }, true);
  same("nanosleep 1 us", [](Env&) { const timespec t{0, 1000}; return probe_nanosleep(&t, nullptr); }, true);
  same("nanosleep, bad tv_nsec", [](Env&) { const timespec t{0, kNanosPerSecond}; return probe_nanosleep(&t, nullptr); }, true);
  same("nanosleep, negative tv_sec", [](Env&) { const timespec t{-1, 0}; return probe_nanosleep(&t, nullptr); }, true);
  same("sleep(0)", [](Env&) { return static_cast<long>(probe_sleep(0)); }, true);
  same("usleep(1)", [](Env&) { return probe_usleep(1); }, true);
  same("getrlimit(RLIMIT_NOFILE)", [](Env&) { rlimit r{}; return probe_getrlimit(RLIMIT_NOFILE, &r); }, true);
  same("getrlimit, bad resource", [](Env&) { rlimit r{}; return probe_getrlimit(RLIM_NLIMITS, &r); }, true);
  same("setrlimit(RLIMIT_NOFILE) to what it is", [](Env&) {
    rlimit r{};
    probe_getrlimit(RLIMIT_NOFILE, &r);
    return probe_setrlimit(RLIMIT_NOFILE, &r);
  }, true);
  same("setrlimit, soft above hard", [](Env&) {
    const rlimit r{10, 5};
    return probe_setrlimit(RLIMIT_NOFILE, &r);
  }, true);
  same("setrlimit, bad resource", [](Env&) { const rlimit r{1, 1}; return probe_setrlimit(RLIM_NLIMITS, &r); }, true);
  same("prlimit(0, RLIMIT_NOFILE) reads the limit", [](Env&) {
    rlimit r{}, g{};
    probe_getrlimit(RLIMIT_NOFILE, &g);
    const int rc = probe_prlimit(0, RLIMIT_NOFILE, nullptr, &r);
    return rc == 0 && r.rlim_cur == g.rlim_cur && r.rlim_max == g.rlim_max ? 0 : -100;
  }, true);
  same("prlimit, soft above hard", [](Env&) {
    const rlimit r{10, 5};
    rlimit old{7, 7};
    const int rc = probe_prlimit(0, RLIMIT_NOFILE, &r, &old);
    return old.rlim_cur == 7 ? rc : -100;  // the old limit is not written on failure
  }, true);
}

TEST_CASE("posix: sleeps, timerfds and poll run on the virtual clock", "[posix]") {
  SimKernel sim;
  const Scope scope(sim);
  const auto now = [] {
    timespec t{};
    REQUIRE(probe_clock_gettime(CLOCK_MONOTONIC, &t) == 0);
    return t.tv_sec * kNanosPerSecond + t.tv_nsec;
  };
  const long t0 = now();
  const timespec req{2, 500'000'000};
  CHECK(probe_nanosleep(&req, nullptr) == 0);
  CHECK(now() - t0 == 2'500'000'000);  // exactly: the virtual clock, not the machine's
  CHECK(probe_sleep(3) == 0);
  CHECK(now() - t0 == 5'500'000'000);
  CHECK(probe_usleep(250'000) == 0);
  CHECK(now() - t0 == 5'750'000'000);
  // A timerfd armed for 1 s: nothing before, one expiration after 1.5 s of sleep, read once.
  const int t = probe_timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
  REQUIRE(t >= 3);
  const itimerspec v{{0, 0}, {1, 0}};
  REQUIRE(probe_timerfd_settime(t, 0, &v, nullptr) == 0);
  uint64_t n = 0;
  errno = 0;
  CHECK(probe_read(t, &n, sizeof n) == -1);
  CHECK(errno == EAGAIN);
  pollfd fds[1] = {{t, POLLIN, 0}};
  CHECK(probe_poll(fds, 1, 0) == 0);
  const timespec half{1, 500'000'000};
  REQUIRE(probe_nanosleep(&half, nullptr) == 0);
  CHECK(probe_poll(fds, 1, 0) == 1);
  CHECK(fds[0].revents == POLLIN);
  CHECK(probe_read(t, &n, sizeof n) == static_cast<ssize_t>(sizeof n));
  CHECK(n == 1);
  // An interval timer, polled with a timeout: the wait itself advances the virtual clock.
  const itimerspec every{{0, 100'000'000}, {0, 100'000'000}};
  REQUIRE(probe_timerfd_settime(t, 0, &every, nullptr) == 0);
  const long t1 = now();
  CHECK(probe_poll(fds, 1, 5000) == 1);
  CHECK(now() - t1 == 100'000'000);
  timespec res{};
  CHECK(probe_clock_getres(CLOCK_MONOTONIC_COARSE, &res) == 0);
  CHECK(res.tv_nsec == 1);  // the model clock's, which clock_gettime reads for the coarse one
  CHECK(probe_close(t) == 0);
}

TEST_CASE("posix: limits reach the model, never the process", "[posix]") {
  rlimit process_core{}, process_nofile{};
  REQUIRE(getrlimit(RLIMIT_CORE, &process_core) == 0);
  REQUIRE(getrlimit(RLIMIT_NOFILE, &process_nofile) == 0);
  SimKernel sim;
  {
    const Scope scope(sim);
    // Another resource: the Kernel remembers it (not enforced in the simulation).
    const rlimit core{0, 0};
    REQUIRE(probe_setrlimit(RLIMIT_CORE, &core) == 0);
    rlimit got{1, 1};
    REQUIRE(probe_getrlimit(RLIMIT_CORE, &got) == 0);
    CHECK(got.rlim_cur == 0);
    CHECK(got.rlim_max == 0);
    // RLIMIT_NOFILE is enforced: with 5, fds 3 and 4 are the last.
    const rlimit five{5, 5};
    REQUIRE(probe_prlimit(0, RLIMIT_NOFILE, &five, nullptr) == 0);
    int p[2];
    REQUIRE(probe_pipe(p) == 0);
    CHECK(p[1] == 4);
    int q[2];
    errno = 0;
    CHECK(probe_pipe(q) == -1);
    CHECK(errno == EMFILE);
    CHECK(sim.fcntl(p[0], F_GETFD) == 0);
  }
  rlimit after{};
  REQUIRE(getrlimit(RLIMIT_CORE, &after) == 0);
  CHECK(after.rlim_cur == process_core.rlim_cur);
  REQUIRE(getrlimit(RLIMIT_NOFILE, &after) == 0);
  CHECK(after.rlim_cur == process_nofile.rlim_cur);
  CHECK(after.rlim_max == process_nofile.rlim_max);
}

TEST_CASE("posix: clocks and open agree on both backends", "[posix]") {
  for (clockid_t id : {CLOCK_REALTIME, CLOCK_REALTIME_COARSE, CLOCK_MONOTONIC,
                       CLOCK_MONOTONIC_COARSE, CLOCK_MONOTONIC_RAW, CLOCK_BOOTTIME}) {
    same("clock_gettime", [id](Env&) { timespec ts{}; return probe_clock_gettime(id, &ts); }, true);
  }
  same("gettimeofday", [](Env&) { timeval tv{}; return probe_gettimeofday(&tv); }, true);
  same("time", [](Env&) { return probe_time() >= 0 ? 0 : -1; }, true);
  // Both through the Kernel's open: live the real /dev/null, owned by the RealKernel (the run's
  // fd, as the live runner counts and closes them), the simulation a /dev/null of the model.
  for (int flags : {O_RDWR, O_RDONLY | O_CLOEXEC}) {
    SimKernel sim;
    RealKernel live;
    const Got a = on(sim, [flags](Env& e) { return e.keep(probe_open("/dev/null", flags)); });
    Got b;
    {
      const Scope scope(live, posix::options_for(Backend::live).session);
      b.value = probe_open("/dev/null", flags);
      b.ok = b.value >= 0;
      CHECK(live.owns(static_cast<int>(b.value)));
      if (b.ok) CHECK(probe_close(static_cast<int>(b.value)) == 0);
    }
    CHECK(a.ok);
    CHECK(b.ok);
  }
  // "/" read-only opens on both (libuv's spare fd after its EMFILE trick); for writing, EISDIR.
  same("open / read-only", [](Env& e) { return e.keep(probe_open("/", O_RDONLY | O_CLOEXEC)); }, false);
  same("open / for writing", [](Env&) { return probe_open("/", O_RDWR); }, true);
  same("open a real file: an empty filesystem", [](Env&) { return probe_open("/etc/hostname", O_RDONLY); }, true);
  same("openat a real file", [](Env&) { return probe_openat("/etc/hostname", O_RDONLY); }, true);
  {
    SimKernel sim;
    const Scope scope(sim);
    errno = 0;
    CHECK(probe_open("/etc/hostname", O_RDONLY) == -1);
    CHECK(errno == ENOENT);
  }
}

// Out of fds, open("/dev/null") fails with EMFILE as Linux's does (libuv's EMFILE trick
// reopens its spare fd so while accept4 fails with EMFILE): not a call the model cannot
// honour. Live, the real open gives the process's own EMFILE.
TEST_CASE("posix: open(\"/dev/null\") out of fds fails with EMFILE in the simulation", "[posix]") {
  SimKernel sim;
  const Scope scope(sim);
  const int first = probe_open("/dev/null", O_RDONLY | O_CLOEXEC);
  REQUIRE(first >= 0);
  const rlimit low{static_cast<rlim_t>(first) + 1, static_cast<rlim_t>(first) + 1};
  REQUIRE(sim.setrlimit(RLIMIT_NOFILE, &low) == 0);
  errno = 0;
  CHECK(probe_open("/dev/null", O_RDONLY | O_CLOEXEC) == -1);
  CHECK(errno == EMFILE);
  REQUIRE(probe_close(first) == 0);
  CHECK(probe_open("/dev/null", O_RDONLY) == first);  // the lowest free fd, as open gives
}

TEST_CASE("posix: the simulated clocks are the virtual clock", "[posix]") {
  SimKernel sim;
  const Scope scope(sim);
  timespec mono{}, coarse{};
  REQUIRE(probe_clock_gettime(CLOCK_MONOTONIC, &mono) == 0);
  REQUIRE(probe_clock_gettime(CLOCK_MONOTONIC_COARSE, &coarse) == 0);
  CHECK(mono.tv_sec == 0);  // the virtual clock starts at 0, far from the machine's uptime
  CHECK(coarse.tv_sec == mono.tv_sec);
  timespec real{};
  REQUIRE(sim.clock_gettime(CLOCK_REALTIME, &real) == 0);
  CHECK(probe_time() == real.tv_sec);  // the model's wall clock, not the machine's
  timeval tv{};
  REQUIRE(probe_gettimeofday(&tv) == 0);
  CHECK(tv.tv_sec == real.tv_sec);
}

TEST_CASE("posix: stdio goes to the run's log, stdin is empty", "[posix]") {
  SimKernel sim;
  std::string out, err;
  posix::SessionOptions o;
  o.log = [&](int fd, std::string_view s) { (fd == 1 ? out : err) += s; };
  const Scope scope(sim, o);
  CHECK(probe_stdio() == 9);
  CHECK(out == "printf 1\nputs\ncfputs\nwrite\n");
  CHECK(err == "fprintf err\nconstant\nperror: Bad file descriptor\n");
  char b[4];
  CHECK(probe_read(0, b, sizeof b) == 0);
  // Stdio never reaches the model: its fd 3 is still the first free one.
  int p[2];
  REQUIRE(probe_pipe(p) == 0);
  CHECK(p[0] == 3);
}

TEST_CASE("posix: SIGPIPE at its default disposition ends the run", "[posix]") {
  SimKernel sim;
  const Scope scope(sim);
  int sv[2];
  REQUIRE(probe_socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
  REQUIRE(probe_close(sv[1]) == 0);
  // MSG_NOSIGNAL: EPIPE, as on Linux.
  errno = 0;
  CHECK(probe_send(sv[0], "x", 1, MSG_NOSIGNAL) == -1);
  CHECK(errno == EPIPE);
  // Default disposition: the process would die.
  try {
    probe_write(sv[0], "x", 1);
    FAIL("write to a closed peer did not end the run");
  } catch (const Stop& s) {
    CHECK(s.reason == Stop::Reason::sigpipe);
    CHECK(s.call == "write");
    CHECK(s.detail.find("SIGPIPE") != std::string::npos);
  }
  // A handler is called, then EPIPE returned.
  REQUIRE(probe_sigpipe_catch() == 0);
  errno = 0;
  CHECK(probe_send(sv[0], "x", 1, 0) == -1);
  CHECK(errno == EPIPE);
  CHECK(probe_sigpipe_caught() == SIGPIPE);
  // Ignored: EPIPE; the process's own disposition is untouched.
  REQUIRE(probe_sigpipe_ignore() == 0);
  errno = 0;
  CHECK(probe_write(sv[0], "x", 1) == -1);
  CHECK(errno == EPIPE);
}

TEST_CASE("posix: SIGPIPE ends the run on the live backend too", "[posix]") {
  ignore_sigpipe();  // the process's own disposition, as the kit's mains set it
  RealKernel live;
  const Scope scope(live);
  int sv[2];
  REQUIRE(probe_socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
  REQUIRE(probe_close(sv[1]) == 0);
  try {
    probe_send(sv[0], "x", 1, 0);
    FAIL("send to a closed peer did not end the run");
  } catch (const Stop& s) {
    CHECK(s.reason == Stop::Reason::sigpipe);
  }
  CHECK(probe_close(sv[0]) == 0);
}

TEST_CASE("posix: a blocked SIGPIPE does not end the run, and a new session starts at SIG_DFL",
          "[posix]") {
  SimKernel sim;
  int sv[2];
  {
    const Scope scope(sim);
    REQUIRE(probe_socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
    REQUIRE(probe_close(sv[1]) == 0);
    REQUIRE(probe_sigpipe_block() == 0);
    errno = 0;
    CHECK(probe_write(sv[0], "x", 1) == -1);
    CHECK(errno == EPIPE);
  }
  sigset_t now;
  sigprocmask(SIG_BLOCK, nullptr, &now);
  CHECK(sigismember(&now, SIGPIPE) == 0);  // the process's mask was never changed
  const Scope scope(sim);
  CHECK_THROWS_AS(probe_write(sv[0], "x", 1), Stop);
}

TEST_CASE("posix: exit, _exit, abort and assert end the run, not the process", "[posix]") {
  SimKernel sim;
  const Scope scope(sim);
  const auto reason = [](const std::function<void()>& f) {
    try {
      f();
    } catch (const Stop& s) {
      return s.reason;
    }
    return Stop::Reason::quiescent;
  };
  CHECK(reason([] { probe_exit(3); }) == Stop::Reason::exited);
  CHECK(reason([] { probe__exit(3); }) == Stop::Reason::exited);
  CHECK(reason([] { probe_abort(); }) == Stop::Reason::crashed);
  CHECK(reason([] { probe_assert(0); }) == Stop::Reason::crashed);
}

TEST_CASE("posix: a call nobody models fails loudly and the verdict blames the kit", "[posix]") {
  SimKernel sim;
  {
    const Scope scope(sim);
    try {
      int n = 0;
      probe_ioctl(3, 0x5401 /* TCGETS */, &n);
      FAIL("an ioctl the model does not have returned");
    } catch (const Stop& s) {
      CHECK(s.reason == Stop::Reason::unsupported);
      CHECK(s.detail == "the interposition layer cannot honour ioctl(3, 0x5401, arg): request not "
                        "modelled (posix/README.md)");
    }
    CHECK_THROWS_AS(probe_socket(AF_INET6, SOCK_STREAM, 0), Stop);
    CHECK_THROWS_AS(probe_fcntl(3, F_SETLK, 0), Stop);
    timespec ts{};
    CHECK_THROWS_AS(probe_clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts), Stop);
    CHECK_THROWS_AS(probe_clock_getres(CLOCK_PROCESS_CPUTIME_ID, &ts), Stop);
    rlimit r{};
    CHECK_THROWS_AS(probe_prlimit(1, RLIMIT_NOFILE, nullptr, &r), Stop);
    int p[2];
    REQUIRE(probe_pipe(p) == 0);
    CHECK_THROWS_AS(probe_dup3(p[0], 1, 0), Stop);
    char control[CMSG_SPACE(sizeof(int))] = {};
    msghdr m{};
    m.msg_control = control;
    m.msg_controllen = sizeof control;
    CHECK_THROWS_AS(probe_sendmsg(p[1], &m, 0), Stop);
    char b[4];
    CHECK_THROWS_AS(probe_recvfrom(p[0], b, sizeof b, MSG_WAITALL, nullptr, nullptr), Stop);
  }
  // Through the runner: pthread_create from the handler, a report UNDECIDED on the kit's limit.
  GenOptions g;
  g.handler = "posix_probe";
  g.faults = false;
  const Case c = case_from_seed(*builtin_protocol("echo"), g, 1).value();
  const Handler threads = [](Kernel& k) {
    const Scope scope(k);
    probe_pthread_create();
  };
  const Report r = run_case(threads, c);
  INFO(r.format());
  CHECK(r.violations.empty());
  CHECK(r.kit_limit.find("pthread_create") != std::string::npos);
  CHECK(r.kit_limit.find("threads are not supported yet") != std::string::npos);
  CHECK(r.format().find("UNDECIDED (a limit of the kit ended the run)") != std::string::npos);
}

TEST_CASE("posix: the runner reports exit, abort and SIGPIPE from a handler", "[posix]") {
  GenOptions g;
  g.handler = "posix_probe";
  g.faults = false;
  const Case c = case_from_seed(*builtin_protocol("echo"), g, 1).value();
  // exit() after listening is judged as a return there: a peer that waits for its reply makes
  // handler-exited fire (some of the first generated cases have one).
  constexpr uint64_t kSeeds = 20;
  uint64_t exited_found = 0;
  for (uint64_t seed = 1; seed <= kSeeds; ++seed) {
    const Case ci = case_from_seed(*builtin_protocol("echo"), g, seed).value();
    const auto listener = [&ci](Kernel& k, bool call_exit) {
      const Scope scope(k);
      Env e;
      const int s = tcp(e);
      const sockaddr_in a = loopback(ci.scenario.port);
      probe_bind(s, reinterpret_cast<const sockaddr*>(&a), sizeof a);
      probe_listen(s, 4);
      if (call_exit) probe_exit(7);
    };
    const Report exited = run_case([&](Kernel& k) { listener(k, true); }, ci);
    const Report returned = run_case([&](Kernel& k) { listener(k, false); }, ci);
    INFO(exited.format());
    CHECK(exited.ending == "the handler called exit(7)");
    CHECK(exited.kit_limit.empty());
    CHECK(exited.oracles() == returned.oracles());
    exited_found += exited.found(oracle::kHandlerExited);
  }
  CHECK(exited_found > 0);
  // The entry's argv reaches main: "exit" ends it before it listens (nobody waits: PASS).
  const Report plain = run_case(
      posix::make_handler("posix_probe", edgecase_entry_posix_probe, {.args = {"exit"}}), c);
  CHECK(plain.ending == "the handler called exit(7)");
  const Report returned = run_case(
      posix::make_handler("posix_probe", edgecase_entry_posix_probe, {.args = {"x", "y"}}), c);
  CHECK(returned.ending == "the handler's entry returned 0");  // probe_main printed argc 3
  const Report aborted = run_case(
      posix::make_handler("posix_probe", edgecase_entry_posix_probe, {.args = {"abort"}}), c);
  INFO(aborted.format());
  CHECK(aborted.found(oracle::kHandlerCrashed));
  const Handler pipe_writer = [](Kernel& k) {
    const Scope scope(k);
    int sv[2];
    probe_socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    probe_close(sv[1]);
    probe_write(sv[0], "x", 1);
  };
  const Report killed = run_case(pipe_writer, c);
  INFO(killed.format());
  CHECK(killed.found(oracle::kKilledBySigpipe));
}

TEST_CASE("posix: the kit's own calls and calls with no session are the real ones", "[posix]") {
  REQUIRE(posix::current() == nullptr);
  // No session: the probe's pipe is a real one, which the kit's real read sees.
  int real_fds[2];
  REQUIRE(probe_pipe(real_fds) == 0);
  REQUIRE(probe_write(real_fds[1], "r", 1) == 1);
  char b[2];
  CHECK(::read(real_fds[0], b, 1) == 1);
  CHECK(::close(real_fds[0]) == 0);
  CHECK(probe_close(real_fds[1]) == 0);
  rlimit mine{}, real{};
  REQUIRE(probe_getrlimit(RLIMIT_NOFILE, &mine) == 0);
  REQUIRE(::getrlimit(RLIMIT_NOFILE, &real) == 0);
  CHECK(mine.rlim_max == real.rlim_max);
  // A session: handler code reaches the model, the kit's code in the same scope does not.
  SimKernel sim;
  const Scope scope(sim);
  int model[2];
  REQUIRE(probe_pipe(model) == 0);
  CHECK(model[0] == 3);
  CHECK(sim.fcntl(model[1], F_GETFD) == 0);
  int kit[2];
  REQUIRE(::pipe(kit) == 0);  // the kit's call: real fds, nothing in the model
  errno = 0;
  CHECK(sim.fcntl(model[1] + 1, F_GETFD) == -1);
  CHECK(errno == EBADF);
  // A call made inside a static archive the handler links is the handler's.
  int archived[2];
  REQUIRE(probe_pipe_in_archive(archived) == 0);
  CHECK(archived[0] == model[1] + 1);
  CHECK(sim.fcntl(archived[0], F_GETFD) == 0);
  CHECK(::write(kit[1], "k", 1) == 1);
  CHECK(::read(kit[0], b, 1) == 1);
  ::close(kit[0]);
  ::close(kit[1]);
}

TEST_CASE("posix: scopes nest and reset on the way out of a stopped run", "[posix]") {
  SimKernel a, b;
  {
    const Scope outer(a);
    try {
      const Scope inner(b);
      CHECK(&posix::current()->kernel() == &b);
      probe_exit(0);
    } catch (const Stop&) {
    }
    CHECK(&posix::current()->kernel() == &a);
  }
  CHECK(posix::current() == nullptr);
}

TEST_CASE("posix: the shared object the kit loads uses the kit's one session", "[posix]") {
  const posix::Entry entry = posix::load_handler(EDGECASE_PROBE_SO, "posix_probe");
  REQUIRE(entry != nullptr);
  CHECK(entry != &edgecase_entry_posix_probe);  // its own copy of the code, dlopen()ed
  SimKernel sim;
  std::string out;
  posix::SessionOptions o;
  o.log = [&](int, std::string_view s) { out += s; };
  const Scope scope(sim, o);
  char name[] = "probe";
  char* argv[] = {name, nullptr};
  CHECK(entry(1, argv) == 0);
  CHECK(out == "probe_main 1\n");
  CHECK_THROWS_AS(posix::load_handler(EDGECASE_PROBE_SO, "no_such_handler"), std::runtime_error);
}

TEST_CASE("posix: every name of wrap.list has its wrapper in libedgecase_posix", "[posix]") {
  std::ifstream list(EDGECASE_WRAP_LIST);
  REQUIRE(list);
  size_t names = 0;
  for (std::string line; std::getline(list, line);) {
    if (line.empty() || line[0] == '#') continue;
    ++names;
    INFO(line);
    CHECK(::dlsym(RTLD_DEFAULT, ("__wrap_" + line).c_str()) != nullptr);
  }
  CHECK(names >= 88);
}

// A handler's statics are restored at every entry to what they were at the first (the entry
// edgecase_add_handler makes): a run starts as a new process's main would, whatever the runs
// before it left (libuv keeps its default loop and pthread_once guards there). probe_main
// "count" returns 5 + 10 * 0 from fresh statics, 16 from the first run's leftovers. Linked
// into this binary and dlopen()ed alike.
TEST_CASE("posix: every run finds the handler's statics as the first run did", "[posix]") {
  char name[] = "posix_probe";
  char count[] = "count";
  char* argv[] = {name, count, nullptr};
  constexpr int kFresh = 5;
  for (int run = 0; run < 3; ++run) CHECK(edgecase_entry_posix_probe(2, argv) == kFresh);
  const posix::Entry loaded = posix::load_handler(EDGECASE_PROBE_SO, "posix_probe");
  for (int run = 0; run < 3; ++run) CHECK(loaded(2, argv) == kFresh);
}

// pthread_atfork from a handler (libuv's signal pipe) is not registered: the kit's own forks
// (isolated runs) must not run the handler's child callback.
TEST_CASE("posix: pthread_atfork from a handler does not reach the kit's forks", "[posix]") {
  SimKernel sim;
  {
    const posix::Scope scope(sim);
    CHECK(probe_pthread_atfork() == 0);
  }
  const pid_t child = fork();
  REQUIRE(child >= 0);
  if (child == 0) _exit(probe_atfork_ran());
  int status = 0;
  REQUIRE(waitpid(child, &status, 0) == child);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
}
