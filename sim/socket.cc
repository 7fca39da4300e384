// net/socket.c and the SOL_SOCKET half of net/core/sock.c: argument checks in the kernel's
// order, fd plumbing, and the options every family shares.
#include "sim/socket.h"

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <fcntl.h>
#include <netinet/tcp.h>
#include <sys/ioctl.h>
#include <linux/sockios.h>

#include "edgecase/sim_kernel.h"
#include "sim/fdtable.h"
#include "sim/net.h"
#include "sim/wait.h"

namespace edgecase::sim {

int Socket::bind(const sockaddr*, socklen_t) { return -EOPNOTSUPP; }
int Socket::listen(int) { return -EOPNOTSUPP; }
int Socket::accept(Socket**, int) { return -EOPNOTSUPP; }
int Socket::connect(const sockaddr*, socklen_t) { return -EOPNOTSUPP; }
int Socket::connect_result() { return 0; }
int Socket::shutdown(int) { return -EOPNOTSUPP; }
int Socket::getname(sockaddr_storage*, Name) { return -EOPNOTSUPP; }
int Socket::setsockopt_proto(int, int, const void*, socklen_t) { return -EOPNOTSUPP; }
int Socket::getsockopt_proto(int, int, void*, socklen_t*) { return -EOPNOTSUPP; }

int Socket::ioctl(unsigned long request, int* arg) {
  int64_t n;
  switch (request) {
    case FIONREAD: n = inq(); break;   // SIOCINQ
    case SIOCOUTQ: n = outq(); break;
    default: return -ENOTTY;
  }
  if (n < 0) return static_cast<int>(n);
  if (arg == nullptr) return -EFAULT;
  *arg = static_cast<int>(std::min<int64_t>(n, INT_MAX));
  return 0;
}

// min_t(u32, val, sysctl_[rw]mem_max)
static int clamp_buf(int val, int max) {
  return static_cast<int>(std::min(static_cast<unsigned>(val), static_cast<unsigned>(max)));
}

int Socket::setsockopt(int level, int optname, const void* optval, socklen_t optlen) {
  if (level != SOL_SOCKET) return setsockopt_proto(level, optname, optval, optlen);
  if (optname == SO_LINGER) {
    if (optlen < sizeof(linger)) return -EINVAL;
    if (optval == nullptr) return -EFAULT;
    std::memcpy(&sk_linger, optval, sizeof(linger));
    return 0;
  }
  if (optlen < sizeof(int)) return -EINVAL;
  if (optval == nullptr) return -EFAULT;
  int val;
  std::memcpy(&val, optval, sizeof val);
  switch (optname) {
    case SO_REUSEADDR: reuseaddr = val != 0; return 0;
    case SO_KEEPALIVE: keepalive = val != 0; return 0;
    case SO_RCVBUF:
      // The kernel doubles the request to leave room for its own overhead, after clamping it
      // as an unsigned number: a negative request means the maximum.
      sk_rcvbuf = std::max(clamp_buf(val, kRmemMax) * 2, kSockMinRcvbuf);
      sk_userlocks |= kRcvbufLock;
      sockopt_set(optname);
      return 0;
    case SO_SNDBUF:
      sk_sndbuf = std::max(clamp_buf(val, kWmemMax) * 2, kSockMinSndbuf);
      sk_userlocks |= kSndbufLock;
      sockopt_set(optname);
      return 0;
    case SO_RCVLOWAT:
      sk_rcvlowat = val < 0 ? INT_MAX : (val ? val : 1);
      sockopt_set(optname);
      return 0;
    case SO_TYPE: case SO_DOMAIN: case SO_PROTOCOL: case SO_ERROR: case SO_ACCEPTCONN:
      return -ENOPROTOOPT;
    default:
      return -ENOPROTOOPT;
  }
}

int Socket::getsockopt(int level, int optname, void* optval, socklen_t* optlen) {
  if (level != SOL_SOCKET) return getsockopt_proto(level, optname, optval, optlen);
  if (optlen == nullptr) return -EFAULT;
  int len = static_cast<int>(*optlen);
  if (len < 0) return -EINVAL;
  int v = 0;
  const void* src = &v;
  size_t lv = sizeof v;
  switch (optname) {
    case SO_TYPE: v = type; break;
    case SO_DOMAIN: v = family; break;
    case SO_PROTOCOL: v = protocol; break;
    case SO_ERROR: v = -sock_error(); break;
    case SO_ACCEPTCONN: v = listening(); break;
    case SO_REUSEADDR: v = reuseaddr; break;
    case SO_KEEPALIVE: v = keepalive; break;
    case SO_RCVBUF: v = sk_rcvbuf; break;
    case SO_SNDBUF: v = sk_sndbuf; break;
    case SO_RCVLOWAT: v = sk_rcvlowat; break;
    case SO_LINGER: src = &sk_linger; lv = sizeof sk_linger; break;
    default: return -ENOPROTOOPT;
  }
  size_t n = std::min(static_cast<size_t>(len), lv);
  if (n && optval == nullptr) return -EFAULT;
  if (n) std::memcpy(optval, src, n);
  *optlen = static_cast<socklen_t>(n);
  return 0;
}

// move_addr_to_user: copies as much as fits, and reports the full length.
static int copy_addr_out(const sockaddr_storage& kaddr, int klen, sockaddr* uaddr,
                         socklen_t* ulen) {
  if (ulen == nullptr) return -EFAULT;
  int len = static_cast<int>(*ulen);
  if (len > klen) len = klen;
  if (len < 0) return -EINVAL;
  if (len) {
    if (uaddr == nullptr) return -EFAULT;
    std::memcpy(uaddr, &kaddr, static_cast<size_t>(len));
  }
  *ulen = static_cast<socklen_t>(klen);
  return 0;
}

}  // namespace edgecase::sim

