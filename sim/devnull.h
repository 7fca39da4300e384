// /dev/null (drivers/char/mem.c): reads return 0, writes vanish, and it has no poll method, so
// epoll_ctl(ADD) on it fails with EPERM. SimKernel opens fds 0, 1 and 2 on it by default, so
// that fd numbers start at 3 as in a process started from a shell.
#pragma once

#include "sim/file.h"

namespace edgecase::sim {

class DevNull final : public File {
 public:
  explicit DevNull(unsigned flags = O_RDWR) : File(Kind::devnull, flags) {}
  uint32_t poll(int) override { return 0; }
  WaitQueue* wait_queue() override { return nullptr; }  // no f_op->poll
  ssize_t read(std::span<std::byte>) override { return 0; }
  ssize_t write(std::span<const std::byte> buf) override {
    return static_cast<ssize_t>(buf.size());
  }
};

}  // namespace edgecase::sim
