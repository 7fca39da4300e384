// The fd calls of posix/wrap.list: epoll, sockets, read/write, fcntl, ioctl. Each makes the
// real call when no session is current (this library is not linked with --wrap, so `::read`
// here is libc's) and otherwise calls the session's Kernel, after the stdio and "cannot
// honour" checks of posix/README.md.
#include <fcntl.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cstdarg>
#include <string>

#include "posix/layer.h"
#include "world/world.h"

using edgecase::posix::Session;
using edgecase::posix::current;
using namespace edgecase::posix::detail;

namespace edgecase::posix::detail {

void unsupported(const char* call, int fd, std::string_view args, std::string_view why) {
  throw Stop{Stop::Reason::unsupported, call, fd, 0,
             fmt::format("the interposition layer cannot honour {}({}): {} (posix/README.md)",
                         call, args, why)};
}

void to_log(Session& s, int fd, std::string_view bytes) { s.log(fd, bytes); }

ssize_t after_write(Session& s, const char* call, int fd, ssize_t result, int flags) {
  if (result != -1 || errno != EPIPE || (flags & MSG_NOSIGNAL) != 0 || s.sigpipe_blocked())
    return result;
  const struct sigaction& a = s.sigpipe_action();
  if ((a.sa_flags & SA_SIGINFO) == 0 && a.sa_handler == SIG_IGN) return result;
  if ((a.sa_flags & SA_SIGINFO) == 0 && a.sa_handler == SIG_DFL)
    throw Stop{Stop::Reason::sigpipe, call, fd, 0,
               fmt::format("{}({}) failed with EPIPE without MSG_NOSIGNAL while SIGPIPE is at "
                           "SIG_DFL and unblocked: Linux kills the process with SIGPIPE",
                           call, fd)};
  const int saved = errno;  // the handler runs between the failure and the return, as on Linux
  if ((a.sa_flags & SA_SIGINFO) != 0) {
    siginfo_t info{};
    info.si_signo = SIGPIPE;
    a.sa_sigaction(SIGPIPE, &info, nullptr);
  } else {
    a.sa_handler(SIGPIPE);
  }
  errno = saved;
  return result;
}

}  // namespace edgecase::posix::detail

namespace {

// Concatenates an iovec for the log.
std::string gather(const struct iovec* iov, int iovcnt) {
  std::string out;
  for (int i = 0; i < iovcnt; ++i) out.append(static_cast<const char*>(iov[i].iov_base), iov[i].iov_len);
  return out;
}

ssize_t iov_total(const struct iovec* iov, int iovcnt) {
  ssize_t n = 0;
  for (int i = 0; i < iovcnt; ++i) n += static_cast<ssize_t>(iov[i].iov_len);
  return n;
}

// The Kernel's fcntl commands (kernel.h); others cannot be honoured.
bool known_fcntl(int cmd) {
  switch (cmd) {
    case F_GETFL: case F_SETFL: case F_GETFD: case F_SETFD: case F_DUPFD: case F_DUPFD_CLOEXEC:
      return true;
    default: return false;
  }
}

int fcntl_routed(int fd, int cmd, long arg) {
  Session* s = current();
  if (s == nullptr) return ::fcntl(fd, cmd, arg);
  if (!known_fcntl(cmd)) unsupported("fcntl", fd, fmt::format("{}, {}, {}", fd, cmd, arg), "command not modelled");
  return s->kernel().fcntl(fd, cmd, arg);
}

// The Kernel's socket options (kernel.h); others cannot be honoured.
bool known_sockopt(int level, int name) {
  if (level == IPPROTO_TCP) return name == TCP_NODELAY;
  if (level != SOL_SOCKET) return false;
  switch (name) {
    case SO_ERROR: case SO_TYPE: case SO_DOMAIN: case SO_ACCEPTCONN: case SO_RCVBUF:
    case SO_SNDBUF: case SO_LINGER: case SO_REUSEADDR: case SO_KEEPALIVE: case SO_RCVLOWAT:
      return true;
    default: return false;
  }
}

// The families and types the model has: TCP over AF_INET (socket), AF_UNIX streams (socketpair).
constexpr int kSockTypeMask = 0xf;

// recv and send flags the Kernel takes (kernel.h).
constexpr int kRecvFlags = MSG_DONTWAIT | MSG_PEEK;
constexpr int kSendFlags = MSG_DONTWAIT | MSG_NOSIGNAL | MSG_MORE;

}  // namespace

