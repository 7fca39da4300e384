// edgecase::Kernel — the one interface a handler is written against.
//
// One virtual method per system call, named and typed as POSIX does, using the real structs and
// constants from the system headers. On failure a method returns -1 and sets `errno`, exactly as
// the libc wrapper would. Porting a server means putting `k.` in front of its calls.
//
// The calls are listed once, with what each supports, in the call table
// edgecase/kernel_calls.def; this class is generated from it. Two implementations:
// edgecase::SimKernel (sim/, a simulated Linux kernel, deterministic) and edgecase::RealKernel
// (real/, the live syscalls). Pass-through layers derive from edgecase::KernelLayer
// (kernel_layer.h).
#pragma once

#include <csignal>
#include <cstddef>
#include <ctime>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <sys/types.h>
#include <sys/uio.h>

namespace edgecase {

class Kernel {
 public:
  virtual ~Kernel() = default;
  Kernel() = default;
  Kernel(const Kernel&) = delete;
  Kernel& operator=(const Kernel&) = delete;

  // One pure virtual per entry of the call table, with the call's documentation there.
#define EDGECASE_KERNEL_CALL(ret, name, params, args, fd) virtual ret name params = 0;
#include "edgecase/kernel_calls.def"

  // accept(2) is accept4 without flags, as in the kernel (__sys_accept4 with 0).
  int accept(int sockfd, struct sockaddr* addr, socklen_t* addrlen) {
    return accept4(sockfd, addr, addrlen, 0);
  }
};

}  // namespace edgecase
