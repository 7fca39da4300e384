// The calls issue 11 added to the table: dup3 (fs/file.c ksys_dup3), recvfrom and sendto
// (net/socket.c __sys_recvfrom, __sys_sendto), recvmsg and sendmsg (____sys_recvmsg,
// ____sys_sendmsg), getrlimit and setrlimit on RLIMIT_NOFILE (kernel/sys.c do_prlimit, with
// alloc_fd honouring the soft limit), nanosleep (kernel/time/hrtimer.c hrtimer_nanosleep) and
// clock_getres (posix_get_hrtimer_res): results, errno for bad arguments, and what each writes
// back, the same on both backends.
#include <arpa/inet.h>
#include <climits>
#include <cstdint>
#include <fcntl.h>
#include <string>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "tests/conformance/backend.h"

namespace edgecase::conformance {
namespace {

// Free in every case here on both backends, below every RLIMIT_NOFILE (sim 1024, live 20000).
constexpr int kFreeFd = 900;
// At or above every RLIMIT_NOFILE of both backends.
constexpr int kPastLimit = 1 << 30;
// sizeof(sockaddr_storage) + 1: the first address length move_addr_to_kernel refuses.
constexpr socklen_t kAddrTooLong = sizeof(sockaddr_storage) + 1;
constexpr int kIovMax = 1024;  // UIO_MAXIOV
constexpr long kSleepNs = 2'000'000;
constexpr long kNanosPerSecond = 1'000'000'000;

sockaddr* sa(sockaddr_in& a) { return reinterpret_cast<sockaddr*>(&a); }

// Waits (epoll, up to kDeliveryTimeoutMs) until `fd` polls with `events`.
void await(Kernel& k, int fd, uint32_t events) {
  const int ep = k.epoll_create1(EPOLL_CLOEXEC);
  REQUIRE(ep >= 0);
  add(k, ep, fd, events);
  REQUIRE(wait(k, ep, 1, kDeliveryTimeoutMs).size() == 1);
  REQUIRE(k.close(ep) == 0);
}

struct Conn {
  int c;  // the connecting end
  int s;  // the accepted end
  int l;  // the listener
};

// An established TCP connection on 127.0.0.1, both ends nonblocking.
Conn connect_pair(Kernel& k) {
  const int l = k.socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  REQUIRE(l >= 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(k.bind(l, sa(a), sizeof a) == 0);
  REQUIRE(k.listen(l, 4) == 0);
  socklen_t len = sizeof a;
  REQUIRE(k.getsockname(l, sa(a), &len) == 0);
  const int c = k.socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  REQUIRE(c >= 0);
  REQUIRE_ERRNO(k.connect(c, sa(a), sizeof a), EINPROGRESS);
  await(k, c, EPOLLOUT);
  await(k, l, EPOLLIN);
  const int s = k.accept4(l, nullptr, nullptr, SOCK_NONBLOCK);
  REQUIRE(s >= 0);
  return {c, s, l};
}

// Waits until `fd` has `n` bytes queued to read (a write may arrive in several segments).
void await_bytes(Kernel& k, int fd, int n) {
  int queued = 0;
  for (int i = 0; i < n && queued < n; ++i) {
    await(k, fd, EPOLLIN);
    REQUIRE(k.ioctl(fd, FIONREAD, &queued) == 0);
  }
  REQUIRE(queued == n);
}

BACKEND_TEST("dup3: flags, then oldfd == newfd, then the limit, then oldfd, as ksys_dup3",
             "[fd][dup3]") {
  TestType b;
  auto& k = b.k;
  const int a = k.eventfd(0, 0);
  REQUIRE(a >= 0);
  REQUIRE_ERRNO(k.dup3(a, a, 0), EINVAL);  // dup2 would return a
  REQUIRE_ERRNO(k.dup3(a, a, O_CLOEXEC), EINVAL);
  REQUIRE_ERRNO(k.dup3(a, kFreeFd, O_NONBLOCK), EINVAL);  // only O_CLOEXEC
  REQUIRE_ERRNO(k.dup3(kFreeFd, kFreeFd, O_NONBLOCK), EINVAL);  // flags before the fd
  REQUIRE_ERRNO(k.dup3(kFreeFd, a, 0), EBADF);
  REQUIRE_ERRNO(k.dup3(a, -1, 0), EBADF);
  REQUIRE_ERRNO(k.dup3(a, kPastLimit, 0), EBADF);
  const int c = k.eventfd(0, 0);
  REQUIRE(c >= 0);
  // Onto an open fd: it is closed silently and now shares a's counter.
  REQUIRE(k.dup3(a, c, O_CLOEXEC) == c);
  REQUIRE(k.fcntl(c, F_GETFD) == FD_CLOEXEC);
  const uint64_t one = 1;
  REQUIRE(k.write(a, &one, sizeof one) == sizeof one);
  uint64_t got = 0;
  REQUIRE(k.read(c, &got, sizeof got) == sizeof got);
  REQUIRE(got == 1);
  REQUIRE(k.dup3(a, c, 0) == c);
  REQUIRE(k.fcntl(c, F_GETFD) == 0);
  REQUIRE(k.dup3(a, kFreeFd, 0) == kFreeFd);
  REQUIRE(k.close(kFreeFd) == 0);
  REQUIRE(k.close(c) == 0);
  REQUIRE(k.close(a) == 0);
}

BACKEND_TEST("recvfrom and sendto: a connected TCP socket ignores the address and reports none",
             "[tcp][recvfrom]") {
  TestType b;
  auto& k = b.k;
  const Conn p = connect_pair(k);
  REQUIRE(k.sendto(p.c, "hello", 5, MSG_NOSIGNAL, nullptr, 0) == 5);
  sockaddr_in elsewhere{};
  elsewhere.sin_family = AF_INET;
  elsewhere.sin_port = htons(1);
  elsewhere.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(k.sendto(p.c, "!", 1, 0, sa(elsewhere), sizeof elsewhere) == 1);
  REQUIRE_ERRNO(k.sendto(p.c, "x", 1, 0, sa(elsewhere), kAddrTooLong), EINVAL);
  await_bytes(k, p.s, 6);

  char buf[16] = {};
  sockaddr_in from{};
  constexpr uint16_t kUntouched = 4321;
  from.sin_port = htons(kUntouched);
  socklen_t len = sizeof from;
  REQUIRE(k.recvfrom(p.s, buf, 3, MSG_PEEK, sa(from), &len) == 3);
  REQUIRE(len == 0);  // move_addr_to_user with msg_namelen 0
  REQUIRE(ntohs(from.sin_port) == kUntouched);
  REQUIRE(k.recvfrom(p.s, buf, sizeof buf, 0, nullptr, nullptr) == 6);
  REQUIRE(std::string(buf, 6) == "hello!");
  REQUIRE_ERRNO(k.recvfrom(p.s, buf, sizeof buf, MSG_DONTWAIT, nullptr, nullptr), EAGAIN);
  REQUIRE_ERRNO(k.recvfrom(kFreeFd, buf, sizeof buf, 0, nullptr, nullptr), EBADF);
  REQUIRE_ERRNO(k.sendto(kFreeFd, buf, 1, 0, nullptr, 0), EBADF);
  const int e = k.eventfd(0, 0);
  REQUIRE_ERRNO(k.recvfrom(e, buf, sizeof buf, 0, nullptr, nullptr), ENOTSOCK);
  REQUIRE_ERRNO(k.sendto(e, buf, 1, 0, nullptr, 0), ENOTSOCK);
  // After SHUT_WR a send is EPIPE; MSG_NOSIGNAL keeps the live process alive.
  REQUIRE(k.shutdown(p.c, SHUT_WR) == 0);
  REQUIRE_ERRNO(k.sendto(p.c, "x", 1, MSG_NOSIGNAL, nullptr, 0), EPIPE);
  for (int fd : {e, p.c, p.s, p.l}) REQUIRE(k.close(fd) == 0);
}

BACKEND_TEST("recvmsg and sendmsg: vectors, MSG_PEEK and MSG_DONTWAIT, msg_flags, msg_namelen "
             "and msg_controllen come back 0",
             "[tcp][recvmsg]") {
  TestType b;
  auto& k = b.k;
  const Conn p = connect_pair(k);
  char he[] = "he";
  char llo[] = "llo";
  iovec out[2] = {{he, 2}, {llo, 3}};
  msghdr m{};
  m.msg_iov = out;
  m.msg_iovlen = 2;
  REQUIRE(k.sendmsg(p.c, &m, MSG_NOSIGNAL) == 5);
  await_bytes(k, p.s, 5);

  char x[2] = {};
  char y[8] = {};
  iovec in[2] = {{x, sizeof x}, {y, sizeof y}};
  char control[64];
  sockaddr_in from{};
  msghdr r{};
  r.msg_iov = in;
  r.msg_iovlen = 2;
  r.msg_name = &from;
  r.msg_namelen = sizeof from;
  r.msg_control = control;
  r.msg_controllen = sizeof control;
  r.msg_flags = MSG_TRUNC;  // overwritten
  REQUIRE(k.recvmsg(p.s, &r, MSG_PEEK) == 5);
  REQUIRE(r.msg_flags == 0);
  REQUIRE(r.msg_namelen == 0);
  REQUIRE(r.msg_controllen == 0);
  REQUIRE(std::string(x, 2) == "he");
  REQUIRE(std::string(y, 3) == "llo");
  r.msg_controllen = sizeof control;
  REQUIRE(k.recvmsg(p.s, &r, 0) == 5);
  REQUIRE_ERRNO(k.recvmsg(p.s, &r, MSG_DONTWAIT), EAGAIN);

  msghdr too_long = m;
  too_long.msg_iovlen = kIovMax + 1;
  REQUIRE_ERRNO(k.sendmsg(p.c, &too_long, 0), EMSGSIZE);
  REQUIRE_ERRNO(k.recvmsg(p.s, &too_long, 0), EMSGSIZE);
  REQUIRE_ERRNO(k.sendmsg(kFreeFd, &m, 0), EBADF);
  REQUIRE_ERRNO(k.recvmsg(kFreeFd, &r, 0), EBADF);
  const int e = k.eventfd(0, 0);
  REQUIRE_ERRNO(k.sendmsg(e, &m, 0), ENOTSOCK);
  REQUIRE_ERRNO(k.recvmsg(e, &r, 0), ENOTSOCK);
  REQUIRE(k.shutdown(p.c, SHUT_WR) == 0);
  REQUIRE_ERRNO(k.sendmsg(p.c, &m, MSG_NOSIGNAL), EPIPE);
  for (int fd : {e, p.c, p.s, p.l}) REQUIRE(k.close(fd) == 0);
}

// Restores RLIMIT_NOFILE through the kernel under test when the case ends, however it ends.
class SavedNofile {
 public:
  explicit SavedNofile(Kernel& k) : k_(k) { REQUIRE(k_.getrlimit(RLIMIT_NOFILE, &saved_) == 0); }
  ~SavedNofile() { k_.setrlimit(RLIMIT_NOFILE, &saved_); }
  SavedNofile(const SavedNofile&) = delete;
  SavedNofile& operator=(const SavedNofile&) = delete;
  const rlimit& saved() const { return saved_; }

 private:
  Kernel& k_;
  rlimit saved_{};
};

BACKEND_TEST("getrlimit and setrlimit: bad arguments, and every new fd fails with EMFILE past "
             "the soft limit",
             "[fd][rlimit]") {
  TestType b;
  auto& k = b.k;
  const SavedNofile guard(k);
  const rlimit was = guard.saved();
  REQUIRE(was.rlim_cur <= was.rlim_max);
  rlimit l{};
  REQUIRE_ERRNO(k.getrlimit(RLIM_NLIMITS, &l), EINVAL);
  REQUIRE_ERRNO(k.getrlimit(-1, &l), EINVAL);
  REQUIRE_ERRNO(k.setrlimit(RLIM_NLIMITS, &was), EINVAL);
  const rlimit inverted{was.rlim_max, was.rlim_max - 1};
  REQUIRE_ERRNO(k.setrlimit(RLIMIT_NOFILE, &inverted), EINVAL);
  const rlimit past_nr_open{was.rlim_cur, RLIM_INFINITY};  // above fs.nr_open, even for root
  REQUIRE_ERRNO(k.setrlimit(RLIMIT_NOFILE, &past_nr_open), EPERM);

  // The lowest free number becomes the last one allowed.
  const int a = k.eventfd(0, 0);
  REQUIRE(a >= 0);
  const rlimit low{static_cast<rlim_t>(a) + 1, was.rlim_max};
  REQUIRE(k.setrlimit(RLIMIT_NOFILE, &low) == 0);
  REQUIRE(k.getrlimit(RLIMIT_NOFILE, &l) == 0);
  REQUIRE(l.rlim_cur == low.rlim_cur);
  REQUIRE(l.rlim_max == was.rlim_max);
  REQUIRE_ERRNO(k.eventfd(0, 0), EMFILE);
  REQUIRE_ERRNO(k.dup(a), EMFILE);
  REQUIRE_ERRNO(k.fcntl(a, F_DUPFD, 0), EMFILE);
  REQUIRE_ERRNO(k.dup3(a, a + 1, 0), EBADF);
  REQUIRE_ERRNO(k.dup2(a, a + 1), EBADF);
  REQUIRE_ERRNO(k.socket(AF_INET, SOCK_STREAM, 0), EMFILE);
  int fds[2];
  REQUIRE_ERRNO(k.pipe2(fds, 0), EMFILE);
  REQUIRE(k.close(a) == 0);
  const int again = k.eventfd(0, 0);
  REQUIRE(again == a);
  REQUIRE(k.setrlimit(RLIMIT_NOFILE, &was) == 0);
  REQUIRE(k.close(again) == 0);
}

int64_t monotonic_ns(Kernel& k) {
  timespec t{};
  REQUIRE(k.clock_gettime(CLOCK_MONOTONIC, &t) == 0);
  return int64_t{t.tv_sec} * kNanosPerSecond + t.tv_nsec;
}

BACKEND_TEST("nanosleep: sleeps at least the time asked, a bad timespec is EINVAL",
             "[time][nanosleep]") {
  TestType b;
  auto& k = b.k;
  const timespec nsec_too_big{0, kNanosPerSecond};
  const timespec nsec_negative{0, -1};
  const timespec sec_negative{-1, 0};
  REQUIRE_ERRNO(k.nanosleep(&nsec_too_big, nullptr), EINVAL);
  REQUIRE_ERRNO(k.nanosleep(&nsec_negative, nullptr), EINVAL);
  REQUIRE_ERRNO(k.nanosleep(&sec_negative, nullptr), EINVAL);
  REQUIRE_ERRNO(k.nanosleep(nullptr, nullptr), EFAULT);
  const int64_t before = monotonic_ns(k);
  const timespec two_ms{0, kSleepNs};
  timespec rem{7, 7};
  REQUIRE(k.nanosleep(&two_ms, &rem) == 0);
  REQUIRE(monotonic_ns(k) - before >= kSleepNs);
  const timespec zero{0, 0};
  REQUIRE(k.nanosleep(&zero, nullptr) == 0);
}

BACKEND_TEST("clock_getres: 1 ns for the clocks clock_gettime reads, NULL is allowed",
             "[time][clock_getres]") {
  TestType b;
  auto& k = b.k;
  for (clockid_t c : {CLOCK_MONOTONIC, CLOCK_REALTIME}) {
    timespec res{9, 9};
    REQUIRE(k.clock_getres(c, &res) == 0);
    REQUIRE(res.tv_sec == 0);
    REQUIRE(res.tv_nsec == 1);
    REQUIRE(k.clock_getres(c, nullptr) == 0);
  }
  constexpr clockid_t kNoSuchClock = 99;  // past MAX_CLOCKS
  timespec res{};
  REQUIRE_ERRNO(k.clock_getres(kNoSuchClock, &res), EINVAL);
}

}  // namespace
}  // namespace edgecase::conformance