// --- epoll ------------------------------------------------------------------------------------

EDGECASE_WRAP int __wrap_epoll_create(int size) {
  Session* s = current();
  return s == nullptr ? ::epoll_create(size) : s->kernel().epoll_create(size);
}

EDGECASE_WRAP int __wrap_epoll_create1(int flags) {
  Session* s = current();
  return s == nullptr ? ::epoll_create1(flags) : s->kernel().epoll_create1(flags);
}

EDGECASE_WRAP int __wrap_epoll_ctl(int epfd, int op, int fd, struct epoll_event* event) {
  Session* s = current();
  return s == nullptr ? ::epoll_ctl(epfd, op, fd, event) : s->kernel().epoll_ctl(epfd, op, fd, event);
}

EDGECASE_WRAP int __wrap_epoll_wait(int epfd, struct epoll_event* events, int maxevents,
                                    int timeout) {
  Session* s = current();
  return s == nullptr ? ::epoll_wait(epfd, events, maxevents, timeout)
                      : s->kernel().epoll_wait(epfd, events, maxevents, timeout);
}

EDGECASE_WRAP int __wrap_epoll_pwait(int epfd, struct epoll_event* events, int maxevents,
                                     int timeout, const sigset_t* sigmask) {
  Session* s = current();
  return s == nullptr ? ::epoll_pwait(epfd, events, maxevents, timeout, sigmask)
                      : s->kernel().epoll_pwait(epfd, events, maxevents, timeout, sigmask);
}

// --- sockets ----------------------------------------------------------------------------------

EDGECASE_WRAP int __wrap_socket(int domain, int type, int protocol) {
  Session* s = current();
  if (s == nullptr) return ::socket(domain, type, protocol);
  if (domain != AF_INET || (type & kSockTypeMask) != SOCK_STREAM)
    unsupported("socket", -1, fmt::format("{}, {}, {}", domain, type, protocol),
                "the model has TCP over AF_INET only (AF_UNIX through socketpair)");
  return s->kernel().socket(domain, type, protocol);
}

EDGECASE_WRAP int __wrap_socketpair(int domain, int type, int protocol, int sv[2]) {
  Session* s = current();
  if (s == nullptr) return ::socketpair(domain, type, protocol, sv);
  if (domain != AF_UNIX || (type & kSockTypeMask) != SOCK_STREAM)
    unsupported("socketpair", -1, fmt::format("{}, {}, {}", domain, type, protocol),
                "the model has AF_UNIX SOCK_STREAM pairs only");
  return s->kernel().socketpair(domain, type, protocol, sv);
}

EDGECASE_WRAP int __wrap_bind(int fd, const struct sockaddr* addr, socklen_t len) {
  Session* s = current();
  return s == nullptr ? ::bind(fd, addr, len) : s->kernel().bind(fd, addr, len);
}

EDGECASE_WRAP int __wrap_listen(int fd, int backlog) {
  Session* s = current();
  return s == nullptr ? ::listen(fd, backlog) : s->kernel().listen(fd, backlog);
}

EDGECASE_WRAP int __wrap_accept4(int fd, struct sockaddr* addr, socklen_t* len, int flags) {
  Session* s = current();
  return s == nullptr ? ::accept4(fd, addr, len, flags) : s->kernel().accept4(fd, addr, len, flags);
}

EDGECASE_WRAP int __wrap_accept(int fd, struct sockaddr* addr, socklen_t* len) {
  Session* s = current();
  return s == nullptr ? ::accept(fd, addr, len) : s->kernel().accept4(fd, addr, len, 0);
}

EDGECASE_WRAP int __wrap_connect(int fd, const struct sockaddr* addr, socklen_t len) {
  Session* s = current();
  return s == nullptr ? ::connect(fd, addr, len) : s->kernel().connect(fd, addr, len);
}

EDGECASE_WRAP int __wrap_shutdown(int fd, int how) {
  Session* s = current();
  return s == nullptr ? ::shutdown(fd, how) : s->kernel().shutdown(fd, how);
}

EDGECASE_WRAP ssize_t __wrap_recv(int fd, void* buf, size_t len, int flags) {
  Session* s = current();
  if (s == nullptr) return ::recv(fd, buf, len, flags);
  if ((flags & ~kRecvFlags) != 0)
    unsupported("recv", fd, fmt::format("{}, buf, {}, {:#x}", fd, len, flags), "flag not modelled");
  return s->kernel().recv(fd, buf, len, flags);
}

