#include "harness/live_run.h"

#include <algorithm>
#include <arpa/inet.h>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <exception>
#include <fcntl.h>
#include <limits>
#include <netinet/in.h>
#include <optional>
#include <poll.h>
#include <string>
#include <linux/sockios.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include "edgecase/kernel_layer.h"
#include "harness/live_interrupt.h"
#include "real/errno_guard.h"
#include "harness/sim_run.h"
#include "world/random.h"

namespace edgecase {

namespace {

constexpr Nanos kSlice = LiveRunOptions::kSliceMs * kNanosPerMilli;

// A peer's io wait as poll(2) events. Errors and hangups are always reported by poll.
short poll_events(uint32_t epoll_events) {
  short e = 0;
  if ((epoll_events & EPOLLIN) != 0) e |= POLLIN;
  if ((epoll_events & EPOLLOUT) != 0) e |= POLLOUT;
  return e;
}

timespec to_timespec(Nanos ns) {
  ns = std::max<Nanos>(ns, 0);
  return timespec{static_cast<time_t>(ns / 1'000'000'000), static_cast<long>(ns % 1'000'000'000)};
}

// Whether fault `k` of the plan can fire: on, and not silenced (the shrinker turns a fault off
// by setting it to 0 per mille).
bool can_fire(const FaultPlan& p, FaultKind k) { return p.on(k) && p[k].per_mille > 0; }

// The live faults' draws come from a generator of their own, seeded with the case's seed and
// this salt ("live" in ASCII), so that a case draws the same signal delays on every run.
constexpr uint64_t kLiveSalt = 0x6c69'7665ULL;

// Gives the script the smallest receive buffer before its first connect, unless it sets one
// there already (the small-buffers fault did).
void shrink_rcvbuf(PeerScript& s) {
  for (auto it = s.steps.begin(); it != s.steps.end(); ++it) {
    if (it->op == Step::Op::rcvbuf) return;
    if (it->op == Step::Op::connect) {
      s.steps.insert(it, Step{Step::Op::rcvbuf, LiveRun::kMinRcvbufRequest, 0, ""});
      return;
    }
  }
}

// poll(2) for at most `ns` nanoseconds (a slow reader's pause is microseconds); errno kept.
void poll_for(pollfd* fds, size_t n, Nanos ns) {
  const int e = errno;
  const timespec ts = to_timespec(ns);
  ::ppoll(fds, n, &ts, nullptr);
  errno = e;
}

}  // namespace

class LiveKernel;

struct LiveRun::Impl {
  Impl(const Case& c, std::vector<PeerScript> s, LiveRunOptions o);

  // --- time --------------------------------------------------------------------------------
  Nanos now() const {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::steady_clock::now() - start)
        .count();
  }

  // --- the handler's calls -------------------------------------------------------------------
  // Counts one handler call; throws Stop at the budget or past the time limit. `moves`: the
  // call is activity in itself (anything but a wait or a clock read), so quiescence restarts.
  void on_call(const char* call, int fd, bool moves);
  // Throws Stop(time_limit) past the limit.
  void check_time(const char* call, int fd);
  // Inside a blocking loop after a wait found nothing: accumulates the quiet time and throws
  // Stop(quiescent) once nothing has moved for `settle` (`done_settle` when every peer is
  // done) and no peer has a timer pending or is still to start.
  void check_quiescent(const char* call, int fd);
  // Whether the kernel still has bytes to deliver on a handler's TCP connection whose peer
  // waits to read them. With tiny windows (the small-buffers and short-write faults) TCP
  // sends them as the persist timer's zero-window probes allow (tcp_probe_timer, backing off
  // from 200 ms): the run is not quiet, however long nothing seems to move. That holds as well
  // after the handler closed the connection: tcp_close keeps the orphaned socket sending what
  // was queued, then its FIN, both behind the same window (a FIN needs window too:
  // tcp_snd_wnd_test), and its send queue can no longer be asked. So a peer waiting to read
  // on a connection the handler closed, whose FIN has not reached the peer's socket
  // (closed_toward_reader), is owed bytes by the kernel, not by the handler.
  bool bytes_in_flight_to_readers() const;
  bool closed_toward_reader(const Peer& p) const;
  // The handler is closing `fd`: if it is its last fd on a TCP connection, remembers the
  // peer's port (closed_ports), for bytes_in_flight_to_readers.
  void note_close(int fd);
  std::vector<uint16_t> closed_ports;  // peers' ports of connections the handler closed
  // The handler is about to wait: the first time, the peers' start delays begin.
  void mark_waited() {
    if (first_wait) return;
    first_wait = now();
    lower_fd_limit();
  }
  // Whether `fd` is the handler's (else the handler gets EBADF: peers' sockets and the test
  // process's own fds are not its to touch, as on the simulated server host).
  bool handler_fd(int fd) const { return fd >= 0 && real.owns(fd); }

  // --- the peers -----------------------------------------------------------------------------
  // Starts the peers whose start delay has passed and runs every peer whose wait is satisfied,
  // once. Returns the time of the earliest pending peer timer (unstarted peers included), or
  // nullopt when no peer waits on time.
  std::optional<Nanos> drive();
  // Sum of every peer's monotonic counters: any progress changes it.
  uint64_t progress() const;
  sockaddr_in server_address();
  // After the handler: lets the peers finish what they can (bounded by `settle` of no progress
  // and by the time limit).
  void settle_peers(bool was_quiescent);
  // The time to wait for at most: kSliceMs, shortened to the next peer timer.
  Nanos slice(const std::optional<Nanos>& next_timer) const;

  Case the_case;
  LiveRunOptions options;
  std::vector<PeerScript> scripts;
  RealKernel real;     // the handler's fds (and inspection)
  RealKernel peer_k;   // the peers' sockets and the refusing socket
  std::vector<std::unique_ptr<Peer>> peers;
  std::vector<const Peer*> views;
  std::vector<bool> started;
  std::vector<PeerWait> waits;
  std::unique_ptr<LiveKernel> kernel;

