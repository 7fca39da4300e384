// net/unix/af_unix.c, stream half, for socketpair: unix_stream_sendmsg, unix_stream_read_generic,
// unix_poll, unix_shutdown, unix_release_sock and the skb accounting of net/core/sock.c
// (sock_alloc_send_pskb, sock_wfree) that decides when a writer blocks and when it is woken.
#include "sim/unix_stream.h"

#include <algorithm>
#include <bit>
#include <cassert>
#include <cerrno>
#include <cstddef>
#include <cstring>
#include <sys/epoll.h>
#include <sys/un.h>

namespace edgecase::sim {

namespace {

// Flags the model implements. MSG_NOSIGNAL changes nothing here (the model never signals);
// MSG_MORE is a no-op for AF_UNIX streams on Linux too.
constexpr int kSendFlags = MSG_DONTWAIT | MSG_NOSIGNAL | MSG_MORE;
constexpr int kRecvFlags = MSG_DONTWAIT | MSG_PEEK | MSG_NOSIGNAL;
// sock_def_readable's key: af_unix keeps the generic data_ready.
constexpr uint32_t kReadableKey = EPOLLIN | EPOLLPRI | EPOLLRDNORM | EPOLLRDBAND;
// unix_write_space's key, and what unix_poll reports for a writable socket.
constexpr uint32_t kWritableMask = EPOLLOUT | EPOLLWRNORM | EPOLLWRBAND;
// offsetof(struct sockaddr_un, sun_path): the length of an unnamed socket's address.
constexpr socklen_t kSunPathOffset = offsetof(sockaddr_un, sun_path);
// sk_wmem_alloc starts at 1: the socket's own reference, dropped only when it is freed.
constexpr int64_t kOwnWmemRef = 1;
// sock_wfree holds one more reference while it calls sk_write_space.
constexpr int64_t kWfreeWmemRefs = 2;

int64_t align_up(int64_t v, int64_t a) { return (v + a - 1) / a * a; }

}  // namespace

int64_t unix_skb_truesize(int64_t size) {
  assert(size >= 0);
  // What does not fit a one-page linear head goes to page fragments (whole pages).
  int64_t data_len = 0;
  if (size > kSkbMaxHead) data_len = std::min(size, align_up(size - kSkbMaxHead, kPageSize));
  int64_t head = align_up(size - data_len, kSkbDataAlign) + kSkbSharedInfoSize;
  assert(head <= kPageSize);
  // kmalloc rounds the head up to its power-of-two cache (heads are never below 320 bytes, so
  // the 96 and 192 byte caches never apply).
  auto bucket = static_cast<int64_t>(std::bit_ceil(static_cast<uint64_t>(head)));
  return bucket + kSkbStructSize + align_up(data_len, kPageSize);
}

UnixStream::UnixStream(unsigned open_flags)
    : Socket(AF_UNIX, SOCK_STREAM, 0, open_flags) {}

UnixStream::~UnixStream() {
  assert(peer_ == nullptr);
  assert(rcvq_.empty());
}

void UnixStream::connect_pair(UnixStream* a, UnixStream* b) {
  assert(a->peer_ == nullptr && b->peer_ == nullptr);
  a->peer_ = b;
  b->peer_ = a;
}

bool UnixStream::writable(int64_t refs) const {
  return (wmem_alloc_ + refs) * 4 <= sk_sndbuf;  // (sk_wmem_alloc << 2) <= sk_sndbuf
}

int64_t UnixStream::max_skb_size() const {
  int64_t size = std::min<int64_t>((sk_sndbuf >> 1) - kUnixSndbufSlack,
                                   kSkbMaxHead + kUnixSkbFragsSize);
  assert(size > 0);
  return size;
}

void UnixStream::data_ready() { wq.wake(kReadableKey); }

void UnixStream::state_change() { wq.wake(0, /*all=*/true); }

void UnixStream::write_space(int64_t refs) {
  if (writable(refs)) wq.wake(kWritableMask);
}

void UnixStream::skb_freed(int64_t truesize) {
  wmem_alloc_ -= truesize;
  assert(wmem_alloc_ >= 0);
  write_space(kWfreeWmemRefs);
}

uint32_t UnixStream::poll(int) {
  uint32_t mask = 0;
  if (sk_err) mask |= EPOLLERR;
  if (sk_shutdown == kShutdownMask) mask |= EPOLLHUP;
  if (sk_shutdown & kRcvShutdown) mask |= EPOLLRDHUP | EPOLLIN | EPOLLRDNORM;
  if (!rcvq_.empty()) mask |= EPOLLIN | EPOLLRDNORM;
  // unix_poll's "HUP if TCP_CLOSE" needs a released socket, which nobody can poll any more.
  // Writability ignores shutdown on purpose ("this prevents stuck sockets").
  if (writable(kOwnWmemRef)) mask |= kWritableMask;
  return mask;
}

void UnixStream::release() {
  sk_shutdown = kShutdownMask;
  if (peer_) {
    peer_->sk_shutdown = kShutdownMask;
    if (!rcvq_.empty()) peer_->sk_err = ECONNRESET;  // we die with data the peer sent unread
    peer_->state_change();
  }
  // Purging the queue frees the peer's skbs, which wakes its writers like a read would.
  while (!rcvq_.empty()) {
    Skb& s = rcvq_.front();
    rcvq_bytes_ -= static_cast<int64_t>(s.len());
    s.consumed = s.data.size();
    consume_front();
  }
  assert(rcvq_bytes_ == 0);
  if (peer_) peer_->peer_ = nullptr;  // its skbs we sent stay readable, charged to nobody
  peer_ = nullptr;
}

ssize_t UnixStream::sendmsg(std::span<const std::byte> buf, int flags, bool resumed) {
  if (flags & MSG_OOB) return -EOPNOTSUPP;  // as a kernel without CONFIG_AF_UNIX_OOB
  if (flags & ~kSendFlags) return -EINVAL;
  // A resumed call is past the entry checks: it meets a pending ECONNRESET in send_skb first.
  if (!resumed && (sk_shutdown & kSendShutdown)) return -EPIPE;
  size_t sent = 0;
  while (sent < buf.size()) {
    auto size = static_cast<size_t>(std::min<int64_t>(
        static_cast<int64_t>(buf.size() - sent), max_skb_size()));
    int err = send_skb(buf.subspan(sent, size));
    if (err < 0) return sent ? static_cast<ssize_t>(sent) : err;
    sent += size;
  }
  return static_cast<ssize_t>(sent);
}

int UnixStream::send_skb(std::span<const std::byte> chunk) {
  // sock_alloc_send_pskb: error, shutdown, then room; one skb may overshoot sk_sndbuf.
  if (sk_err) return sock_error();
  if (sk_shutdown & kSendShutdown) return -EPIPE;
  if (sndbuf_full()) return -EAGAIN;
  if (peer_ == nullptr || (peer_->sk_shutdown & kRcvShutdown)) return -EPIPE;
  Skb skb;
  skb.data.assign(chunk.begin(), chunk.end());
  skb.truesize = unix_skb_truesize(static_cast<int64_t>(chunk.size()));
  wmem_alloc_ += skb.truesize;
  peer_->rcvq_bytes_ += static_cast<int64_t>(chunk.size());
  peer_->rcvq_.push_back(std::move(skb));
  peer_->data_ready();
  return 0;
}

int64_t UnixStream::rcvlowat_target(size_t len) const {
  int64_t v = std::min<int64_t>(sk_rcvlowat, static_cast<int64_t>(len));
  return v ? v : 1;
}

void UnixStream::consume_front() {
  assert(!rcvq_.empty() && rcvq_.front().len() == 0);
  int64_t truesize = rcvq_.front().truesize;
  rcvq_.pop_front();
  if (peer_) peer_->skb_freed(truesize);  // the skb destructor: sock_wfree on the sender
}

size_t UnixStream::copy_out(std::span<std::byte> buf, bool peek) {
  size_t copied = 0;
  if (peek) {  // walks every skb, consuming nothing
    for (const Skb& s : rcvq_) {
      size_t n = std::min(s.len(), buf.size() - copied);
      if (n) std::memcpy(buf.data() + copied, s.data.data() + s.consumed, n);
      copied += n;
      if (copied == buf.size()) break;
    }
    return copied;
  }
  while (!rcvq_.empty()) {
    Skb& s = rcvq_.front();
    size_t n = std::min(s.len(), buf.size() - copied);
    if (n) std::memcpy(buf.data() + copied, s.data.data() + s.consumed, n);
    s.consumed += n;
    rcvq_bytes_ -= static_cast<int64_t>(n);
    copied += n;
    if (s.len()) break;  // buffer full inside this skb
    consume_front();
    if (copied == buf.size()) break;
  }
  return copied;
}

ssize_t UnixStream::recvmsg(std::span<std::byte> buf, int flags) {
  if (flags & ~kRecvFlags) return -EINVAL;  // MSG_OOB: no urgent data is ever queued
  const bool nonblock = this->nonblock() || (flags & MSG_DONTWAIT);
  const int64_t target = rcvlowat_target(buf.size());
  const bool ended = sk_err || (sk_shutdown & kRcvShutdown);
  // A blocking reader sleeps until SO_RCVLOWAT bytes are there. The kernel consumes what is
  // queued before sleeping; the model leaves it queued (see docs/semantics-unix.md).
  if (!nonblock && rcvq_bytes_ < target && !ended) return -EAGAIN;
  size_t copied = 0;
  if (!rcvq_.empty()) {
    copied = copy_out(buf, flags & MSG_PEEK);
    // Stopping inside the queue (buffer full, or MSG_PEEK) returns what was copied.
    if (static_cast<int64_t>(copied) >= target || (flags & MSG_PEEK) || !rcvq_.empty())
      return static_cast<ssize_t>(copied);
  }
  // The queue is empty: "POSIX 1003.1g mandates this order".
  auto done = [copied](int err) { return copied ? static_cast<ssize_t>(copied) : err; };
  if (sk_err) return done(sock_error());
  if (sk_shutdown & kRcvShutdown) return static_cast<ssize_t>(copied);
  return done(-EAGAIN);
}

int UnixStream::listen(int) { return -EINVAL; }  // a socketpair end is never bound

int UnixStream::accept(Socket**, int) { return -EINVAL; }  // not TCP_LISTEN

int UnixStream::connect(const sockaddr* addr, socklen_t len) {
  // unix_validate_addr, then unix_find_other: the model's AF_UNIX namespace is empty, so a
  // path is never found and an abstract name has no listener.
  if (len <= kSunPathOffset || len > sizeof(sockaddr_un)) return -EINVAL;
  if (addr->sa_family != AF_UNIX) return -EINVAL;
  const bool abstract = reinterpret_cast<const char*>(addr)[kSunPathOffset] == '\0';
  return abstract ? -ECONNREFUSED : -ENOENT;
}

int UnixStream::shutdown(int how) {
  if (how < SHUT_RD || how > SHUT_RDWR) return -EINVAL;
  const int mode = how + 1;  // SHUT_RD -> RCV_SHUTDOWN, SHUT_WR -> SEND_SHUTDOWN, both -> MASK
  sk_shutdown |= mode;
  state_change();
  if (peer_) {
    int peer_mode = 0;
    if (mode & kRcvShutdown) peer_mode |= kSendShutdown;
    if (mode & kSendShutdown) peer_mode |= kRcvShutdown;
    peer_->sk_shutdown |= peer_mode;
    peer_->state_change();
  }
  return 0;
}

int UnixStream::getname(sockaddr_storage* out, Name) {
  // Both ends are unnamed: just the family. The peer's name stays readable after it closed.
  out->ss_family = AF_UNIX;
  return static_cast<int>(kSunPathOffset);
}

void UnixStream::sockopt_set(int optname) {
  if (optname == SO_SNDBUF) write_space(kOwnWmemRef);  // sk_write_space, even if unchanged
}

int unix_stream_pair(int type, int protocol, unsigned open_flags, Socket** a, Socket** b) {
  if (type < 0 || type >= kSockMax) return -EINVAL;              // __sock_create
  if (protocol != 0 && protocol != PF_UNIX) return -EPROTONOSUPPORT;  // unix_create
  // SOCK_DGRAM, SOCK_SEQPACKET (and SOCK_RAW, an alias of DGRAM) exist on Linux but are not
  // modelled; every other type is unknown to af_unix too.
  if (type != SOCK_STREAM) return -ESOCKTNOSUPPORT;
  auto* x = new UnixStream(open_flags);
  auto* y = new UnixStream(open_flags);
  UnixStream::connect_pair(x, y);
  *a = x;
  *b = y;
  return 0;
}

}  // namespace edgecase::sim
