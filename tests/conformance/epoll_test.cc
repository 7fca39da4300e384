// epoll itself (fs/eventpoll.c): the interest set and its lifetime, the stored mask, the ready
// list, ET/LT/ONESHOT/EXCLUSIVE, nesting. Targets are eventfds and pipes (their wakeups are the
// simplest: an eventfd write wakes EPOLLIN, a read EPOLLOUT), socketpairs only for RDHUP.
// Every case runs on both backends; the live kernel is the oracle.
#include <algorithm>
#include <array>
#include <climits>
#include <csignal>
#include <fcntl.h>
#include <sys/eventfd.h>

#include "tests/conformance/backend.h"

namespace edgecase::conformance {
namespace {

constexpr uint32_t kErrHup = EPOLLERR | EPOLLHUP;

int make_ep(Kernel& k) {
  int ep = k.epoll_create1(EPOLL_CLOEXEC);
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

uint64_t efd_read(Kernel& k, int fd) {
  uint64_t v = 0;
  REQUIRE(k.read(fd, &v, sizeof v) == 8);
  return v;
}

struct Pipe {
  int rd, wr;
};
Pipe make_pipe(Kernel& k) {
  int p[2];
  INFO("pipe2 errno " << errno);
  REQUIRE(k.pipe2(p, O_NONBLOCK | O_CLOEXEC) == 0);
  return {p[0], p[1]};
}

int ctl(Kernel& k, int ep, int op, int fd, uint32_t events, uint64_t data = 0) {
  epoll_event ev{};
  ev.events = events;
  ev.data.u64 = data;
  return k.epoll_ctl(ep, op, fd, &ev);
}

template <typename B>
std::vector<Interest> interests(B& b, int ep) {
  auto set = b.inspect().interest_set(ep);
  REQUIRE(set.has_value());
  return *set;
}

}  // namespace

// --- 1-4: the interest set is keyed by (open file description, fd) -------------------------

BACKEND_TEST("epoll: one description under two dup'd fds is two items, both report", "[epoll][interest]") {
  TestType b;
  auto& k = b.k;
  int ep = make_ep(k);
  int e = make_efd(k);
  int d = k.dup(e);
  REQUIRE(d >= 0);
  add(k, ep, e, EPOLLIN, 1);
  add(k, ep, d, EPOLLIN, 2);
  REQUIRE(interests(b, ep) ==
          std::vector<Interest>{{e, EPOLLIN | kErrHup, 1}, {d, EPOLLIN | kErrHup, 2}});
  efd_write(k, e);
  // One wakeup runs the wait queue newest entry first, so d's item is queued first.
  REQUIRE(wait(k, ep) == std::vector<Ev>{{EPOLLIN, 2}, {EPOLLIN, 1}});
}

BACKEND_TEST("epoll: ADD of a registered key is EEXIST, MOD and DEL of a missing one ENOENT", "[epoll][interest]") {
  TestType b;
  auto& k = b.k;
  int ep = make_ep(k);
  int e = make_efd(k);
  REQUIRE_ERRNO(ctl(k, ep, EPOLL_CTL_MOD, e, EPOLLIN), ENOENT);
  REQUIRE_ERRNO(k.epoll_ctl(ep, EPOLL_CTL_DEL, e, nullptr), ENOENT);
  add(k, ep, e, EPOLLIN, 1);
  REQUIRE_ERRNO(ctl(k, ep, EPOLL_CTL_ADD, e, EPOLLOUT, 9), EEXIST);
  REQUIRE(interests(b, ep) == std::vector<Interest>{{e, EPOLLIN | kErrHup, 1}});
  REQUIRE(k.epoll_ctl(ep, EPOLL_CTL_DEL, e, nullptr) == 0);
  REQUIRE(interests(b, ep).empty());
  REQUIRE_ERRNO(k.epoll_ctl(ep, EPOLL_CTL_DEL, e, nullptr), ENOENT);
  add(k, ep, e, EPOLLOUT, 3);  // a deleted key can be added again
  REQUIRE(wait(k, ep) == std::vector<Ev>{{EPOLLOUT, 3}});
}

BACKEND_TEST("epoll: a registration outlives close of one dup and keeps its data", "[epoll][interest]") {
  TestType b;
  auto& k = b.k;
  int ep = make_ep(k);
  int e = make_efd(k);
  int d = k.dup(e);
  REQUIRE(d > e);
  add(k, ep, e, EPOLLIN | EPOLLET, 7);
  REQUIRE(k.close(e) == 0);
  REQUIRE(interests(b, ep) == std::vector<Interest>{{e, EPOLLIN | EPOLLET | kErrHup, 7}});
  efd_write(k, d);
  REQUIRE(wait(k, ep) == std::vector<Ev>{{EPOLLIN, 7}});
  efd_write(k, d);
  REQUIRE(wait(k, ep) == std::vector<Ev>{{EPOLLIN, 7}});
  // The item cannot be named any more: its fd number is closed...
  REQUIRE_ERRNO(k.epoll_ctl(ep, EPOLL_CTL_DEL, e, nullptr), EBADF);
  REQUIRE_ERRNO(ctl(k, ep, EPOLL_CTL_MOD, e, EPOLLIN), EBADF);
  // ...or, once reused, names another description.
  int e2 = make_efd(k);
  REQUIRE(e2 == e);
  REQUIRE_ERRNO(k.epoll_ctl(ep, EPOLL_CTL_DEL, e2, nullptr), ENOENT);
  add(k, ep, e2, EPOLLOUT, 8);
  REQUIRE(interests(b, ep) == std::vector<Interest>{{e, EPOLLOUT | kErrHup, 8},
                                                    {e, EPOLLIN | EPOLLET | kErrHup, 7}});
  REQUIRE(wait(k, ep) == std::vector<Ev>{{EPOLLOUT, 8}});
}

BACKEND_TEST("epoll: closing the last reference removes the item", "[epoll][interest]") {
  TestType b;
  auto& k = b.k;
  int ep = make_ep(k);
  int e = make_efd(k);
  int d = k.dup(e);
  int other = make_efd(k);
  add(k, ep, e, EPOLLIN, 1);
  add(k, ep, other, EPOLLIN, 2);
  efd_write(k, e);
  REQUIRE(k.close(e) == 0);
  REQUIRE(interests(b, ep).size() == 2);
  REQUIRE(k.close(d) == 0);  // the description is gone, and its queued item with it
  REQUIRE(interests(b, ep) == std::vector<Interest>{{other, EPOLLIN | kErrHup, 2}});
  REQUIRE(wait(k, ep).empty());
}

BACKEND_TEST("epoll: dup2 over a registered fd drops the item when it was the last reference", "[epoll][interest]") {
  TestType b;
  auto& k = b.k;
  int ep = make_ep(k);
  int e = make_efd(k);
  int f = make_efd(k, 5);
  add(k, ep, e, EPOLLIN, 1);
  REQUIRE(k.dup2(f, e) == e);  // e's old description had one reference: released
  REQUIRE(interests(b, ep).empty());
  REQUIRE(wait(k, ep).empty());
  add(k, ep, e, EPOLLIN, 2);  // now names f's description, which is readable
  REQUIRE(wait(k, ep) == std::vector<Ev>{{EPOLLIN, 2}});
}

BACKEND_TEST("epoll: dup2 over a registered fd whose description lives on keeps the item", "[epoll][interest]") {
  TestType b;
  auto& k = b.k;
  int ep = make_ep(k);
  int e = make_efd(k);
  int d = k.dup(e);
  int f = make_efd(k);
  add(k, ep, e, EPOLLIN, 1);
  REQUIRE(k.dup2(f, e) == e);  // the number now names f; the item still names e's description
  REQUIRE(interests(b, ep) == std::vector<Interest>{{e, EPOLLIN | kErrHup, 1}});
  REQUIRE_ERRNO(k.epoll_ctl(ep, EPOLL_CTL_DEL, e, nullptr), ENOENT);
  efd_write(k, d);
  REQUIRE(wait(k, ep) == std::vector<Ev>{{EPOLLIN, 1}});
  efd_write(k, e);  // f: not registered
  REQUIRE(efd_read(k, d) == 1);
  REQUIRE(wait(k, ep).empty());
}

BACKEND_TEST("epoll: DEL of a queued item takes it off the ready list", "[epoll][interest][ready]") {
  TestType b;
  auto& k = b.k;
  int ep = make_ep(k);
  int e = make_efd(k, 1);
  int f = make_efd(k, 1);
  add(k, ep, e, EPOLLIN, 1);
  add(k, ep, f, EPOLLIN, 2);
  REQUIRE(k.epoll_ctl(ep, EPOLL_CTL_DEL, e, nullptr) == 0);
  REQUIRE(wait(k, ep) == std::vector<Ev>{{EPOLLIN, 2}});
  add(k, ep, e, EPOLLIN, 3);  // re-added: queued anew, at the tail
  REQUIRE(wait(k, ep) == std::vector<Ev>{{EPOLLIN, 2}, {EPOLLIN, 3}});
}

BACKEND_TEST("epoll: closing the epoll fd frees its items, the targets live on", "[epoll][interest]") {
  TestType b;
  auto& k = b.k;
  int ep = make_ep(k);
  int ep2 = make_ep(k);
  int e = make_efd(k, 1);
  add(k, ep, e, EPOLLIN, 1);
  add(k, ep2, e, EPOLLIN, 2);
  REQUIRE(k.close(ep) == 0);
  REQUIRE(efd_read(k, e) == 1);  // the target is untouched
  efd_write(k, e);
  REQUIRE(wait(k, ep2) == std::vector<Ev>{{EPOLLIN, 2}});
  int ep3 = make_ep(k);
  REQUIRE(ep3 == ep);  // the number is reused by a fresh, empty instance
  REQUIRE(interests(b, ep3).empty());
  REQUIRE(wait(k, ep3).empty());
}

BACKEND_TEST("epoll: closing a nested epoll removes it from its parent", "[epoll][interest][nested]") {
  TestType b;
  auto& k = b.k;
  int outer = make_ep(k);
  int inner = make_ep(k);
  int e = make_efd(k, 1);
  add(k, inner, e, EPOLLIN, 1);
  add(k, outer, inner, EPOLLIN, 2);
  REQUIRE(wait(k, outer) == std::vector<Ev>{{EPOLLIN, 2}});
  REQUIRE(k.close(inner) == 0);
  REQUIRE(interests(b, outer).empty());
  REQUIRE(wait(k, outer).empty());
}

// --- 5-6: the stored mask; ADD and MOD poll at once ------------------------------------------

BACKEND_TEST("epoll: ADD and MOD always add ERR|HUP to the stored mask", "[epoll][mask]") {
  TestType b;
  auto& k = b.k;
  int ep = make_ep(k);
  int e = make_efd(k);
  auto p = make_pipe(k);
  add(k, ep, e, 0, 1);
  add(k, ep, p.rd, EPOLLIN | EPOLLRDNORM | EPOLLPRI | EPOLLRDHUP, 2);
  REQUIRE(interests(b, ep) ==
          std::vector<Interest>{{e, kErrHup, 1},
                                {p.rd, EPOLLIN | EPOLLRDNORM | EPOLLPRI | EPOLLRDHUP | kErrHup, 2}});
  mod(k, ep, e, EPOLLOUT | EPOLLET, 3);
  mod(k, ep, p.rd, EPOLLERR, 4);
  REQUIRE(interests(b, ep) == std::vector<Interest>{{e, EPOLLOUT | EPOLLET | kErrHup, 3},
                                                    {p.rd, kErrHup, 4}});
}

BACKEND_TEST("epoll: HUP is reported on a pipe read end registered with mask 0", "[epoll][mask][pipe]") {
  TestType b;
  auto& k = b.k;
  int ep = make_ep(k);
  auto p = make_pipe(k);
  add(k, ep, p.rd, 0, 1);
  REQUIRE(write_str(k, p.wr, "x") == 1);
  REQUIRE(wait(k, ep).empty());  // IN is not requested
  REQUIRE(k.close(p.wr) == 0);
  REQUIRE(wait(k, ep) == std::vector<Ev>{{EPOLLHUP, 1}});
  REQUIRE(wait(k, ep) == std::vector<Ev>{{EPOLLHUP, 1}});  // level-triggered
}

BACKEND_TEST("epoll: ERR is reported on a pipe write end registered with mask 0", "[epoll][mask][pipe]") {
  TestType b;
  auto& k = b.k;
  int ep = make_ep(k);
  auto p = make_pipe(k);
  add(k, ep, p.wr, 0, 1);
  REQUIRE(wait(k, ep).empty());  // OUT is not requested
  REQUIRE(k.close(p.rd) == 0);
  REQUIRE(wait(k, ep) == std::vector<Ev>{{EPOLLERR, 1}});
}

BACKEND_TEST("epoll: reported bits are the poll result ANDed with the stored mask", "[epoll][mask][pipe]") {
  TestType b;
  auto& k = b.k;
  int ep = make_ep(k);
  auto p = make_pipe(k);
  int rd2 = k.dup(p.rd);
  int wr2 = k.dup(p.wr);
  add(k, ep, p.rd, EPOLLIN, 1);
  add(k, ep, rd2, EPOLLIN | EPOLLRDNORM | EPOLLOUT | EPOLLRDHUP | EPOLLPRI, 2);
  add(k, ep, p.wr, EPOLLOUT, 3);
  add(k, ep, wr2, EPOLLOUT | EPOLLWRNORM | EPOLLIN | EPOLLWRBAND, 4);
  REQUIRE(write_str(k, p.wr, "x") == 1);
  auto evs = wait(k, ep);
  std::sort(evs.begin(), evs.end(), [](const Ev& x, const Ev& y) { return x.data < y.data; });
  REQUIRE(evs == std::vector<Ev>{{EPOLLIN, 1},
                                 {EPOLLIN | EPOLLRDNORM, 2},
                                 {EPOLLOUT, 3},
                                 {EPOLLOUT | EPOLLWRNORM, 4}});
}

BACKEND_TEST("epoll: an eventfd polls IN and OUT only, never the NORM bits", "[epoll][mask][eventfd]") {
  TestType b;
  auto& k = b.k;
  int ep = make_ep(k);
  int e = make_efd(k, 1);
  add(k, ep, e, EPOLLIN | EPOLLOUT | EPOLLRDNORM | EPOLLWRNORM | EPOLLPRI | EPOLLRDHUP, 1);
  REQUIRE(wait(k, ep) == std::vector<Ev>{{EPOLLIN | EPOLLOUT, 1}});
}

BACKEND_TEST("epoll: ADD of a ready object queues it at once, even edge-triggered", "[epoll][ctl][et]") {
  TestType b;
  auto& k = b.k;
  int ep = make_ep(k);
  int e = make_efd(k, 1);
  int idle = make_efd(k);
  add(k, ep, idle, EPOLLIN | EPOLLET, 1);
  add(k, ep, e, EPOLLIN | EPOLLET, 2);
  REQUIRE(wait(k, ep) == std::vector<Ev>{{EPOLLIN, 2}});
  REQUIRE(wait(k, ep).empty());
}

BACKEND_TEST("epoll: MOD polls at once and so re-arms ET", "[epoll][ctl][et]") {
  TestType b;
  auto& k = b.k;
  int ep = make_ep(k);
  int e = make_efd(k);
  add(k, ep, e, EPOLLIN | EPOLLET, 1);
  REQUIRE(wait(k, ep).empty());
  efd_write(k, e);
  REQUIRE(wait(k, ep) == std::vector<Ev>{{EPOLLIN, 1}});
  REQUIRE(wait(k, ep).empty());
  mod(k, ep, e, EPOLLIN | EPOLLET, 2);  // still readable: queued again, with the new data
  REQUIRE(wait(k, ep) == std::vector<Ev>{{EPOLLIN, 2}});
  REQUIRE(wait(k, ep).empty());
  REQUIRE(efd_read(k, e) == 1);
  mod(k, ep, e, EPOLLIN | EPOLLET, 3);  // not readable: nothing queued
  REQUIRE(wait(k, ep).empty());
}

BACKEND_TEST("epoll: MOD of a queued item updates the data it reports", "[epoll][ctl]") {
  TestType b;
  auto& k = b.k;
  int ep = make_ep(k);
  int e = make_efd(k, 1);
  add(k, ep, e, EPOLLIN, 1);
  mod(k, ep, e, EPOLLIN, 2);
  REQUIRE(wait(k, ep) == std::vector<Ev>{{EPOLLIN, 2}});  // queued once, not twice
}

BACKEND_TEST("epoll: MOD of a queued item to a mask it does not meet drops it at collection", "[epoll][ctl][pipe]") {
  TestType b;
  auto& k = b.k;
  int ep = make_ep(k);
  auto p = make_pipe(k);
  REQUIRE(write_str(k, p.wr, "x") == 1);
  add(k, ep, p.rd, EPOLLIN, 1);  // queued: readable
  mod(k, ep, p.rd, EPOLLOUT, 2);  // a read end is never writable
  REQUIRE(wait(k, ep).empty());
  mod(k, ep, p.rd, EPOLLIN, 3);
  REQUIRE(wait(k, ep) == std::vector<Ev>{{EPOLLIN, 3}});
}

// --- 7-9: wakeups and the ready list ---------------------------------------------------------

BACKEND_TEST("epoll: a wakeup whose key is outside the mask is ignored", "[epoll][callback][et]") {
  TestType b;
  auto& k = b.k;
  int ep = make_ep(k);
  int e = make_efd(k);
  add(k, ep, e, EPOLLOUT | EPOLLET, 1);
  REQUIRE(wait(k, ep) == std::vector<Ev>{{EPOLLOUT, 1}});  // ADD polled it
  efd_write(k, e);  // wakes with EPOLLIN: not in the mask, although OUT still holds
  REQUIRE(wait(k, ep).empty());
  REQUIRE(efd_read(k, e) == 1);  // wakes with EPOLLOUT
  REQUIRE(wait(k, ep) == std::vector<Ev>{{EPOLLOUT, 1}});
}

BACKEND_TEST("epoll: ET fires on every write, not only on empty to non-empty", "[epoll][callback][et]") {
  TestType b;
  auto& k = b.k;
  int ep = make_ep(k);
  int e = make_efd(k);
  auto p = make_pipe(k);
  add(k, ep, e, EPOLLIN | EPOLLET, 1);
  add(k, ep, p.rd, EPOLLIN | EPOLLET, 2);
  for (int round = 0; round < 3; ++round) {
    efd_write(k, e);
    REQUIRE(write_str(k, p.wr, "ab") == 2);
    REQUIRE(wait(k, ep) == std::vector<Ev>{{EPOLLIN, 1}, {EPOLLIN, 2}});
    REQUIRE(wait(k, ep).empty());
  }
  REQUIRE(efd_read(k, e) == 3);
}

BACKEND_TEST("epoll: being queued is not being ready", "[epoll][ready]") {
  TestType b;
  auto& k = b.k;
  int ep = make_ep(k);
  int e = make_efd(k);
  int lt = make_efd(k);
  add(k, ep, e, EPOLLIN | EPOLLET, 1);
  add(k, ep, lt, EPOLLIN, 2);
  efd_write(k, e);
  efd_write(k, lt);
  REQUIRE(efd_read(k, e) == 1);
  REQUIRE(efd_read(k, lt) == 1);
  REQUIRE(wait(k, ep).empty());  // both were queued, both re-polled as 0, both dropped
  efd_write(k, lt);
  REQUIRE(wait(k, ep) == std::vector<Ev>{{EPOLLIN, 2}});
}

BACKEND_TEST("epoll: reported bits are the state at collection, not the waking key", "[epoll][ready][et]") {
  TestType b;
  auto& k = b.k;
  int ep = make_ep(k);
  int e = make_efd(k);
  add(k, ep, e, EPOLLIN | EPOLLOUT | EPOLLET, 1);
  REQUIRE(wait(k, ep) == std::vector<Ev>{{EPOLLOUT, 1}});
  efd_write(k, e);  // an EPOLLIN wakeup; OUT still holds and is reported with it
  REQUIRE(wait(k, ep) == std::vector<Ev>{{EPOLLIN | EPOLLOUT, 1}});
  REQUIRE(wait(k, ep).empty());
}

BACKEND_TEST("epoll: level-triggered items are reported while ready and dropped when not", "[epoll][ready][lt]") {
  TestType b;
  auto& k = b.k;
  int ep = make_ep(k);
  int e = make_efd(k);
  add(k, ep, e, EPOLLIN, 1);
  efd_write(k, e, 2);
  REQUIRE(wait(k, ep) == std::vector<Ev>{{EPOLLIN, 1}});
  REQUIRE(wait(k, ep) == std::vector<Ev>{{EPOLLIN, 1}});
  REQUIRE(efd_read(k, e) == 2);
  REQUIRE(wait(k, ep).empty());
  REQUIRE(wait(k, ep).empty());
}

BACKEND_TEST("epoll: maxevents leaves the items not reached at the head, in order", "[epoll][ready][et]") {
  TestType b;
  auto& k = b.k;
  int ep = make_ep(k);
  std::array<int, 3> e{make_efd(k, 1), make_efd(k, 1), make_efd(k, 1)};
  for (int i = 0; i < 3; ++i) add(k, ep, e[i], EPOLLIN | EPOLLET, 10 + i);
  REQUIRE(wait(k, ep, 2) == std::vector<Ev>{{EPOLLIN, 10}, {EPOLLIN, 11}});
  efd_write(k, e[0]);  // queued behind 12, which was not reached
  REQUIRE(wait(k, ep) == std::vector<Ev>{{EPOLLIN, 12}, {EPOLLIN, 10}});
  REQUIRE(wait(k, ep).empty());
}

BACKEND_TEST("epoll: ET items are not re-queued after a report", "[epoll][ready][et]") {
  TestType b;
  auto& k = b.k;
  int ep = make_ep(k);
  std::array<int, 3> e{make_efd(k, 1), make_efd(k, 1), make_efd(k, 1)};
  for (int i = 0; i < 3; ++i) add(k, ep, e[i], EPOLLIN | EPOLLET, 10 + i);
  REQUIRE(wait(k, ep, 1) == std::vector<Ev>{{EPOLLIN, 10}});
  REQUIRE(wait(k, ep, 1) == std::vector<Ev>{{EPOLLIN, 11}});
  REQUIRE(wait(k, ep, 1) == std::vector<Ev>{{EPOLLIN, 12}});
  REQUIRE(wait(k, ep, 1).empty());
}

BACKEND_TEST("epoll: LT items rotate round robin across calls", "[epoll][ready][lt]") {
  TestType b;
  auto& k = b.k;
  int ep = make_ep(k);
  std::array<int, 3> e{make_efd(k, 1), make_efd(k, 1), make_efd(k, 1)};
  for (int i = 0; i < 3; ++i) add(k, ep, e[i], EPOLLIN, 10 + i);
  for (int round = 0; round < 2; ++round) {
    REQUIRE(wait(k, ep, 1) == std::vector<Ev>{{EPOLLIN, 10}});
    REQUIRE(wait(k, ep, 1) == std::vector<Ev>{{EPOLLIN, 11}});
    REQUIRE(wait(k, ep, 1) == std::vector<Ev>{{EPOLLIN, 12}});
  }
  // Reported items go to the tail behind the one not reached.
  REQUIRE(wait(k, ep, 2) == std::vector<Ev>{{EPOLLIN, 10}, {EPOLLIN, 11}});
  REQUIRE(wait(k, ep, 2) == std::vector<Ev>{{EPOLLIN, 12}, {EPOLLIN, 10}});
  REQUIRE(efd_read(k, e[1]) == 1);  // 11 is queued but not ready: skipped, not counted
  REQUIRE(wait(k, ep, 2) == std::vector<Ev>{{EPOLLIN, 12}, {EPOLLIN, 10}});
}

BACKEND_TEST("epoll: a wakeup of an already queued item keeps its place", "[epoll][ready][et]") {
  TestType b;
  auto& k = b.k;
  int ep = make_ep(k);
  std::array<int, 3> e{make_efd(k), make_efd(k), make_efd(k)};
  for (int i = 0; i < 3; ++i) add(k, ep, e[i], EPOLLIN | EPOLLET, 10 + i);
  efd_write(k, e[1]);
  efd_write(k, e[0]);
  efd_write(k, e[2]);
  efd_write(k, e[1]);  // already queued: not moved to the tail
  REQUIRE(wait(k, ep) == std::vector<Ev>{{EPOLLIN, 11}, {EPOLLIN, 10}, {EPOLLIN, 12}});
}

// --- 11: ONESHOT -----------------------------------------------------------------------------

BACKEND_TEST("epoll: ONESHOT disarms after one report, MOD re-arms", "[epoll][oneshot]") {
  TestType b;
  auto& k = b.k;
  int ep = make_ep(k);
  int e = make_efd(k);
  add(k, ep, e, EPOLLIN | EPOLLONESHOT, 3);
  efd_write(k, e);
  REQUIRE(wait(k, ep) == std::vector<Ev>{{EPOLLIN, 3}});
  // Disarmed: only the private bits are left, and it stays registered.
  REQUIRE(interests(b, ep) == std::vector<Interest>{{e, EPOLLONESHOT, 3}});
  REQUIRE(wait(k, ep).empty());  // still readable, but not reported
  efd_write(k, e);               // a wakeup while disarmed is ignored
  REQUIRE(wait(k, ep).empty());
  REQUIRE_ERRNO(ctl(k, ep, EPOLL_CTL_ADD, e, EPOLLIN), EEXIST);
  mod(k, ep, e, EPOLLIN | EPOLLONESHOT, 4);
  REQUIRE(interests(b, ep) == std::vector<Interest>{{e, EPOLLIN | EPOLLONESHOT | kErrHup, 4}});
  REQUIRE(wait(k, ep) == std::vector<Ev>{{EPOLLIN, 4}});
  REQUIRE(wait(k, ep).empty());
}

BACKEND_TEST("epoll: ONESHOT disarms after a HUP too", "[epoll][oneshot][pipe]") {
  TestType b;
  auto& k = b.k;
  int ep = make_ep(k);
  auto p = make_pipe(k);
  add(k, ep, p.rd, EPOLLONESHOT | EPOLLET, 1);
  REQUIRE(k.close(p.wr) == 0);
  REQUIRE(wait(k, ep) == std::vector<Ev>{{EPOLLHUP, 1}});
  REQUIRE(interests(b, ep) == std::vector<Interest>{{p.rd, EPOLLONESHOT | EPOLLET, 1}});
  REQUIRE(wait(k, ep).empty());
  mod(k, ep, p.rd, EPOLLIN | EPOLLONESHOT, 2);
  REQUIRE(wait(k, ep) == std::vector<Ev>{{EPOLLHUP, 2}});
  REQUIRE(wait(k, ep).empty());
}

BACKEND_TEST("epoll: a disarmed ONESHOT item can still be deleted and re-added", "[epoll][oneshot]") {
  TestType b;
  auto& k = b.k;
  int ep = make_ep(k);
  int e = make_efd(k, 1);
  add(k, ep, e, EPOLLIN | EPOLLONESHOT, 1);
  REQUIRE(wait(k, ep) == std::vector<Ev>{{EPOLLIN, 1}});
  REQUIRE(k.epoll_ctl(ep, EPOLL_CTL_DEL, e, nullptr) == 0);
  REQUIRE(interests(b, ep).empty());
  add(k, ep, e, EPOLLIN, 2);
  REQUIRE(wait(k, ep) == std::vector<Ev>{{EPOLLIN, 2}});
  REQUIRE(wait(k, ep) == std::vector<Ev>{{EPOLLIN, 2}});
}

BACKEND_TEST("epoll: a ONESHOT item not reached by maxevents stays armed", "[epoll][oneshot]") {
  TestType b;
  auto& k = b.k;
  int ep = make_ep(k);
  int e1 = make_efd(k, 1);
  int e2 = make_efd(k, 1);
  add(k, ep, e1, EPOLLIN | EPOLLONESHOT, 1);
  add(k, ep, e2, EPOLLIN | EPOLLONESHOT, 2);
  REQUIRE(wait(k, ep, 1) == std::vector<Ev>{{EPOLLIN, 1}});
  REQUIRE(interests(b, ep) == std::vector<Interest>{{e1, EPOLLONESHOT, 1},
                                                    {e2, EPOLLIN | EPOLLONESHOT | kErrHup, 2}});
  REQUIRE(wait(k, ep) == std::vector<Ev>{{EPOLLIN, 2}});
  REQUIRE(wait(k, ep).empty());
}

// --- 12: EXCLUSIVE ---------------------------------------------------------------------------

BACKEND_TEST("epoll: EXCLUSIVE is accepted with IN, OUT, ERR, HUP, WAKEUP and ET", "[epoll][exclusive]") {
  TestType b;
  auto& k = b.k;
  int ep = make_ep(k);
  int e = make_efd(k);
  const uint32_t wakeup = sim_options().cap_block_suspend ? uint32_t{EPOLLWAKEUP} : 0;
  add(k, ep, e, EPOLLIN | EPOLLOUT | kErrHup | EPOLLWAKEUP | EPOLLET | EPOLLEXCLUSIVE, 1);
  REQUIRE(interests(b, ep) ==
          std::vector<Interest>{
              {e, EPOLLIN | EPOLLOUT | kErrHup | EPOLLET | EPOLLEXCLUSIVE | wakeup, 1}});
  REQUIRE(wait(k, ep) == std::vector<Ev>{{EPOLLOUT, 1}});
  efd_write(k, e);
  REQUIRE(wait(k, ep) == std::vector<Ev>{{EPOLLIN | EPOLLOUT, 1}});
}

BACKEND_TEST("epoll: EXCLUSIVE with ONESHOT, RDHUP, PRI or a NORM bit is EINVAL", "[epoll][exclusive][errno]") {
  TestType b;
  auto& k = b.k;
  int ep = make_ep(k);
  int e = make_efd(k);
  for (uint32_t extra : {uint32_t{EPOLLONESHOT}, uint32_t{EPOLLRDHUP}, uint32_t{EPOLLPRI},
                         uint32_t{EPOLLRDNORM}, uint32_t{EPOLLWRNORM}, uint32_t{EPOLLMSG}}) {
    INFO("extra " << mask_name(extra));
    REQUIRE_ERRNO(ctl(k, ep, EPOLL_CTL_ADD, e, EPOLLIN | EPOLLEXCLUSIVE | extra), EINVAL);
  }
  REQUIRE(interests(b, ep).empty());
  add(k, ep, e, EPOLLEXCLUSIVE, 1);  // alone it is fine
  REQUIRE(interests(b, ep) == std::vector<Interest>{{e, kErrHup | EPOLLEXCLUSIVE, 1}});
}

BACKEND_TEST("epoll: EXCLUSIVE is ADD only: MOD with it, or of an item added with it, is EINVAL", "[epoll][exclusive][errno]") {
  TestType b;
  auto& k = b.k;
  int ep = make_ep(k);
  int e = make_efd(k);
  int plain = make_efd(k);
  // Checked before the lookup: EINVAL even for an fd that is not registered.
  REQUIRE_ERRNO(ctl(k, ep, EPOLL_CTL_MOD, e, EPOLLIN | EPOLLEXCLUSIVE), EINVAL);
  add(k, ep, plain, EPOLLIN, 1);
  REQUIRE_ERRNO(ctl(k, ep, EPOLL_CTL_MOD, plain, EPOLLIN | EPOLLEXCLUSIVE), EINVAL);
  add(k, ep, e, EPOLLIN | EPOLLEXCLUSIVE, 2);
  REQUIRE_ERRNO(ctl(k, ep, EPOLL_CTL_MOD, e, EPOLLIN), EINVAL);
  REQUIRE_ERRNO(ctl(k, ep, EPOLL_CTL_MOD, e, EPOLLOUT), EINVAL);
  REQUIRE(interests(b, ep) == std::vector<Interest>{{e, EPOLLIN | kErrHup | EPOLLEXCLUSIVE, 2},
                                                    {plain, EPOLLIN | kErrHup, 1}});
  REQUIRE(k.epoll_ctl(ep, EPOLL_CTL_DEL, e, nullptr) == 0);
  add(k, ep, e, EPOLLOUT, 3);
  mod(k, ep, e, EPOLLIN, 4);
}

BACKEND_TEST("epoll: EXCLUSIVE on an epoll target is EINVAL", "[epoll][exclusive][errno][nested]") {
  TestType b;
  auto& k = b.k;
  int outer = make_ep(k);
  int inner = make_ep(k);
  REQUIRE_ERRNO(ctl(k, outer, EPOLL_CTL_ADD, inner, EPOLLIN | EPOLLEXCLUSIVE), EINVAL);
  add(k, outer, inner, EPOLLIN, 1);
}

BACKEND_TEST("epoll: two epolls with EXCLUSIVE on one eventfd both report when nobody sleeps", "[epoll][exclusive]") {
  TestType b;
  auto& k = b.k;
  int ep1 = make_ep(k);
  int ep2 = make_ep(k);
  int ep3 = make_ep(k);
  int e = make_efd(k);
  add(k, ep1, e, EPOLLIN | EPOLLEXCLUSIVE, 1);
  add(k, ep2, e, EPOLLIN | EPOLLEXCLUSIVE, 2);
  add(k, ep3, e, EPOLLIN, 3);
  // Wake-one stops only at an exclusive entry that woke a sleeper; there is none here.
  efd_write(k, e);
  REQUIRE(wait(k, ep1) == std::vector<Ev>{{EPOLLIN, 1}});
  REQUIRE(wait(k, ep2) == std::vector<Ev>{{EPOLLIN, 2}});
  REQUIRE(wait(k, ep3) == std::vector<Ev>{{EPOLLIN, 3}});
  REQUIRE(wait(k, ep1) == std::vector<Ev>{{EPOLLIN, 1}});  // level-triggered as usual
}

BACKEND_TEST("epoll: EXCLUSIVE items wait at the tail of the target's queue, in ADD order", "[epoll][exclusive][interest]") {
  TestType b;
  auto& k = b.k;
  int ep = make_ep(k);
  int e = make_efd(k);
  std::array<int, 4> fd{e, k.dup(e), k.dup(e), k.dup(e)};
  // Normal entries go to the head (newest woken first), exclusive ones to the tail (oldest
  // first); one wakeup queues the items in that order.
  add(k, ep, fd[0], EPOLLIN | EPOLLEXCLUSIVE, 0);
  add(k, ep, fd[1], EPOLLIN, 1);
  add(k, ep, fd[2], EPOLLIN | EPOLLEXCLUSIVE, 2);
  add(k, ep, fd[3], EPOLLIN, 3);
  efd_write(k, e);
  REQUIRE(wait(k, ep) ==
          std::vector<Ev>{{EPOLLIN, 3}, {EPOLLIN, 1}, {EPOLLIN, 0}, {EPOLLIN, 2}});
}

// --- 13-14: WAKEUP and RDHUP -----------------------------------------------------------------

BACKEND_TEST("epoll: EPOLLWAKEUP is never an error, kept only with the capability", "[epoll][wakeup]") {
  TestType b;
  auto& k = b.k;
  int ep = make_ep(k);
  int e = make_efd(k, 1);
  // The live kernel clears it without CAP_BLOCK_SUSPEND, and always when built without
  // CONFIG_PM_SLEEP; sim_options() asks the live kernel which applies to this process.
  const uint32_t wakeup = sim_options().cap_block_suspend ? uint32_t{EPOLLWAKEUP} : 0;
  add(k, ep, e, EPOLLIN | EPOLLWAKEUP, 1);
  REQUIRE(interests(b, ep) == std::vector<Interest>{{e, EPOLLIN | kErrHup | wakeup, 1}});
  mod(k, ep, e, EPOLLOUT | EPOLLWAKEUP | EPOLLET, 2);
  REQUIRE(interests(b, ep) ==
          std::vector<Interest>{{e, EPOLLOUT | kErrHup | EPOLLET | wakeup, 2}});
  REQUIRE(wait(k, ep) == std::vector<Ev>{{EPOLLOUT, 2}});  // never reported as an event
}

BACKEND_TEST("epoll: RDHUP is never reported on a pipe", "[epoll][rdhup][pipe]") {
  TestType b;
  auto& k = b.k;
  int ep = make_ep(k);
  auto p = make_pipe(k);
  add(k, ep, p.rd, EPOLLIN | EPOLLRDHUP, 1);
  REQUIRE(write_str(k, p.wr, "x") == 1);
  REQUIRE(k.close(p.wr) == 0);
  REQUIRE(wait(k, ep) == std::vector<Ev>{{EPOLLIN | EPOLLHUP, 1}});
  REQUIRE(read_n(k, p.rd, 4) == "x");
  REQUIRE(wait(k, ep) == std::vector<Ev>{{EPOLLHUP, 1}});
}

BACKEND_TEST("epoll: RDHUP is reported on a socket only when requested", "[epoll][rdhup][unix]") {
  TestType b;
  auto& k = b.k;
  int ep = make_ep(k);
  int sv[2];
  REQUIRE(k.socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) == 0);
  int dup0 = k.dup(sv[0]);
  add(k, ep, sv[0], EPOLLIN, 1);
  add(k, ep, dup0, EPOLLIN | EPOLLRDHUP, 2);
  REQUIRE(k.shutdown(sv[1], SHUT_WR) == 0);
  auto evs = wait(k, ep);
  std::sort(evs.begin(), evs.end(), [](const Ev& x, const Ev& y) { return x.data < y.data; });
  REQUIRE(evs == std::vector<Ev>{{EPOLLIN, 1}, {EPOLLIN | EPOLLRDHUP, 2}});
}

// --- 15-16: nested epoll ---------------------------------------------------------------------

BACKEND_TEST("epoll: an epoll with a ready item polls as IN|RDNORM", "[epoll][nested]") {
  TestType b;
  auto& k = b.k;
  int outer = make_ep(k);
  int inner = make_ep(k);
  int inner2 = k.dup(inner);
  int e = make_efd(k);
  add(k, inner, e, EPOLLIN, 1);
  add(k, outer, inner, EPOLLIN, 2);
  add(k, outer, inner2, EPOLLIN | EPOLLOUT | EPOLLRDNORM | EPOLLPRI | EPOLLRDHUP, 3);
  REQUIRE(wait(k, outer).empty());
  efd_write(k, e);
  auto evs = wait(k, outer);
  std::sort(evs.begin(), evs.end(), [](const Ev& x, const Ev& y) { return x.data < y.data; });
  REQUIRE(evs == std::vector<Ev>{{EPOLLIN, 2}, {EPOLLIN | EPOLLRDNORM, 3}});
}

BACKEND_TEST("epoll: polling the outer epoll does not consume the inner's ET or ONESHOT state", "[epoll][nested][et]") {
  TestType b;
  auto& k = b.k;
  int outer = make_ep(k);
  int inner = make_ep(k);
  int et = make_efd(k);
  int once = make_efd(k);
  add(k, inner, et, EPOLLIN | EPOLLET, 1);
  add(k, inner, once, EPOLLIN | EPOLLONESHOT, 2);
  add(k, outer, inner, EPOLLIN, 9);
  efd_write(k, et);
  efd_write(k, once);
  for (int i = 0; i < 3; ++i) REQUIRE(wait(k, outer) == std::vector<Ev>{{EPOLLIN, 9}});
  REQUIRE(wait(k, inner) == std::vector<Ev>{{EPOLLIN, 1}, {EPOLLIN, 2}});
  REQUIRE(wait(k, outer).empty());  // the inner list is empty now
  REQUIRE(wait(k, inner).empty());
}

BACKEND_TEST("epoll: every inner callback wakes the outer, so an ET outer re-fires", "[epoll][nested][et]") {
  TestType b;
  auto& k = b.k;
  int outer = make_ep(k);
  int inner = make_ep(k);
  int e = make_efd(k);
  add(k, inner, e, EPOLLIN, 1);
  add(k, outer, inner, EPOLLIN | EPOLLET, 9);
  REQUIRE(wait(k, outer).empty());
  efd_write(k, e);
  REQUIRE(wait(k, outer) == std::vector<Ev>{{EPOLLIN, 9}});
  REQUIRE(wait(k, outer).empty());
  efd_write(k, e);  // the inner item is already queued; the callback still wakes the outer
  REQUIRE(wait(k, outer) == std::vector<Ev>{{EPOLLIN, 9}});
  REQUIRE(wait(k, outer).empty());
  REQUIRE(wait(k, inner) == std::vector<Ev>{{EPOLLIN, 1}});  // LT inner, re-queued at the tail
  REQUIRE(wait(k, outer).empty());  // collecting on the inner wakes no parent
}

BACKEND_TEST("epoll: an inner item queued but no longer ready makes the outer report nothing", "[epoll][nested]") {
  TestType b;
  auto& k = b.k;
  int outer = make_ep(k);
  int inner = make_ep(k);
  int e = make_efd(k);
  add(k, inner, e, EPOLLIN, 1);
  add(k, outer, inner, EPOLLIN, 9);
  efd_write(k, e);
  REQUIRE(efd_read(k, e) == 1);
  REQUIRE(wait(k, outer).empty());
  REQUIRE(wait(k, inner).empty());
}

BACKEND_TEST("epoll: ADD of a ready inner epoll queues it at once", "[epoll][nested]") {
  TestType b;
  auto& k = b.k;
  int outer = make_ep(k);
  int inner = make_ep(k);
  int e = make_efd(k, 1);
  add(k, inner, e, EPOLLIN | EPOLLET, 1);
  add(k, outer, inner, EPOLLIN | EPOLLET, 9);
  REQUIRE(wait(k, outer) == std::vector<Ev>{{EPOLLIN, 9}});
  REQUIRE(wait(k, outer).empty());
  REQUIRE(wait(k, inner) == std::vector<Ev>{{EPOLLIN, 1}});
}

BACKEND_TEST("epoll: MOD of an item already queued in the inner does not wake the outer", "[epoll][nested][ctl]") {
  TestType b;
  auto& k = b.k;
  int outer = make_ep(k);
  int inner = make_ep(k);
  int e = make_efd(k, 1);
  int f = make_efd(k);
  add(k, inner, e, EPOLLIN, 1);
  add(k, inner, f, EPOLLIN, 2);
  add(k, outer, inner, EPOLLIN | EPOLLET, 9);
  REQUIRE(wait(k, outer) == std::vector<Ev>{{EPOLLIN, 9}});
  mod(k, inner, e, EPOLLIN, 3);  // ready, but already on the inner's list
  REQUIRE(wait(k, outer).empty());
  efd_write(k, f);
  mod(k, inner, f, EPOLLIN, 4);  // same: the write queued it and woke the outer once
  REQUIRE(wait(k, outer) == std::vector<Ev>{{EPOLLIN, 9}});
  REQUIRE(wait(k, inner) == std::vector<Ev>{{EPOLLIN, 3}, {EPOLLIN, 4}});
  REQUIRE(wait(k, outer).empty());
  // The inner collection re-queued both (LT); a MOD now finds them queued: no wakeup either.
  mod(k, inner, e, EPOLLIN, 5);
  REQUIRE(wait(k, outer).empty());
}

BACKEND_TEST("epoll: an epoll cannot be added to itself (EINVAL)", "[epoll][nested][errno]") {
  TestType b;
  auto& k = b.k;
  int ep = make_ep(k);
  int dup = k.dup(ep);
  REQUIRE_ERRNO(ctl(k, ep, EPOLL_CTL_ADD, ep, EPOLLIN), EINVAL);
  REQUIRE_ERRNO(ctl(k, ep, EPOLL_CTL_ADD, dup, EPOLLIN), EINVAL);  // same description
  REQUIRE(interests(b, ep).empty());
}

BACKEND_TEST("epoll: a cycle of epolls is ELOOP", "[epoll][nested][errno]") {
  TestType b;
  auto& k = b.k;
  int a = make_ep(k);
  int bb = make_ep(k);
  int c = make_ep(k);
  add(k, a, bb, EPOLLIN, 1);
  REQUIRE_ERRNO(ctl(k, bb, EPOLL_CTL_ADD, a, EPOLLIN), ELOOP);
  add(k, bb, c, EPOLLIN, 2);
  REQUIRE_ERRNO(ctl(k, c, EPOLL_CTL_ADD, a, EPOLLIN), ELOOP);
  REQUIRE(interests(b, c).empty());
  int c2 = make_ep(k);
  add(k, a, c2, EPOLLIN, 3);  // a diamond is no cycle
  add(k, c, c2, EPOLLIN, 4);
}

BACKEND_TEST("epoll: a chain of 5 epolls works, a 6th is ELOOP", "[epoll][nested][errno]") {
  TestType b;
  auto& k = b.k;
  std::array<int, 7> ep{};
  for (int& fd : ep) fd = make_ep(k);
  // Built bottom-up: ep[i] contains ep[i-1].
  for (int i = 1; i < 5; ++i) add(k, ep[i], ep[i - 1], EPOLLIN, i);
  REQUIRE_ERRNO(ctl(k, ep[5], EPOLL_CTL_ADD, ep[4], EPOLLIN), ELOOP);
  add(k, ep[6], ep[3], EPOLLIN, 6);  // a branch of depth 5 is fine
  // The depth counts: the bottom is still usable through the full chain.
  int e = make_efd(k);
  add(k, ep[0], e, EPOLLIN, 0);
  efd_write(k, e);
  REQUIRE(wait(k, ep[4]) == std::vector<Ev>{{EPOLLIN, 4}});
}

BACKEND_TEST("epoll: the depth above the instance counts too (a chain built top-down)", "[epoll][nested][errno]") {
  TestType b;
  auto& k = b.k;
  std::array<int, 6> ep{};
  for (int& fd : ep) fd = make_ep(k);
  // Built top-down: ep[i-1] contains ep[i]; each ADD goes under an already nested instance.
  for (int i = 1; i < 5; ++i) add(k, ep[i - 1], ep[i], EPOLLIN, i);
  REQUIRE_ERRNO(ctl(k, ep[4], EPOLL_CTL_ADD, ep[5], EPOLLIN), ELOOP);
  // Joining two chains in the middle counts both sides: 3 above + 3 below.
  std::array<int, 3> top{make_ep(k), make_ep(k), make_ep(k)};
  add(k, top[0], top[1], EPOLLIN, 1);
  add(k, top[1], top[2], EPOLLIN, 2);
  std::array<int, 3> low{make_ep(k), make_ep(k), make_ep(k)};
  add(k, low[0], low[1], EPOLLIN, 1);
  add(k, low[1], low[2], EPOLLIN, 2);
  REQUIRE_ERRNO(ctl(k, top[2], EPOLL_CTL_ADD, low[0], EPOLLIN), ELOOP);
  add(k, top[1], low[1], EPOLLIN, 3);  // 2 above + 2 below: 5 levels
}

// --- 10: waiting -----------------------------------------------------------------------------

BACKEND_TEST("epoll: timeout 0 returns 0 at once when nothing is ready", "[epoll][wait]") {
  TestType b;
  auto& k = b.k;
  int ep = make_ep(k);
  int e = make_efd(k);
  add(k, ep, e, EPOLLIN, 1);
  epoll_event evs[4];
  REQUIRE(k.epoll_wait(ep, evs, 4, 0) == 0);
  REQUIRE(k.epoll_pwait(ep, evs, 4, 0, nullptr) == 0);
}

BACKEND_TEST("epoll: a positive timeout with nothing ready returns 0", "[epoll][wait]") {
  TestType b;
  auto& k = b.k;
  int ep = make_ep(k);
  int e = make_efd(k);
  add(k, ep, e, EPOLLIN, 1);
  constexpr int kShortTimeoutMs = 15;  // live: keeps the suite fast
  timespec t0{}, t1{};
  REQUIRE(k.clock_gettime(CLOCK_MONOTONIC, &t0) == 0);
  REQUIRE(wait(k, ep, 4, kShortTimeoutMs).empty());
  REQUIRE(k.clock_gettime(CLOCK_MONOTONIC, &t1) == 0);
  int64_t elapsed_ns = (t1.tv_sec - t0.tv_sec) * 1'000'000'000 + (t1.tv_nsec - t0.tv_nsec);
  REQUIRE(elapsed_ns >= int64_t{kShortTimeoutMs} * 1'000'000);
}

BACKEND_TEST("epoll: a wait returns at once when something is ready, whatever the timeout", "[epoll][wait]") {
  TestType b;
  auto& k = b.k;
  int ep = make_ep(k);
  int e = make_efd(k, 1);
  add(k, ep, e, EPOLLIN, 1);
  REQUIRE(wait(k, ep, 4, -1) == std::vector<Ev>{{EPOLLIN, 1}});
  REQUIRE(wait(k, ep, 4, 1000) == std::vector<Ev>{{EPOLLIN, 1}});
}

BACKEND_TEST("epoll: epoll_pwait with a NULL mask is epoll_wait", "[epoll][wait]") {
  TestType b;
  auto& k = b.k;
  int ep = make_ep(k);
  int e = make_efd(k, 1);
  add(k, ep, e, EPOLLIN | EPOLLET, 5);
  epoll_event evs[4]{};
  REQUIRE(k.epoll_pwait(ep, evs, 4, -1, nullptr) == 1);
  REQUIRE(evs[0].events == EPOLLIN);
  REQUIRE(evs[0].data.u64 == 5);
  sigset_t none;
  sigemptyset(&none);
  REQUIRE(k.epoll_pwait(ep, evs, 4, 0, &none) == 0);  // ET: reported once
}

// --- simulation only ---------------------------------------------------------------------------

TEST_CASE("epoll sim: epoll_wait(-1) with nothing that could become ready is a deadlock", "[epoll][sim]") {
  SimKernel k(sim_options());
  int ep = k.epoll_create1(0);
  int e = k.eventfd(0, EFD_NONBLOCK);
  REQUIRE(ep >= 0);
  REQUIRE(e >= 0);
  add(k, ep, e, EPOLLIN, 1);
  epoll_event evs[4];
  try {
    (void)k.epoll_wait(ep, evs, 4, -1);
    FAIL("epoll_wait(-1) returned");
  } catch (const Deadlock& d) {
    REQUIRE(d.call == "epoll_wait");
    REQUIRE(d.fd == ep);
  }
  REQUIRE_THROWS_AS(k.epoll_pwait(ep, evs, 4, -1, nullptr), Deadlock);
  REQUIRE_THROWS_AS(k.epoll_wait(ep, evs, 4, INT_MIN), Deadlock);  // every negative is forever
  REQUIRE(k.check_invariants().empty());
  // A queued item that is no longer ready collects nothing: the wait goes on (and deadlocks,
  // or for a timed wait runs to its deadline), it never returns 0 early.
  efd_write(k, e);
  REQUIRE(efd_read(k, e) == 1);
  REQUIRE_THROWS_AS(k.epoll_wait(ep, evs, 4, -1), Deadlock);
  efd_write(k, e);
  REQUIRE(efd_read(k, e) == 1);
  int64_t before = k.now_ns();
  REQUIRE(k.epoll_wait(ep, evs, 4, 30) == 0);
  REQUIRE(k.now_ns() == before + 30'000'000);
  efd_write(k, e);  // afterwards the kernel is intact and usable
  REQUIRE(wait(k, ep, 4, -1) == std::vector<Ev>{{EPOLLIN, 1}});
}

TEST_CASE("epoll sim: a positive timeout advances the virtual clock by exactly the timeout", "[epoll][sim]") {
  SimKernel k(sim_options());
  int ep = k.epoll_create1(0);
  REQUIRE(ep >= 0);
  auto now = [&k] {
    timespec ts{};
    REQUIRE(k.clock_gettime(CLOCK_MONOTONIC, &ts) == 0);
    return int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
  };
  int64_t t0 = now();
  REQUIRE(wait(k, ep, 4, 0).empty());
  REQUIRE(now() == t0);  // timeout 0 never sleeps
  REQUIRE(wait(k, ep, 4, 250).empty());
  REQUIRE(now() == t0 + 250'000'000);
  REQUIRE(wait(k, ep, 4, 1).empty());
  REQUIRE(now() == t0 + 251'000'000);
  REQUIRE(k.epoll_pwait(ep, nullptr, 1, 2000, nullptr) == 0);
  REQUIRE(now() == t0 + 2'251'000'000);
  int e = k.eventfd(1, 0);
  add(k, ep, e, EPOLLIN, 1);
  REQUIRE(wait(k, ep, 4, 5000).size() == 1);  // ready: no time passes
  REQUIRE(now() == t0 + 2'251'000'000);
  REQUIRE(k.epoll_ctl(ep, EPOLL_CTL_DEL, e, nullptr) == 0);
  REQUIRE(wait(k, ep, 4, INT_MAX).empty());  // the largest timeout, without overflow
  REQUIRE(now() == t0 + 2'251'000'000 + int64_t{INT_MAX} * 1'000'000);
}

TEST_CASE("epoll sim: check_invariants holds after every step of a longer scenario", "[epoll][sim]") {
  SimKernel k(sim_options());
  auto ok = [&k](const char* step) {
    INFO("after " << step);
    REQUIRE(k.check_invariants() == "");
  };
  int outer = k.epoll_create1(0);
  int inner = k.epoll_create(1);
  ok("create");
  int e = k.eventfd(0, EFD_NONBLOCK);
  int p[2];
  REQUIRE(k.pipe2(p, O_NONBLOCK) == 0);
  int d = k.dup(e);
  ok("objects");
  add(k, inner, e, EPOLLIN | EPOLLET, 1);
  add(k, inner, d, EPOLLIN | EPOLLONESHOT, 2);
  add(k, inner, p[0], EPOLLIN, 3);
  add(k, inner, p[1], EPOLLOUT | EPOLLEXCLUSIVE, 4);
  add(k, outer, inner, EPOLLIN | EPOLLET, 5);
  ok("adds");
  efd_write(k, e);
  REQUIRE(write_str(k, p[1], "hello") == 5);
  ok("writes");
  REQUIRE(wait(k, outer).size() == 1);
  ok("outer wait");
  REQUIRE(wait(k, inner, 2).size() == 2);
  ok("inner wait, maxevents 2");
  mod(k, inner, d, EPOLLIN | EPOLLONESHOT, 6);
  ok("mod");
  REQUIRE(k.close(e) == 0);
  ok("close one dup");
  REQUIRE(wait(k, inner).size() >= 1);
  ok("inner wait");
  REQUIRE(k.close(d) == 0);
  ok("close last dup");
  REQUIRE(k.close(p[1]) == 0);
  ok("close writer");
  REQUIRE(wait(k, outer).size() == 1);
  REQUIRE(wait(k, inner).size() == 1);
  ok("hup");
  REQUIRE(k.dup2(p[0], outer) == outer);  // closes the outer epoll silently
  ok("dup2 over the outer");
  REQUIRE(k.close(inner) == 0);
  ok("close inner");
  REQUIRE(k.close(p[0]) == 0);
  REQUIRE(k.close(outer) == 0);
  ok("all closed");
}

TEST_CASE("epoll sim: ADD past max_user_watches is ENOSPC, DEL and close give watches back", "[epoll][sim]") {
  constexpr uint64_t kWatches = 3;
  SimOptions o = sim_options();
  o.max_user_watches = kWatches;
  SimKernel k(o);
  int ep1 = k.epoll_create1(0);
  int ep2 = k.epoll_create1(0);
  int e = k.eventfd(0, EFD_NONBLOCK);
  int d = k.dup(e);
  REQUIRE(e >= 0);
  add(k, ep1, e, EPOLLIN, 1);
  add(k, ep1, d, EPOLLIN, 2);
  add(k, ep2, e, EPOLLIN, 3);  // the limit counts items of every instance
  REQUIRE_ERRNO(ctl(k, ep2, EPOLL_CTL_ADD, d, EPOLLIN), ENOSPC);
  REQUIRE_ERRNO(ctl(k, ep2, EPOLL_CTL_ADD, e, EPOLLIN), EEXIST);  // EEXIST is checked first
  mod(k, ep2, e, EPOLLOUT, 4);  // MOD needs no new watch
  REQUIRE(k.epoll_ctl(ep1, EPOLL_CTL_DEL, d, nullptr) == 0);
  add(k, ep2, d, EPOLLIN, 5);
  REQUIRE_ERRNO(ctl(k, ep1, EPOLL_CTL_ADD, d, EPOLLIN), ENOSPC);
  REQUIRE(k.close(ep2) == 0);  // frees two
  add(k, ep1, d, EPOLLIN, 6);
  int ep3 = k.epoll_create1(0);
  add(k, ep3, e, EPOLLIN, 7);
  REQUIRE_ERRNO(ctl(k, ep3, EPOLL_CTL_ADD, d, EPOLLIN), ENOSPC);
  REQUIRE(k.close(e) == 0);
  REQUIRE(k.close(d) == 0);  // the last reference: all three items go
  REQUIRE(k.interest_set(ep1)->empty());
  REQUIRE(k.interest_set(ep3)->empty());
  REQUIRE(k.check_invariants() == "");
}

TEST_CASE("epoll sim: two SimKernels in one process do not interfere", "[epoll][sim]") {
  SimKernel k1(sim_options());
  SimKernel k2(sim_options());
  int ep1 = k1.epoll_create1(0);
  int ep2 = k2.epoll_create1(0);
  REQUIRE(ep1 == ep2);  // each has its own fd table
  int e1 = k1.eventfd(0, EFD_NONBLOCK);
  int e2 = k2.eventfd(0, EFD_NONBLOCK);
  REQUIRE(e1 == e2);
  add(k1, ep1, e1, EPOLLIN, 1);
  add(k2, ep2, e2, EPOLLIN, 2);
  efd_write(k1, e1);
  REQUIRE(wait(k1, ep1) == std::vector<Ev>{{EPOLLIN, 1}});
  REQUIRE(wait(k2, ep2).empty());
  REQUIRE(wait(k2, ep2, 4, 100).empty());  // k2's clock moves, k1's does not
  REQUIRE(k2.now_ns() == 100'000'000);
  REQUIRE(k1.now_ns() == 0);
  REQUIRE(k1.close(e1) == 0);
  REQUIRE(k1.interest_set(ep1)->empty());
  REQUIRE(k2.interest_set(ep2)->size() == 1);
}

}  // namespace edgecase::conformance