  std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();
  uint64_t steps = 0;
  bool stopped = false;  // Stop was thrown, or the handler is over
  // Calls made now (after a Stop, or by destructors while any exception unwinds the handler)
  // are made once, nonblocking, and never throw: a throw during unwinding would terminate.
  bool passive() const { return stopped || std::uncaught_exceptions() > 0; }
  std::optional<Nanos> first_wait;
  uint16_t bound_port = 0;        // the port the handler really got for the scenario's port
  std::vector<int> remapped;      // the handler's sockets bound to the remapped port
  int refuser = -1;               // bound, never listening: connects to it are refused
  uint16_t refuser_port = 0;
  Nanos idle = 0;                 // quiet time inside blocking calls since the last movement
  Nanos last_tick = 0;
  uint64_t last_progress = 0;
  std::vector<pollfd> pfds;       // scratch for drive()
  std::vector<size_t> pfd_peer;   // pfds[i] belongs to peers[pfd_peer[i]]
  std::vector<bool> due;          // scratch for drive(): the peers to run

  // --- faults on live sockets (docs/LIVE.md) -------------------------------------------------
  // Sets the plan's send buffer on a socket the handler accepted (errno kept).
  void set_sndbuf(int fd) const;
  // A blocking epoll_wait begins: arms the signal when the eintr fault fires (as the world
  // draws it for each wait, with a delay of up to World::kMaxSignalDelay). True if armed.
  bool maybe_interrupt();
  sim::Rng fault_rng;
  std::optional<int> sndbuf;             // SO_SNDBUF asked for on accepted sockets
  InterruptTimer* interrupter = nullptr;  // while run() runs, when the eintr fault can fire
  // The fd-limit fault, as the world applies it when the handler first waits: RLIMIT_NOFILE
  // lowered to what the handler holds plus kFdHeadroom, the harshest the world draws (1 to
  // its kFdLimitMaxHeadroom, 4), so that a bug the world found with any headroom shows. The
  // real limit is the process's, shared with the peers' sockets and the test itself, so it is
  // applied to the handler's own fds here: a call that would allocate past it fails with
  // EMFILE before it does anything else, as in the kernel (get_unused_fd_flags comes first in
  // accept4, socket, pipe2, ...; an accept4 that fails so leaves the connection queued).
  static constexpr size_t kFdHeadroom = 1;
  std::optional<size_t> fd_allowance;
  void lower_fd_limit();
  // Fds the handler holds (its RealKernel's, still open).
  size_t handler_fds() const;
  // True, with errno EMFILE, when `needed` more fds would pass the lowered limit.
  bool emfile(size_t needed) const;
};

// What the handler is given: RealKernel, with the blocking points driving the peers.
// The calls that make fds (the lowered fd limit), block (the peers run meanwhile) or need more
// than their own fd checked are written out; every other call is around()'s.
class LiveKernel final : public KernelLayer {
 public:
  explicit LiveKernel(LiveRun::Impl& run) : KernelLayer(run.real), r_(run), k_(run.real) {}

