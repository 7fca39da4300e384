#include "sim/pipe.h"

#include <algorithm>
#include <cassert>
#include <cerrno>
#include <climits>
#include <cstring>
#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <utility>

#include "edgecase/sim_kernel.h"
#include "sim/fdtable.h"

namespace edgecase::sim {

ssize_t Pipe::read(std::span<std::byte> dst) {
  if (dst.empty()) return 0;  // a null read succeeds before anything is looked at
  size_t want = dst.size();
  size_t done = 0;
  // Writers are woken only when a slot is freed while the ring was full, so an ET write end
  // fires on full -> not full and on nothing else.
  bool wake_writer = false;
  while (!empty()) {
    Buffer& buf = slot(tail_);
    size_t chars = std::min(buf.len, want);
    std::memcpy(dst.data() + done, buf.page.data() + buf.offset, chars);
    done += chars;
    buf.offset += chars;
    buf.len -= chars;
    if (buf.packet) {  // one message per read; the rest of the buffer is discarded
      want = chars;
      buf.len = 0;
    }
    if (buf.len == 0) {  // a partly read buffer keeps its slot
      wake_writer |= full();
      ++tail_;
    }
    want -= chars;
    if (want == 0) break;
  }
  if (wake_writer) wr_wait.wake(EPOLLOUT | EPOLLWRNORM);
  if (done) return static_cast<ssize_t>(done);
  return writers_ ? -EAGAIN : 0;
}

size_t Pipe::merge(std::span<const std::byte> src, size_t chars) {
  Buffer& last = slot(head_ - 1);
  // The offset counts bytes already read from the page: they still take room in it.
  if (!last.can_merge || last.offset + last.len + chars > kPipePageSize) return 0;
  std::memcpy(last.page.data() + last.offset + last.len, src.data(), chars);
  last.len += chars;
  return chars;
}

size_t Pipe::push_page(std::span<const std::byte> src, bool packet) {
  assert(!full());
  Buffer& buf = slot(head_++);
  if (buf.page.empty()) buf.page.resize(kPipePageSize);
  buf.offset = 0;
  buf.len = std::min(src.size(), kPipePageSize);
  buf.packet = packet;
  buf.can_merge = !packet;
  std::memcpy(buf.page.data(), src.data(), buf.len);
  return buf.len;
}

ssize_t Pipe::write(std::span<const std::byte> src, bool packet) {
  if (src.empty()) return 0;  // a null write succeeds, even with no reader left
  bool was_empty = false;
  ssize_t ret = 0;
  if (!readers_) {
    ret = -EPIPE;  // SIGPIPE is not simulated
  } else {
    was_empty = empty();
    // Only the sub-page remainder may go into the last buffer; whole pages never do.
    size_t chars = src.size() & (kPipePageSize - 1);
    size_t done = (chars && !was_empty) ? merge(src, chars) : 0;
    while (done < src.size() && !full()) done += push_page(src.subspan(done), packet);
    ret = done ? static_cast<ssize_t>(done) : -EAGAIN;
  }
  // Even a write that fails with EAGAIN or EPIPE wakes the readers once the pipe was polled.
  if (was_empty || poll_usage_) rd_wait.wake(EPOLLIN | EPOLLRDNORM);
  return ret;
}

uint32_t Pipe::poll(bool for_read, bool for_write) {
  poll_usage_ = true;
  uint32_t mask = 0;
  if (for_read) {
    if (!empty()) mask |= EPOLLIN | EPOLLRDNORM;
    if (!writers_) mask |= EPOLLHUP;
  }
  if (for_write) {
    if (!full()) mask |= EPOLLOUT | EPOLLWRNORM;
    if (!readers_) mask |= EPOLLERR;  // together with OUT while a slot is free
  }
  return mask;
}

size_t Pipe::unread() const {
  size_t n = 0;
  for (unsigned i = tail_; i != head_; ++i) n += bufs_[i & kRingMask].len;
  return n;
}

void Pipe::release(bool reader, bool writer) {
  if (reader) --readers_;
  if (writer) --writers_;
  assert(readers_ >= 0 && writers_ >= 0);
  // The last reader or the last writer (but not both) is gone: everyone re-checks.
  if (!readers_ != !writers_) {
    rd_wait.wake(0, /*all=*/true);
    wr_wait.wake(0, /*all=*/true);
  }
}

PipeFile::PipeFile(std::shared_ptr<Pipe> pipe, unsigned flags)
    : File(Kind::pipe, flags), pipe_(std::move(pipe)) {
  assert(readable() != writable());  // pipe2 opens each end one way
}

uint32_t PipeFile::poll(int) { return pipe_->poll(readable(), writable()); }

WaitQueue* PipeFile::wait_queue() { return readable() ? &pipe_->rd_wait : &pipe_->wr_wait; }

ssize_t PipeFile::read(std::span<std::byte> buf) { return pipe_->read(buf); }

ssize_t PipeFile::write(std::span<const std::byte> buf) {
  return pipe_->write(buf, (f_flags & O_DIRECT) != 0);
}

int PipeFile::ioctl(unsigned long request, int* arg) {
  if (request != FIONREAD) return -ENOTTY;
  if (arg == nullptr) return -EFAULT;
  *arg = static_cast<int>(std::min<size_t>(pipe_->unread(), INT_MAX));
  return 0;
}

void PipeFile::release() { pipe_->release(readable(), writable()); }

}  // namespace edgecase::sim

// --- system call (fs/pipe.c do_pipe2, __do_pipe_flags) ---------------------------------------
namespace edgecase {

int SimKernel::pipe2(int pipefd[2], int flags) {
  constexpr int kKnownFlags = O_CLOEXEC | O_NONBLOCK | O_DIRECT | sim::kONotificationPipe;
  if (flags & ~kKnownFlags) return errno = EINVAL, -1;
  // watch_queue_init without CONFIG_WATCH_QUEUE, as on the kernels this was checked against.
  if (flags & sim::kONotificationPipe) return errno = ENOPKG, -1;
  // Both descriptors are reserved before the array is written, so EMFILE comes before EFAULT
  // and a failure leaves no descriptor behind.
  int fdr = fdt_->alloc();
  if (fdr < 0) return errno = -fdr, -1;
  int fdw = fdt_->alloc(fdr + 1);
  if (fdw < 0) return errno = -fdw, -1;
  if (pipefd == nullptr) return errno = EFAULT, -1;
  auto pipe = std::make_shared<sim::Pipe>();
  const unsigned nonblock = (flags & O_NONBLOCK) ? O_NONBLOCK : 0u;
  const unsigned direct = (flags & O_DIRECT) ? O_DIRECT : 0u;
  // create_pipe_files: O_DIRECT (packet mode) belongs to the write end only.
  auto* wr = new sim::PipeFile(pipe, O_WRONLY | nonblock | direct);
  auto* rd = new sim::PipeFile(pipe, O_RDONLY | nonblock);
  const bool cloexec = (flags & O_CLOEXEC) != 0;
  born(wr);
  fdt_->install(fdr, sim::fget(born(rd)), cloexec);
  fdt_->install(fdw, sim::fget(wr), cloexec);
  pipefd[0] = fdr;
  pipefd[1] = fdw;
  return 0;
}

}  // namespace edgecase
