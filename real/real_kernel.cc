#include "edgecase/real_kernel.h"

#include <algorithm>
#include <cerrno>
#include <fcntl.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <string>
#include <string_view>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/uio.h>
#include <time.h>
#include <tuple>
#include <unistd.h>

#include "real/errno_guard.h"
#include "real/fdinfo.h"

namespace edgecase {
namespace {


// The whole of a /proc file (its size is not known in advance; seq_file hands it out in
// chunks). nullopt if it cannot be opened or read.
std::optional<std::string> read_proc_file(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  std::string text;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      ::close(fd);
      return std::nullopt;
    }
    if (n == 0) break;
    text.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return text;
}

bool is_epoll_fd(int fd) {
  std::string link = "/proc/self/fd/" + std::to_string(fd);
  char target[64];
  ssize_t n = ::readlink(link.c_str(), target, sizeof target);
  if (n < 0 || static_cast<size_t>(n) >= sizeof target) return false;
  return std::string_view(target, static_cast<size_t>(n)) == "anon_inode:[eventpoll]";
}

}  // namespace

RealKernel::~RealKernel() {
  ErrnoGuard guard;
  std::lock_guard lock(mu_);
  for (size_t fd = 0; fd < owned_.size(); ++fd) {
    if (owned_[fd]) ::close(static_cast<int>(fd));
  }
}

bool RealKernel::owns(int fd) const {
  std::lock_guard lock(mu_);
  return fd >= 0 && static_cast<size_t>(fd) < owned_.size() && owned_[fd];
}

size_t RealKernel::owned_count() const {
  std::lock_guard lock(mu_);
  return static_cast<size_t>(std::count(owned_.begin(), owned_.end(), true));
}

std::vector<int> RealKernel::owned_fds() const {
  std::lock_guard lock(mu_);
  std::vector<int> out;
  for (size_t fd = 0; fd < owned_.size(); ++fd)
    if (owned_[fd]) out.push_back(static_cast<int>(fd));
  return out;
}

void RealKernel::adopt(int fd) {
  if (fd < 0) return;
  ErrnoGuard guard;  // resize may allocate; keep the syscall's errno intact regardless
  std::lock_guard lock(mu_);
  auto i = static_cast<size_t>(fd);
  if (i >= owned_.size()) owned_.resize(std::max<size_t>(i + 1, owned_.size() * 2));
  owned_[i] = true;
}

void RealKernel::forget(int fd) {
  if (fd < 0) return;
  std::lock_guard lock(mu_);
  auto i = static_cast<size_t>(fd);
  if (i < owned_.size()) owned_[i] = false;
}

// --- epoll ---------------------------------------------------------------------------------

int RealKernel::epoll_create1(int flags) {
  int fd = ::epoll_create1(flags);
  adopt(fd);
  return fd;
}

int RealKernel::epoll_create(int size) {
  int fd = ::epoll_create(size);
  adopt(fd);
  return fd;
}

int RealKernel::epoll_ctl(int epfd, int op, int fd, struct epoll_event* event) {
  return ::epoll_ctl(epfd, op, fd, event);
}

int RealKernel::epoll_wait(int epfd, struct epoll_event* events, int maxevents, int timeout) {
  return ::epoll_wait(epfd, events, maxevents, timeout);
}

int RealKernel::epoll_pwait(int epfd, struct epoll_event* events, int maxevents, int timeout,
                            const sigset_t* sigmask) {
  return ::epoll_pwait(epfd, events, maxevents, timeout, sigmask);
}

// --- sockets -------------------------------------------------------------------------------

int RealKernel::socket(int domain, int type, int protocol) {
  int fd = ::socket(domain, type, protocol);
  adopt(fd);
  return fd;
}

int RealKernel::bind(int sockfd, const struct sockaddr* addr, socklen_t addrlen) {
  return ::bind(sockfd, addr, addrlen);
}

int RealKernel::listen(int sockfd, int backlog) { return ::listen(sockfd, backlog); }

int RealKernel::accept4(int sockfd, struct sockaddr* addr, socklen_t* addrlen, int flags) {
  int fd = ::accept4(sockfd, addr, addrlen, flags);
  adopt(fd);
  return fd;
}

int RealKernel::connect(int sockfd, const struct sockaddr* addr, socklen_t addrlen) {
  return ::connect(sockfd, addr, addrlen);
}