  int epoll_create1(int flags) override {
    r_.on_call("epoll_create1", -1, true);
    if (r_.emfile(1)) return -1;
    return k_.epoll_create1(flags);
  }
  int epoll_create(int size) override {
    r_.on_call("epoll_create", -1, true);
    if (r_.emfile(1)) return -1;
    return k_.epoll_create(size);
  }
  int epoll_ctl(int epfd, int op, int fd, struct epoll_event* event) override {
    r_.on_call("epoll_ctl", epfd, true);
    if (!r_.handler_fd(epfd) || !r_.handler_fd(fd)) return ebadf();
    return k_.epoll_ctl(epfd, op, fd, event);
  }
  int epoll_wait(int epfd, struct epoll_event* events, int maxevents, int timeout) override {
    r_.on_call("epoll_wait", epfd, false);
    return wait_epoll(epfd, events, maxevents, timeout, nullptr, false);
  }
  int epoll_pwait(int epfd, struct epoll_event* events, int maxevents, int timeout,
                  const sigset_t* sigmask) override {
    r_.on_call("epoll_pwait", epfd, false);
    return wait_epoll(epfd, events, maxevents, timeout, sigmask, true);
  }
  int socket(int domain, int type, int protocol) override {
    r_.on_call("socket", -1, true);
    if (r_.emfile(1)) return -1;
    return k_.socket(domain, type, protocol);
  }
  int bind(int sockfd, const struct sockaddr* addr, socklen_t addrlen) override;
  int accept4(int sockfd, struct sockaddr* addr, socklen_t* addrlen, int flags) override {
    r_.on_call("accept4", sockfd, true);
    if (!r_.handler_fd(sockfd)) return ebadf();
    if (r_.emfile(1)) return -1;
    const int fl = status_flags(sockfd);
    const int fd = static_cast<int>(blocking("accept4", sockfd, POLLIN, fl, [&] {
      return toggled(sockfd, fl, [&] { return k_.accept4(sockfd, addr, addrlen, flags); });
    }));
    r_.set_sndbuf(fd);  // before the handler can write to it
    return fd;
  }
  int connect(int sockfd, const struct sockaddr* addr, socklen_t addrlen) override;
  ssize_t recv(int sockfd, void* buf, size_t len, int flags) override;
  ssize_t send(int sockfd, const void* buf, size_t len, int flags) override {
    r_.on_call("send", sockfd, true);
    if (!r_.handler_fd(sockfd)) return ebadf();
    const int fl = (flags & MSG_DONTWAIT) != 0 ? O_NONBLOCK : status_flags(sockfd);
    return write_fully("send", sockfd, fl, len, [&](size_t off, int extra) {
      return k_.send(sockfd, static_cast<const char*>(buf) + off, len - off, flags | extra);
    });
  }
  // recvfrom and recvmsg block as recv does (MSG_WAITALL is not waited for here: one read).
  ssize_t recvfrom(int sockfd, void* buf, size_t len, int flags, struct sockaddr* src_addr,
                   socklen_t* addrlen) override {
    r_.on_call("recvfrom", sockfd, true);
    if (!r_.handler_fd(sockfd)) return ebadf();
    const int fl = (flags & MSG_DONTWAIT) != 0 ? O_NONBLOCK : status_flags(sockfd);
    return blocking("recvfrom", sockfd, POLLIN, fl, [&] {
      return k_.recvfrom(sockfd, buf, len, flags | MSG_DONTWAIT, src_addr, addrlen);
    });
  }
  ssize_t recvmsg(int sockfd, struct msghdr* msg, int flags) override {
    r_.on_call("recvmsg", sockfd, true);
    if (!r_.handler_fd(sockfd)) return ebadf();
    const int fl = (flags & MSG_DONTWAIT) != 0 ? O_NONBLOCK : status_flags(sockfd);
    return blocking("recvmsg", sockfd, POLLIN, fl,
                    [&] { return k_.recvmsg(sockfd, msg, flags | MSG_DONTWAIT); });
  }
  ssize_t sendto(int sockfd, const void* buf, size_t len, int flags,
                 const struct sockaddr* dest_addr, socklen_t addrlen) override {
    r_.on_call("sendto", sockfd, true);
    if (!r_.handler_fd(sockfd)) return ebadf();
    const int fl = (flags & MSG_DONTWAIT) != 0 ? O_NONBLOCK : status_flags(sockfd);
    return write_fully("sendto", sockfd, fl, len, [&](size_t off, int extra) {
      return k_.sendto(sockfd, static_cast<const char*>(buf) + off, len - off, flags | extra,
                       dest_addr, addrlen);
    });
  }
  ssize_t sendmsg(int sockfd, const struct msghdr* msg, int flags) override;
  int socketpair(int domain, int type, int protocol, int sv[2]) override {
    r_.on_call("socketpair", -1, true);
    if (r_.emfile(2)) return -1;
    return k_.socketpair(domain, type, protocol, sv);
  }
  int getsockname(int sockfd, struct sockaddr* addr, socklen_t* addrlen) override;
  ssize_t read(int fd, void* buf, size_t count) override {
    r_.on_call("read", fd, true);
    if (!r_.handler_fd(fd)) return ebadf();
    const int fl = status_flags(fd);
    return blocking("read", fd, POLLIN, fl, [&] {
      return toggled(fd, fl, [&] { return k_.read(fd, buf, count); });
    });
  }
  ssize_t write(int fd, const void* buf, size_t count) override {
    r_.on_call("write", fd, true);
    if (!r_.handler_fd(fd)) return ebadf();
    const int fl = status_flags(fd);
    return write_fully("write", fd, fl, count, [&](size_t off, int) {
      const char* p = static_cast<const char*>(buf) + off;
      return toggled(fd, fl, [&] { return k_.write(fd, p, count - off); });
    });
  }
  ssize_t readv(int fd, const struct iovec* iov, int iovcnt) override {
    r_.on_call("readv", fd, true);
    if (!r_.handler_fd(fd)) return ebadf();
    const int fl = status_flags(fd);
    return blocking("readv", fd, POLLIN, fl, [&] {
      return toggled(fd, fl, [&] { return k_.readv(fd, iov, iovcnt); });
    });
  }
  ssize_t writev(int fd, const struct iovec* iov, int iovcnt) override;
  int close(int fd) override {
    r_.on_call("close", fd, true);
    if (!r_.handler_fd(fd)) return ebadf();
    std::erase(r_.remapped, fd);
    r_.note_close(fd);
    return k_.close(fd);
  }
  int dup(int oldfd) override {
    r_.on_call("dup", oldfd, true);
    if (!r_.handler_fd(oldfd)) return ebadf();
    if (r_.emfile(1)) return -1;
    return k_.dup(oldfd);
  }
  int dup2(int oldfd, int newfd) override {
    r_.on_call("dup2", oldfd, true);
    return may_dup_onto(oldfd, newfd) ? k_.dup2(oldfd, newfd) : -1;
  }
  int dup3(int oldfd, int newfd, int flags) override {
    r_.on_call("dup3", oldfd, true);
    return may_dup_onto(oldfd, newfd) ? k_.dup3(oldfd, newfd, flags) : -1;
  }
  int pipe2(int pipefd[2], int flags) override {
    r_.on_call("pipe2", -1, true);
    if (r_.emfile(2)) return -1;
    return k_.pipe2(pipefd, flags);
  }
  int open(const char* path, int flags) override {
    r_.on_call("open", -1, true);
    if (r_.emfile(1)) return -1;
    return k_.open(path, flags);
  }
  int eventfd(unsigned int initval, int flags) override {
    r_.on_call("eventfd", -1, true);
    if (r_.emfile(1)) return -1;
    return k_.eventfd(initval, flags);
  }
  int fcntl(int fd, int cmd, long arg = 0) override {
    r_.on_call("fcntl", fd, true);
    if (!r_.handler_fd(fd)) return ebadf();
    if ((cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC) && r_.emfile(1)) return -1;
    return k_.fcntl(fd, cmd, arg);
  }

  int timerfd_create(int clockid, int flags) override {
    r_.on_call("timerfd_create", -1, true);
    if (r_.emfile(1)) return -1;
    return k_.timerfd_create(clockid, flags);
  }
  // A blocking point, like epoll_wait.
  int poll(struct pollfd* fds, nfds_t nfds, int timeout) override;

 protected:
  // A call on one of the handler's fds (EBADF on any other fd: never a peer's or the test's),
  // or on none (a clock: moves nothing, so it does not end the idle streak).
  long around(const CallSite& call, Forward forward) override {
    r_.on_call(call.name, call.fd, call.names_fd);
    if (call.names_fd && !r_.handler_fd(call.fd)) return ebadf();
    return forward();
  }

