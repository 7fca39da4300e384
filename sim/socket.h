// struct socket + struct sock, the parts every family shares (net/socket.c, net/core/sock.c):
// the SOL_SOCKET options, sk_err, sk_shutdown, buffer sizes. AF_UNIX stream (unix_stream.h) and
// TCP (tcp.h) derive from it and implement the protocol operations. Like every file operation,
// these never block: they return -EAGAIN (or -EINPROGRESS) and SimKernel does the waiting.
#pragma once

#include <cstdint>
#include <netinet/in.h>
#include <span>
#include <sys/socket.h>

#include "sim/file.h"

namespace edgecase::sim {

// Limits of include/net/sock.h and the sysctls of the machines here (net.core.*).
inline constexpr int kSockMinRcvbuf = 2304;     // SOCK_MIN_RCVBUF
inline constexpr int kSockMinSndbuf = 4608;     // SOCK_MIN_SNDBUF
inline constexpr int kRmemMax = 4'194'304;      // net.core.rmem_max
inline constexpr int kWmemMax = 4'194'304;      // net.core.wmem_max
inline constexpr int kRmemDefault = 212'992;    // net.core.rmem_default
inline constexpr int kWmemDefault = 212'992;    // net.core.wmem_default

// sk_shutdown bits.
inline constexpr int kRcvShutdown = 1;
inline constexpr int kSendShutdown = 2;
inline constexpr int kShutdownMask = 3;

// sk_userlocks bits (include/net/sock.h): SO_SNDBUF / SO_RCVBUF fix a size, which turns off the
// protocol's autotuning of it (TCP grows sk_sndbuf at establishment unless locked).
inline constexpr int kSndbufLock = 1;
inline constexpr int kRcvbufLock = 2;

class Socket : public File {
 public:
  Socket(int fam, int sock_type, int proto, unsigned flags)
      : File(Kind::socket, O_RDWR | (flags & O_NONBLOCK)),
        family(fam), type(sock_type), protocol(proto) {}

  Socket* as_socket() override { return this; }
  // sock_read_iter: a zero-length read() returns 0 at once ("Match SYS5 behaviour"); recv()
  // goes straight to recvmsg and has no such shortcut.
  ssize_t read(std::span<std::byte> buf) override { return buf.empty() ? 0 : recvmsg(buf, 0); }
  ssize_t write(std::span<const std::byte> buf) override { return sendmsg(buf, 0, false); }

  // --- proto_ops. Results are >= 0 or -errno. --------------------------------------------
  virtual ssize_t recvmsg(std::span<std::byte> buf, int flags) = 0;
  // Never raises SIGPIPE: the simulation has no signals; -EPIPE is returned either way.
  // `resumed`: a blocking caller slept for room and calls again with the rest of the same
  // buffer, which the kernel does inside sendmsg's loop, past its entry checks.
  virtual ssize_t sendmsg(std::span<const std::byte> buf, int flags, bool resumed) = 0;
  virtual int bind(const sockaddr* addr, socklen_t len);
  virtual int listen(int backlog);
  // Takes the first connection off the accept queue: the new socket (one reference) in
  // `*out`, or -EAGAIN when the queue is empty.
  virtual int accept(Socket** out, int flags);
  // Starts or continues a connect: 0 connected, -EINPROGRESS pending, or -errno.
  virtual int connect(const sockaddr* addr, socklen_t len);
  // For a blocking connect: 1 while the handshake is pending, 0 once connected, -errno when
  // it failed (consuming sk_err, as inet_wait_for_connect's caller does).
  virtual int connect_result();
  virtual int shutdown(int how);
  // inet_getname's `peer`: the local address, the peer's (getpeername), or the peer's as
  // accept asks for it (which names a child even if it was reset before accept).
  enum class Name : uint8_t { local, peer, accept_peer };
  // Fills `*out` with that address: its length, or -errno (ENOTCONN).
  virtual int getname(sockaddr_storage* out, Name which);
  // Protocol levels other than SOL_SOCKET (IPPROTO_TCP, ...).
  virtual int setsockopt_proto(int level, int optname, const void* val, socklen_t len);
  virtual int getsockopt_proto(int level, int optname, void* val, socklen_t* len);
  // SIOCINQ / SIOCOUTQ: bytes to read, bytes sent and not consumed; -errno if not applicable.
  virtual int64_t inq() { return -EINVAL; }
  virtual int64_t outq() { return -EINVAL; }
  virtual bool listening() const { return false; }
  // A listener's accept queue length (sk_ack_backlog); -EINVAL if not listening.
  virtual int64_t accept_backlog() { return -EINVAL; }
  // A SOL_SOCKET option was stored: the protocol's part of it (SO_SNDBUF calls
  // sk_write_space even when the size is unchanged; SO_RCVLOWAT calls set_rcvlowat).
  virtual void sockopt_set(int /*optname*/) {}

  int ioctl(unsigned long request, int* arg) override;  // FIONREAD, SIOCOUTQ

  // SOL_SOCKET options (sock_setsockopt / sk_getsockopt).
  int setsockopt(int level, int optname, const void* val, socklen_t len);
  int getsockopt(int level, int optname, void* val, socklen_t* len);
  // sock_error: returns -sk_err and clears it.
  int sock_error() {
    int e = sk_err;
    sk_err = 0;
    return -e;
  }

  const int family;
  const int type;      // SOCK_STREAM
  const int protocol;  // as reported by SO_PROTOCOL
  int sk_err = 0;
  int sk_shutdown = 0;
  int sk_rcvbuf = kRmemDefault;
  int sk_sndbuf = kWmemDefault;
  int sk_rcvlowat = 1;
  int sk_userlocks = 0;  // kSndbufLock | kRcvbufLock; protocols may add their own bits
  bool reuseaddr = false;
  bool keepalive = false;
  linger sk_linger{0, 0};
  WaitQueue wq;  // sk->sk_wq: readers, writers and epoll items all wait here
};

class Net;
// The families' constructors (tcp.cc, unix_stream.cc). New sockets have f_count 0.
// Returns nullptr with `*err` set for a type or protocol the family does not model.
Socket* tcp_create(Net& net, int type, int protocol, unsigned f_flags, int* err);
// socketpair(AF_UNIX, type): two connected sockets, or -errno.
int unix_stream_pair(int type, int protocol, unsigned f_flags, Socket** a, Socket** b);

}  // namespace edgecase::sim
