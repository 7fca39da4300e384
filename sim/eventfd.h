// eventfd (fs/eventfd.c): a 64-bit counter with one wait queue. A write adds and wakes EPOLLIN,
// a read takes the count (or 1 in semaphore mode) and wakes EPOLLOUT; poll reports IN while the
// count is positive and OUT while another write of 1 could still be added.
#pragma once

#include <cstdint>
#include <span>
#include <sys/types.h>

#include "sim/file.h"
#include "sim/wait.h"

namespace edgecase::sim {

// ULLONG_MAX: never reached by write(2) (writing it is EINVAL and a write may take the count
// to ULLONG_MAX - 1 at most); only the in-kernel eventfd_signal can, which poll reports as ERR.
inline constexpr uint64_t kEventfdMax = UINT64_MAX;

// struct eventfd_ctx together with its file (one description per ctx in the model).
class EventFd final : public File {
 public:
  EventFd(uint64_t count, bool semaphore, unsigned flags);

  uint32_t poll(int depth) override;
  WaitQueue* wait_queue() override { return &wqh_; }
  ssize_t read(std::span<std::byte> buf) override;
  ssize_t write(std::span<const std::byte> buf) override;
  bool write_iter() const override { return false; }  // eventfd_fops has .write only
  void release() override;

 private:
  uint64_t count_;
  bool semaphore_;  // EFD_SEMAPHORE
  WaitQueue wqh_;
};

}  // namespace edgecase::sim