 private:
  static int ebadf() {
    errno = EBADF;
    return -1;
  }
  // Whether dup2/dup3 may put the handler's `oldfd` at `newfd` (false with errno set). Never
  // over a number the run itself holds (a peer's socket, the test's stdout): replacing it would
  // break the run, and EBUSY is what dup2 says when it cannot take the number.
  bool may_dup_onto(int oldfd, int newfd) {
    if (!r_.handler_fd(oldfd)) return ebadf() == 0;
    if (newfd == oldfd || r_.handler_fd(newfd)) return true;
    if (::fcntl(newfd, F_GETFD) >= 0) {
      errno = EBUSY;
      return false;
    }
    return !r_.emfile(1);
  }
  // The fd's file status flags (O_NONBLOCK); O_NONBLOCK when they cannot be read, so that the
  // call is made once, as is, and fails as it would.
  int status_flags(int fd) {
    const int e = errno;
    const int fl = ::fcntl(fd, F_GETFL);
    errno = e;
    return fl < 0 ? O_NONBLOCK : fl;
  }
  // Runs `call` with O_NONBLOCK set on fd's file, then restores its flags `fl` (errno kept), so
  // that a blocking fd's call returns EAGAIN instead of blocking the only thread.
  template <class F>
  auto toggled(int fd, int fl, F call) -> decltype(call()) {
    if ((fl & O_NONBLOCK) != 0) return call();
    ::fcntl(fd, F_SETFL, fl | O_NONBLOCK);
    const auto r = call();
    const int e = errno;
    ::fcntl(fd, F_SETFL, fl);
    errno = e;
    return r;
  }
  // A call that may block: on a nonblocking fd (or after a Stop) it is made once; on a
  // blocking one `attempt` (which must not block) is repeated, with the peers driven and the fd
  // polled for `events` in between, until it does not fail with EAGAIN. `fl`: the fd's flags.
  template <class F>
  ssize_t blocking(const char* call, int fd, short events, int fl, F attempt);
  // A write that must complete: a blocking write returns only when all `len` bytes are
  // written (or an error ends it), as a blocking write(2) does. attempt(offset, MSG_DONTWAIT)
  // makes one nonblocking attempt at the rest; attempt(offset, 0) the call as the handler made it.
  template <class F>
  ssize_t write_fully(const char* call, int fd, int fl, size_t len, F attempt);
  // One round of waiting inside a blocking call: drive the peers, check the limits and
  // quiescence, then poll fd (or wait in epoll) for a slice.
  void wait_fd(const char* call, int fd, short events);
  int wait_epoll(int epfd, struct epoll_event* events, int maxevents, int timeout,
                 const sigset_t* sigmask, bool pwait);

  LiveRun::Impl& r_;
  RealKernel& k_;
  bool has_pwait2_ = true;  // false once epoll_pwait2 said ENOSYS (a kernel before 5.11)
};

// --- LiveKernel: the blocking points -------------------------------------------------------------

void LiveKernel::wait_fd(const char* call, int fd, short events) {
  r_.mark_waited();
  const std::optional<Nanos> timer = r_.drive();
  r_.check_time(call, fd);
  r_.check_quiescent(call, fd);
  pollfd p{fd, events, 0};
  poll_for(&p, 1, r_.slice(timer));
}

template <class F>
ssize_t LiveKernel::blocking(const char* call, int fd, short events, int fl, F attempt) {
  if (r_.passive() || (fl & O_NONBLOCK) != 0) return attempt();
  r_.last_tick = r_.now();
  for (;;) {
    const ssize_t r = attempt();
    if (r >= 0 || errno != EAGAIN) {
      r_.idle = 0;
      return r;
    }
    wait_fd(call, fd, events);
  }
}

template <class F>
ssize_t LiveKernel::write_fully(const char* call, int fd, int fl, size_t len, F attempt) {
  // After a Stop nothing may block: one nonblocking attempt.
  if (r_.passive()) return attempt(0, MSG_DONTWAIT);
  if ((fl & O_NONBLOCK) != 0) return attempt(0, 0);
  r_.last_tick = r_.now();
  size_t done = 0;
  for (;;) {
    const ssize_t r = attempt(done, MSG_DONTWAIT);
    if (r > 0) done += static_cast<size_t>(r);
    if (r >= 0 && (done >= len || r == 0)) {
      r_.idle = 0;
      return static_cast<ssize_t>(done);
    }
    if (r < 0 && errno != EAGAIN) {
      r_.idle = 0;
      return done > 0 ? static_cast<ssize_t>(done) : r;
    }
    if (r > 0) {
      r_.idle = 0;
      continue;
    }
    wait_fd(call, fd, POLLOUT);
  }
}

ssize_t LiveKernel::recv(int sockfd, void* buf, size_t len, int flags) {
  r_.on_call("recv", sockfd, true);
  if (!r_.handler_fd(sockfd)) return ebadf();
  const int fl = (flags & MSG_DONTWAIT) != 0 ? O_NONBLOCK : status_flags(sockfd);
  if ((flags & MSG_WAITALL) == 0 || (fl & O_NONBLOCK) != 0 || r_.passive()) {
    return blocking("recv", sockfd, POLLIN, fl,
                    [&] { return k_.recv(sockfd, buf, len, flags | MSG_DONTWAIT); });
  }
  // MSG_WAITALL on a blocking socket: until `len` bytes, end of file or an error.
  size_t done = 0;
  for (;;) {
    const ssize_t r = blocking("recv", sockfd, POLLIN, fl, [&] {
      return k_.recv(sockfd, static_cast<char*>(buf) + done, len - done,
                     (flags & ~MSG_WAITALL) | MSG_DONTWAIT);
    });
    if (r > 0) done += static_cast<size_t>(r);
    if (r > 0 && done < len) continue;
    return done > 0 ? static_cast<ssize_t>(done) : r;
  }
}

ssize_t LiveKernel::writev(int fd, const struct iovec* iov, int iovcnt) {
  r_.on_call("writev", fd, true);
  if (!r_.handler_fd(fd)) return ebadf();
  const int fl = status_flags(fd);
  if (r_.passive() || (fl & O_NONBLOCK) != 0 || iovcnt <= 0 || iov == nullptr)
    return toggled(fd, fl, [&] { return k_.writev(fd, iov, iovcnt); });
  // Blocking: the vector as one buffer (one segment keeps a pipe write of at most PIPE_BUF
  // atomic), written to the end.
  std::string flat;
  for (int i = 0; i < iovcnt; ++i)
    flat.append(static_cast<const char*>(iov[i].iov_base), iov[i].iov_len);
  return write_fully("writev", fd, fl, flat.size(), [&](size_t off, int) {
    iovec one{flat.data() + off, flat.size() - off};
    return toggled(fd, fl, [&] { return k_.writev(fd, &one, 1); });
  });
}

