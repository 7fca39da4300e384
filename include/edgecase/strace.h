// Strace-shaped traces of Kernel calls.
//
// TracingKernel wraps any Kernel and records each call as one line, the way strace prints it:
//   epoll_ctl(3, EPOLL_CTL_ADD, 4, {events=EPOLLIN|EPOLLET, data.u64=4}) = 0
//   read(4, "hello", 3) = 3
//   read(4, 0x..., 64) = -1 EAGAIN (Resource temporarily unavailable)
// Buffers are shown by content (never by address), so two backends running the same calls
// produce the same lines when they behave the same.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "edgecase/kernel.h"

namespace edgecase {

// Names of epoll event bits ("EPOLLIN|EPOLLET"), errno values ("EAGAIN"), ops, flags.
std::string epoll_events_name(uint32_t events);
std::string errno_name(int err);
// A byte buffer as strace shows it: quoted, escaped, cut after `limit` bytes with "...".
std::string quote_bytes(const void* data, size_t len, size_t limit = 32);

class TracingKernel final : public Kernel {
 public:
  // Every call is forwarded to `inner`; each finished call's line goes to `sink`.
  TracingKernel(Kernel& inner, std::function<void(const std::string&)> sink);

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
  // Appends " = r" or " = -1 EXXX (message)" and emits the line; returns r unchanged.
  template <class R>
  R done(std::string call, R r);

  Kernel& inner_;
  std::function<void(const std::string&)> sink_;
};

}  // namespace edgecase
