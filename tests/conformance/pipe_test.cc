// Anonymous pipes (fs/pipe.c): what pipe_poll reports, where pipe_read, pipe_write and
// pipe_release wake, and the page-slot capacity rules. Everything here is deterministic in the
// kernel, so every byte count is exact (no [band] cases). The live kernel is the oracle.
#include <fcntl.h>
#include <string>
#include <sys/ioctl.h>
#include <sys/uio.h>

#include "tests/conformance/backend.h"

namespace edgecase::conformance {
namespace {

constexpr size_t kPage = 4096;   // PAGE_SIZE: one pipe buffer
constexpr int kSlots = 16;       // PIPE_DEF_BUFFERS
constexpr uint32_t kInNorm = EPOLLIN | EPOLLRDNORM;
constexpr uint32_t kOutNorm = EPOLLOUT | EPOLLWRNORM;

struct Pipe {
  int rd, wr;
};

Pipe make_pipe(Kernel& k, int flags = O_NONBLOCK | O_CLOEXEC) {
  int p[2] = {-1, -1};
  int r = k.pipe2(p, flags);
  INFO("pipe2 errno " << errno);
  REQUIRE(r == 0);
  return {p[0], p[1]};
}

int make_ep(Kernel& k) {
  int ep = k.epoll_create1(EPOLL_CLOEXEC);
  REQUIRE(ep >= 0);
  return ep;
}

ssize_t put(Kernel& k, int fd, size_t n, char c = 'x') {
  std::string s(n, c);
  return k.write(fd, s.data(), s.size());
}

ssize_t take(Kernel& k, int fd, size_t n) {
  std::string s(n, '\0');
  return k.read(fd, s.data(), s.size());
}

int fionread(Kernel& k, int fd) {
  int n = -1;
  REQUIRE(k.ioctl(fd, FIONREAD, &n) == 0);
  return n;
}

// Nonblocking writes of `chunk` bytes until EAGAIN; returns how many succeeded in full.
int fill(Kernel& k, int wr, size_t chunk = kPage) {
  int n = 0;
  for (;;) {
    ssize_t r = put(k, wr, chunk);
    if (r < 0) {
      REQUIRE(errno == EAGAIN);
      return n;
    }
    REQUIRE(static_cast<size_t>(r) == chunk);
    ++n;
  }
}

using Evs = std::vector<Ev>;

}  // namespace

// --- pipe2 ------------------------------------------------------------------------------------

BACKEND_TEST("pipe: F_GETFL is O_RDONLY on the read end and O_WRONLY on the write end",
             "[pipe][pipe2]") {
  TestType b;
  auto& k = b.k;
  Pipe p = make_pipe(k, 0);
  REQUIRE(k.fcntl(p.rd, F_GETFL) == O_RDONLY);
  REQUIRE(k.fcntl(p.wr, F_GETFL) == O_WRONLY);
  REQUIRE(k.fcntl(p.rd, F_GETFD) == 0);
  REQUIRE(k.fcntl(p.wr, F_GETFD) == 0);
}

BACKEND_TEST("pipe: O_NONBLOCK goes to both descriptions, O_CLOEXEC to both fds only",
             "[pipe][pipe2]") {
  TestType b;
  auto& k = b.k;
  Pipe p = make_pipe(k, O_NONBLOCK | O_CLOEXEC);
  REQUIRE(k.fcntl(p.rd, F_GETFL) == (O_RDONLY | O_NONBLOCK));
  REQUIRE(k.fcntl(p.wr, F_GETFL) == (O_WRONLY | O_NONBLOCK));
  REQUIRE(k.fcntl(p.rd, F_GETFD) == FD_CLOEXEC);
  REQUIRE(k.fcntl(p.wr, F_GETFD) == FD_CLOEXEC);
}

BACKEND_TEST("pipe: pipe2 rejects flags other than O_NONBLOCK, O_CLOEXEC, O_DIRECT",
             "[pipe][pipe2][errno]") {
  TestType b;
  auto& k = b.k;
  int p[2] = {-7, -7};
  REQUIRE_ERRNO(k.pipe2(p, O_RDWR), EINVAL);
  REQUIRE_ERRNO(k.pipe2(p, O_WRONLY), EINVAL);
  REQUIRE_ERRNO(k.pipe2(p, O_APPEND), EINVAL);
  REQUIRE_ERRNO(k.pipe2(p, O_NONBLOCK | O_ASYNC), EINVAL);
  REQUIRE_ERRNO(k.pipe2(p, O_CREAT), EINVAL);
  REQUIRE(p[0] == -7);  // nothing written back on failure
  REQUIRE(p[1] == -7);
}

BACKEND_TEST("pipe: pipe2 with a NULL array is EFAULT", "[pipe][pipe2][errno]") {
  TestType b;
  auto& k = b.k;
  Pipe a = make_pipe(k);
  REQUIRE(k.close(a.rd) == 0);
  REQUIRE(k.close(a.wr) == 0);
  REQUIRE_ERRNO(k.pipe2(nullptr, 0), EFAULT);
  // The two descriptors reserved for it were given back: the next pipe gets them.
  Pipe c = make_pipe(k);
  REQUIRE(c.rd == a.rd);
  REQUIRE(c.wr == a.wr);
}

BACKEND_TEST("pipe: O_DIRECT makes a packet pipe: one buffer per write, a read takes one",
             "[pipe][pipe2][odirect]") {
  TestType b;
  auto& k = b.k;
  Pipe p = make_pipe(k, O_DIRECT | O_NONBLOCK);
  REQUIRE(k.fcntl(p.rd, F_GETFL) == (O_RDONLY | O_NONBLOCK));  // the read end has no O_DIRECT
  REQUIRE(k.fcntl(p.wr, F_GETFL) == (O_WRONLY | O_NONBLOCK | O_DIRECT));
  REQUIRE(put(k, p.wr, 5000) == 5000);  // two packets: 4096 and 904
  REQUIRE(put(k, p.wr, 3) == 3);        // never merged: a third packet
  REQUIRE(fionread(k, p.rd) == 5003);
  REQUIRE(take(k, p.rd, 10) == 10);  // the other 4086 bytes of the packet are discarded
  REQUIRE(fionread(k, p.rd) == 907);
  REQUIRE(take(k, p.rd, 10000) == 904);  // one packet per read, even with room for more
  REQUIRE(take(k, p.rd, 10000) == 3);
  REQUIRE_ERRNO(take(k, p.rd, 1), EAGAIN);
}

// --- read and write: errors and edge sizes ------------------------------------------------------

BACKEND_TEST("pipe: write on the read end and read on the write end are EBADF",
             "[pipe][errno]") {
  TestType b;
  auto& k = b.k;
  Pipe p = make_pipe(k);
  REQUIRE_ERRNO(put(k, p.rd, 1), EBADF);
  REQUIRE_ERRNO(put(k, p.rd, 0), EBADF);  // the mode check comes before the length
  REQUIRE_ERRNO(take(k, p.wr, 1), EBADF);
  REQUIRE_ERRNO(take(k, p.wr, 0), EBADF);
  REQUIRE(fionread(k, p.rd) == 0);
}

BACKEND_TEST("pipe: reads and writes of 0 bytes return 0, full, empty or widowed",
             "[pipe]") {
  TestType b;
  auto& k = b.k;
  Pipe p = make_pipe(k);
  char c = 0;
  REQUIRE(k.read(p.rd, &c, 0) == 0);   // empty, writer open: not EAGAIN
  REQUIRE(k.write(p.wr, &c, 0) == 0);
  REQUIRE(fill(k, p.wr) == kSlots);
  REQUIRE(k.write(p.wr, &c, 0) == 0);  // full: not EAGAIN
  REQUIRE(k.close(p.rd) == 0);
  REQUIRE(k.write(p.wr, &c, 0) == 0);  // no reader: not EPIPE
  REQUIRE_ERRNO(k.write(p.wr, &c, 1), EPIPE);
}

BACKEND_TEST("pipe: nonblocking read: EAGAIN while a writer is open, 0 at EOF", "[pipe]") {
  TestType b;
  auto& k = b.k;
  Pipe p = make_pipe(k);
  REQUIRE_ERRNO(take(k, p.rd, 10), EAGAIN);
  REQUIRE(put(k, p.wr, 3) == 3);
  REQUIRE(k.close(p.wr) == 0);
  REQUIRE(take(k, p.rd, 10) == 3);  // data left after the writer went is still read
  REQUIRE(take(k, p.rd, 10) == 0);
  REQUIRE(take(k, p.rd, 10) == 0);
}

BACKEND_TEST("pipe: blocking calls that need not wait: data, EOF and EPIPE", "[pipe]") {
  TestType b;
  auto& k = b.k;
  Pipe p = make_pipe(k, 0);
  REQUIRE(put(k, p.wr, 2 * kPage + 5) == static_cast<ssize_t>(2 * kPage + 5));
  REQUIRE(take(k, p.rd, 3 * kPage) == static_cast<ssize_t>(2 * kPage + 5));  // no wait for more
  REQUIRE(k.close(p.wr) == 0);
  REQUIRE(take(k, p.rd, 1) == 0);
  Pipe q = make_pipe(k, 0);
  REQUIRE(k.close(q.rd) == 0);
  REQUIRE_ERRNO(put(k, q.wr, 1), EPIPE);
}

BACKEND_TEST("pipe: a write with no reader left is EPIPE, even into an empty pipe",
             "[pipe][errno]") {
  TestType b;
  auto& k = b.k;
  Pipe p = make_pipe(k);
  REQUIRE(put(k, p.wr, 10) == 10);
  REQUIRE(k.close(p.rd) == 0);
  REQUIRE_ERRNO(put(k, p.wr, 1), EPIPE);
  REQUIRE_ERRNO(put(k, p.wr, kPage), EPIPE);
}

// --- capacity: exact, the kernel's page-slot rules -------------------------------------------

BACKEND_TEST("pipe: 16 page writes fill it, a 17th is EAGAIN, FIONREAD is 65536",
             "[pipe][capacity]") {
  TestType b;
  auto& k = b.k;
  Pipe p = make_pipe(k);
  REQUIRE(fill(k, p.wr) == kSlots);
  REQUIRE(fionread(k, p.rd) == kSlots * static_cast<int>(kPage));
  REQUIRE(fionread(k, p.wr) == kSlots * static_cast<int>(kPage));  // either end answers
  REQUIRE_ERRNO(put(k, p.wr, 1), EAGAIN);
}

BACKEND_TEST("pipe: a nonblocking write larger than the pipe writes 16 pages and returns",
             "[pipe][capacity]") {
  TestType b;
  auto& k = b.k;
  Pipe p = make_pipe(k);
  REQUIRE(put(k, p.wr, 70000) == kSlots * static_cast<ssize_t>(kPage));
  REQUIRE_ERRNO(put(k, p.wr, 70000), EAGAIN);
}

BACKEND_TEST("pipe: small writes merge into one page, whole-page writes never merge",
             "[pipe][capacity]") {
  TestType b;
  auto& k = b.k;
  Pipe p = make_pipe(k);
  for (int i = 0; i < 16; ++i) REQUIRE(put(k, p.wr, 1) == 1);  // all in the first slot
  REQUIRE(fill(k, p.wr) == kSlots - 1);                         // one slot each
  REQUIRE(fionread(k, p.rd) == 16 + (kSlots - 1) * static_cast<int>(kPage));
  // The first page has room, but only the last buffer is ever appended to.
  REQUIRE_ERRNO(put(k, p.wr, 1), EAGAIN);
}

BACKEND_TEST("pipe: 4096 one-byte writes fill exactly one slot", "[pipe][capacity]") {
  TestType b;
  auto& k = b.k;
  Pipe p = make_pipe(k);
  for (size_t i = 0; i < kPage; ++i) REQUIRE(put(k, p.wr, 1) == 1);
  REQUIRE(fill(k, p.wr) == kSlots - 1);
  REQUIRE(fionread(k, p.rd) == kSlots * static_cast<int>(kPage));
}

BACKEND_TEST("pipe: writes of 4097 bytes alternate between taking two slots and one",
             "[pipe][capacity]") {
  TestType b;
  auto& k = b.k;
  Pipe p = make_pipe(k);
  // Odd writes: a full page plus a 1-byte page. Even writes: their 1-byte remainder is
  // appended to that 1-byte page, then one full page. Ten writes take 15 slots.
  for (int i = 0; i < 10; ++i) REQUIRE(put(k, p.wr, kPage + 1) == static_cast<ssize_t>(kPage + 1));
  REQUIRE(put(k, p.wr, kPage + 1) == static_cast<ssize_t>(kPage));  // the last slot: partial
  REQUIRE_ERRNO(put(k, p.wr, kPage + 1), EAGAIN);
  REQUIRE(fionread(k, p.rd) == 10 * static_cast<int>(kPage + 1) + static_cast<int>(kPage));
}

BACKEND_TEST("pipe: a full pipe still takes a sub-page write that fits its last page",
             "[pipe][capacity]") {
  TestType b;
  auto& k = b.k;
  Pipe p = make_pipe(k);
  int ep = make_ep(k);
  add(k, ep, p.wr, EPOLLOUT);
  for (int i = 0; i < kSlots - 1; ++i) REQUIRE(put(k, p.wr, kPage) == static_cast<ssize_t>(kPage));
  REQUIRE(put(k, p.wr, 100) == 100);  // the 16th slot, 100 bytes used
  REQUIRE(wait(k, ep).empty());       // 16 slots in use: not writable
  REQUIRE(put(k, p.wr, 1) == 1);      // but the remainder merges
  REQUIRE_ERRNO(put(k, p.wr, kPage), EAGAIN);             // a whole page never does
  REQUIRE(put(k, p.wr, kPage - 101) == static_cast<ssize_t>(kPage - 101));  // exactly to the end
  REQUIRE_ERRNO(put(k, p.wr, 1), EAGAIN);
  REQUIRE(fionread(k, p.rd) == kSlots * static_cast<int>(kPage));
}

BACKEND_TEST("pipe: bytes already read from the last page still count against a merge",
             "[pipe][capacity]") {
  TestType b;
  auto& k = b.k;
  Pipe p = make_pipe(k);
  REQUIRE(put(k, p.wr, 100) == 100);
  REQUIRE(take(k, p.rd, 50) == 50);   // offset 50, 50 unread
  REQUIRE(put(k, p.wr, 3996) == 3996);  // 50 + 50 + 3996 == 4096: merged
  REQUIRE(fill(k, p.wr) == kSlots - 1);

  Pipe q = make_pipe(k);
  REQUIRE(put(k, q.wr, 100) == 100);
  REQUIRE(take(k, q.rd, 50) == 50);
  REQUIRE(put(k, q.wr, 3997) == 3997);  // one byte too many: a new slot
  REQUIRE(fill(k, q.wr) == kSlots - 2);
  REQUIRE(fionread(k, q.rd) == 50 + 3997 + (kSlots - 2) * static_cast<int>(kPage));
}

BACKEND_TEST("pipe: a write into an emptied pipe takes a new slot, the next small one merges",
             "[pipe][capacity]") {
  TestType b;
  auto& k = b.k;
  Pipe p = make_pipe(k);
  REQUIRE(put(k, p.wr, 10) == 10);
  REQUIRE(take(k, p.rd, 10) == 10);  // empty again: the slot is gone
  REQUIRE(put(k, p.wr, 10) == 10);
  REQUIRE(put(k, p.wr, 10) == 10);  // merged with the previous one
  REQUIRE(fill(k, p.wr) == kSlots - 1);
}

BACKEND_TEST("pipe: writev is one write: its sub-page remainder merges as a whole",
             "[pipe][capacity]") {
  TestType b;
  auto& k = b.k;
  Pipe p = make_pipe(k);
  REQUIRE(put(k, p.wr, 10) == 10);
  std::string a(1, 'a'), c(kPage, 'c');
  iovec iov[2] = {{a.data(), a.size()}, {c.data(), c.size()}};
  // 4097 bytes: 1 goes into the first page, the next 4096 into a new slot.
  REQUIRE(k.writev(p.wr, iov, 2) == static_cast<ssize_t>(kPage + 1));
  REQUIRE(fill(k, p.wr) == kSlots - 2);
  REQUIRE(fionread(k, p.rd) == 11 + (kSlots - 1) * static_cast<int>(kPage));
}

BACKEND_TEST("pipe: FIONREAD counts unread bytes on either end through partial reads",
             "[pipe][ioctl]") {
  TestType b;
  auto& k = b.k;
  Pipe p = make_pipe(k);
  REQUIRE(fionread(k, p.rd) == 0);
  REQUIRE(put(k, p.wr, 5000) == 5000);
  REQUIRE(put(k, p.wr, 7) == 7);
  REQUIRE(fionread(k, p.rd) == 5007);
  REQUIRE(take(k, p.rd, 4100) == 4100);  // crosses a page boundary in one read
  REQUIRE(fionread(k, p.wr) == 907);
  REQUIRE(take(k, p.rd, 10000) == 907);
  REQUIRE(fionread(k, p.rd) == 0);
}

// --- nonblocking mode ---------------------------------------------------------------------------

BACKEND_TEST("pipe: O_NONBLOCK through F_SETFL is per description and shared by dups",
             "[pipe][nonblock]") {
  TestType b;
  auto& k = b.k;
  Pipe p = make_pipe(k, O_CLOEXEC);
  int d = k.dup(p.rd);
  REQUIRE(d >= 0);
  REQUIRE(k.fcntl(d, F_SETFL, O_NONBLOCK) == 0);
  REQUIRE(k.fcntl(p.rd, F_GETFL) == (O_RDONLY | O_NONBLOCK));  // the same description
  REQUIRE(k.fcntl(p.wr, F_GETFL) == O_WRONLY);                 // the other end is untouched
  REQUIRE(k.fcntl(d, F_GETFD) == 0);                           // FD_CLOEXEC is not shared
  REQUIRE_ERRNO(take(k, p.rd, 1), EAGAIN);
  REQUIRE(k.fcntl(p.wr, F_SETFL, O_NONBLOCK) == 0);
  REQUIRE(fill(k, p.wr) == kSlots);
  REQUIRE(k.fcntl(p.rd, F_SETFL, 0) == 0);
  REQUIRE(k.fcntl(d, F_GETFL) == O_RDONLY);
}

BACKEND_TEST("pipe: ioctl FIONBIO sets and clears O_NONBLOCK", "[pipe][nonblock][ioctl]") {
  TestType b;
  auto& k = b.k;
  Pipe p = make_pipe(k, 0);
  int on = 1;
  REQUIRE(k.ioctl(p.rd, FIONBIO, &on) == 0);
  REQUIRE(k.fcntl(p.rd, F_GETFL) == (O_RDONLY | O_NONBLOCK));
  REQUIRE_ERRNO(take(k, p.rd, 1), EAGAIN);
  REQUIRE(k.ioctl(p.wr, FIONBIO, &on) == 0);
  REQUIRE(fill(k, p.wr) == kSlots);
  int off = 0;
  REQUIRE(k.ioctl(p.rd, FIONBIO, &off) == 0);
  REQUIRE(k.fcntl(p.rd, F_GETFL) == O_RDONLY);
  REQUIRE(take(k, p.rd, 1) == 1);  // blocking, but data is there
}

// --- epoll: read end ----------------------------------------------------------------------------

BACKEND_TEST("pipe: LT read end reports IN (RDNORM only when asked) until drained",
             "[pipe][epoll][lt]") {
  TestType b;
  auto& k = b.k;
  Pipe p = make_pipe(k);
  int ep = make_ep(k);
  add(k, ep, p.rd, EPOLLIN);
  REQUIRE(wait(k, ep).empty());
  REQUIRE(put(k, p.wr, 10) == 10);
  REQUIRE(wait(k, ep) == Evs{{EPOLLIN, static_cast<uint64_t>(p.rd)}});
  REQUIRE(take(k, p.rd, 4) == 4);
  REQUIRE(wait(k, ep) == Evs{{EPOLLIN, static_cast<uint64_t>(p.rd)}});
  mod(k, ep, p.rd, EPOLLIN | EPOLLRDNORM | EPOLLOUT);  // OUT never shows on a read end
  REQUIRE(wait(k, ep) == Evs{{kInNorm, static_cast<uint64_t>(p.rd)}});
  REQUIRE(take(k, p.rd, 100) == 6);
  REQUIRE(wait(k, ep).empty());
}

BACKEND_TEST("pipe: ET read end fires on every write, drained or not", "[pipe][epoll][et]") {
  TestType b;
  auto& k = b.k;
  Pipe p = make_pipe(k);
  int ep = make_ep(k);
  add(k, ep, p.rd, EPOLLIN | EPOLLET);
  REQUIRE(wait(k, ep).empty());
  REQUIRE(put(k, p.wr, 1) == 1);
  REQUIRE(wait(k, ep) == Evs{{EPOLLIN, static_cast<uint64_t>(p.rd)}});
  REQUIRE(wait(k, ep).empty());
  REQUIRE(put(k, p.wr, 1) == 1);  // not drained, no change of state: fires anyway
  REQUIRE(wait(k, ep) == Evs{{EPOLLIN, static_cast<uint64_t>(p.rd)}});
  REQUIRE(put(k, p.wr, 1) == 1);
  REQUIRE(put(k, p.wr, 1) == 1);  // two writes before a wait: queued once
  REQUIRE(wait(k, ep) == Evs{{EPOLLIN, static_cast<uint64_t>(p.rd)}});
  REQUIRE(wait(k, ep).empty());
  REQUIRE(fionread(k, p.rd) == 4);
}

BACKEND_TEST("pipe: ET read end: a read that leaves data fires nothing new", "[pipe][epoll][et]") {
  TestType b;
  auto& k = b.k;
  Pipe p = make_pipe(k);
  int ep = make_ep(k);
  add(k, ep, p.rd, EPOLLIN | EPOLLET);
  REQUIRE(put(k, p.wr, 100) == 100);
  REQUIRE(wait(k, ep) == Evs{{EPOLLIN, static_cast<uint64_t>(p.rd)}});
  REQUIRE(take(k, p.rd, 10) == 10);
  REQUIRE(wait(k, ep).empty());  // still readable, but nothing woke the read end
  REQUIRE(take(k, p.rd, 90) == 90);
  REQUIRE(wait(k, ep).empty());
  REQUIRE(put(k, p.wr, 0) == 0);  // a null write wakes nobody
  REQUIRE(wait(k, ep).empty());
}

BACKEND_TEST("pipe: ET read end re-fires on a write that fails with EAGAIN",
             "[pipe][epoll][et]") {
  TestType b;
  auto& k = b.k;
  Pipe p = make_pipe(k);
  int ep = make_ep(k);
  add(k, ep, p.rd, EPOLLIN | EPOLLET);
  REQUIRE(fill(k, p.wr) == kSlots);  // the EAGAIN that ends fill() also wakes
  REQUIRE(wait(k, ep) == Evs{{EPOLLIN, static_cast<uint64_t>(p.rd)}});
  REQUIRE(wait(k, ep).empty());
  REQUIRE_ERRNO(put(k, p.wr, kPage), EAGAIN);
  REQUIRE(wait(k, ep) == Evs{{EPOLLIN, static_cast<uint64_t>(p.rd)}});
  REQUIRE_ERRNO(put(k, p.wr, 1), EAGAIN);
  REQUIRE(wait(k, ep) == Evs{{EPOLLIN, static_cast<uint64_t>(p.rd)}});
}

BACKEND_TEST("pipe: ONESHOT read end reports once, MOD re-arms and reports at once if ready",
             "[pipe][epoll][oneshot]") {
  TestType b;
  auto& k = b.k;
  Pipe p = make_pipe(k);
  int ep = make_ep(k);
  add(k, ep, p.rd, EPOLLIN | EPOLLONESHOT, 7);
  REQUIRE(put(k, p.wr, 1) == 1);
  REQUIRE(wait(k, ep) == Evs{{EPOLLIN, 7}});
  REQUIRE(put(k, p.wr, 1) == 1);
  REQUIRE(wait(k, ep).empty());  // disarmed
  REQUIRE(k.close(p.wr) == 0);
  REQUIRE(wait(k, ep).empty());  // not even for HUP
  mod(k, ep, p.rd, EPOLLIN | EPOLLONESHOT, 8);
  REQUIRE(wait(k, ep) == Evs{{EPOLLIN | EPOLLHUP, 8}});
  REQUIRE(wait(k, ep).empty());
}

BACKEND_TEST("pipe: DEL stops reports on the read end", "[pipe][epoll]") {
  TestType b;
  auto& k = b.k;
  Pipe p = make_pipe(k);
  int ep = make_ep(k);
  add(k, ep, p.rd, EPOLLIN);
  REQUIRE(put(k, p.wr, 1) == 1);
  REQUIRE(k.epoll_ctl(ep, EPOLL_CTL_DEL, p.rd, nullptr) == 0);
  REQUIRE(wait(k, ep).empty());  // queued before DEL, gone with it
  REQUIRE(put(k, p.wr, 1) == 1);
  REQUIRE(k.close(p.wr) == 0);
  REQUIRE(wait(k, ep).empty());
  REQUIRE_ERRNO(k.epoll_ctl(ep, EPOLL_CTL_DEL, p.rd, nullptr), ENOENT);
}

// --- epoll: write end ---------------------------------------------------------------------------

BACKEND_TEST("pipe: LT write end: OUT while a slot is free, off when full, back on a free slot",
             "[pipe][epoll][lt]") {
  TestType b;
  auto& k = b.k;
  Pipe p = make_pipe(k);
  int ep = make_ep(k);
  add(k, ep, p.wr, EPOLLOUT | EPOLLIN);  // IN never shows on a write end
  REQUIRE(wait(k, ep) == Evs{{EPOLLOUT, static_cast<uint64_t>(p.wr)}});
  REQUIRE(wait(k, ep) == Evs{{EPOLLOUT, static_cast<uint64_t>(p.wr)}});
  REQUIRE(fill(k, p.wr) == kSlots);
  REQUIRE(wait(k, ep).empty());
  REQUIRE(take(k, p.rd, kPage - 1) == static_cast<ssize_t>(kPage - 1));
  REQUIRE(wait(k, ep).empty());  // one byte left in the first page: its slot is still taken
  REQUIRE(take(k, p.rd, 1) == 1);
  mod(k, ep, p.wr, EPOLLOUT | EPOLLWRNORM);
  REQUIRE(wait(k, ep) == Evs{{kOutNorm, static_cast<uint64_t>(p.wr)}});
}

BACKEND_TEST("pipe: ET write end fires only when a read frees a slot of a full pipe",
             "[pipe][epoll][et]") {
  TestType b;
  auto& k = b.k;
  Pipe p = make_pipe(k);
  int ep = make_ep(k);
  add(k, ep, p.wr, EPOLLOUT | EPOLLET);
  REQUIRE(wait(k, ep) == Evs{{EPOLLOUT, static_cast<uint64_t>(p.wr)}});  // ADD polls
  REQUIRE(put(k, p.wr, 10) == 10);
  REQUIRE(wait(k, ep).empty());  // writes never wake the write end
  REQUIRE(take(k, p.rd, 10) == 10);
  REQUIRE(wait(k, ep).empty());  // the pipe was not full: no wakeup
  REQUIRE(fill(k, p.wr) == kSlots);
  REQUIRE(wait(k, ep).empty());
  REQUIRE(take(k, p.rd, 100) == 100);
  REQUIRE(wait(k, ep).empty());  // less than a page: no slot freed
  REQUIRE(take(k, p.rd, kPage - 100) == static_cast<ssize_t>(kPage - 100));
  REQUIRE(wait(k, ep) == Evs{{EPOLLOUT, static_cast<uint64_t>(p.wr)}});
  REQUIRE(take(k, p.rd, kPage) == static_cast<ssize_t>(kPage));
  REQUIRE(wait(k, ep).empty());  // another slot, but the pipe was no longer full
}

BACKEND_TEST("pipe: ET write end fires once for a read that frees several slots",
             "[pipe][epoll][et]") {
  TestType b;
  auto& k = b.k;
  Pipe p = make_pipe(k);
  int ep = make_ep(k);
  add(k, ep, p.wr, EPOLLOUT | EPOLLET);
  REQUIRE(wait(k, ep) == Evs{{EPOLLOUT, static_cast<uint64_t>(p.wr)}});  // ADD polls
  REQUIRE(fill(k, p.wr) == kSlots);
  REQUIRE(wait(k, ep).empty());
  REQUIRE(take(k, p.rd, 3 * kPage) == static_cast<ssize_t>(3 * kPage));
  REQUIRE(wait(k, ep) == Evs{{EPOLLOUT, static_cast<uint64_t>(p.wr)}});
  REQUIRE(wait(k, ep).empty());
  REQUIRE(fill(k, p.wr) == 3);
  REQUIRE(take(k, p.rd, 1) == 1);
  REQUIRE(wait(k, ep).empty());
}

BACKEND_TEST("pipe: ONESHOT write end and MOD re-arm", "[pipe][epoll][oneshot]") {
  TestType b;
  auto& k = b.k;
  Pipe p = make_pipe(k);
  int ep = make_ep(k);
  add(k, ep, p.wr, EPOLLOUT | EPOLLONESHOT, 1);
  REQUIRE(wait(k, ep) == Evs{{EPOLLOUT, 1}});
  REQUIRE(wait(k, ep).empty());
  mod(k, ep, p.wr, EPOLLOUT | EPOLLONESHOT, 2);
  REQUIRE(wait(k, ep) == Evs{{EPOLLOUT, 2}});
  REQUIRE(fill(k, p.wr) == kSlots);
  mod(k, ep, p.wr, EPOLLOUT | EPOLLONESHOT, 3);
  REQUIRE(wait(k, ep).empty());  // armed, but full
  REQUIRE(take(k, p.rd, kPage) == static_cast<ssize_t>(kPage));
  REQUIRE(wait(k, ep) == Evs{{EPOLLOUT, 3}});
  REQUIRE(take(k, p.rd, kPage) == static_cast<ssize_t>(kPage));
  REQUIRE(wait(k, ep).empty());
}

BACKEND_TEST("pipe: ready-list order follows the wakeups: write end from ADD, then read end",
             "[pipe][epoll]") {
  TestType b;
  auto& k = b.k;
  Pipe p = make_pipe(k);
  int ep = make_ep(k);
  add(k, ep, p.wr, EPOLLOUT);
  add(k, ep, p.rd, EPOLLIN);
  REQUIRE(put(k, p.wr, 1) == 1);
  REQUIRE(wait(k, ep) ==
          Evs{{EPOLLOUT, static_cast<uint64_t>(p.wr)}, {EPOLLIN, static_cast<uint64_t>(p.rd)}});
  REQUIRE(wait(k, ep, 1) == Evs{{EPOLLOUT, static_cast<uint64_t>(p.wr)}});  // LT round robin
  REQUIRE(wait(k, ep, 1) == Evs{{EPOLLIN, static_cast<uint64_t>(p.rd)}});
}

// --- hangups ------------------------------------------------------------------------------------

BACKEND_TEST("pipe: last writer closed: IN|HUP while data is left, then HUP alone",
             "[pipe][epoll][hup]") {
  TestType b;
  auto& k = b.k;
  Pipe p = make_pipe(k);
  int ep = make_ep(k);
  add(k, ep, p.rd, EPOLLIN);
  REQUIRE(put(k, p.wr, 3) == 3);
  REQUIRE(k.close(p.wr) == 0);
  REQUIRE(wait(k, ep) == Evs{{EPOLLIN | EPOLLHUP, static_cast<uint64_t>(p.rd)}});
  REQUIRE(take(k, p.rd, 10) == 3);
  REQUIRE(wait(k, ep) == Evs{{EPOLLHUP, static_cast<uint64_t>(p.rd)}});
  REQUIRE(wait(k, ep) == Evs{{EPOLLHUP, static_cast<uint64_t>(p.rd)}});  // LT: for ever
  REQUIRE(take(k, p.rd, 10) == 0);
}

BACKEND_TEST("pipe: ET read end fires again for HUP after IN was reported",
             "[pipe][epoll][et][hup]") {
  TestType b;
  auto& k = b.k;
  Pipe p = make_pipe(k);
  int ep = make_ep(k);
  add(k, ep, p.rd, EPOLLIN | EPOLLET);
  REQUIRE(put(k, p.wr, 3) == 3);
  REQUIRE(wait(k, ep) == Evs{{EPOLLIN, static_cast<uint64_t>(p.rd)}});
  REQUIRE(k.close(p.wr) == 0);
  REQUIRE(wait(k, ep) == Evs{{EPOLLIN | EPOLLHUP, static_cast<uint64_t>(p.rd)}});
  REQUIRE(wait(k, ep).empty());
  REQUIRE(take(k, p.rd, 10) == 3);
  REQUIRE(wait(k, ep).empty());  // reads never wake the read end
}

BACKEND_TEST("pipe: HUP and ERR are reported even with an empty event mask", "[pipe][epoll][hup]") {
  TestType b;
  auto& k = b.k;
  Pipe p = make_pipe(k);
  Pipe q = make_pipe(k);
  int ep = make_ep(k);
  add(k, ep, p.rd, 0);
  add(k, ep, q.wr, 0);
  REQUIRE(put(k, p.wr, 1) == 1);
  REQUIRE(wait(k, ep).empty());
  REQUIRE(k.close(p.wr) == 0);
  REQUIRE(k.close(q.rd) == 0);
  REQUIRE(wait(k, ep) ==
          Evs{{EPOLLHUP, static_cast<uint64_t>(p.rd)}, {EPOLLERR, static_cast<uint64_t>(q.wr)}});
}

BACKEND_TEST("pipe: RDHUP is never reported for a pipe", "[pipe][epoll][hup]") {
  TestType b;
  auto& k = b.k;
  Pipe p = make_pipe(k);
  int ep = make_ep(k);
  add(k, ep, p.rd, EPOLLIN | EPOLLRDHUP | EPOLLRDNORM);
  REQUIRE(k.close(p.wr) == 0);
  REQUIRE(wait(k, ep) == Evs{{EPOLLHUP, static_cast<uint64_t>(p.rd)}});
}

BACKEND_TEST("pipe: closing a dup of the write end is no hangup, closing the last one is",
             "[pipe][epoll][hup]") {
  TestType b;
  auto& k = b.k;
  Pipe p = make_pipe(k);
  int ep = make_ep(k);
  add(k, ep, p.rd, EPOLLIN | EPOLLET);
  int w2 = k.dup(p.wr);
  REQUIRE(w2 >= 0);
  REQUIRE(k.close(p.wr) == 0);
  REQUIRE(wait(k, ep).empty());
  REQUIRE_ERRNO(take(k, p.rd, 1), EAGAIN);  // a writer is still there
  REQUIRE(put(k, w2, 1) == 1);
  REQUIRE(wait(k, ep) == Evs{{EPOLLIN, static_cast<uint64_t>(p.rd)}});
  REQUIRE(k.close(w2) == 0);
  REQUIRE(wait(k, ep) == Evs{{EPOLLIN | EPOLLHUP, static_cast<uint64_t>(p.rd)}});
}

BACKEND_TEST("pipe: last reader closed: the write end reports OUT|ERR and writes fail EPIPE",
             "[pipe][epoll][hup]") {
  TestType b;
  auto& k = b.k;
  Pipe p = make_pipe(k);
  int ep = make_ep(k);
  add(k, ep, p.wr, EPOLLOUT | EPOLLET);
  REQUIRE(wait(k, ep) == Evs{{EPOLLOUT, static_cast<uint64_t>(p.wr)}});
  REQUIRE(k.close(p.rd) == 0);  // ET fires although OUT did not change
  REQUIRE(wait(k, ep) == Evs{{EPOLLOUT | EPOLLERR, static_cast<uint64_t>(p.wr)}});
  REQUIRE(wait(k, ep).empty());
  REQUIRE_ERRNO(put(k, p.wr, 1), EPIPE);
  REQUIRE(wait(k, ep).empty());
}

BACKEND_TEST("pipe: last reader closed on a full pipe: ERR without OUT", "[pipe][epoll][hup]") {
  TestType b;
  auto& k = b.k;
  Pipe p = make_pipe(k);
  int ep = make_ep(k);
  REQUIRE(fill(k, p.wr) == kSlots);
  add(k, ep, p.wr, EPOLLOUT | EPOLLWRNORM);
  REQUIRE(wait(k, ep).empty());
  REQUIRE(k.close(p.rd) == 0);
  REQUIRE(wait(k, ep) == Evs{{EPOLLERR, static_cast<uint64_t>(p.wr)}});
  REQUIRE(fionread(k, p.wr) == kSlots * static_cast<int>(kPage));  // the data stays
  REQUIRE_ERRNO(put(k, p.wr, 1), EPIPE);  // EPIPE comes before EAGAIN
}

BACKEND_TEST("pipe: closing one of two fds of the read end is no hangup for the writer",
             "[pipe][epoll][hup]") {
  TestType b;
  auto& k = b.k;
  Pipe p = make_pipe(k);
  int ep = make_ep(k);
  int r2 = k.dup(p.rd);
  REQUIRE(r2 >= 0);
  add(k, ep, r2, EPOLLIN | EPOLLET);
  add(k, ep, p.wr, EPOLLOUT | EPOLLET);
  REQUIRE(wait(k, ep) == Evs{{EPOLLOUT, static_cast<uint64_t>(p.wr)}});
  REQUIRE(k.close(p.rd) == 0);  // r2 still holds the description: no release, no wakeup
  REQUIRE(wait(k, ep).empty());
  REQUIRE(k.close(r2) == 0);  // the description goes, and its epoll item with it
  REQUIRE(wait(k, ep) == Evs{{EPOLLOUT | EPOLLERR, static_cast<uint64_t>(p.wr)}});
}

// --- simulation only: blocking calls that can never complete -----------------------------------

TEST_CASE("pipe: blocking read of an empty pipe with a writer open is a deadlock",
          "[pipe][sim]") {
  SimKernel k;
  int p[2];
  REQUIRE(k.pipe2(p, 0) == 0);
  char c;
  REQUIRE_THROWS_AS(k.read(p[0], &c, 1), Deadlock);
  REQUIRE(k.close(p[1]) == 0);
  REQUIRE(k.read(p[0], &c, 1) == 0);  // with the writer gone it is EOF instead
}

TEST_CASE("pipe: blocking write to a full pipe with a reader open is a deadlock",
          "[pipe][sim]") {
  SimKernel k;
  int p[2];
  REQUIRE(k.pipe2(p, 0) == 0);
  std::string big(70000, 'x');
  REQUIRE_THROWS_AS(k.write(p[1], big.data(), big.size()), Deadlock);
  int n = 0;
  REQUIRE(k.ioctl(p[0], FIONREAD, &n) == 0);
  REQUIRE(n == kSlots * static_cast<int>(kPage));  // what fitted before the wait stays
  REQUIRE_THROWS_AS(k.write(p[1], big.data(), 1), Deadlock);
}

TEST_CASE("pipe: pipe2 reserves both fds first: EMFILE before EFAULT, nothing leaked",
          "[pipe][sim]") {
  SimOptions o;
  o.nofile = 4;  // 0-2 are stdio: one free fd, a pipe needs two
  SimKernel k(o);
  int p[2] = {-1, -1};
  REQUIRE_ERRNO(k.pipe2(p, 0), EMFILE);
  REQUIRE_ERRNO(k.pipe2(nullptr, 0), EMFILE);
  REQUIRE_ERRNO(k.pipe2(nullptr, O_RDWR), EINVAL);  // flags come first of all
  REQUIRE(k.dup(0) == 3);
}

TEST_CASE("pipe: O_NOTIFICATION_PIPE is ENOPKG (CONFIG_WATCH_QUEUE off, as on the oracle)",
          "[pipe][sim]") {
  SimKernel k;
  int p[2];
  REQUIRE_ERRNO(k.pipe2(p, O_EXCL), ENOPKG);
}

}  // namespace edgecase::conformance
