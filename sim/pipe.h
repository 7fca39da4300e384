// Anonymous pipes (fs/pipe.c, Linux 5.14+): a ring of page-sized buffers shared by a read end
// and a write end. Readiness and wakeups follow pipe_poll, pipe_read, pipe_write and
// pipe_release exactly: the read end's file waits on rd_wait, the write end's on wr_wait, and
// every wake below sits where the kernel calls wake_up_*_poll.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <sys/types.h>
#include <vector>

#include "sim/file.h"
#include "sim/wait.h"

namespace edgecase::sim {

// PAGE_SIZE on x86-64: one pipe buffer holds at most one page, which is why byte capacity
// depends on the write pattern.
inline constexpr size_t kPipePageSize = 4096;
// PIPE_DEF_BUFFERS: slots in a new pipe's ring (64 KiB of pages). The kernel gives only
// PIPE_MIN_DEF_BUFFERS past the per-user soft limit of 16384 pages; the model never gets there.
inline constexpr unsigned kPipeDefBuffers = 16;
// O_NOTIFICATION_PIPE (include/uapi/linux/watch_queue.h) reuses the O_EXCL bit.
inline constexpr int kONotificationPipe = O_EXCL;

// struct pipe_inode_info: the ring, the reader and writer counts and the two wait queues.
// Both ends share it; it dies with the last end.
class Pipe {
 public:
  Pipe() = default;
  Pipe(const Pipe&) = delete;
  Pipe& operator=(const Pipe&) = delete;

  // pipe_read as a nonblocking caller sees it: bytes read, 0 at EOF, or -EAGAIN.
  ssize_t read(std::span<std::byte> dst);
  // pipe_write as a nonblocking caller sees it: bytes written, -EAGAIN or -EPIPE. `packet` is
  // O_DIRECT on the writing file (each buffer is one message).
  ssize_t write(std::span<const std::byte> src, bool packet);
  // pipe_poll for a file opened for reading and/or writing.
  uint32_t poll(bool for_read, bool for_write);
  // FIONREAD: unread bytes in every buffer.
  size_t unread() const;
  // pipe_release: one end is gone.
  void release(bool reader, bool writer);

  WaitQueue rd_wait;  // readers: the read end's epoll items and blocked reads
  WaitQueue wr_wait;  // writers: the write end's epoll items and blocked writes

 private:
  // struct pipe_buffer. The page is allocated on first use and kept, as tmp_page does.
  struct Buffer {
    std::vector<std::byte> page;
    size_t offset = 0;  // first unread byte
    size_t len = 0;     // unread bytes
    bool can_merge = false;  // PIPE_BUF_FLAG_CAN_MERGE: later small writes may append here
    bool packet = false;     // PIPE_BUF_FLAG_PACKET: a read takes the whole buffer
  };
  static constexpr unsigned kRingMask = kPipeDefBuffers - 1;
  static_assert((kPipeDefBuffers & kRingMask) == 0, "the ring size must be a power of two");

  bool empty() const { return head_ == tail_; }
  bool full() const { return head_ - tail_ >= kPipeDefBuffers; }
  Buffer& slot(unsigned index) { return bufs_[index & kRingMask]; }
  // The sub-page head of a write appended to the last buffer; returns bytes taken.
  size_t merge(std::span<const std::byte> src, size_t chars);
  // A new slot filled with up to one page; returns bytes taken.
  size_t push_page(std::span<const std::byte> src, bool packet);

  std::array<Buffer, kPipeDefBuffers> bufs_;
  // Free-running indices, masked on use; head - tail is the occupancy, as in the kernel.
  unsigned head_ = 0;
  unsigned tail_ = 0;
  int readers_ = 1;
  int writers_ = 1;
  // Set by the first pipe_poll on either end: from then on every write wakes the readers
  // ("epoll nonsensically wants a wakeup whether the pipe was already empty or not").
  bool poll_usage_ = false;
};

// One end of a pipe: O_RDONLY for the read end, O_WRONLY for the write end, so that the
// generic read/write checks (FMODE_READ / FMODE_WRITE) give EBADF on the wrong end.
class PipeFile final : public File {
 public:
  PipeFile(std::shared_ptr<Pipe> pipe, unsigned flags);

  uint32_t poll(int depth) override;
  WaitQueue* wait_queue() override;
  ssize_t read(std::span<std::byte> buf) override;
  ssize_t write(std::span<const std::byte> buf) override;
  int ioctl(unsigned long request, int* arg) override;
  void release() override;

 private:
  std::shared_ptr<Pipe> pipe_;
};

}  // namespace edgecase::sim
