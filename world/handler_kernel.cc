#include "world/handler_kernel.h"

#include <cerrno>
#include <climits>
#include <fmt/format.h>
#include <netinet/in.h>
#include <vector>

#include "sim/file.h"
#include "sim/socket.h"
#include "sim/tcp.h"
#include "world/world.h"

namespace edgecase::sim {

namespace {

TcpSocket* tcp_at(SimKernel& k, int fd) {
  File* f = k.file_at(fd);
  Socket* s = f ? f->as_socket() : nullptr;
  return s ? dynamic_cast<TcpSocket*>(s) : nullptr;
}

}  // namespace

size_t HandlerKernel::write_allowance(int fd, size_t len, int msg_flags, const char* call) {
  if (len < 2) return len;
  TcpSocket* s = tcp_at(k_, fd);
  // A blocking sender waits for memory instead (sk_stream_wait_memory); only a nonblocking one
  // gets the part that was copied.
  if (s == nullptr || !(s->nonblock() || (msg_flags & MSG_DONTWAIT))) return len;
  if (!w_.fire(FaultKind::short_write)) return len;
  const size_t allowed = w_.random().between(Stream::faults, 1, len - 1);
  if (w_.tracing())
    w_.trace(fmt::format("fault: short-write: {}({}) may copy {} of {} bytes", call, fd, allowed,
                         len));
  return allowed;
}

int HandlerKernel::cut_iov(const struct iovec* iov, int iovcnt, size_t allowed,
                           struct iovec* out) {
  int n = 0;
  for (int i = 0; i < iovcnt && allowed > 0; ++i) {
    out[n] = iov[i];
    if (out[n].iov_len > allowed) out[n].iov_len = allowed;
    allowed -= out[n].iov_len;
    ++n;
  }
  return n;
}

// The cut write copied all it was allowed: the rest did not fit because the protocol refused
// memory, so only an ACK that frees space will say EPOLLOUT again (SOCK_NOSPACE).
void HandlerKernel::after_cut_write(ssize_t r, size_t allowed, size_t len, int fd) {
  if (allowed < len && r == static_cast<ssize_t>(allowed))
    if (TcpSocket* s = tcp_at(k_, fd)) s->tcb().memory_pressure();
}

ssize_t HandlerKernel::write(int fd, const void* buf, size_t count) {
  w_.on_call("write", fd);
  const size_t allowed = write_allowance(fd, count, 0, "write");
  const ssize_t r = k_.write(fd, buf, allowed);
  after_cut_write(r, allowed, count, fd);
  return r;
}

ssize_t HandlerKernel::send(int sockfd, const void* buf, size_t len, int flags) {
  w_.on_call("send", sockfd);
  const size_t allowed = write_allowance(sockfd, len, flags, "send");
  const ssize_t r = k_.send(sockfd, buf, allowed, flags);
  after_cut_write(r, allowed, len, sockfd);
  return r;
}

ssize_t HandlerKernel::sendto(int sockfd, const void* buf, size_t len, int flags,
                              const struct sockaddr* dest_addr, socklen_t addrlen) {
  w_.on_call("sendto", sockfd);
  const size_t allowed = write_allowance(sockfd, len, flags, "sendto");
  const ssize_t r = k_.sendto(sockfd, buf, allowed, flags, dest_addr, addrlen);
  after_cut_write(r, allowed, len, sockfd);
  return r;
}

// As writev: the vector cut to what the short-write fault allows, in a copy of the header.
ssize_t HandlerKernel::sendmsg(int sockfd, const struct msghdr* msg, int flags) {
  w_.on_call("sendmsg", sockfd);
  if (msg == nullptr || msg->msg_iov == nullptr || msg->msg_iovlen == 0 ||
      msg->msg_iovlen > IOV_MAX)
    return k_.sendmsg(sockfd, msg, flags);
  size_t total = 0;
  for (size_t i = 0; i < msg->msg_iovlen; ++i) total += msg->msg_iov[i].iov_len;
  const size_t allowed = write_allowance(sockfd, total, flags, "sendmsg");
  if (allowed == total) return k_.sendmsg(sockfd, msg, flags);
  std::vector<struct iovec> cut(msg->msg_iovlen);
  struct msghdr shorter = *msg;
  shorter.msg_iov = cut.data();
  shorter.msg_iovlen = static_cast<size_t>(
      cut_iov(msg->msg_iov, static_cast<int>(msg->msg_iovlen), allowed, cut.data()));
  const ssize_t r = k_.sendmsg(sockfd, &shorter, flags);
  after_cut_write(r, allowed, total, sockfd);
  return r;
}

ssize_t HandlerKernel::writev(int fd, const struct iovec* iov, int iovcnt) {
  w_.on_call("writev", fd);
  size_t total = 0;
  // Invalid vectors go to the kernel untouched, so its errno decides.
  if (iov == nullptr || iovcnt <= 0 || iovcnt > IOV_MAX) return k_.writev(fd, iov, iovcnt);
  for (int i = 0; i < iovcnt; ++i) total += iov[i].iov_len;
  const size_t allowed = write_allowance(fd, total, 0, "writev");
  if (allowed == total) return k_.writev(fd, iov, iovcnt);
  std::vector<struct iovec> cut(static_cast<size_t>(iovcnt));
  const int n = cut_iov(iov, iovcnt, allowed, cut.data());
  const ssize_t r = k_.writev(fd, cut.data(), n);
  after_cut_write(r, allowed, total, fd);
  return r;
}

int HandlerKernel::accept4(int sockfd, struct sockaddr* addr, socklen_t* addrlen, int flags) {
  w_.on_call("accept4", sockfd);
  const int fd = k_.accept4(sockfd, addr, addrlen, flags);
  if (fd < 0 || !w_.fire(FaultKind::accept_abort)) return fd;
  // The connection was reset before accept could return it: the peer sees the reset.
  sockaddr_in peer{};
  socklen_t peer_len = sizeof peer;
  k_.getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &peer_len);
  const struct linger abort_on_close {1, 0};
  k_.setsockopt(fd, SOL_SOCKET, SO_LINGER, &abort_on_close, sizeof abort_on_close);
  k_.close(fd);
  if (w_.tracing()) {
    const uint32_t a = ntohl(peer.sin_addr.s_addr);
    w_.trace(fmt::format("fault: accept-abort: accept4({}) connection from {}.{}.{}.{}:{} reset",
                         sockfd, a >> 24, (a >> 16) & 0xff, (a >> 8) & 0xff, a & 0xff,
                         ntohs(peer.sin_port)));
  }
  errno = ECONNABORTED;
  return -1;
}

// --- the rest: the call's cost, then the server kernel -------------------------------------------

long HandlerKernel::around(const CallSite& call, Forward forward) {
  w_.on_call(call.name, call.fd);
  return forward();
}

}  // namespace edgecase::sim