// As writev: a blocking sendmsg writes the whole vector, flattened into one segment.
ssize_t LiveKernel::sendmsg(int sockfd, const struct msghdr* msg, int flags) {
  r_.on_call("sendmsg", sockfd, true);
  if (!r_.handler_fd(sockfd)) return ebadf();
  const int fl = (flags & MSG_DONTWAIT) != 0 ? O_NONBLOCK : status_flags(sockfd);
  if (r_.passive() || (fl & O_NONBLOCK) != 0 || msg == nullptr || msg->msg_iov == nullptr ||
      msg->msg_iovlen == 0)
    return k_.sendmsg(sockfd, msg, flags | (r_.passive() ? MSG_DONTWAIT : 0));
  std::string flat;
  for (size_t i = 0; i < msg->msg_iovlen; ++i)
    flat.append(static_cast<const char*>(msg->msg_iov[i].iov_base), msg->msg_iov[i].iov_len);
  return write_fully("sendmsg", sockfd, fl, flat.size(), [&](size_t off, int extra) {
    iovec one{flat.data() + off, flat.size() - off};
    struct msghdr rest = *msg;
    rest.msg_iov = &one;
    rest.msg_iovlen = 1;
    return k_.sendmsg(sockfd, &rest, flags | extra);
  });
}

