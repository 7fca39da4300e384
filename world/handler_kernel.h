// What a handler calls inside a World: the server's SimKernel, with what a real CPU and a real
// network add around each call.
//   - Every call first counts against the step budget and takes World::kCallCost of virtual
//     time, running the world's events due by then (the network does not stop while a handler
//     computes).
//   - Call faults of the plan: a short write on a nonblocking TCP socket (tcp_sendmsg under memory
//     pressure copies part and sets SOCK_NOSPACE), and accept4's ECONNABORTED (the connection
//     it would have returned was reset first: the peer sees the reset).
// Blocking faults (EINTR) and the fd limit live in World::wait, where the handler sleeps.
#pragma once

#include "edgecase/kernel.h"
#include "edgecase/kernel_layer.h"
#include "edgecase/sim_kernel.h"

namespace edgecase::sim {

class World;

class HandlerKernel final : public KernelLayer {
 public:
  HandlerKernel(World& world, SimKernel& server) : KernelLayer(server), w_(world), k_(server) {}

  // The calls with faults of their own; every other call is around()'s.
  int accept4(int sockfd, struct sockaddr* addr, socklen_t* addrlen, int flags) override;
  ssize_t send(int sockfd, const void* buf, size_t len, int flags) override;
  ssize_t sendto(int sockfd, const void* buf, size_t len, int flags,
                 const struct sockaddr* dest_addr, socklen_t addrlen) override;
  ssize_t sendmsg(int sockfd, const struct msghdr* msg, int flags) override;
  ssize_t write(int fd, const void* buf, size_t count) override;
  ssize_t writev(int fd, const struct iovec* iov, int iovcnt) override;

 protected:
  // The call's cost (World::on_call, charged to the fd it acts on), then the server kernel.
  long around(const CallSite& call, Forward forward) override;

 private:
  // The byte count a write may copy: `len`, or less when the short-write fault fires on a
  // nonblocking TCP socket (then the socket is marked as under memory pressure).
  size_t write_allowance(int fd, size_t len, int msg_flags, const char* call);
  void after_cut_write(ssize_t r, size_t allowed, size_t len, int fd);
  // Sets *iovcnt and returns a copy of `iov` cut to `allowed` bytes in total.
  static int cut_iov(const struct iovec* iov, int iovcnt, size_t allowed, struct iovec* out);

  World& w_;
  SimKernel& k_;
};

}  // namespace edgecase::sim
