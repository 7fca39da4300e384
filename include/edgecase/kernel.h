// edgecase::Kernel — the one interface a handler is written against.
//
// One virtual method per system call, named and typed as POSIX does, using the real structs and
// constants from the system headers. On failure a method returns -1 and sets `errno`, exactly as
// the libc wrapper would. Porting a server means putting `k.` in front of its calls.
//
// Two implementations: edgecase::SimKernel (sim/, a simulated Linux kernel, deterministic) and
// edgecase::RealKernel (real/, the live syscalls). The flags each method supports are listed per
// method; on the simulated backend an unsupported flag fails with the errno Linux gives for an
// invalid one (EINVAL) unless noted, and docs/SEMANTICS.md lists every known difference.
#pragma once

#include <csignal>
#include <cstddef>
#include <ctime>
#include <poll.h>
#include <sys/epoll.h>
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

  // --- epoll -------------------------------------------------------------------------------
  // flags: 0 or EPOLL_CLOEXEC.
  virtual int epoll_create1(int flags) = 0;
  // size must be > 0 (ignored otherwise), as on Linux.
  virtual int epoll_create(int size) = 0;
  // op: EPOLL_CTL_ADD, EPOLL_CTL_MOD, EPOLL_CTL_DEL. events: EPOLLIN, EPOLLPRI, EPOLLOUT,
  // EPOLLRDNORM, EPOLLRDBAND, EPOLLWRNORM, EPOLLWRBAND, EPOLLMSG, EPOLLERR, EPOLLHUP, EPOLLRDHUP,
  // EPOLLET, EPOLLONESHOT, EPOLLEXCLUSIVE (ADD only), EPOLLWAKEUP (silently cleared without
  // CAP_BLOCK_SUSPEND). `event` may be NULL for DEL only.
  virtual int epoll_ctl(int epfd, int op, int fd, struct epoll_event* event) = 0;
  // timeout in milliseconds: < 0 waits forever, 0 polls once, > 0 is a deadline.
  // 1 <= maxevents <= INT_MAX / sizeof(epoll_event).
  virtual int epoll_wait(int epfd, struct epoll_event* events, int maxevents, int timeout) = 0;
  // As epoll_wait; `sigmask` (may be NULL) replaces the signal mask for the duration of the wait.
  virtual int epoll_pwait(int epfd, struct epoll_event* events, int maxevents, int timeout,
                          const sigset_t* sigmask) = 0;

  // --- sockets -----------------------------------------------------------------------------
  // Simulated: AF_INET SOCK_STREAM (TCP on loopback addresses, 127.0.0.0/8), with
  // SOCK_NONBLOCK and SOCK_CLOEXEC in `type`. protocol: 0 or IPPROTO_TCP.
  virtual int socket(int domain, int type, int protocol) = 0;
  virtual int bind(int sockfd, const struct sockaddr* addr, socklen_t addrlen) = 0;
  // backlog is clamped to [0, somaxconn]; the accept queue holds backlog + 1 connections.
  virtual int listen(int sockfd, int backlog) = 0;
  // flags: SOCK_NONBLOCK, SOCK_CLOEXEC. addr and addrlen may be NULL.
  virtual int accept4(int sockfd, struct sockaddr* addr, socklen_t* addrlen, int flags) = 0;
  int accept(int sockfd, struct sockaddr* addr, socklen_t* addrlen) {
    return accept4(sockfd, addr, addrlen, 0);
  }
  // Blocking or nonblocking (EINPROGRESS; completion reports EPOLLOUT, failure EPOLLERR).
  virtual int connect(int sockfd, const struct sockaddr* addr, socklen_t addrlen) = 0;
  // how: SHUT_RD, SHUT_WR, SHUT_RDWR.
  virtual int shutdown(int sockfd, int how) = 0;
  // recv flags: MSG_DONTWAIT, MSG_PEEK. send flags: MSG_DONTWAIT, MSG_NOSIGNAL, MSG_MORE
  // (accepted, no effect in the simulation). Neither backend raises SIGPIPE in the
  // simulation; the live backend does unless MSG_NOSIGNAL is given or SIGPIPE is ignored.
  virtual ssize_t recv(int sockfd, void* buf, size_t len, int flags) = 0;
  virtual ssize_t send(int sockfd, const void* buf, size_t len, int flags) = 0;
  // domain AF_UNIX, type SOCK_STREAM (with SOCK_NONBLOCK, SOCK_CLOEXEC), protocol 0.
  virtual int socketpair(int domain, int type, int protocol, int sv[2]) = 0;
  // SOL_SOCKET: SO_ERROR (get, clears), SO_TYPE, SO_DOMAIN, SO_ACCEPTCONN (get), SO_RCVBUF,
  // SO_SNDBUF, SO_LINGER, SO_REUSEADDR, SO_KEEPALIVE, SO_RCVLOWAT. IPPROTO_TCP: TCP_NODELAY.
  virtual int setsockopt(int sockfd, int level, int optname, const void* optval,
                         socklen_t optlen) = 0;
  virtual int getsockopt(int sockfd, int level, int optname, void* optval, socklen_t* optlen) = 0;
  virtual int getsockname(int sockfd, struct sockaddr* addr, socklen_t* addrlen) = 0;
  virtual int getpeername(int sockfd, struct sockaddr* addr, socklen_t* addrlen) = 0;

  // --- files -------------------------------------------------------------------------------
  virtual ssize_t read(int fd, void* buf, size_t count) = 0;
  virtual ssize_t write(int fd, const void* buf, size_t count) = 0;
  // 0 <= iovcnt <= IOV_MAX.
  virtual ssize_t readv(int fd, const struct iovec* iov, int iovcnt) = 0;
  virtual ssize_t writev(int fd, const struct iovec* iov, int iovcnt) = 0;
  virtual int close(int fd) = 0;
  virtual int dup(int oldfd) = 0;
  virtual int dup2(int oldfd, int newfd) = 0;
  // flags: O_NONBLOCK, O_CLOEXEC.
  virtual int pipe2(int pipefd[2], int flags) = 0;
  // flags: EFD_SEMAPHORE, EFD_NONBLOCK, EFD_CLOEXEC.
  virtual int eventfd(unsigned int initval, int flags) = 0;
  // cmd: F_GETFL, F_SETFL (O_NONBLOCK is the bit that changes behaviour), F_GETFD, F_SETFD
  // (FD_CLOEXEC), F_DUPFD, F_DUPFD_CLOEXEC. `arg` is the third argument.
  virtual int fcntl(int fd, int cmd, long arg = 0) = 0;
  // request: FIONREAD (bytes readable), FIONBIO (*arg != 0 sets O_NONBLOCK).
  virtual int ioctl(int fd, unsigned long request, int* arg) = 0;
  // clockid: CLOCK_MONOTONIC, CLOCK_REALTIME (the simulation's virtual clock, in both cases).
  virtual int clock_gettime(clockid_t clockid, struct timespec* tp) = 0;

  // --- timers and poll -----------------------------------------------------------------------
  // clockid: CLOCK_MONOTONIC, CLOCK_REALTIME, CLOCK_BOOTTIME; CLOCK_REALTIME_ALARM and
  // CLOCK_BOOTTIME_ALARM need CAP_WAKE_ALARM (EPERM). flags: TFD_NONBLOCK, TFD_CLOEXEC.
  // read(2) gives the expirations since the last read as a uint64_t (EAGAIN when none and
  // nonblocking, EINVAL for a buffer under 8 bytes); poll reports EPOLLIN while there are any.
  virtual int timerfd_create(int clockid, int flags) = 0;
  // flags: TFD_TIMER_ABSTIME, TFD_TIMER_CANCEL_ON_SET. An it_value of 0 disarms; a non-zero
  // it_interval repeats. old_value may be NULL.
  virtual int timerfd_settime(int fd, int flags, const struct itimerspec* new_value,
                              struct itimerspec* old_value) = 0;
  virtual int timerfd_gettime(int fd, struct itimerspec* curr_value) = 0;
  // events: POLLIN, POLLPRI, POLLOUT, POLLRDNORM, POLLRDBAND, POLLWRNORM, POLLWRBAND,
  // POLLRDHUP; POLLERR and POLLHUP are always reported, POLLNVAL for an fd that is not open;
  // a negative fd is skipped (revents 0). nfds <= RLIMIT_NOFILE. timeout in milliseconds as
  // for epoll_wait.
  virtual int poll(struct pollfd* fds, nfds_t nfds, int timeout) = 0;
};

}  // namespace edgecase