int LiveKernel::connect(int sockfd, const struct sockaddr* addr, socklen_t addrlen) {
  r_.on_call("connect", sockfd, true);
  if (!r_.handler_fd(sockfd)) return ebadf();
  const int fl = status_flags(sockfd);
  const int r = toggled(sockfd, fl, [&] { return k_.connect(sockfd, addr, addrlen); });
  if (r == 0 || errno != EINPROGRESS || r_.passive() || (fl & O_NONBLOCK) != 0) return r;
  // The handshake is under way: wait for it as a blocking connect would, then report its
  // outcome (SO_ERROR) as the blocking call's result.
  r_.last_tick = r_.now();
  for (;;) {
    pollfd p{sockfd, POLLOUT, 0};
    if (::poll(&p, 1, 0) > 0) break;
    wait_fd("connect", sockfd, POLLOUT);
  }
  r_.idle = 0;
  int err = 0;
  socklen_t len = sizeof err;
  if (k_.getsockopt(sockfd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) return -1;
  if (err == 0) return 0;
  errno = err;
  return -1;
}

int LiveKernel::wait_epoll(int epfd, struct epoll_event* events, int maxevents, int timeout,
                           const sigset_t* sigmask, bool pwait) {
  if (!r_.handler_fd(epfd)) return ebadf();
  // The real wait, for at most `ns`: epoll_pwait2 (nanoseconds: a slow reader's pause is
  // microseconds), or epoll_pwait in whole milliseconds (rounded up) where it is missing.
  // While the eintr fault's signal is armed, the wait's mask lets it in (and only there).
  sigset_t unblocked;
  auto real_wait = [&](Nanos ns) {
    const sigset_t* mask = pwait ? sigmask : nullptr;
    if (r_.interrupter != nullptr && r_.interrupter->armed()) {
      unblocked = r_.interrupter->wait_mask(mask);
      mask = &unblocked;
    }
    if (ns > 0 && has_pwait2_) {
      const timespec ts = to_timespec(ns);
      const int n = ::epoll_pwait2(epfd, events, maxevents, &ts, mask);
      if (n >= 0 || errno != ENOSYS) return n;
      has_pwait2_ = false;
    }
    const int ms = static_cast<int>((ns + kNanosPerMilli - 1) / kNanosPerMilli);
    return mask != nullptr || pwait ? k_.epoll_pwait(epfd, events, maxevents, ms, mask)
                                    : k_.epoll_wait(epfd, events, maxevents, ms);
  };
  if (r_.passive()) return real_wait(0);
  if (timeout == 0) {
    r_.drive();
    return real_wait(0);
  }
  const Nanos begin = r_.now();
  r_.last_tick = begin;
  // The eintr fault: the signal is disarmed however the wait ends (events, timeout, a Stop).
  struct Disarm {
    InterruptTimer* t;
    ~Disarm() {
      if (t != nullptr) t->disarm();
    }
  } disarm{r_.maybe_interrupt() ? r_.interrupter : nullptr};
  // No deadline (timeout -1): never reached.
  const Nanos deadline = timeout > 0 ? begin + Nanos{timeout} * kNanosPerMilli
                                     : std::numeric_limits<Nanos>::max();
  // Before the first wait the peers have not started: look once without waiting.
  bool look = !r_.first_wait;
  for (;;) {
    Nanos slice = 0;
    if (!look) slice = r_.slice(r_.drive());
    look = false;
    if (timeout > 0) slice = std::max<Nanos>(0, std::min(slice, deadline - r_.now()));
    const int n = real_wait(slice);
    if (n < 0 && errno == EINTR && disarm.t != nullptr) {
      // The fault's signal: the handler waited, quietly, until it came. The quiet time counts
      // toward quiescence, or an eintr rate of 1000 would keep a finished run going to the
      // time limit.
      r_.mark_waited();
      r_.check_time("epoll_wait", epfd);
      r_.check_quiescent("epoll_wait", epfd);
      errno = EINTR;
      return n;
    }
    if (n != 0) {
      if (n > 0) r_.idle = 0;
      return n;
    }
    r_.mark_waited();
    if (timeout > 0 && r_.now() >= deadline) return 0;
    r_.check_time("epoll_wait", epfd);
    r_.check_quiescent("epoll_wait", epfd);
  }
}

// poll(2) as a blocking point, like epoll_wait: the peers are driven between slices of the real
// wait. Fds that are not the handler's are POLLNVAL, as on the simulated host where they are
// not open; the real call sees them as -1 (skipped). The eintr fault is not drawn here.
int LiveKernel::poll(struct pollfd* fds, nfds_t nfds, int timeout) {
  r_.on_call("poll", -1, false);
  rlimit lim{};
  ::getrlimit(RLIMIT_NOFILE, &lim);
  // Arguments the kernel refuses are passed as they are, to fail as they would.
  if ((nfds != 0 && fds == nullptr) || nfds > lim.rlim_cur) return k_.poll(fds, nfds, 0);
  std::vector<pollfd> mine(fds, fds + nfds);
  int foreign = 0;
  for (pollfd& p : mine)
    if (p.fd >= 0 && !r_.handler_fd(p.fd)) {
      p.fd = -1;
      ++foreign;
    }
  auto finish = [&](int n) {
    if (n < 0) return n;
    for (nfds_t i = 0; i < nfds; ++i)
      fds[i].revents = mine[i].fd < 0 && fds[i].fd >= 0 ? POLLNVAL : mine[i].revents;
    return n + foreign;
  };
  // The real wait for at most `ns`, in whole milliseconds (rounded up).
  auto real_wait = [&](Nanos ns) {
    return k_.poll(mine.data(), nfds, static_cast<int>((ns + kNanosPerMilli - 1) / kNanosPerMilli));
  };
  if (r_.passive() || foreign > 0) return finish(real_wait(0));
  if (timeout == 0) {
    r_.drive();
    return finish(real_wait(0));
  }
  const Nanos begin = r_.now();
  r_.last_tick = begin;
  const Nanos deadline = timeout > 0 ? begin + Nanos{timeout} * kNanosPerMilli
                                     : std::numeric_limits<Nanos>::max();
  bool look = !r_.first_wait;  // before the first wait the peers have not started
  for (;;) {
    Nanos slice = 0;
    if (!look) slice = r_.slice(r_.drive());
    look = false;
    if (timeout > 0) slice = std::max<Nanos>(0, std::min(slice, deadline - r_.now()));
    const int n = real_wait(slice);
    if (n != 0) {
      if (n > 0) r_.idle = 0;
      return finish(n);
    }
    r_.mark_waited();
    if (timeout > 0 && r_.now() >= deadline) return finish(0);
    r_.check_time("poll", -1);
    r_.check_quiescent("poll", -1);
  }
}

int LiveKernel::bind(int sockfd, const struct sockaddr* addr, socklen_t addrlen) {
  r_.on_call("bind", sockfd, true);
  if (!r_.handler_fd(sockfd)) return ebadf();
  const uint16_t port = r_.the_case.scenario.port;
  if (addr == nullptr || addrlen < sizeof(sockaddr_in) || addr->sa_family != AF_INET ||
      port == 0)
    return k_.bind(sockfd, addr, addrlen);
  sockaddr_in a{};
  std::memcpy(&a, addr, sizeof a);
  if (ntohs(a.sin_port) != port) return k_.bind(sockfd, addr, addrlen);
  // The scenario's port: any free one instead, which the peers are told.
  a.sin_port = 0;
  const int r = k_.bind(sockfd, reinterpret_cast<const sockaddr*>(&a), sizeof a);
  if (r != 0) return r;
  sockaddr_in got{};
  socklen_t len = sizeof got;
  const int e = errno;
  // The latest such bind wins: a handler that binds again (after a failed listen, say) is
  // listening on the last one.
  if (k_.getsockname(sockfd, reinterpret_cast<sockaddr*>(&got), &len) == 0)
    r_.bound_port = ntohs(got.sin_port);
  errno = e;
  r_.remapped.push_back(sockfd);
  return 0;
}

int LiveKernel::getsockname(int sockfd, struct sockaddr* addr, socklen_t* addrlen) {
  r_.on_call("getsockname", sockfd, true);
  if (!r_.handler_fd(sockfd)) return ebadf();
  const int r = k_.getsockname(sockfd, addr, addrlen);
  // A remapped listener shows the port it asked for, as the simulation does.
  if (r == 0 && addr != nullptr && *addrlen >= sizeof(sockaddr_in) &&
      addr->sa_family == AF_INET &&
      std::find(r_.remapped.begin(), r_.remapped.end(), sockfd) != r_.remapped.end()) {
    reinterpret_cast<sockaddr_in*>(addr)->sin_port = htons(r_.the_case.scenario.port);
  }
  return r;
}

// --- LiveRun::Impl -----------------------------------------------------------------------------------

LiveRun::Impl::Impl(const Case& c, std::vector<PeerScript> s, LiveRunOptions o)
    : the_case(c), options(o), scripts(std::move(s)), fault_rng(c.seed ^ kLiveSalt) {
  // Short writes: a nonblocking write is cut where the socket's send buffer is full
  // (tcp_sendmsg -> sk_stream_wait_memory returns -EAGAIN after copying what fit). On
  // loopback a segment leaves the send queue as soon as the receiver queues it, so what bounds
  // a write is the peer's receive window plus the send buffer: the smallest of both fill with a
  // few KiB, and the handler's write runs while its peers (in this thread) cannot read.
  const bool short_write = can_fire(c.faults, FaultKind::short_write);
  const bool small_buffers = can_fire(c.faults, FaultKind::small_buffers);
  if (short_write) {
    sndbuf = LiveRun::kMinSndbufRequest;
  } else if (small_buffers) {
    // The simulation's tcp_wmem[1] range; SO_SNDBUF asks for half (the kernel doubles it).
    sndbuf = static_cast<int>(fault_rng.between(SimRun::kSmallWmemMin, SimRun::kSmallWmemMax) / 2);
  }
  if (short_write || small_buffers)
    for (PeerScript& p : scripts) shrink_rcvbuf(p);
  sockaddr_in placeholder{};
  placeholder.sin_family = AF_INET;
  placeholder.sin_port = htons(c.scenario.port);
  placeholder.sin_addr.s_addr = htonl(c.scenario.addr);
  for (size_t i = 0; i < scripts.size(); ++i) {
    // Created now so that peers() is complete at any time; re-created with the port the
    // handler got when each starts.
    peers.push_back(std::make_unique<Peer>(static_cast<uint32_t>(i + 1), scripts[i], placeholder));
    peers.back()->set_check(options.check);
    views.push_back(peers.back().get());
  }
  started.assign(peers.size(), false);
  waits.assign(peers.size(), PeerWait{});
  kernel = std::make_unique<LiveKernel>(*this);
}

void LiveRun::Impl::set_sndbuf(int fd) const {
  if (!sndbuf || fd < 0) return;
  const int e = errno;
  ::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &*sndbuf, sizeof *sndbuf);
  errno = e;
}

