// AF_UNIX SOCK_STREAM socketpairs (net/unix/af_unix.c): poll masks, where each side is woken
// (every send wakes the reader; a fully consumed buffer wakes the writer if it is writable),
// shutdown and close in both directions, errno orders, options and names.
// Capacities depend on the kernel's per-skb overhead: those cases are tagged [band] and assert
// relations and ranges, never a byte count. Everything else is exact.
#include <array>
#include <cstddef>
#include <fcntl.h>
#include <linux/sockios.h>
#include <string>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <vector>

#include "tests/conformance/backend.h"

namespace edgecase::conformance {
namespace {

constexpr uint32_t kIn = EPOLLIN | EPOLLRDNORM;
constexpr uint32_t kOut = EPOLLOUT | EPOLLWRNORM | EPOLLWRBAND;
// Every bit unix_poll can report, so that reported masks are the full poll result.
constexpr uint32_t kAll = EPOLLIN | EPOLLPRI | EPOLLOUT | EPOLLRDNORM | EPOLLRDBAND |
                          EPOLLWRNORM | EPOLLWRBAND | EPOLLRDHUP;
constexpr int kDefaultBuf = 212'992;          // net.core.{r,w}mem_default here
constexpr int kMinSndbuf = 4608;              // SOCK_MIN_SNDBUF
constexpr size_t kPage = 4096;
constexpr size_t kBig = 64 * 1024;

struct Pair {
  int a, b;
};
Pair make_pair(Kernel& k, int flags = SOCK_NONBLOCK | SOCK_CLOEXEC) {
  int sv[2] = {-1, -1};
  INFO("socketpair errno " << errno);
  REQUIRE(k.socketpair(AF_UNIX, SOCK_STREAM | flags, 0, sv) == 0);
  return {sv[0], sv[1]};
}

int make_ep(Kernel& k) {
  int ep = k.epoll_create1(EPOLL_CLOEXEC);
  REQUIRE(ep >= 0);
  return ep;
}

int get_int(Kernel& k, int fd, int opt) {
  int v = -1;
  socklen_t len = sizeof v;
  REQUIRE(k.getsockopt(fd, SOL_SOCKET, opt, &v, &len) == 0);
  REQUIRE(len == sizeof v);
  return v;
}

void set_int(Kernel& k, int fd, int opt, int v) {
  REQUIRE(k.setsockopt(fd, SOL_SOCKET, opt, &v, sizeof v) == 0);
}

int ioctl_int(Kernel& k, int fd, unsigned long req) {
  int v = -1;
  REQUIRE(k.ioctl(fd, req, &v) == 0);
  return v;
}

// Writes `chunk`-byte pieces until EAGAIN; returns the bytes accepted.
size_t fill(Kernel& k, int fd, size_t chunk) {
  std::vector<char> buf(chunk, 'f');
  size_t total = 0;
  for (;;) {
    ssize_t r = k.write(fd, buf.data(), buf.size());
    if (r < 0) {
      REQUIRE(errno == EAGAIN);
      return total;
    }
    REQUIRE(r > 0);
    total += static_cast<size_t>(r);
  }
}

// Reads everything queued; returns the byte count.
size_t drain(Kernel& k, int fd) {
  std::vector<char> buf(kBig);
  size_t total = 0;
  ssize_t r;
  while ((r = k.read(fd, buf.data(), buf.size())) > 0) total += static_cast<size_t>(r);
  REQUIRE(r == -1);
  REQUIRE(errno == EAGAIN);
  return total;
}

// The poll result of one fd, through a private epoll instance (LT, every bit requested).
uint32_t poll_mask(Kernel& k, int fd) {
  int ep = make_ep(k);
  add(k, ep, fd, kAll);
  auto evs = wait(k, ep);
  REQUIRE(k.close(ep) == 0);
  return evs.empty() ? 0 : evs[0].events;
}

// --- readiness and ET/LT/ONESHOT -------------------------------------------------------------

BACKEND_TEST("unix: a fresh socketpair is writable and not readable", "[unix][poll]") {
  TestType b;
  auto& k = b.k;
  auto p = make_pair(k);
  REQUIRE(poll_mask(k, p.a) == kOut);
  REQUIRE(poll_mask(k, p.b) == kOut);
}

BACKEND_TEST("unix: LT reports IN|RDNORM while data is queued, also after a partial read",
             "[unix][lt]") {
  TestType b;
  auto& k = b.k;
  auto p = make_pair(k);
  int ep = make_ep(k);
  add(k, ep, p.b, kAll);
  REQUIRE(write_str(k, p.a, "hello") == 5);
  REQUIRE(wait(k, ep) == std::vector<Ev>{{kIn | kOut, uint64_t(p.b)}});
  REQUIRE(read_n(k, p.b, 2) == "he");
  REQUIRE(wait(k, ep) == std::vector<Ev>{{kIn | kOut, uint64_t(p.b)}});
  REQUIRE(read_n(k, p.b, 10) == "llo");
  REQUIRE(wait(k, ep) == std::vector<Ev>{{kOut, uint64_t(p.b)}});
}

BACKEND_TEST("unix: ET EPOLLIN fires on every send, even with data already queued", "[unix][et]") {
  TestType b;
  auto& k = b.k;
  auto p = make_pair(k);
  int ep = make_ep(k);
  add(k, ep, p.b, EPOLLIN | EPOLLET);
  REQUIRE(wait(k, ep).empty());
  for (int i = 0; i < 3; ++i) {
    REQUIRE(write_str(k, p.a, "x") == 1);
    REQUIRE(wait(k, ep) == std::vector<Ev>{{EPOLLIN, uint64_t(p.b)}});
    REQUIRE(wait(k, ep).empty());
  }
  REQUIRE(ioctl_int(k, p.b, FIONREAD) == 3);
}

BACKEND_TEST("unix: ET partial read leaves data but reports nothing new", "[unix][et]") {
  TestType b;
  auto& k = b.k;
  auto p = make_pair(k);
  int ep = make_ep(k);
  add(k, ep, p.b, EPOLLIN | EPOLLOUT | EPOLLET);
  REQUIRE(wait(k, ep) == std::vector<Ev>{{EPOLLOUT, uint64_t(p.b)}});
  REQUIRE(write_str(k, p.a, "abcdef") == 6);
  REQUIRE(wait(k, ep) == std::vector<Ev>{{EPOLLIN | EPOLLOUT, uint64_t(p.b)}});
  REQUIRE(read_n(k, p.b, 3) == "abc");
  REQUIRE(wait(k, ep).empty());
  REQUIRE(ioctl_int(k, p.b, FIONREAD) == 3);
}

BACKEND_TEST("unix: ONESHOT reports once until MOD re-arms it", "[unix][oneshot]") {
  TestType b;
  auto& k = b.k;
  auto p = make_pair(k);
  int ep = make_ep(k);
  add(k, ep, p.b, EPOLLIN | EPOLLONESHOT);
  REQUIRE(write_str(k, p.a, "1") == 1);
  REQUIRE(wait(k, ep) == std::vector<Ev>{{EPOLLIN, uint64_t(p.b)}});
  REQUIRE(write_str(k, p.a, "2") == 1);
  REQUIRE(wait(k, ep).empty());
  mod(k, ep, p.b, EPOLLIN | EPOLLONESHOT, 77);
  REQUIRE(wait(k, ep) == std::vector<Ev>{{EPOLLIN, 77}});
  REQUIRE(wait(k, ep).empty());
}

BACKEND_TEST("unix: a send does not wake the sender's own ET item", "[unix][et]") {
  TestType b;
  auto& k = b.k;
  auto p = make_pair(k);
  int ep = make_ep(k);
  add(k, ep, p.a, kAll | EPOLLET);
  REQUIRE(wait(k, ep) == std::vector<Ev>{{kOut, uint64_t(p.a)}});
  REQUIRE(write_str(k, p.a, "y") == 1);
  REQUIRE(wait(k, ep).empty());
}

BACKEND_TEST("unix: ET EPOLLOUT fires when the peer consumes a whole buffer, not part of one",
             "[unix][et]") {
  TestType b;
  auto& k = b.k;
  auto p = make_pair(k);
  int ep = make_ep(k);
  add(k, ep, p.a, EPOLLOUT | EPOLLET);
  REQUIRE(wait(k, ep) == std::vector<Ev>{{EPOLLOUT, uint64_t(p.a)}});
  std::string hundred(100, 'h');
  REQUIRE(write_str(k, p.a, hundred) == 100);
  REQUIRE(wait(k, ep).empty());
  REQUIRE(read_n(k, p.b, 50).size() == 50);
  REQUIRE(wait(k, ep).empty());  // half an skb: nothing freed
  REQUIRE(read_n(k, p.b, 50).size() == 50);
  // The writer was never short of room: unlike a pipe, every freed skb wakes it.
  REQUIRE(wait(k, ep) == std::vector<Ev>{{EPOLLOUT, uint64_t(p.a)}});
}

BACKEND_TEST("unix: MSG_PEEK wakes nobody and frees nothing", "[unix][et][peek]") {
  TestType b;
  auto& k = b.k;
  auto p = make_pair(k);
  int ep = make_ep(k);
  add(k, ep, p.a, EPOLLOUT | EPOLLET);
  REQUIRE(wait(k, ep).size() == 1);
  REQUIRE(write_str(k, p.a, "abc") == 3);
  char buf[8];
  REQUIRE(k.recv(p.b, buf, sizeof buf, MSG_PEEK) == 3);
  REQUIRE(wait(k, ep).empty());
  REQUIRE(b.inspect().bytes_to_send(p.a).value() > 0);
}

BACKEND_TEST("unix: a dup'd socket registered twice reports on both items", "[unix][dup]") {
  TestType b;
  auto& k = b.k;
  auto p = make_pair(k);
  int d = k.dup(p.b);
  REQUIRE(d >= 0);
  int ep = make_ep(k);
  add(k, ep, p.b, EPOLLIN | EPOLLET, 1);
  add(k, ep, d, EPOLLIN | EPOLLET, 2);
  REQUIRE(write_str(k, p.a, "z") == 1);
  auto evs = wait(k, ep);
  REQUIRE(evs.size() == 2);
  REQUIRE(((evs[0] == Ev{EPOLLIN, 1} && evs[1] == Ev{EPOLLIN, 2}) ||
           (evs[0] == Ev{EPOLLIN, 2} && evs[1] == Ev{EPOLLIN, 1})));
  // Closing one number keeps the description (and its other item) alive.
  REQUIRE(k.close(p.b) == 0);
  REQUIRE(write_str(k, p.a, "z") == 1);
  evs = wait(k, ep);
  REQUIRE(evs.size() == 2);  // the item of the closed fd number outlives it (same description)
  REQUIRE(read_n(k, d, 8) == "zz");
}

// --- the send buffer: writability band and wakeups of the writer ------------------------------

BACKEND_TEST("unix: EPOLLOUT is reported exactly while 4*(SIOCOUTQ+1) <= SO_SNDBUF",
             "[unix][wmem]") {
  // A relation between two kernel counters, exact on both backends whatever the overhead.
  TestType b;
  auto& k = b.k;
  auto p = make_pair(k);
  int sndbuf = get_int(k, p.a, SO_SNDBUF);
  bool seen_off = false;
  for (int i = 0; i < 100'000; ++i) {
    int outq = ioctl_int(k, p.a, SIOCOUTQ);
    bool out = (poll_mask(k, p.a) & EPOLLOUT) != 0;
    INFO("write " << i << " outq " << outq);
    REQUIRE(out == (4 * (static_cast<int64_t>(outq) + 1) <= sndbuf));
    if (write_str(k, p.a, std::string(100, 'o')) < 0) {
      REQUIRE(errno == EAGAIN);
      REQUIRE(outq >= sndbuf);  // EAGAIN only once the charge reaches sndbuf
      break;
    }
    seen_off = seen_off || !out;
  }
  REQUIRE(seen_off);
}

BACKEND_TEST("unix: fill until EAGAIN, EPOLLOUT off, drain, EPOLLOUT back", "[unix][wmem][band]") {
  // [band]: how many bytes fit depends on per-skb overhead; 4 KiB writes fit between 25% and
  // 100% of sndbuf (plus at most one write of overshoot).
  TestType b;
  auto& k = b.k;
  auto p = make_pair(k);
  int ep = make_ep(k);
  add(k, ep, p.a, EPOLLOUT);
  size_t total = fill(k, p.a, kPage);
  INFO("filled " << total);
  REQUIRE(total >= kDefaultBuf / 4);
  REQUIRE(total <= kDefaultBuf + kPage);
  REQUIRE(wait(k, ep).empty());
  REQUIRE(poll_mask(k, p.a) == 0);
  REQUIRE(drain(k, p.b) == total);
  REQUIRE(wait(k, ep) == std::vector<Ev>{{EPOLLOUT, uint64_t(p.a)}});
  REQUIRE(ioctl_int(k, p.a, SIOCOUTQ) == 0);
}

BACKEND_TEST("unix: ET EPOLLOUT after a fill comes back only once a quarter is charged",
             "[unix][wmem][band][et]") {
  // [band]: which read brings EPOLLOUT back depends on the overhead; the relation to SIOCOUTQ
  // and the fact that the first reads do not bring it back are exact.
  TestType b;
  auto& k = b.k;
  auto p = make_pair(k);
  int ep = make_ep(k);
  add(k, ep, p.a, EPOLLOUT | EPOLLET);
  REQUIRE(wait(k, ep).size() == 1);
  size_t total = fill(k, p.a, kPage);
  std::vector<char> buf(kPage);
  size_t got = 0;
  int first_out_read = -1;
  for (int reads = 1; got < total; ++reads) {
    ssize_t r = k.read(p.b, buf.data(), buf.size());
    REQUIRE(r == static_cast<ssize_t>(kPage));
    got += kPage;
    auto evs = wait(k, ep);
    int outq = ioctl_int(k, p.a, SIOCOUTQ);
    INFO("read " << reads << " outq " << outq);
    if (first_out_read < 0 && !evs.empty()) first_out_read = reads;
    // Once writable, every freed skb wakes the writer again.
    REQUIRE(evs.size() == (4 * (static_cast<int64_t>(outq) + 1) <= kDefaultBuf ? 1u : 0u));
  }
  INFO("EPOLLOUT back after read " << first_out_read);
  REQUIRE(first_out_read > 1);
}

BACKEND_TEST("unix: one-byte writes are charged far more than a byte each", "[unix][wmem][band]") {
  // [band]: each skb costs hundreds of bytes of truesize, so a small buffer holds few of them.
  TestType b;
  auto& k = b.k;
  auto p = make_pair(k);
  set_int(k, p.a, SO_SNDBUF, 1);
  REQUIRE(get_int(k, p.a, SO_SNDBUF) == kMinSndbuf);
  size_t total = fill(k, p.a, 1);
  INFO("one-byte writes accepted: " << total);
  REQUIRE(total >= 1);
  REQUIRE(total <= kMinSndbuf / 64);
  REQUIRE(ioctl_int(k, p.a, SIOCOUTQ) >= kMinSndbuf);
  REQUIRE(ioctl_int(k, p.b, FIONREAD) == static_cast<int>(total));
}

BACKEND_TEST("unix: a large write into a small SO_SNDBUF returns a short count",
             "[unix][wmem][band]") {
  // [band]: the write is split into skbs of at most sndbuf/2 - 64 bytes and allocation stops
  // once the charge reaches sndbuf, so at most two skbs go out; the byte count is a band.
  TestType b;
  auto& k = b.k;
  auto p = make_pair(k);
  set_int(k, p.a, SO_SNDBUF, 8192);
  const int sndbuf = get_int(k, p.a, SO_SNDBUF);
  REQUIRE(sndbuf == 16384);
  std::vector<char> big(kBig, 'b');
  ssize_t r = k.write(p.a, big.data(), big.size());
  INFO("short write " << r);
  REQUIRE(r > 0);
  REQUIRE(r <= 2 * (sndbuf / 2 - 64));
  REQUIRE(r < static_cast<ssize_t>(kBig));
  REQUIRE(k.write(p.a, big.data(), big.size()) == -1);
  REQUIRE(errno == EAGAIN);
  REQUIRE(poll_mask(k, p.a) == 0);
  REQUIRE(drain(k, p.b) == static_cast<size_t>(r));
  REQUIRE(poll_mask(k, p.a) == kOut);
}

BACKEND_TEST("unix: 64 KiB writes at the default SO_SNDBUF", "[unix][wmem][band]") {
  // [band]: a few 64 KiB writes go through whole, the last one short, then EAGAIN.
  TestType b;
  auto& k = b.k;
  auto p = make_pair(k);
  std::vector<char> big(kBig, 'c');
  size_t total = 0;
  int whole = 0;
  for (;;) {
    ssize_t r = k.write(p.a, big.data(), big.size());
    if (r < 0) {
      REQUIRE(errno == EAGAIN);
      break;
    }
    total += static_cast<size_t>(r);
    if (r == static_cast<ssize_t>(kBig)) ++whole;
  }
  INFO("total " << total << " whole writes " << whole);
  REQUIRE(whole >= 1);
  REQUIRE(total >= kDefaultBuf / 2);
  REQUIRE(total <= kDefaultBuf + kBig);
  REQUIRE(ioctl_int(k, p.b, FIONREAD) == static_cast<int>(total));
  REQUIRE(drain(k, p.b) == total);
}

BACKEND_TEST("unix: SO_SNDBUF set wakes ET EPOLLOUT even unchanged, SO_RCVBUF does not",
             "[unix][wmem][et]") {
  TestType b;
  auto& k = b.k;
  auto p = make_pair(k);
  int ep = make_ep(k);
  add(k, ep, p.a, EPOLLIN | EPOLLOUT | EPOLLET);
  REQUIRE(wait(k, ep).size() == 1);
  set_int(k, p.a, SO_SNDBUF, kDefaultBuf / 2);  // the same size again
  REQUIRE(get_int(k, p.a, SO_SNDBUF) == kDefaultBuf);
  REQUIRE(wait(k, ep) == std::vector<Ev>{{EPOLLOUT, uint64_t(p.a)}});
  set_int(k, p.a, SO_RCVBUF, 65536);
  REQUIRE(wait(k, ep).empty());
  set_int(k, p.a, SO_RCVLOWAT, 5);
  REQUIRE(wait(k, ep).empty());
}

BACKEND_TEST("unix: raising SO_SNDBUF on a full socket makes it writable at once",
             "[unix][wmem][et]") {
  TestType b;
  auto& k = b.k;
  auto p = make_pair(k);
  int ep = make_ep(k);
  add(k, ep, p.a, EPOLLOUT | EPOLLET);
  REQUIRE(wait(k, ep).size() == 1);
  fill(k, p.a, kPage);
  REQUIRE(wait(k, ep).empty());
  set_int(k, p.a, SO_SNDBUF, 2304);  // smaller: still full, no wakeup
  REQUIRE(wait(k, ep).empty());
  set_int(k, p.a, SO_SNDBUF, 4 * 1024 * 1024);
  REQUIRE(get_int(k, p.a, SO_SNDBUF) == 8 * 1024 * 1024);
  REQUIRE(wait(k, ep) == std::vector<Ev>{{EPOLLOUT, uint64_t(p.a)}});
  REQUIRE(write_str(k, p.a, "more") == 4);
}

// --- shutdown ---------------------------------------------------------------------------------

BACKEND_TEST("unix: SHUT_WR gives the peer IN|RDHUP and EOF, the writer gets EPIPE",
             "[unix][shutdown]") {
  TestType b;
  auto& k = b.k;
  auto p = make_pair(k);
  REQUIRE(k.shutdown(p.a, SHUT_WR) == 0);
  REQUIRE(poll_mask(k, p.b) == (kIn | EPOLLRDHUP | kOut));
  REQUIRE(poll_mask(k, p.a) == kOut);
  char c;
  REQUIRE(k.read(p.b, &c, 1) == 0);
  REQUIRE_ERRNO(write_str(k, p.a, "x"), EPIPE);
  REQUIRE(write_str(k, p.b, "back") == 4);  // the other direction still works
  REQUIRE(read_n(k, p.a, 8) == "back");
}

BACKEND_TEST("unix: data queued before SHUT_WR is read first, then EOF", "[unix][shutdown]") {
  TestType b;
  auto& k = b.k;
  auto p = make_pair(k);
  REQUIRE(write_str(k, p.a, "last") == 4);
  REQUIRE(k.shutdown(p.a, SHUT_WR) == 0);
  REQUIRE(read_n(k, p.b, 2) == "la");
  REQUIRE(read_n(k, p.b, 8) == "st");
  char c;
  REQUIRE(k.read(p.b, &c, 1) == 0);
  REQUIRE(k.read(p.b, &c, 1) == 0);
}

BACKEND_TEST("unix: SHUT_RD on self reports IN|RDHUP on self, the peer's writes fail",
             "[unix][shutdown]") {
  TestType b;
  auto& k = b.k;
  auto p = make_pair(k);
  REQUIRE(write_str(k, p.b, "queued") == 6);
  REQUIRE(k.shutdown(p.a, SHUT_RD) == 0);
  REQUIRE(poll_mask(k, p.a) == (kIn | EPOLLRDHUP | kOut));
  REQUIRE(poll_mask(k, p.b) == kOut);  // the peer's send side is shut, nothing to report
  REQUIRE_ERRNO(write_str(k, p.b, "x"), EPIPE);
  REQUIRE(read_n(k, p.a, 16) == "queued");  // what arrived before is still readable
  char c;
  REQUIRE(k.read(p.a, &c, 1) == 0);
  REQUIRE(write_str(k, p.a, "ok") == 2);  // our own send side is open
  REQUIRE(read_n(k, p.b, 4) == "ok");
}

BACKEND_TEST("unix: both directions shut, by either end, report HUP on both", "[unix][shutdown]") {
  TestType b;
  auto& k = b.k;
  auto p = make_pair(k);
  REQUIRE(k.shutdown(p.b, SHUT_WR) == 0);
  REQUIRE(k.shutdown(p.b, SHUT_RD) == 0);
  const uint32_t hup = kIn | EPOLLRDHUP | EPOLLHUP | kOut;
  REQUIRE(poll_mask(k, p.a) == hup);
  REQUIRE(poll_mask(k, p.b) == hup);
  auto q = make_pair(k);
  REQUIRE(k.shutdown(q.a, SHUT_RDWR) == 0);
  REQUIRE(poll_mask(k, q.a) == hup);
  REQUIRE(poll_mask(k, q.b) == hup);
}

BACKEND_TEST("unix: shutdown wakes both ends' ET items, the caller's too", "[unix][shutdown][et]") {
  TestType b;
  auto& k = b.k;
  auto p = make_pair(k);
  int ep = make_ep(k);
  add(k, ep, p.a, EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET);
  add(k, ep, p.b, EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET);
  REQUIRE(wait(k, ep).size() == 2);
  REQUIRE(k.shutdown(p.b, SHUT_WR) == 0);
  // sk_state_change on the caller first, then on the peer: both queue, in that order.
  REQUIRE(wait(k, ep) == std::vector<Ev>{{EPOLLOUT, uint64_t(p.b)},
                                         {EPOLLIN | EPOLLOUT | EPOLLRDHUP, uint64_t(p.a)}});
  REQUIRE(k.shutdown(p.b, SHUT_WR) == 0);  // again: same wakeups, same report
  REQUIRE(wait(k, ep).size() == 2);
}

BACKEND_TEST("unix: shutdown with how outside SHUT_RD..SHUT_RDWR is EINVAL", "[unix][shutdown]") {
  TestType b;
  auto& k = b.k;
  auto p = make_pair(k);
  REQUIRE_ERRNO(k.shutdown(p.a, 3), EINVAL);
  REQUIRE_ERRNO(k.shutdown(p.a, -1), EINVAL);
  REQUIRE(poll_mask(k, p.b) == kOut);  // nothing was shut
}

BACKEND_TEST("unix: shutdown after the peer closed succeeds and changes nothing",
             "[unix][shutdown][close]") {
  TestType b;
  auto& k = b.k;
  auto p = make_pair(k);
  REQUIRE(k.close(p.b) == 0);
  const uint32_t closed = kIn | EPOLLRDHUP | EPOLLHUP | kOut;
  REQUIRE(poll_mask(k, p.a) == closed);
  REQUIRE(k.shutdown(p.a, SHUT_RDWR) == 0);
  REQUIRE(poll_mask(k, p.a) == closed);
  REQUIRE_ERRNO(k.shutdown(p.a, 7), EINVAL);
}

// --- close ----------------------------------------------------------------------------------

BACKEND_TEST("unix: peer closed with nothing unread: IN|RDHUP|HUP|OUT, EOF, EPIPE",
             "[unix][close]") {
  TestType b;
  auto& k = b.k;
  auto p = make_pair(k);
  int ep = make_ep(k);
  add(k, ep, p.a, kAll | EPOLLET);
  REQUIRE(wait(k, ep).size() == 1);
  REQUIRE(k.close(p.b) == 0);
  REQUIRE(wait(k, ep) == std::vector<Ev>{{kIn | EPOLLRDHUP | EPOLLHUP | kOut, uint64_t(p.a)}});
  char c;
  REQUIRE(k.read(p.a, &c, 1) == 0);
  REQUIRE_ERRNO(write_str(k, p.a, "x"), EPIPE);
  REQUIRE(get_int(k, p.a, SO_ERROR) == 0);
}

BACKEND_TEST("unix: peer closed with unread data: ERR, ECONNRESET once, then EOF", "[unix][close]") {
  TestType b;
  auto& k = b.k;
  auto p = make_pair(k);
  REQUIRE(write_str(k, p.a, "never read") == 10);
  REQUIRE(k.close(p.b) == 0);
  REQUIRE(poll_mask(k, p.a) == (EPOLLERR | EPOLLHUP | kIn | EPOLLRDHUP | kOut));
  char c;
  REQUIRE_ERRNO(k.read(p.a, &c, 1), ECONNRESET);
  REQUIRE(poll_mask(k, p.a) == (EPOLLHUP | kIn | EPOLLRDHUP | kOut));
  REQUIRE(k.read(p.a, &c, 1) == 0);
}

BACKEND_TEST("unix: after the peer closed, queued data is read before the ECONNRESET",
             "[unix][close]") {
  TestType b;
  auto& k = b.k;
  auto p = make_pair(k);
  REQUIRE(write_str(k, p.a, "abc") == 3);  // unread by b: a gets ECONNRESET
  REQUIRE(write_str(k, p.b, "q") == 1);    // unread by a: stays readable
  REQUIRE(k.close(p.b) == 0);
  char buf[8];
  REQUIRE(k.read(p.a, buf, sizeof buf) == 1);
  REQUIRE_ERRNO(k.read(p.a, buf, sizeof buf), ECONNRESET);
  REQUIRE(k.read(p.a, buf, sizeof buf) == 0);
}

BACKEND_TEST("unix: the first write after the peer closed with unread data is EPIPE",
             "[unix][close]") {
  TestType b;
  auto& k = b.k;
  auto p = make_pair(k);
  REQUIRE(write_str(k, p.a, "abc") == 3);
  REQUIRE(k.close(p.b) == 0);
  // SEND_SHUTDOWN is checked before the pending error, which survives the failed write.
  REQUIRE_ERRNO(write_str(k, p.a, "z"), EPIPE);
  REQUIRE_ERRNO(k.send(p.a, "z", 1, MSG_NOSIGNAL), EPIPE);
  REQUIRE(get_int(k, p.a, SO_ERROR) == ECONNRESET);
  REQUIRE(get_int(k, p.a, SO_ERROR) == 0);
  char c;
  REQUIRE(k.read(p.a, &c, 1) == 0);  // SO_ERROR consumed it
}

BACKEND_TEST("unix: closing the reader frees the writer's buffer and wakes it", "[unix][close][et]") {
  TestType b;
  auto& k = b.k;
  auto p = make_pair(k);
  int ep = make_ep(k);
  add(k, ep, p.a, EPOLLOUT | EPOLLET);
  REQUIRE(wait(k, ep).size() == 1);
  fill(k, p.a, kPage);
  REQUIRE(wait(k, ep).empty());
  REQUIRE(k.close(p.b) == 0);
  REQUIRE(wait(k, ep) == std::vector<Ev>{{EPOLLOUT | EPOLLERR | EPOLLHUP, uint64_t(p.a)}});
  REQUIRE(ioctl_int(k, p.a, SIOCOUTQ) == 0);
}

BACKEND_TEST("unix: EPOLLRDHUP is reported only when requested", "[unix][close]") {
  TestType b;
  auto& k = b.k;
  auto p = make_pair(k);
  int ep = make_ep(k);
  add(k, ep, p.a, EPOLLIN, 1);
  int d = k.dup(p.a);
  REQUIRE(d >= 0);
  add(k, ep, d, EPOLLIN | EPOLLRDHUP, 2);
  REQUIRE(k.close(p.b) == 0);
  auto evs = wait(k, ep);
  REQUIRE(evs.size() == 2);
  for (const Ev& e : evs)
    REQUIRE(e.events == (e.data == 1 ? (EPOLLIN | EPOLLHUP) : (EPOLLIN | EPOLLRDHUP | EPOLLHUP)));
}

BACKEND_TEST("unix: an item with an empty mask still reports ERR and HUP", "[unix][close]") {
  TestType b;
  auto& k = b.k;
  auto p = make_pair(k);
  int ep = make_ep(k);
  add(k, ep, p.a, 0);
  REQUIRE(wait(k, ep).empty());
  REQUIRE(write_str(k, p.a, "unread") == 6);
  REQUIRE(k.close(p.b) == 0);
  REQUIRE(wait(k, ep) == std::vector<Ev>{{EPOLLERR | EPOLLHUP, uint64_t(p.a)}});
}

// --- reads and writes -----------------------------------------------------------------------

BACKEND_TEST("unix: MSG_PEEK returns data across buffers and leaves it queued", "[unix][peek]") {
  TestType b;
  auto& k = b.k;
  auto p = make_pair(k);
  REQUIRE(write_str(k, p.a, "abc") == 3);
  REQUIRE(write_str(k, p.a, "def") == 3);
  char buf[16] = {};
  REQUIRE(k.recv(p.b, buf, 5, MSG_PEEK) == 5);
  REQUIRE(std::string(buf, 5) == "abcde");
  REQUIRE(k.recv(p.b, buf, sizeof buf, MSG_PEEK) == 6);
  REQUIRE(read_n(k, p.b, 4) == "abcd");
  REQUIRE(k.recv(p.b, buf, sizeof buf, MSG_PEEK) == 2);
  REQUIRE(std::string(buf, 2) == "ef");
  REQUIRE(ioctl_int(k, p.b, FIONREAD) == 2);
}

BACKEND_TEST("unix: MSG_DONTWAIT on a blocking socket gives EAGAIN", "[unix][nonblock]") {
  TestType b;
  auto& k = b.k;
  auto p = make_pair(k, SOCK_CLOEXEC);  // blocking
  REQUIRE((k.fcntl(p.a, F_GETFL) & O_NONBLOCK) == 0);
  char c;
  REQUIRE_ERRNO(k.recv(p.a, &c, 1, MSG_DONTWAIT), EAGAIN);
  size_t sent = 0;
  std::vector<char> buf(kPage, 'd');
  ssize_t r;
  while ((r = k.send(p.a, buf.data(), buf.size(), MSG_DONTWAIT)) > 0) sent += size_t(r);
  REQUIRE(r == -1);
  REQUIRE(errno == EAGAIN);
  REQUIRE(sent > 0);
}

BACKEND_TEST("unix: nonblocking read: EAGAIN when empty, 0 once the peer shut its side",
             "[unix][nonblock]") {
  TestType b;
  auto& k = b.k;
  auto p = make_pair(k);
  char c;
  REQUIRE_ERRNO(k.read(p.a, &c, 1), EAGAIN);
  REQUIRE_ERRNO(k.recv(p.a, &c, 1, 0), EAGAIN);
  // O_NONBLOCK belongs to the description: set through a dup, seen through the original.
  auto q = make_pair(k, 0);
  int d = k.dup(q.a);
  REQUIRE(k.fcntl(d, F_SETFL, O_NONBLOCK) == 0);
  REQUIRE_ERRNO(k.read(q.a, &c, 1), EAGAIN);
  REQUIRE(k.shutdown(p.b, SHUT_WR) == 0);
  REQUIRE(k.read(p.a, &c, 1) == 0);
}

BACKEND_TEST("unix: zero-length read, recv, write and send", "[unix][rw]") {
  TestType b;
  auto& k = b.k;
  auto p = make_pair(k);
  char c;
  REQUIRE_ERRNO(k.recv(p.a, &c, 0, 0), EAGAIN);  // recvmsg with nothing queued
  REQUIRE(k.read(p.a, &c, 0) == 0);              // sock_read_iter returns 0 before recvmsg
  REQUIRE(k.write(p.b, &c, 0) == 0);
  REQUIRE(k.send(p.b, &c, 0, 0) == 0);
  REQUIRE(ioctl_int(k, p.a, FIONREAD) == 0);
  REQUIRE(ioctl_int(k, p.b, SIOCOUTQ) == 0);
  REQUIRE(write_str(k, p.b, "x") == 1);
  REQUIRE(k.recv(p.a, &c, 0, 0) == 0);
  REQUIRE(ioctl_int(k, p.a, FIONREAD) == 1);
  REQUIRE(k.shutdown(p.b, SHUT_WR) == 0);
  REQUIRE_ERRNO(k.send(p.b, &c, 0, 0), EPIPE);  // the shutdown check comes first
  REQUIRE_ERRNO(k.write(p.b, &c, 0), EPIPE);     // write has no zero-length shortcut
}

BACKEND_TEST("unix: FIONREAD counts unread bytes across buffers and partial reads",
             "[unix][ioctl]") {
  TestType b;
  auto& k = b.k;
  auto p = make_pair(k);
  REQUIRE(ioctl_int(k, p.b, FIONREAD) == 0);
  REQUIRE(write_str(k, p.a, "12345") == 5);
  REQUIRE(write_str(k, p.a, "678") == 3);
  REQUIRE(ioctl_int(k, p.b, FIONREAD) == 8);
  REQUIRE(b.inspect().bytes_to_read(p.b) == std::optional<uint64_t>(8));
  REQUIRE(read_n(k, p.b, 6) == "123456");
  REQUIRE(ioctl_int(k, p.b, FIONREAD) == 2);
  REQUIRE(ioctl_int(k, p.a, FIONREAD) == 0);
  // SIOCOUTQ counts whole skbs with their overhead until the last byte of each is read.
  REQUIRE(ioctl_int(k, p.a, SIOCOUTQ) > 2);
  REQUIRE(read_n(k, p.b, 6) == "78");
  REQUIRE(ioctl_int(k, p.a, SIOCOUTQ) == 0);
}

BACKEND_TEST("unix: readv and writev move one stream", "[unix][rw]") {
  TestType b;
  auto& k = b.k;
  auto p = make_pair(k);
  char w1[] = "hello ", w2[] = "vector";
  iovec wv[2] = {{w1, 6}, {w2, 6}};
  REQUIRE(k.writev(p.a, wv, 2) == 12);
  char r1[4], r2[16];
  iovec rv[2] = {{r1, 4}, {r2, 16}};
  REQUIRE(k.readv(p.b, rv, 2) == 12);
  REQUIRE(std::string(r1, 4) == "hell");
  REQUIRE(std::string(r2, 8) == "o vector");
  REQUIRE_ERRNO(k.readv(p.b, rv, 2), EAGAIN);
}

BACKEND_TEST("unix: SO_RCVLOWAT gates neither poll nor a nonblocking read", "[unix][rw]") {
  TestType b;
  auto& k = b.k;
  auto p = make_pair(k);
  set_int(k, p.b, SO_RCVLOWAT, 5);
  REQUIRE(get_int(k, p.b, SO_RCVLOWAT) == 5);
  REQUIRE(write_str(k, p.a, "abc") == 3);
  REQUIRE(poll_mask(k, p.b) == (kIn | kOut));
  REQUIRE(read_n(k, p.b, 16) == "abc");
  char c;
  REQUIRE_ERRNO(k.read(p.b, &c, 1), EAGAIN);
}

BACKEND_TEST("unix: recv MSG_OOB with no urgent data is EINVAL", "[unix][rw]") {
  TestType b;
  auto& k = b.k;
  auto p = make_pair(k);
  REQUIRE(write_str(k, p.a, "data") == 4);
  char c;
  REQUIRE_ERRNO(k.recv(p.b, &c, 1, MSG_OOB), EINVAL);
  REQUIRE(ioctl_int(k, p.b, FIONREAD) == 4);
}

BACKEND_TEST("unix: recv and send on a pipe are ENOTSOCK", "[unix][errors]") {
  TestType b;
  auto& k = b.k;
  int fds[2];
  REQUIRE(k.pipe2(fds, O_NONBLOCK) == 0);
  char c = 'p';
  REQUIRE_ERRNO(k.recv(fds[0], &c, 1, 0), ENOTSOCK);
  REQUIRE_ERRNO(k.send(fds[1], &c, 1, 0), ENOTSOCK);
  REQUIRE_ERRNO(k.shutdown(fds[0], SHUT_RD), ENOTSOCK);
  int ep = make_ep(k);
  REQUIRE_ERRNO(k.recv(ep, &c, 1, 0), ENOTSOCK);
  REQUIRE_ERRNO(k.recv(999, &c, 1, 0), EBADF);
}

// --- options, names, unsupported operations --------------------------------------------------

BACKEND_TEST("unix: socket option defaults", "[unix][sockopt]") {
  TestType b;
  auto& k = b.k;
  auto p = make_pair(k);
  REQUIRE(get_int(k, p.a, SO_TYPE) == SOCK_STREAM);
  REQUIRE(get_int(k, p.a, SO_DOMAIN) == AF_UNIX);
  REQUIRE(get_int(k, p.a, SO_PROTOCOL) == 0);
  REQUIRE(get_int(k, p.a, SO_RCVBUF) == kDefaultBuf);
  REQUIRE(get_int(k, p.a, SO_SNDBUF) == kDefaultBuf);
  REQUIRE(get_int(k, p.a, SO_ERROR) == 0);
  REQUIRE(get_int(k, p.a, SO_ACCEPTCONN) == 0);
  REQUIRE(get_int(k, p.a, SO_RCVLOWAT) == 1);
  // protocol PF_UNIX is accepted and reported as 0
  int sv[2];
  REQUIRE(k.socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, PF_UNIX, sv) == 0);
  REQUIRE(get_int(k, sv[0], SO_PROTOCOL) == 0);
}

BACKEND_TEST("unix: SO_SNDBUF and SO_RCVBUF store double the request, at least the minimum",
             "[unix][sockopt]") {
  TestType b;
  auto& k = b.k;
  auto p = make_pair(k);
  set_int(k, p.a, SO_SNDBUF, 10000);
  REQUIRE(get_int(k, p.a, SO_SNDBUF) == 20000);
  REQUIRE(get_int(k, p.b, SO_SNDBUF) == kDefaultBuf);  // per socket
  set_int(k, p.a, SO_SNDBUF, 100);
  REQUIRE(get_int(k, p.a, SO_SNDBUF) == kMinSndbuf);
  set_int(k, p.a, SO_RCVBUF, 10000);
  REQUIRE(get_int(k, p.a, SO_RCVBUF) == 20000);
  set_int(k, p.a, SO_RCVBUF, 1);
  REQUIRE(get_int(k, p.a, SO_RCVBUF) == 2304);  // SOCK_MIN_RCVBUF
}

BACKEND_TEST("unix: getsockname and getpeername give an unnamed AF_UNIX address",
             "[unix][names]") {
  TestType b;
  auto& k = b.k;
  auto p = make_pair(k);
  sockaddr_un sun;
  std::memset(&sun, 0x55, sizeof sun);
  socklen_t len = sizeof sun;
  REQUIRE(k.getsockname(p.a, reinterpret_cast<sockaddr*>(&sun), &len) == 0);
  REQUIRE(len == sizeof(sa_family_t));
  REQUIRE(sun.sun_family == AF_UNIX);
  REQUIRE(sun.sun_path[0] == 0x55);  // nothing beyond the family is written
  len = sizeof sun;
  REQUIRE(k.getpeername(p.a, reinterpret_cast<sockaddr*>(&sun), &len) == 0);
  REQUIRE(len == sizeof(sa_family_t));
  REQUIRE(sun.sun_family == AF_UNIX);
  REQUIRE(k.close(p.b) == 0);
  len = sizeof sun;
  REQUIRE(k.getpeername(p.a, reinterpret_cast<sockaddr*>(&sun), &len) == 0);  // still named
  REQUIRE(len == sizeof(sa_family_t));
}

BACKEND_TEST("unix: listen, accept and connect on a socketpair end", "[unix][errors]") {
  TestType b;
  auto& k = b.k;
  auto p = make_pair(k);
  REQUIRE_ERRNO(k.listen(p.a, 5), EINVAL);  // never bound
  REQUIRE_ERRNO(k.accept(p.a, nullptr, nullptr), EINVAL);
  sockaddr_un sun{};
  sun.sun_family = AF_UNIX;
  std::strcpy(sun.sun_path, "/nonexistent/edgecase-unix-test");
  auto* sa = reinterpret_cast<sockaddr*>(&sun);
  REQUIRE_ERRNO(k.connect(p.a, sa, sizeof sun), ENOENT);
  REQUIRE_ERRNO(k.connect(p.a, sa, sizeof(sa_family_t)), EINVAL);
  sun.sun_path[0] = '\0';  // abstract, nobody listening
  REQUIRE_ERRNO(k.connect(p.a, sa, sizeof sun), ECONNREFUSED);
  sun.sun_family = AF_INET;
  REQUIRE_ERRNO(k.connect(p.a, sa, sizeof sun), EINVAL);
  REQUIRE(write_str(k, p.a, "still connected") == 15);
}

BACKEND_TEST("unix: socketpair argument errors", "[unix][errors]") {
  TestType b;
  auto& k = b.k;
  int sv[2];
  REQUIRE_ERRNO(k.socketpair(AF_UNIX, 11, 0, sv), EINVAL);  // >= SOCK_MAX
  REQUIRE_ERRNO(k.socketpair(AF_UNIX, SOCK_STREAM | 0x10, 0, sv), EINVAL);
  REQUIRE_ERRNO(k.socketpair(AF_UNIX, SOCK_RDM, 0, sv), ESOCKTNOSUPPORT);
  REQUIRE_ERRNO(k.socketpair(AF_UNIX, SOCK_STREAM, 2, sv), EPROTONOSUPPORT);
  REQUIRE_ERRNO(k.socketpair(AF_UNIX, SOCK_RDM, 2, sv), EPROTONOSUPPORT);  // protocol first
  REQUIRE_ERRNO(k.socketpair(AF_INET, SOCK_STREAM, 0, sv), EOPNOTSUPP);
}

BACKEND_TEST("unix: SOCK_NONBLOCK and SOCK_CLOEXEC land on the description and the fds",
             "[unix][flags]") {
  TestType b;
  auto& k = b.k;
  auto p = make_pair(k, SOCK_NONBLOCK | SOCK_CLOEXEC);
  REQUIRE((k.fcntl(p.a, F_GETFL) & (O_NONBLOCK | O_ACCMODE)) == (O_NONBLOCK | O_RDWR));
  REQUIRE((k.fcntl(p.b, F_GETFL) & O_NONBLOCK) == O_NONBLOCK);
  REQUIRE(k.fcntl(p.a, F_GETFD) == FD_CLOEXEC);
  auto q = make_pair(k, 0);
  REQUIRE((k.fcntl(q.a, F_GETFL) & O_NONBLOCK) == 0);
  REQUIRE(k.fcntl(q.b, F_GETFD) == 0);
  REQUIRE(q.b == q.a + 1);
}

// --- simulation only ------------------------------------------------------------------------

TEST_CASE("unix: a blocking read on an empty socketpair is a deadlock", "[unix][sim]") {
  SimKernel k;
  auto p = make_pair(k, 0);
  char c;
  REQUIRE_THROWS_AS(k.read(p.a, &c, 1), edgecase::Deadlock);
  REQUIRE(write_str(k, p.b, "x") == 1);
  REQUIRE(k.read(p.a, &c, 1) == 1);  // the deadlock left the socket usable
  REQUIRE(k.shutdown(p.b, SHUT_WR) == 0);
  REQUIRE(k.read(p.a, &c, 1) == 0);  // EOF never blocks
}

TEST_CASE("unix: a blocking write into a full socketpair is a deadlock", "[unix][sim]") {
  SimKernel k;
  auto p = make_pair(k, 0);
  std::vector<char> big(1 << 20, 'w');
  REQUIRE_THROWS_AS(k.write(p.a, big.data(), big.size()), edgecase::Deadlock);
  REQUIRE(k.close(p.b) == 0);
  REQUIRE_ERRNO(k.write(p.a, big.data(), 1), EPIPE);
}

TEST_CASE("unix: the model's skb truesize matches the calibration on 6.18", "[unix][sim]") {
  // Single writes of these sizes showed these SIOCOUTQ values on the live kernel.
  const std::array<std::pair<size_t, int>, 8> kCalibrated = {{{1, 768},
                                                              {100, 768},
                                                              {1000, 2304},
                                                              {3776, 4352},
                                                              {3777, 4864},
                                                              {8192, 8960},
                                                              {36544, 37120},
                                                              {65536, 67072}}};
  for (auto [size, truesize] : kCalibrated) {
    SimKernel k;
    auto p = make_pair(k);
    std::vector<char> buf(size, 't');
    REQUIRE(k.write(p.a, buf.data(), size) == static_cast<ssize_t>(size));
    INFO("size " << size);
    REQUIRE(ioctl_int(k, p.a, SIOCOUTQ) == truesize);
  }
}

}  // namespace
}  // namespace edgecase::conformance