namespace edgecase {

using sim::Socket;

namespace {
constexpr int kSockTypeMask = 0xf;

int fail(int err) {
  errno = err;
  return -1;
}
}  // namespace

// sockfd_lookup_light: EBADF for no file, ENOTSOCK for another kind of file.
#define SOCKFD_LOOKUP(ref, sock, fd)                       \
  sim::FileRef ref(fdt_->get(fd));                         \
  if (!ref) return fail(EBADF);                            \
  Socket* sock = ref->as_socket();                         \
  if (sock == nullptr) return fail(ENOTSOCK)

int SimKernel::socket(int domain, int type, int protocol) {
  int flags = type & ~kSockTypeMask;
  if (flags & ~(SOCK_CLOEXEC | SOCK_NONBLOCK)) return fail(EINVAL);
  type &= kSockTypeMask;
  unsigned f_flags = (flags & SOCK_NONBLOCK) ? O_NONBLOCK : 0;
  Socket* s = nullptr;
  int err = EAFNOSUPPORT;  // families the simulation does not model, see docs/SEMANTICS.md
  if (domain == AF_INET) s = sim::tcp_create(*net_, type, protocol, f_flags, &err);
  if (s == nullptr) return fail(err);
  int fd = install(born(s), (flags & SOCK_CLOEXEC) != 0);
  return fd < 0 ? fail(-fd) : fd;
}

int SimKernel::socketpair(int domain, int type, int protocol, int sv[2]) {
  int flags = type & ~kSockTypeMask;
  if (flags & ~(SOCK_CLOEXEC | SOCK_NONBLOCK)) return fail(EINVAL);
  type &= kSockTypeMask;
  // The two descriptors are reserved before anything else is looked at.
  int fd1 = fdt_->alloc();
  if (fd1 < 0) return fail(-fd1);
  int fd2 = fdt_->alloc(fd1 + 1);
  if (fd2 < 0) return fail(-fd2);
  if (sv == nullptr) return fail(EFAULT);
  if (domain != AF_UNIX) return fail(domain == AF_INET ? EOPNOTSUPP : EAFNOSUPPORT);
  Socket* a = nullptr;
  Socket* b = nullptr;
  unsigned f_flags = (flags & SOCK_NONBLOCK) ? O_NONBLOCK : 0;
  int err = sim::unix_stream_pair(type, protocol, f_flags, &a, &b);
  if (err < 0) return fail(-err);
  bool cloexec = (flags & SOCK_CLOEXEC) != 0;
  fdt_->install(fd1, sim::fget(born(a)), cloexec);
  fdt_->install(fd2, sim::fget(born(b)), cloexec);
  sv[0] = fd1;
  sv[1] = fd2;
  return 0;
}

int SimKernel::bind(int sockfd, const struct sockaddr* addr, socklen_t addrlen) {
  SOCKFD_LOOKUP(ref, sock, sockfd);
  if (static_cast<int>(addrlen) < 0 || addrlen > sizeof(sockaddr_storage)) return fail(EINVAL);
  if (addrlen && addr == nullptr) return fail(EFAULT);
  int r = sock->bind(addr, addrlen);
  return r < 0 ? fail(-r) : 0;
}

int SimKernel::listen(int sockfd, int backlog) {
  SOCKFD_LOOKUP(ref, sock, sockfd);
  // Compared as unsigned: a negative backlog means "as many as allowed".
  if (static_cast<unsigned>(backlog) > static_cast<unsigned>(options_.somaxconn))
    backlog = options_.somaxconn;
  int r = sock->listen(backlog);
  return r < 0 ? fail(-r) : 0;
}

int SimKernel::accept4(int sockfd, struct sockaddr* addr, socklen_t* addrlen, int flags) {
  if (flags & ~(SOCK_CLOEXEC | SOCK_NONBLOCK)) return fail(EINVAL);
  SOCKFD_LOOKUP(ref, sock, sockfd);
  // The new fd is reserved before the queue is looked at: EMFILE leaves the connection queued.
  int newfd = fdt_->alloc();
  if (newfd < 0) return fail(-newfd);
  Socket* child = nullptr;
  for (;;) {
    int r = sock->accept(&child, flags);
    if (r == 0) break;
    if (r != -EAGAIN || sock->nonblock()) return fail(-r);
    if (block(sock->wq, std::nullopt, "accept4", sockfd) == sim::WaitResult::interrupted)
      return fail(EINTR);
  }
  born(child);
  sim::fget(child);
  child->f_flags = O_RDWR | ((flags & SOCK_NONBLOCK) ? O_NONBLOCK : 0);
  if (addr != nullptr || addrlen != nullptr) {
    sockaddr_storage peer{};
    int klen = child->getname(&peer, Socket::Name::accept_peer);
    int r = klen < 0 ? klen : sim::copy_addr_out(peer, klen, addr, addrlen);
    if (r < 0) {
      sim::fput(child);
      return fail(-r);
    }
  }
  fdt_->install(newfd, child, (flags & SOCK_CLOEXEC) != 0);
  return newfd;
}

int SimKernel::connect(int sockfd, const struct sockaddr* addr, socklen_t addrlen) {
  SOCKFD_LOOKUP(ref, sock, sockfd);
  if (static_cast<int>(addrlen) < 0 || addrlen > sizeof(sockaddr_storage)) return fail(EINVAL);
  if (addrlen && addr == nullptr) return fail(EFAULT);
  int r = sock->connect(addr, addrlen);
  if (r != -EINPROGRESS || sock->nonblock()) return r < 0 ? fail(-r) : 0;
  // Blocking: sleep until the handshake ends one way or the other.
  while ((r = sock->connect_result()) == 1) {
    if (block(sock->wq, std::nullopt, "connect", sockfd) == sim::WaitResult::interrupted)
      return fail(EINTR);
  }
  return r < 0 ? fail(-r) : 0;
}

int SimKernel::shutdown(int sockfd, int how) {
  SOCKFD_LOOKUP(ref, sock, sockfd);
  int r = sock->shutdown(how);
  return r < 0 ? fail(-r) : 0;
}

ssize_t SimKernel::recv(int sockfd, void* buf, size_t len, int flags) {
  SOCKFD_LOOKUP(ref, sock, sockfd);
  return do_read(sockfd, buf, len, flags, "recv", /*via_recv=*/true);
}

ssize_t SimKernel::send(int sockfd, const void* buf, size_t len, int flags) {
  SOCKFD_LOOKUP(ref, sock, sockfd);
  return do_write(sockfd, buf, len, flags, "send");
}

// __sys_recvfrom: the data as recv, then the sender's address through move_addr_to_user. A
// stream socket's recvmsg (tcp_recvmsg, unix_stream_recvmsg of an unbound peer) leaves
// msg_namelen 0, so only the length is written: *addrlen = 0. The address checks come after the
// data is taken, as in the kernel.
ssize_t SimKernel::recvfrom(int sockfd, void* buf, size_t len, int flags,
                            struct sockaddr* src_addr, socklen_t* addrlen) {
  SOCKFD_LOOKUP(ref, sock, sockfd);
  const ssize_t r = do_read(sockfd, buf, len, flags, "recvfrom", /*via_recv=*/true);
  if (r < 0 || src_addr == nullptr) return r;
  if (addrlen == nullptr) return fail(EFAULT);
  if (static_cast<int>(*addrlen) < 0) return fail(EINVAL);
  *addrlen = 0;
  return r;
}

// __sys_sendto: move_addr_to_kernel checks the address length first; tcp_sendmsg then ignores
// the address of a connected socket (it matters only for TCP Fast Open, not modelled).
ssize_t SimKernel::sendto(int sockfd, const void* buf, size_t len, int flags,
                          const struct sockaddr* dest_addr, socklen_t addrlen) {
  SOCKFD_LOOKUP(ref, sock, sockfd);
  if (dest_addr != nullptr) {
    if (static_cast<int>(addrlen) < 0 || addrlen > sizeof(sockaddr_storage)) return fail(EINVAL);
  }
  return do_write(sockfd, buf, len, flags, "sendto");
}

int SimKernel::setsockopt(int sockfd, int level, int optname, const void* optval,
                          socklen_t optlen) {
  SOCKFD_LOOKUP(ref, sock, sockfd);
  if (static_cast<int>(optlen) < 0) return fail(EINVAL);
  int r = sock->setsockopt(level, optname, optval, optlen);
  return r < 0 ? fail(-r) : 0;
}

int SimKernel::getsockopt(int sockfd, int level, int optname, void* optval, socklen_t* optlen) {
  SOCKFD_LOOKUP(ref, sock, sockfd);
  int r = sock->getsockopt(level, optname, optval, optlen);
  return r < 0 ? fail(-r) : 0;
}

static int getname_common(Socket* sock, sockaddr* addr, socklen_t* addrlen, Socket::Name peer) {
  sockaddr_storage k{};
  int klen = sock->getname(&k, peer);
  if (klen < 0) return fail(-klen);
  int r = sim::copy_addr_out(k, klen, addr, addrlen);
  return r < 0 ? fail(-r) : 0;
}

int SimKernel::getsockname(int sockfd, struct sockaddr* addr, socklen_t* addrlen) {
  SOCKFD_LOOKUP(ref, sock, sockfd);
  return getname_common(sock, addr, addrlen, Socket::Name::local);
}

int SimKernel::getpeername(int sockfd, struct sockaddr* addr, socklen_t* addrlen) {
  SOCKFD_LOOKUP(ref, sock, sockfd);
  return getname_common(sock, addr, addrlen, Socket::Name::peer);
}

#undef SOCKFD_LOOKUP

}  // namespace edgecase