void LiveRun::Impl::lower_fd_limit() {
  if (!can_fire(the_case.faults, FaultKind::fd_limit)) return;
  if (!fault_rng.chance(the_case.faults[FaultKind::fd_limit].per_mille, Fault::kPerMille)) return;
  fd_allowance = handler_fds() + kFdHeadroom;
}

size_t LiveRun::Impl::handler_fds() const { return real.owned_count(); }

bool LiveRun::Impl::emfile(size_t needed) const {
  if (!fd_allowance || passive() || handler_fds() + needed <= *fd_allowance) return false;
  errno = EMFILE;
  return true;
}

bool LiveRun::Impl::maybe_interrupt() {
  if (interrupter == nullptr) return false;
  const Fault& f = the_case.faults[FaultKind::eintr];
  if (!fault_rng.chance(f.per_mille, Fault::kPerMille)) return false;
  interrupter->arm(static_cast<Nanos>(fault_rng.between(0, sim::World::kMaxSignalDelay)));
  return true;
}

void LiveRun::Impl::on_call(const char* call, int fd, bool moves) {
  if (passive()) return;
  if (++steps > options.step_budget) {
    stopped = true;
    throw Stop{Stop::Reason::step_budget, call, fd, now()};
  }
  check_time(call, fd);
  if (moves) idle = 0;
}

void LiveRun::Impl::check_time(const char* call, int fd) {
  const Nanos t = now();
  if (t <= options.time_limit) return;
  stopped = true;
  throw Stop{Stop::Reason::time_limit, call, fd, t};
}

void LiveRun::Impl::check_quiescent(const char* call, int fd) {
  const Nanos t = now();
  idle += t - last_tick;
  last_tick = t;
  if (idle < std::min(options.done_settle, options.settle)) return;
  bool all_done = true;
  for (size_t i = 0; i < peers.size(); ++i) {
    if (!started[i] || waits[i].kind == PeerWait::Kind::time) return;
    all_done = all_done && peers[i]->done();
  }
  if (!all_done && idle < options.settle) return;
  if (!all_done && bytes_in_flight_to_readers()) return;  // the time limit still bounds it
  stopped = true;
  throw Stop{Stop::Reason::quiescent, call, fd, t};
}

