#include "sim/select.h"

#include <algorithm>
#include <cerrno>
#include <climits>
#include <poll.h>
#include <sys/epoll.h>

#include "edgecase/sim_kernel.h"
#include "sim/fdtable.h"

namespace edgecase::sim {

PollWqueues::~PollWqueues() {
  for (Entry& e : entries_) {
    e.filp->wait_queue()->remove(&e);
    fput(e.filp);
  }
}

uint32_t PollWqueues::poll(File* f, uint32_t key, bool wait) {
  WaitQueue* wq = f->wait_queue();
  if (wq == nullptr) return kDefaultPollMask;  // no f_op->poll
  if (wait) {
    Entry& e = entries_.emplace_back(this, fget(f), key);
    wq->add(&e);
  }
  return f->poll(0);
}

int PollWqueues::pollwake(WaitEntry* w, uint32_t key) {
  auto* e = static_cast<Entry*>(w);
  if (key && !(key & e->key)) return 0;
  e->table->triggered = true;
  e->table->task_.wake(0);
  return 1;
}

}  // namespace edgecase::sim

// --- the system call (fs/select.c: do_sys_poll, do_poll, do_pollfd) ----------------------------
namespace edgecase {

namespace {

constexpr int64_t kNanosPerMilli = 1'000'000;

// do_pollfd: a negative fd is skipped, a closed one is POLLNVAL, an open one reports its mask
// filtered by the events asked for plus POLLERR and POLLHUP. poll's bits are epoll's on x86,
// so demangle_poll and mangle_poll are the identity.
uint32_t do_pollfd(sim::FdTable& fdt, const pollfd& p, sim::PollWqueues& table, bool wait) {
  if (p.fd < 0) return 0;
  sim::File* f = fdt.get(p.fd);
  if (f == nullptr) return POLLNVAL;
  const uint32_t filter = static_cast<uint16_t>(p.events) | POLLERR | POLLHUP;
  return table.poll(f, filter, wait) & filter;
}

}  // namespace

int SimKernel::poll(struct pollfd* fds, nfds_t nfds_arg, int timeout) {
  // The system call takes nfds as an unsigned int: the upper half of glibc's nfds_t is lost.
  const auto nfds = static_cast<unsigned>(nfds_arg);
  if (nfds > static_cast<unsigned>(options_.nofile)) return errno = EINVAL, -1;
  if (nfds && fds == nullptr) return errno = EFAULT, -1;
  std::optional<int64_t> deadline;
  if (timeout >= 0) deadline = now_ns() + int64_t{timeout} * kNanosPerMilli;
  bool timed_out = timeout == 0;  // no wait: nothing is registered
  const int blame = nfds ? fds[0].fd : -1;
  sim::PollWqueues table;
  bool wait = !timed_out;
  for (;;) {
    int count = 0;
    for (unsigned i = 0; i < nfds; ++i) {
      const uint32_t mask = do_pollfd(*fdt_, fds[i], table, wait);
      fds[i].revents = static_cast<short>(mask);
      if (mask) {
        ++count;
        wait = false;  // found one: no need to register on the rest
      }
    }
    wait = false;  // every waiter is registered after the first pass
    if (count || timed_out) return count;
    if (table.triggered) {  // poll_schedule_timeout does not sleep after a wakeup
      table.triggered = false;
      continue;
    }
    switch (block(table.task(), deadline, "poll", blame)) {
      case sim::WaitResult::woken: table.triggered = false; break;
      case sim::WaitResult::timed_out: timed_out = true; break;
      case sim::WaitResult::interrupted: return errno = EINTR, -1;
    }
  }
}

}  // namespace edgecase