// _FORTIFY_SOURCE's recv (the handler's compiler chose it when it knew the buffer's size).
EDGECASE_WRAP ssize_t __wrap___recv_chk(int fd, void* buf, size_t len, size_t buflen, int flags) {
  if (len > buflen) ::abort();  // glibc's __chk_fail: a buffer overflow, as the real one
  return __wrap_recv(fd, buf, len, flags);
}

EDGECASE_WRAP ssize_t __wrap_send(int fd, const void* buf, size_t len, int flags) {
  Session* s = current();
  if (s == nullptr) return ::send(fd, buf, len, flags);
  if ((flags & ~kSendFlags) != 0)
    unsupported("send", fd, fmt::format("{}, buf, {}, {:#x}", fd, len, flags), "flag not modelled");
  return after_write(*s, "send", fd, s->kernel().send(fd, buf, len, flags), flags);
}

EDGECASE_WRAP ssize_t __wrap_recvfrom(int fd, void* buf, size_t len, int flags,
                                      struct sockaddr* addr, socklen_t* addrlen) {
  Session* s = current();
  if (s == nullptr) return ::recvfrom(fd, buf, len, flags, addr, addrlen);
  if ((flags & ~kRecvFlags) != 0)
    unsupported("recvfrom", fd, fmt::format("{}, buf, {}, {:#x}, addr, addrlen", fd, len, flags),
                "flag not modelled");
  return s->kernel().recvfrom(fd, buf, len, flags, addr, addrlen);
}

// _FORTIFY_SOURCE's recvfrom.
EDGECASE_WRAP ssize_t __wrap___recvfrom_chk(int fd, void* buf, size_t len, size_t buflen,
                                            int flags, struct sockaddr* addr, socklen_t* addrlen) {
  if (len > buflen) ::abort();  // glibc's __chk_fail
  return __wrap_recvfrom(fd, buf, len, flags, addr, addrlen);
}

EDGECASE_WRAP ssize_t __wrap_sendto(int fd, const void* buf, size_t len, int flags,
                                    const struct sockaddr* addr, socklen_t addrlen) {
  Session* s = current();
  if (s == nullptr) return ::sendto(fd, buf, len, flags, addr, addrlen);
  if ((flags & ~kSendFlags) != 0)
    unsupported("sendto", fd, fmt::format("{}, buf, {}, {:#x}, addr, {}", fd, len, flags, addrlen),
                "flag not modelled");
  return after_write(*s, "sendto", fd, s->kernel().sendto(fd, buf, len, flags, addr, addrlen),
                     flags);
}

EDGECASE_WRAP ssize_t __wrap_recvmsg(int fd, struct msghdr* msg, int flags) {
  Session* s = current();
  if (s == nullptr) return ::recvmsg(fd, msg, flags);
  if ((flags & ~kRecvFlags) != 0)
    unsupported("recvmsg", fd, fmt::format("{}, msg, {:#x}", fd, flags), "flag not modelled");
  return s->kernel().recvmsg(fd, msg, flags);
}

// Ancillary data (SCM_RIGHTS, ...) is not modelled: the simulation would fail with EINVAL where
// Linux passes it, so the verdicts would differ; the layer says so instead.
EDGECASE_WRAP ssize_t __wrap_sendmsg(int fd, const struct msghdr* msg, int flags) {
  Session* s = current();
  if (s == nullptr) return ::sendmsg(fd, msg, flags);
  if ((flags & ~kSendFlags) != 0)
    unsupported("sendmsg", fd, fmt::format("{}, msg, {:#x}", fd, flags), "flag not modelled");
  if (msg != nullptr && msg->msg_controllen != 0)
    unsupported("sendmsg", fd, fmt::format("{}, msg, {:#x}", fd, flags),
                "ancillary data (msg_control) not modelled");
  return after_write(*s, "sendmsg", fd, s->kernel().sendmsg(fd, msg, flags), flags);
}

EDGECASE_WRAP int __wrap_setsockopt(int fd, int level, int name, const void* val, socklen_t len) {
  Session* s = current();
  if (s == nullptr) return ::setsockopt(fd, level, name, val, len);
  if (!known_sockopt(level, name))
    unsupported("setsockopt", fd, fmt::format("{}, {}, {}, optval, {}", fd, level, name, len),
                "option not modelled");
  return s->kernel().setsockopt(fd, level, name, val, len);
}

