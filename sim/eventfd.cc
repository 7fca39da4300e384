#include "sim/eventfd.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>

#include "edgecase/sim_kernel.h"

namespace edgecase::sim {

EventFd::EventFd(uint64_t count, bool semaphore, unsigned flags)
    : File(Kind::eventfd, flags), count_(count), semaphore_(semaphore) {}

uint32_t EventFd::poll(int) {
  uint32_t events = 0;
  if (count_ > 0) events |= EPOLLIN;
  if (count_ == kEventfdMax) events |= EPOLLERR;
  if (kEventfdMax - 1 > count_) events |= EPOLLOUT;
  return events;
}

ssize_t EventFd::read(std::span<std::byte> buf) {
  uint64_t ucnt;
  if (buf.size() < sizeof ucnt) return -EINVAL;  // a larger buffer still gets 8 bytes
  if (count_ == 0) return -EAGAIN;
  ucnt = semaphore_ ? 1 : count_;
  count_ -= ucnt;
  wqh_.wake(EPOLLOUT);  // every successful read, whether or not a writer was stuck
  std::memcpy(buf.data(), &ucnt, sizeof ucnt);
  return sizeof ucnt;
}

ssize_t EventFd::write(std::span<const std::byte> buf) {
  uint64_t ucnt;
  // Since Linux 6.9 the size must be exactly 8 (before, larger writes were accepted).
  if (buf.size() != sizeof ucnt) return -EINVAL;
  std::memcpy(&ucnt, buf.data(), sizeof ucnt);
  if (ucnt == kEventfdMax) return -EINVAL;
  if (kEventfdMax - count_ <= ucnt) return -EAGAIN;  // would overflow: no wakeup
  count_ += ucnt;
  wqh_.wake(EPOLLIN);  // every successful write, even of 0: ET readers fire per write
  return sizeof ucnt;
}

// eventfd_release: wake_up_poll(EPOLLHUP). epoll items are already gone by then; only blocked
// callers could still be on the queue.
void EventFd::release() { wqh_.wake(EPOLLHUP); }

}  // namespace edgecase::sim

// --- system call (fs/eventfd.c do_eventfd) ------------------------------------------------------
namespace edgecase {

int SimKernel::eventfd(unsigned int initval, int flags) {
  if (flags & ~(EFD_SEMAPHORE | EFD_CLOEXEC | EFD_NONBLOCK)) return errno = EINVAL, -1;
  // The file is O_RDWR plus O_NONBLOCK; EFD_SEMAPHORE lives in the ctx and EFD_CLOEXEC in the
  // fd, so F_GETFL shows neither.
  const unsigned f_flags = O_RDWR | ((flags & EFD_NONBLOCK) ? O_NONBLOCK : 0u);
  auto* f = new sim::EventFd(initval, (flags & EFD_SEMAPHORE) != 0, f_flags);
  int fd = install(born(f), (flags & EFD_CLOEXEC) != 0);
  if (fd < 0) return errno = -fd, -1;
  return fd;
}

}  // namespace edgecase