int RealKernel::shutdown(int sockfd, int how) { return ::shutdown(sockfd, how); }

ssize_t RealKernel::recv(int sockfd, void* buf, size_t len, int flags) {
  return ::recv(sockfd, buf, len, flags);
}

ssize_t RealKernel::send(int sockfd, const void* buf, size_t len, int flags) {
  return ::send(sockfd, buf, len, flags);
}

ssize_t RealKernel::recvfrom(int sockfd, void* buf, size_t len, int flags,
                             struct sockaddr* src_addr, socklen_t* addrlen) {
  return ::recvfrom(sockfd, buf, len, flags, src_addr, addrlen);
}

ssize_t RealKernel::sendto(int sockfd, const void* buf, size_t len, int flags,
                           const struct sockaddr* dest_addr, socklen_t addrlen) {
  return ::sendto(sockfd, buf, len, flags, dest_addr, addrlen);
}

ssize_t RealKernel::recvmsg(int sockfd, struct msghdr* msg, int flags) {
  return ::recvmsg(sockfd, msg, flags);
}

ssize_t RealKernel::sendmsg(int sockfd, const struct msghdr* msg, int flags) {
  return ::sendmsg(sockfd, msg, flags);
}

int RealKernel::socketpair(int domain, int type, int protocol, int sv[2]) {
  int rc = ::socketpair(domain, type, protocol, sv);
  if (rc == 0) {
    adopt(sv[0]);
    adopt(sv[1]);
  }
  return rc;
}

int RealKernel::setsockopt(int sockfd, int level, int optname, const void* optval,
                           socklen_t optlen) {
  return ::setsockopt(sockfd, level, optname, optval, optlen);
}

int RealKernel::getsockopt(int sockfd, int level, int optname, void* optval, socklen_t* optlen) {
  return ::getsockopt(sockfd, level, optname, optval, optlen);
}

int RealKernel::getsockname(int sockfd, struct sockaddr* addr, socklen_t* addrlen) {
  return ::getsockname(sockfd, addr, addrlen);
}

int RealKernel::getpeername(int sockfd, struct sockaddr* addr, socklen_t* addrlen) {
  return ::getpeername(sockfd, addr, addrlen);
}

// --- files ---------------------------------------------------------------------------------

ssize_t RealKernel::read(int fd, void* buf, size_t count) { return ::read(fd, buf, count); }

ssize_t RealKernel::write(int fd, const void* buf, size_t count) {
  return ::write(fd, buf, count);
}

ssize_t RealKernel::readv(int fd, const struct iovec* iov, int iovcnt) {
  return ::readv(fd, iov, iovcnt);
}

ssize_t RealKernel::writev(int fd, const struct iovec* iov, int iovcnt) {
  return ::writev(fd, iov, iovcnt);
}

int RealKernel::close(int fd) {
  // Forget first: once ::close releases the number, another thread may be handed it and adopt
  // it, and that claim must survive. Linux releases the fd even when close fails (EINTR, EIO).
  forget(fd);
  return ::close(fd);
}

int RealKernel::dup(int oldfd) {
  int fd = ::dup(oldfd);
  adopt(fd);
  return fd;
}

int RealKernel::dup2(int oldfd, int newfd) {
  int fd = ::dup2(oldfd, newfd);
  if (fd >= 0 && oldfd != newfd) adopt(fd);
  return fd;
}

int RealKernel::dup3(int oldfd, int newfd, int flags) {
  int fd = ::dup3(oldfd, newfd, flags);
  if (fd >= 0) adopt(fd);  // dup3 never succeeds with oldfd == newfd
  return fd;
}

int RealKernel::pipe2(int pipefd[2], int flags) {
  int rc = ::pipe2(pipefd, flags);
  if (rc == 0) {
    adopt(pipefd[0]);
    adopt(pipefd[1]);
  }
  return rc;
}

// Only the two paths of kernel_calls.def: the handler's fds are the run's own, never a real
// file's (and a relative path would depend on the test's working directory).
int RealKernel::open(const char* path, int flags) {
  if (path == nullptr) return errno = EFAULT, -1;
  const std::string_view p(path);
  if (p != "/dev/null" && p != "/") return errno = ENOENT, -1;
  const int fd = ::open(path, flags);
  adopt(fd);
  return fd;
}