EDGECASE_WRAP int __wrap_getsockopt(int fd, int level, int name, void* val, socklen_t* len) {
  Session* s = current();
  if (s == nullptr) return ::getsockopt(fd, level, name, val, len);
  if (!known_sockopt(level, name))
    unsupported("getsockopt", fd, fmt::format("{}, {}, {}, optval, optlen", fd, level, name),
                "option not modelled");
  return s->kernel().getsockopt(fd, level, name, val, len);
}

EDGECASE_WRAP int __wrap_getsockname(int fd, struct sockaddr* addr, socklen_t* len) {
  Session* s = current();
  return s == nullptr ? ::getsockname(fd, addr, len) : s->kernel().getsockname(fd, addr, len);
}

EDGECASE_WRAP int __wrap_getpeername(int fd, struct sockaddr* addr, socklen_t* len) {
  Session* s = current();
  return s == nullptr ? ::getpeername(fd, addr, len) : s->kernel().getpeername(fd, addr, len);
}

// --- read and write ---------------------------------------------------------------------------

EDGECASE_WRAP ssize_t __wrap_read(int fd, void* buf, size_t count) {
  Session* s = current();
  if (s == nullptr) return ::read(fd, buf, count);
  if (is_stdio(fd)) return 0;  // an empty stdin (and nothing to read back from stdout)
  return s->kernel().read(fd, buf, count);
}

EDGECASE_WRAP ssize_t __wrap___read_chk(int fd, void* buf, size_t count, size_t buflen) {
  if (count > buflen) ::abort();  // glibc's __chk_fail
  return __wrap_read(fd, buf, count);
}

EDGECASE_WRAP ssize_t __wrap_write(int fd, const void* buf, size_t count) {
  Session* s = current();
  if (s == nullptr) return ::write(fd, buf, count);
  if (fd == kStdout || fd == kStderr) {
    to_log(*s, fd, {static_cast<const char*>(buf), count});
    return static_cast<ssize_t>(count);
  }
  return after_write(*s, "write", fd, s->kernel().write(fd, buf, count), 0);
}

EDGECASE_WRAP ssize_t __wrap_readv(int fd, const struct iovec* iov, int iovcnt) {
  Session* s = current();
  if (s == nullptr) return ::readv(fd, iov, iovcnt);
  if (is_stdio(fd)) return 0;
  return s->kernel().readv(fd, iov, iovcnt);
}

EDGECASE_WRAP ssize_t __wrap_writev(int fd, const struct iovec* iov, int iovcnt) {
  Session* s = current();
  if (s == nullptr) return ::writev(fd, iov, iovcnt);
  if ((fd == kStdout || fd == kStderr) && iovcnt >= 0) {
    to_log(*s, fd, gather(iov, iovcnt));
    return iov_total(iov, iovcnt);
  }
  return after_write(*s, "writev", fd, s->kernel().writev(fd, iov, iovcnt), 0);
}

// --- descriptors ------------------------------------------------------------------------------

EDGECASE_WRAP int __wrap_close(int fd) {
  Session* s = current();
  if (s == nullptr) return ::close(fd);
  if (is_stdio(fd)) return 0;  // stdio stays the log: the model's 0-2 are never reused
  return s->kernel().close(fd);
}

EDGECASE_WRAP int __wrap_dup(int fd) {
  Session* s = current();
  return s == nullptr ? ::dup(fd) : s->kernel().dup(fd);
}

EDGECASE_WRAP int __wrap_dup2(int oldfd, int newfd) {
  Session* s = current();
  if (s == nullptr) return ::dup2(oldfd, newfd);
  if (is_stdio(newfd) && oldfd != newfd)
    unsupported("dup2", oldfd, fmt::format("{}, {}", oldfd, newfd),
                "fds 0-2 are the run's stdio and log, not the model's");
  return s->kernel().dup2(oldfd, newfd);
}

EDGECASE_WRAP int __wrap_dup3(int oldfd, int newfd, int flags) {
  Session* s = current();
  if (s == nullptr) return ::dup3(oldfd, newfd, flags);
  if (is_stdio(newfd) && oldfd != newfd)
    unsupported("dup3", oldfd, fmt::format("{}, {}, {:#x}", oldfd, newfd, flags),
                "fds 0-2 are the run's stdio and log, not the model's");
  return s->kernel().dup3(oldfd, newfd, flags);
}

