// poll(2) (fs/select.c do_sys_poll, do_poll, do_pollfd): revents are the file's poll mask
// filtered by the events asked for plus POLLERR and POLLHUP; an fd that is not open is
// POLLNVAL, a negative one is skipped; nfds is checked against RLIMIT_NOFILE; and a blocked
// poll wakes on the files' wait queues, as epoll_wait does.
//
// Time: the simulation's figures are exact (its clock moves only while a call waits); live
// cases assert bands (a wait lasts at least its timeout), as the timerfd cases do.
#include <climits>
#include <cstdint>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/timerfd.h>

#include "tests/conformance/backend.h"

namespace edgecase::conformance {
namespace {

constexpr long kMs = 1'000'000;  // nanoseconds
constexpr int kShortMs = 5;

long now_ns(Kernel& k) {
  timespec t{};
  REQUIRE(k.clock_gettime(CLOCK_MONOTONIC, &t) == 0);
  return t.tv_sec * 1'000'000'000L + t.tv_nsec;
}

struct Pipe {
  int r, w;
};
Pipe make_pipe(Kernel& k) {
  int p[2];
  REQUIRE(k.pipe2(p, O_NONBLOCK | O_CLOEXEC) == 0);
  return {p[0], p[1]};
}

// RLIMIT_NOFILE as the backend sees it: the live process's soft limit, or the model's.
unsigned nofile_limit(bool live) {
  if (!live) return static_cast<unsigned>(sim_options().nofile);
  rlimit r{};
  REQUIRE(::getrlimit(RLIMIT_NOFILE, &r) == 0);
  return static_cast<unsigned>(r.rlim_cur);
}

}  // namespace

BACKEND_TEST("poll: revents are the mask filtered by events plus POLLERR and POLLHUP",
             "[poll]") {
  TestType b;
  auto& k = b.k;
  Pipe p = make_pipe(k);
  REQUIRE(write_str(k, p.w, "x") == 1);
  pollfd fds[] = {{p.r, POLLIN | POLLRDNORM | POLLOUT | POLLPRI, 0},
                  {p.w, POLLIN, 0},                  // writable, but OUT was not asked for
                  {p.w, POLLOUT | POLLWRNORM, 0}};
  REQUIRE(k.poll(fds, 3, 0) == 2);
  REQUIRE(fds[0].revents == (POLLIN | POLLRDNORM));
  REQUIRE(fds[1].revents == 0);
  REQUIRE(fds[2].revents == (POLLOUT | POLLWRNORM));
  // The reader gone: the writer reports POLLERR although nobody asked for it.
  REQUIRE(k.close(p.r) == 0);
  pollfd w{p.w, 0, 0};
  REQUIRE(k.poll(&w, 1, 0) == 1);
  REQUIRE(w.revents == POLLERR);
  // The writer gone: the reader reports POLLHUP (and the byte still there) with events = 0.
  Pipe q = make_pipe(k);
  REQUIRE(write_str(k, q.w, "y") == 1);
  REQUIRE(k.close(q.w) == 0);
  pollfd r{q.r, 0, 0};
  REQUIRE(k.poll(&r, 1, 0) == 1);
  REQUIRE(r.revents == POLLHUP);
  r.events = POLLIN;
  REQUIRE(k.poll(&r, 1, 0) == 1);
  REQUIRE(r.revents == (POLLIN | POLLHUP));
}

BACKEND_TEST("poll: a closed fd is POLLNVAL and counts, a negative one is skipped", "[poll]") {
  TestType b;
  auto& k = b.k;
  Pipe p = make_pipe(k);
  int closed = k.dup(p.r);
  REQUIRE(closed >= 0);
  REQUIRE(k.close(closed) == 0);
  pollfd fds[] = {{-1, POLLIN, 0x7}, {closed, 0, 0}, {p.r, POLLIN, 0}, {-100, POLLOUT, 0x1}};
  REQUIRE(k.poll(fds, 4, 0) == 1);
  REQUIRE(fds[0].revents == 0);  // cleared, whatever it held
  REQUIRE(fds[1].revents == POLLNVAL);
  REQUIRE(fds[2].revents == 0);
  REQUIRE(fds[3].revents == 0);
  // POLLNVAL makes poll return at once, even with a timeout of forever.
  REQUIRE(k.poll(fds, 4, -1) == 1);
}

#if defined(__SANITIZE_ADDRESS__)
#define EDGECASE_POLL_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define EDGECASE_POLL_ASAN 1
#endif
#endif
#ifndef EDGECASE_POLL_ASAN
#define EDGECASE_POLL_ASAN 0
#endif

BACKEND_TEST("poll: nfds over RLIMIT_NOFILE is EINVAL, NULL fds is EFAULT unless nfds is 0",
             "[poll][errno]") {
  TestType b;
  auto& k = b.k;
  Pipe p = make_pipe(k);
  REQUIRE(write_str(k, p.w, "x") == 1);
  pollfd one{p.r, POLLIN, 0};
  // AddressSanitizer's poll interceptor reads nfds entries before the system call runs
  // (sanitizer_common_interceptors.inc, read_pollfd), so the live calls whose nfds is larger
  // than the array are checked in the builds without it (CI's clang build).
  const bool oversized_nfds = !(TestType::live && EDGECASE_POLL_ASAN);
  const unsigned limit = nofile_limit(TestType::live);
  if (oversized_nfds)  // checked before the array is read
    REQUIRE_ERRNO(k.poll(&one, nfds_t{limit} + 1, 0), EINVAL);
  REQUIRE_ERRNO(k.poll(nullptr, 1, 0), EFAULT);
  REQUIRE(k.poll(nullptr, 0, 0) == 0);
  // The system call takes nfds as an unsigned int: glibc's 64-bit nfds_t loses its upper half.
  if (oversized_nfds) REQUIRE(k.poll(&one, (nfds_t{1} << 32) + 1, 0) == 1);
  else REQUIRE(k.poll(&one, 1, 0) == 1);
  REQUIRE(one.revents == POLLIN);
}

BACKEND_TEST("poll: a timeout with nothing ready returns 0 after the timeout", "[poll]") {
  TestType b;
  auto& k = b.k;
  Pipe p = make_pipe(k);
  pollfd r{p.r, POLLIN, 0x10};
  const long before = now_ns(k);
  REQUIRE(k.poll(&r, 1, kShortMs) == 0);
  REQUIRE(r.revents == 0);
  const long waited = now_ns(k) - before;
  if (TestType::live) REQUIRE(waited >= kShortMs * kMs);  // band: at least the timeout
  else REQUIRE(waited == kShortMs * kMs);                 // exact
  // With no fds at all it is a sleep.
  const long before_sleep = now_ns(k);
  REQUIRE(k.poll(nullptr, 0, kShortMs) == 0);
  if (TestType::live) REQUIRE(now_ns(k) - before_sleep >= kShortMs * kMs);
  else REQUIRE(now_ns(k) - before_sleep == kShortMs * kMs);
}

BACKEND_TEST("poll: a blocked poll wakes when a timerfd among its fds fires", "[poll][timerfd]") {
  TestType b;
  auto& k = b.k;
  Pipe p = make_pipe(k);
  int t = k.timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  REQUIRE(t >= 0);
  itimerspec v{};
  v.it_value.tv_nsec = kShortMs * kMs;
  REQUIRE(k.timerfd_settime(t, 0, &v, nullptr) == 0);
  pollfd fds[] = {{p.r, POLLIN, 0}, {t, POLLIN, 0}};
  const long before = now_ns(k);
  REQUIRE(k.poll(fds, 2, -1) == 1);
  REQUIRE(fds[0].revents == 0);
  REQUIRE(fds[1].revents == POLLIN);
  if (!TestType::live) REQUIRE(now_ns(k) - before == kShortMs * kMs);  // exact: at the expiry
}

BACKEND_TEST("poll: an epoll fd polls POLLIN while it has events", "[poll][epoll]") {
  TestType b;
  auto& k = b.k;
  Pipe p = make_pipe(k);
  int ep = k.epoll_create1(EPOLL_CLOEXEC);
  REQUIRE(ep >= 0);
  add(k, ep, p.r, EPOLLIN);
  pollfd e{ep, POLLIN | POLLOUT, 0};
  REQUIRE(k.poll(&e, 1, 0) == 0);
  REQUIRE(write_str(k, p.w, "x") == 1);
  REQUIRE(k.poll(&e, 1, 0) == 1);
  REQUIRE(e.revents == POLLIN);
}

NET_BACKEND_TEST("poll: a blocked poll wakes when TCP data arrives", "[poll][tcp]") {
  TestType b;
  auto& k = b.k;
  int l = k.socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  REQUIRE(l >= 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(k.bind(l, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  REQUIRE(k.listen(l, 4) == 0);
  socklen_t len = sizeof a;
  REQUIRE(k.getsockname(l, reinterpret_cast<sockaddr*>(&a), &len) == 0);
  int c = k.socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);  // blocking connect
  REQUIRE(c >= 0);
  REQUIRE(k.connect(c, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  pollfd lp{l, POLLIN, 0};
  REQUIRE(k.poll(&lp, 1, kDeliveryTimeoutMs) == 1);
  REQUIRE(lp.revents == POLLIN);
  int s = k.accept4(l, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
  REQUIRE(s >= 0);
  pollfd sp{s, POLLIN | POLLRDNORM, 0};
  REQUIRE(k.poll(&sp, 1, 0) == 0);
  REQUIRE(write_str(k, c, "ping") == 4);
  REQUIRE(k.poll(&sp, 1, kDeliveryTimeoutMs) == 1);
  REQUIRE(sp.revents == (POLLIN | POLLRDNORM));
  // The network model may have delivered only the first segment so far.
  const std::string got = read_n(k, s, 4);
  REQUIRE(!got.empty());
  REQUIRE(std::string("ping").starts_with(got));
}

}  // namespace edgecase::conformance