bool LiveRun::Impl::bytes_in_flight_to_readers() const {
  const ErrnoGuard keep;
  std::vector<uint16_t> reader_ports;  // local ports of the peers waiting for EPOLLIN
  for (size_t i = 0; i < peers.size(); ++i)
    if (started[i] && waits[i].kind == PeerWait::Kind::io && (waits[i].events & EPOLLIN) &&
        peers[i]->fd() >= 0)
      reader_ports.push_back(peers[i]->local_port());
  if (reader_ports.empty()) return false;
  for (const int fd : real.owned_fds()) {
    sockaddr_in a{};
    socklen_t len = sizeof a;
    if (::getpeername(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0 || a.sin_family != AF_INET)
      continue;
    if (std::find(reader_ports.begin(), reader_ports.end(), ntohs(a.sin_port)) ==
        reader_ports.end())
      continue;
    int unsent = 0;  // SIOCOUTQ: written, not yet acknowledged by the peer's kernel
    if (::ioctl(fd, SIOCOUTQ, &unsent) == 0 && unsent > 0) return true;
  }
  for (size_t i = 0; i < peers.size(); ++i)
    if (started[i] && waits[i].kind == PeerWait::Kind::io && (waits[i].events & EPOLLIN) &&
        closed_toward_reader(*peers[i]))
      return true;
  return false;
}

namespace {
// The peer port of TCP socket `fd` (0 if it is none, or not connected). errno kept.
uint16_t peer_port_of(int fd) {
  const ErrnoGuard keep;
  sockaddr_in a{};
  socklen_t len = sizeof a;
  if (::getpeername(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0 || a.sin_family != AF_INET)
    return 0;
  return ntohs(a.sin_port);
}
}  // namespace

void LiveRun::Impl::note_close(int fd) {
  const uint16_t port = peer_port_of(fd);
  if (port == 0) return;
  for (const int other : real.owned_fds())  // a dup still holds the connection open
    if (other != fd && peer_port_of(other) == port) return;
  if (std::find(closed_ports.begin(), closed_ports.end(), port) == closed_ports.end())
    closed_ports.push_back(port);
}

bool LiveRun::Impl::closed_toward_reader(const Peer& p) const {
  if (p.fd() < 0) return false;
  if (std::find(closed_ports.begin(), closed_ports.end(), p.local_port()) == closed_ports.end())
    return false;
  // The handler holds a connection from that port again (a later one, the port reused): its
  // send queue is the first loop's to read.
  for (const int fd : real.owned_fds())
    if (peer_port_of(fd) == p.local_port()) return false;
  // The FIN has not arrived while the peer's socket is still in a state that awaits it
  // (tcp_fin moves ESTABLISHED to CLOSE_WAIT and FIN_WAIT2 to TIME_WAIT); a reset or the
  // orphan's own end (tcp_done) leaves it CLOSE, and the peer has its answer.
  const ErrnoGuard keep;
  tcp_info info{};
  socklen_t len = sizeof info;
  if (::getsockopt(p.fd(), IPPROTO_TCP, TCP_INFO, &info, &len) != 0) return false;
  return info.tcpi_state == TCP_ESTABLISHED || info.tcpi_state == TCP_FIN_WAIT1 ||
         info.tcpi_state == TCP_FIN_WAIT2;
}

sockaddr_in LiveRun::Impl::server_address() {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(the_case.scenario.addr);
  if (bound_port != 0) {
    a.sin_port = htons(bound_port);
    return a;
  }
  // The handler never bound the scenario's port: the peers are refused, as they are in the
  // simulation, by a port of our own that never listens (never someone else's listener).
  if (refuser < 0) {
    refuser = peer_k.socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in any = a;
    any.sin_port = 0;
    sockaddr_in got{};
    socklen_t len = sizeof got;
    if (refuser >= 0 &&
        peer_k.bind(refuser, reinterpret_cast<const sockaddr*>(&any), sizeof any) == 0 &&
        peer_k.getsockname(refuser, reinterpret_cast<sockaddr*>(&got), &len) == 0)
      refuser_port = ntohs(got.sin_port);
  }
  a.sin_port = htons(refuser_port != 0 ? refuser_port : the_case.scenario.port);
  return a;
}

uint64_t LiveRun::Impl::progress() const {
  uint64_t sum = 0;
  for (size_t i = 0; i < peers.size(); ++i) {
    const Peer& p = *peers[i];
    sum += p.sent().size() + p.received_bytes() + p.step_index() + p.sockets() +
           (p.done() ? 1 : 0) + (started[i] ? 1 : 0);
  }
  return sum;
}

Nanos LiveRun::Impl::slice(const std::optional<Nanos>& next_timer) const {
  Nanos s = kSlice;
  if (next_timer) s = std::min(s, *next_timer - now());
  return std::max<Nanos>(s, 0);
}

std::optional<Nanos> LiveRun::Impl::drive() {
  const Nanos t = now();
  due.assign(peers.size(), false);
  pfds.clear();
  pfd_peer.clear();
  for (size_t i = 0; i < peers.size(); ++i) {
    if (!started[i]) {
      if (first_wait && t >= *first_wait + scripts[i].start) {
        *peers[i] = Peer(static_cast<uint32_t>(i + 1), scripts[i], server_address());
        peers[i]->set_check(options.check);
        started[i] = true;
        due[i] = true;
      }
      continue;
    }
    const PeerWait& w = waits[i];
    if (w.kind == PeerWait::Kind::time) {
      due[i] = t >= w.until;
    } else if (w.kind == PeerWait::Kind::io) {
      if (peers[i]->fd() < 0) {
        due[i] = true;
      } else {
        pfds.push_back(pollfd{peers[i]->fd(), poll_events(w.events), 0});
        pfd_peer.push_back(i);
      }
    }
  }
  if (!pfds.empty()) {
    const int e = errno;
    if (::poll(pfds.data(), pfds.size(), 0) > 0) {
      for (size_t j = 0; j < pfds.size(); ++j)
        if (pfds[j].revents != 0) due[pfd_peer[j]] = true;
    }
    errno = e;
  }
  const int e = errno;  // the handler's errno is not the peers' business
  for (size_t i = 0; i < peers.size(); ++i)
    if (due[i]) waits[i] = peers[i]->run(peer_k, t);
  errno = e;
  const uint64_t p = progress();
  if (p != last_progress) {
    last_progress = p;
    idle = 0;
  }
  std::optional<Nanos> next;
  for (size_t i = 0; i < peers.size(); ++i) {
    std::optional<Nanos> at;
    if (!started[i] && first_wait) at = *first_wait + scripts[i].start;
    if (started[i] && waits[i].kind == PeerWait::Kind::time) at = waits[i].until;
    if (at && (!next || *at < *next)) next = at;
  }
  return next;
}

void LiveRun::Impl::settle_peers(bool was_quiescent) {
  // A quiescent run was already quiet for `settle`: one pass shows whether anything is left.
  if (!was_quiescent) idle = 0;
  last_tick = now();
  const Nanos limit = std::max(options.time_limit, now() + options.settle);
  for (;;) {
    const std::optional<Nanos> timer = drive();
    const bool all_done = std::all_of(peers.begin(), peers.end(),
                                      [](const auto& p) { return p->done(); });
    const Nanos t = now();
    idle += t - last_tick;
    last_tick = t;
    if (all_done || t >= limit) return;
    if (idle >= options.settle && !timer) return;
    pfds.clear();
    for (size_t i = 0; i < peers.size(); ++i)
      if (started[i] && waits[i].kind == PeerWait::Kind::io && peers[i]->fd() >= 0)
        pfds.push_back(pollfd{peers[i]->fd(), poll_events(waits[i].events), 0});
    poll_for(pfds.data(), pfds.size(), slice(timer));
  }
}

// --- LiveRun -------------------------------------------------------------------------------------

LiveRun::LiveRun(const Case& c, std::vector<PeerScript> scripts, LiveRunOptions options)
    : impl_(std::make_unique<Impl>(c, std::move(scripts), options)) {}

LiveRun::~LiveRun() = default;

int LiveRun::interrupt_signal() { return InterruptTimer::signal_number(); }

std::vector<std::string> LiveRun::unapplied_faults() const {
  // What each fault would have done, as the sentence names it.
  struct Unapplied {
    FaultKind kind;
    const char* what;
  };
  static constexpr Unapplied kUnapplied[] = {
      {FaultKind::split, "a segment cut in several"},
      {FaultKind::coalesce, "segments delivered as one"},
      {FaultKind::delay, "a segment delivered late"},
      {FaultKind::accept_abort, "accept4 -1 ECONNABORTED"},
  };
  std::vector<std::string> out;
  for (const Unapplied& u : kUnapplied)
    if (can_fire(impl_->the_case.faults, u.kind))
      out.push_back(std::string("fault ") + std::string(fault_name(u.kind)) + " (" + u.what +
                    ") is not applied on live sockets: a finding that needs it may not "
                    "reproduce");
  return out;
}

Kernel& LiveRun::handler_kernel() { return *impl_->kernel; }
RealKernel& LiveRun::real() { return impl_->real; }
Nanos LiveRun::now() const { return impl_->now(); }
const std::vector<const Peer*>& LiveRun::peers() const { return impl_->views; }
const std::vector<PeerScript>& LiveRun::scripts() const { return impl_->scripts; }
uint64_t LiveRun::steps() const { return impl_->steps; }

sim::World::Result LiveRun::run(const std::function<void(Kernel&)>& handler) {
  Impl& r = *impl_;
  r.start = std::chrono::steady_clock::now();
  r.last_progress = r.progress();
  // The eintr fault's timer, aimed at this thread, for as long as the handler runs.
  std::optional<InterruptTimer> interrupter;
  if (can_fire(r.the_case.faults, FaultKind::eintr)) r.interrupter = &interrupter.emplace();
  const sim::World::Result result = sim::World::run_caught(handler, handler_kernel());
  r.interrupter = nullptr;
  interrupter.reset();
  r.stopped = true;
  r.mark_waited();  // a handler that never waited still has clients knocking
  r.settle_peers(result.stop && result.stop->reason == Stop::Reason::quiescent);
  return result;
}

}  // namespace edgecase
