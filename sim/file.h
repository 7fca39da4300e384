// struct file: an open file description. Reference counted by the fd table (dup shares one
// description), it carries O_NONBLOCK and the access mode, the list of epoll items watching it,
// and the file operations each object implements. Operations never block: they return -EAGAIN,
// and SimKernel turns that into a wait for a blocking caller.
#pragma once

#include <cstddef>
#include <cstdint>
#include <fcntl.h>
#include <span>
#include <sys/types.h>

#include "sim/epitem.h"
#include "sim/list.h"
#include "sim/wait.h"

namespace edgecase::sim {

class Socket;
class EventPoll;
class TimerFd;

class File {
 public:
  enum class Kind : uint8_t { devnull, pipe, eventfd, epoll, socket, timerfd };

  File(Kind kind, unsigned flags) : f_flags(flags), kind_(kind) {}
  virtual ~File();
  File(const File&) = delete;
  File& operator=(const File&) = delete;

  Kind kind() const { return kind_; }
  bool nonblock() const { return (f_flags & O_NONBLOCK) != 0; }
  bool readable() const { return (f_flags & O_ACCMODE) != O_WRONLY; }   // FMODE_READ
  bool writable() const { return (f_flags & O_ACCMODE) != O_RDONLY; }   // FMODE_WRITE

  // --- file_operations. Results are >= 0 or -errno, as in the kernel. ----------------------
  // Current readiness (EPOLLIN|EPOLLRDNORM, ...). `depth` is the nesting level for epoll files.
  virtual uint32_t poll(int depth) = 0;
  // The queue epoll items and blocked callers attach to; nullptr if the file cannot be polled.
  virtual WaitQueue* wait_queue() = 0;
  virtual ssize_t read(std::span<std::byte> buf);
  virtual ssize_t write(std::span<const std::byte> buf);
  // FIONREAD and other object ioctls (FIONBIO is generic and handled by the caller).
  virtual int ioctl(unsigned long request, int* arg);
  // Whether write has a write_iter form. Without one (eventfd), writev calls write once per
  // iovec and stops at the first short or failed one (do_loop_readv_writev).
  virtual bool write_iter() const { return true; }
  // The last reference is gone and the epoll items are removed: tear down, wake peers.
  virtual void release() {}

  virtual Socket* as_socket() { return nullptr; }
  virtual EventPoll* as_epoll() { return nullptr; }
  virtual TimerFd* as_timerfd() { return nullptr; }

  unsigned f_flags;
  uint64_t id = 0;      // creation serial: the deterministic key of (file, fd) in epoll trees
  int f_count = 0;      // references from fd table slots and in-flight calls
  IntrusiveList<EpItem, &EpItem::fllink> f_ep;  // epoll items watching this file

 private:
  Kind kind_;
};

// Takes and drops references (fget / fput). The last fput removes every epoll item watching
// the file (eventpoll_release), then calls release() and frees it.
inline File* fget(File* f) {
  ++f->f_count;
  return f;
}
void fput(File* f);

// Holds a reference for the duration of a call, as fdget/fdput do.
class FileRef {
 public:
  explicit FileRef(File* f) : f_(f ? fget(f) : nullptr) {}
  ~FileRef() {
    if (f_) fput(f_);
  }
  FileRef(const FileRef&) = delete;
  FileRef& operator=(const FileRef&) = delete;
  File* get() const { return f_; }
  File* operator->() const { return f_; }
  explicit operator bool() const { return f_ != nullptr; }

 private:
  File* f_;
};

}  // namespace edgecase::sim