int RealKernel::eventfd(unsigned int initval, int flags) {
  int fd = ::eventfd(initval, flags);
  adopt(fd);
  return fd;
}

int RealKernel::fcntl(int fd, int cmd, long arg) {
  int rc = ::fcntl(fd, cmd, arg);
  if (cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC) adopt(rc);
  return rc;
}

int RealKernel::ioctl(int fd, unsigned long request, int* arg) {
  return ::ioctl(fd, request, arg);
}

int RealKernel::clock_gettime(clockid_t clockid, struct timespec* tp) {
  return ::clock_gettime(clockid, tp);
}

int RealKernel::timerfd_create(int clockid, int flags) {
  int fd = ::timerfd_create(clockid, flags);
  adopt(fd);
  return fd;
}

int RealKernel::timerfd_settime(int fd, int flags, const struct itimerspec* new_value,
                                struct itimerspec* old_value) {
  return ::timerfd_settime(fd, flags, new_value, old_value);
}

int RealKernel::timerfd_gettime(int fd, struct itimerspec* curr_value) {
  return ::timerfd_gettime(fd, curr_value);
}

int RealKernel::poll(struct pollfd* fds, nfds_t nfds, int timeout) {
  return ::poll(fds, nfds, timeout);
}

int RealKernel::clock_getres(clockid_t clockid, struct timespec* res) {
  return ::clock_getres(clockid, res);
}

int RealKernel::nanosleep(const struct timespec* req, struct timespec* rem) {
  return ::nanosleep(req, rem);
}

// glibc types the resource as an enum in C++; the Kernel passes the int the system call takes.
int RealKernel::getrlimit(int resource, struct rlimit* rlim) {
  return ::getrlimit(static_cast<__rlimit_resource_t>(resource), rlim);
}

int RealKernel::setrlimit(int resource, const struct rlimit* rlim) {
  return ::setrlimit(static_cast<__rlimit_resource_t>(resource), rlim);
}

// --- Inspect -------------------------------------------------------------------------------

std::optional<uint64_t> RealKernel::bytes_to_read(int fd) {
  ErrnoGuard guard;
  int n = 0;
  if (::ioctl(fd, FIONREAD, &n) != 0 || n < 0) return std::nullopt;
  return static_cast<uint64_t>(n);
}

std::optional<uint32_t> RealKernel::poll_mask(int fd) {
  ErrnoGuard guard;
  // poll's bits are epoll's bits on Linux (both are the file's f_op->poll mask).
  pollfd p{fd, POLLIN | POLLPRI | POLLOUT | POLLRDHUP | POLLRDNORM | POLLWRNORM, 0};
  if (::poll(&p, 1, 0) < 0 || (p.revents & POLLNVAL) != 0) return std::nullopt;
  return static_cast<uint32_t>(static_cast<uint16_t>(p.revents));
}

std::optional<uint64_t> RealKernel::accept_queue(int fd) {
  ErrnoGuard guard;
  tcp_info info{};
  socklen_t len = sizeof info;
  if (::getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &len) != 0) return std::nullopt;
  if (info.tcpi_state != TCP_LISTEN) return std::nullopt;
  return info.tcpi_unacked;  // tcp_get_info: a listener's sk_ack_backlog
}

std::optional<uint64_t> RealKernel::bytes_to_send(int fd) {
  ErrnoGuard guard;
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISSOCK(st.st_mode)) return std::nullopt;
  int n = 0;
  if (::ioctl(fd, SIOCOUTQ, &n) != 0 || n < 0) return std::nullopt;
  return static_cast<uint64_t>(n);
}

std::optional<std::vector<Interest>> RealKernel::interest_set(int epfd) {
  ErrnoGuard guard;
  if (epfd < 0 || !is_epoll_fd(epfd)) return std::nullopt;
  std::optional<std::string> text = read_proc_file("/proc/self/fdinfo/" + std::to_string(epfd));
  if (!text) return std::nullopt;
  std::vector<Interest> items = real::parse_epoll_fdinfo(*text);
  std::sort(items.begin(), items.end(), [](const Interest& a, const Interest& b) {
    return std::tie(a.fd, a.events, a.data) < std::tie(b.fd, b.events, b.data);
  });
  return items;
}

}  // namespace edgecase
