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
#include "edgecase/sim_kernel.h"

namespace edgecase::sim {

class World;

class HandlerKernel final : public Kernel {
 public:
  HandlerKernel(World& world, SimKernel& server) : w_(world), k_(server) {}

  int epoll_create1(int flags) override;
  int epoll_create(int size) override;
  int epoll_ctl(int epfd, int op, int fd, struct epoll_event* event) override;
  int epoll_wait(int epfd, struct epoll_event* events, int maxevents, int timeout) override;
  int epoll_pwait(int epfd, struct epoll_event* events, int maxevents, int timeout,
                  const sigset_t* sigmask) override;
  int socket(int domain, int type, int protocol) override;
  int bind(int sockfd, const struct sockaddr* addr, socklen_t addrlen) override;
  int listen(int sockfd, int backlog) override;
  int accept4(int sockfd, struct sockaddr* addr, socklen_t* addrlen, int flags) override;
  int connect(int sockfd, const struct sockaddr* addr, socklen_t addrlen) override;
  int shutdown(int sockfd, int how) override;
  ssize_t recv(int sockfd, void* buf, size_t len, int flags) override;
  ssize_t send(int sockfd, const void* buf, size_t len, int flags) override;
  int socketpair(int domain, int type, int protocol, int sv[2]) override;
  int setsockopt(int sockfd, int level, int optname, const void* optval,
                 socklen_t optlen) override;
  int getsockopt(int sockfd, int level, int optname, void* optval, socklen_t* optlen) override;
  int getsockname(int sockfd, struct sockaddr* addr, socklen_t* addrlen) override;
  int getpeername(int sockfd, struct sockaddr* addr, socklen_t* addrlen) override;
  ssize_t read(int fd, void* buf, size_t count) override;
  ssize_t write(int fd, const void* buf, size_t count) override;
  ssize_t readv(int fd, const struct iovec* iov, int iovcnt) override;
  ssize_t writev(int fd, const struct iovec* iov, int iovcnt) override;
  int close(int fd) override;
  int dup(int oldfd) override;
  int dup2(int oldfd, int newfd) override;
  int pipe2(int pipefd[2], int flags) override;
  int eventfd(unsigned int initval, int flags) override;
  int fcntl(int fd, int cmd, long arg = 0) override;
  int ioctl(int fd, unsigned long request, int* arg) override;
  int clock_gettime(clockid_t clockid, struct timespec* tp) override;
  int timerfd_create(int clockid, int flags) override;
  int timerfd_settime(int fd, int flags, const struct itimerspec* new_value,
                      struct itimerspec* old_value) override;
  int timerfd_gettime(int fd, struct itimerspec* curr_value) override;
  int poll(struct pollfd* fds, nfds_t nfds, int timeout) override;

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