EDGECASE_WRAP int __wrap_pipe2(int fds[2], int flags) {
  Session* s = current();
  return s == nullptr ? ::pipe2(fds, flags) : s->kernel().pipe2(fds, flags);
}

EDGECASE_WRAP int __wrap_pipe(int fds[2]) {
  Session* s = current();
  return s == nullptr ? ::pipe(fds) : s->kernel().pipe2(fds, 0);
}

EDGECASE_WRAP int __wrap_eventfd(unsigned int initval, int flags) {
  Session* s = current();
  return s == nullptr ? ::eventfd(initval, flags) : s->kernel().eventfd(initval, flags);
}

// fcntl's third argument is read as a long whatever the command, as glibc's fcntl reads it.
EDGECASE_WRAP int __wrap_fcntl(int fd, int cmd, ...) {
  va_list ap;
  va_start(ap, cmd);
  const long arg = va_arg(ap, long);
  va_end(ap);
  return fcntl_routed(fd, cmd, arg);
}

EDGECASE_WRAP int __wrap_fcntl64(int fd, int cmd, ...) {
  va_list ap;
  va_start(ap, cmd);
  const long arg = va_arg(ap, long);
  va_end(ap);
  return fcntl_routed(fd, cmd, arg);
}

// ioctl: FIONREAD and FIONBIO as the Kernel has them; FIOCLEX and FIONCLEX (libuv's way to set
// close-on-exec) as fcntl(F_SETFD), which is what they do (fs/ioctl.c, do_vfs_ioctl).
EDGECASE_WRAP int __wrap_ioctl(int fd, unsigned long request, ...) {
  va_list ap;
  va_start(ap, request);
  void* arg = va_arg(ap, void*);
  va_end(ap);
  Session* s = current();
  if (s == nullptr) return ::ioctl(fd, request, arg);
  if (request == FIONREAD || request == FIONBIO)
    return s->kernel().ioctl(fd, request, static_cast<int*>(arg));
  if (request == FIOCLEX) return s->kernel().fcntl(fd, F_SETFD, FD_CLOEXEC);
  if (request == FIONCLEX) return s->kernel().fcntl(fd, F_SETFD, 0);
  unsupported("ioctl", fd, fmt::format("{}, {:#x}, arg", fd, request), "request not modelled");
}

// --- timerfd and poll -------------------------------------------------------------------------

EDGECASE_WRAP int __wrap_timerfd_create(int clockid, int flags) {
  Session* s = current();
  return s == nullptr ? ::timerfd_create(clockid, flags)
                      : s->kernel().timerfd_create(clockid, flags);
}

EDGECASE_WRAP int __wrap_timerfd_settime(int fd, int flags, const struct itimerspec* new_value,
                                         struct itimerspec* old_value) {
  Session* s = current();
  return s == nullptr ? ::timerfd_settime(fd, flags, new_value, old_value)
                      : s->kernel().timerfd_settime(fd, flags, new_value, old_value);
}

EDGECASE_WRAP int __wrap_timerfd_gettime(int fd, struct itimerspec* curr_value) {
  Session* s = current();
  return s == nullptr ? ::timerfd_gettime(fd, curr_value)
                      : s->kernel().timerfd_gettime(fd, curr_value);
}

// poll: the whole set is the Kernel's, fds 0-2 included (as epoll_ctl's): the model's 0-2 are
// /dev/null, which polls readable at end of file and writable, as the layer's stdio behaves.
EDGECASE_WRAP int __wrap_poll(struct pollfd* fds, nfds_t nfds, int timeout) {
  Session* s = current();
  return s == nullptr ? ::poll(fds, nfds, timeout) : s->kernel().poll(fds, nfds, timeout);
}

// _FORTIFY_SOURCE's poll (glibc's __poll_chk: the array must hold nfds entries).
EDGECASE_WRAP int __wrap___poll_chk(struct pollfd* fds, nfds_t nfds, int timeout, size_t fdslen) {
  if (fdslen / sizeof(*fds) < nfds) ::abort();  // glibc's __chk_fail
  return __wrap_poll(fds, nfds, timeout);
}
