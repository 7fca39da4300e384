// The generic system calls (fs/read_write.c, fs/file.c, fs/fcntl.c, fs/ioctl.c) and the glue:
// fd installation, blocking through the scheduler, inspection.
#include "edgecase/sim_kernel.h"

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <string_view>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <vector>

#include "sim/devnull.h"
#include "sim/epoll.h"
#include "sim/fdtable.h"
#include "sim/file.h"
#include "sim/hrtimer.h"
#include "sim/net.h"
#include "sim/socket.h"
#include "sim/wait.h"

namespace edgecase {

namespace {

using sim::kNanosPerSecond;
constexpr size_t kMaxRwCount = INT_MAX & ~size_t{4095};  // MAX_RW_COUNT
constexpr int kIovMax = 1024;                             // UIO_MAXIOV

// hrtimer_resolution with high-resolution timers: what clock_getres reports for the clocks the
// model has.
constexpr long kClockResolutionNs = 1;

int fail(int err) {
  errno = err;
  return -1;
}

// Alone, only the kernel's own timers can wake a blocked call: they fire as the clock reaches
// them, then a deadline simply arrives, and a wait with neither is a deadlock.
class Standalone final : public sim::Scheduler {
 public:
  explicit Standalone(SimKernel& k) : k_(k) {}
  sim::WaitResult wait(sim::WaitQueue& wq, std::optional<sim::Nanos> deadline, const char* call,
                       int fd) override {
    sim::Waiter w;
    wq.add(&w);
    sim::WaitGuard guard{wq, w};
    for (;;) {
      if (w.woken) return sim::WaitResult::woken;
      const std::optional<sim::Nanos> timer = k_.next_timer_ns();
      if (timer && (!deadline || *timer <= *deadline)) {
        k_.set_now_ns(*timer);  // the timer fires: it may wake `wq`
        continue;
      }
      if (!deadline) throw Deadlock{call, fd};
      k_.set_now_ns(*deadline);
      return sim::WaitResult::timed_out;
    }
  }

 private:
  SimKernel& k_;
};

}  // namespace

std::string Deadlock::message() const {
  return "deadlock: blocking " + call + "(" + std::to_string(fd) +
         ") can never complete: nothing left in the simulated world could wake it";
}

SimKernel::SimKernel(SimOptions options) : SimKernel(options, std::make_shared<sim::Net>()) {}

SimKernel::SimKernel(SimOptions options, SimKernel& network)
    : SimKernel(options, network.net_) {}

SimKernel::SimKernel(SimOptions options, std::shared_ptr<sim::Net> net)
    : options_(options),
      timers_(std::make_unique<sim::HrTimerBase>(&now_ns_, &next_timer_ns_)),
      fdt_(std::make_unique<sim::FdTable>(options.nofile)),
      net_(std::move(net)),
      standalone_(std::make_unique<Standalone>(*this)),
      sched_(standalone_.get()) {
  constexpr int kStdioFds = 3;
  if (options_.stdio)
    for (int i = 0; i < kStdioFds && i < options_.nofile; ++i) install(born(new sim::DevNull), false);
}

SimKernel::~SimKernel() {
  fdt_.reset();  // releases run while the counters, the timers and the network still exist
}

void SimKernel::set_now_ns(int64_t t) {
  if (t > now_ns_) timers_->advance(t);
}



void SimKernel::set_nofile(int limit) {
  options_.nofile = limit;
  fdt_->set_nofile(limit);
}

size_t SimKernel::open_fd_count() const { return fdt_->open_count(); }

void SimKernel::set_scheduler(sim::Scheduler* s) { sched_ = s ? s : standalone_.get(); }

sim::File* SimKernel::file_at(int fd) const { return fdt_->get(fd); }

sim::File* SimKernel::born(sim::File* f) {
  f->id = next_file_id_++;
  return f;
}

int SimKernel::install(sim::File* f, bool cloexec) {
  sim::fget(f);
  int fd = fdt_->alloc();
  if (fd < 0) {
    sim::fput(f);
    return fd;
  }
  fdt_->install(fd, f, cloexec);
  return fd;
}

sim::WaitResult SimKernel::block(sim::WaitQueue& wq, std::optional<int64_t> deadline_ns,
                                 const char* call, int fd) {
  return sched_->wait(wq, deadline_ns, call, fd);
}

// vfs_read / sock_recvmsg, plus the sleep a blocking caller does while the object is empty.
ssize_t SimKernel::do_read(int fd, void* buf, size_t len, int msg_flags, const char* call,
                           bool via_recv) {
  sim::FileRef f(fdt_->get(fd));
  if (!f) return fail(EBADF);
  if (!f->readable()) return fail(EBADF);
  len = std::min(len, kMaxRwCount);
  if (len && buf == nullptr) return fail(EFAULT);
  std::span<std::byte> dst(static_cast<std::byte*>(buf), len);
  const bool nonblock = f->nonblock() || (msg_flags & MSG_DONTWAIT);
  for (;;) {
    sim::Socket* s = via_recv ? f->as_socket() : nullptr;
    ssize_t r = s ? s->recvmsg(dst, msg_flags) : f->read(dst);
    if (r != -EAGAIN || nonblock) return r < 0 ? fail(static_cast<int>(-r)) : r;
    if (block(*f->wait_queue(), std::nullopt, call, fd) == sim::WaitResult::interrupted)
      return fail(EINTR);
  }
}

// vfs_write / sock_sendmsg. A blocking writer keeps going until everything is written, as
// pipe_write and the stream sendmsg loops do; a nonblocking one returns what fitted.
ssize_t SimKernel::do_write(int fd, const void* buf, size_t len, int msg_flags, const char* call) {
  sim::FileRef f(fdt_->get(fd));
  if (!f) return fail(EBADF);
  if (!f->writable()) return fail(EBADF);
  len = std::min(len, kMaxRwCount);
  if (len && buf == nullptr) return fail(EFAULT);
  const auto* src = static_cast<const std::byte*>(buf);
  const bool nonblock = f->nonblock() || (msg_flags & MSG_DONTWAIT);
  size_t done = 0;
  bool resumed = false;  // set once the caller has slept: the kernel's call would go on
  for (;;) {
    std::span<const std::byte> rest(src + done, len - done);
    sim::Socket* s = f->as_socket();
    ssize_t r = s ? s->sendmsg(rest, msg_flags, resumed) : f->write(rest);
    if (r > 0) done += static_cast<size_t>(r);
    if (r >= 0 && (done == len || nonblock)) return static_cast<ssize_t>(done);
    if (r < 0 && (r != -EAGAIN || nonblock))
      return done ? static_cast<ssize_t>(done) : fail(static_cast<int>(-r));
    if (block(*f->wait_queue(), std::nullopt, call, fd) == sim::WaitResult::interrupted)
      return done ? static_cast<ssize_t>(done) : fail(EINTR);
    resumed = true;
  }
}

ssize_t SimKernel::read(int fd, void* buf, size_t count) { return do_read(fd, buf, count, 0, "read"); }

ssize_t SimKernel::write(int fd, const void* buf, size_t count) {
  return do_write(fd, buf, count, 0, "write");
}

// readv and writev gather into one buffer: for pipes and streams the result is the same as
// one read or write of the total length.
static ssize_t iov_total(const struct iovec* iov, int iovcnt) {
  if (iovcnt < 0 || iovcnt > kIovMax) return -EINVAL;
  if (iovcnt && iov == nullptr) return -EFAULT;
  size_t total = 0;
  for (int i = 0; i < iovcnt; ++i) {
    if (iov[i].iov_len > static_cast<size_t>(SSIZE_MAX) - total) return -EINVAL;
    if (iov[i].iov_len && iov[i].iov_base == nullptr) return -EFAULT;
    total += iov[i].iov_len;
  }
  return static_cast<ssize_t>(total);
}

// FMODE_CAN_READ / FMODE_CAN_WRITE: every simulated file but epoll has read, and every one
// but epoll and timerfd has write.
static bool has_read_op(const sim::File* f) { return f->kind() != sim::File::Kind::epoll; }
static bool has_write_op(const sim::File* f) {
  return has_read_op(f) && f->kind() != sim::File::Kind::timerfd;
}

ssize_t SimKernel::readv(int fd, const struct iovec* iov, int iovcnt) {
  sim::File* f = fdt_->get(fd);
  if (f == nullptr) return fail(EBADF);
  // vfs_readv checks the file mode before it imports the iovec, and returns 0 for an empty
  // total without asking the file.
  if (!f->readable()) return fail(EBADF);
  if (!has_read_op(f)) return fail(EINVAL);
  ssize_t total = iov_total(iov, iovcnt);
  if (total < 0) return fail(static_cast<int>(-total));
  if (total == 0) return 0;
  std::vector<std::byte> tmp(static_cast<size_t>(total));
  ssize_t r = do_read(fd, tmp.data(), tmp.size(), 0, "readv");
  size_t off = 0;
  for (int i = 0; r > 0 && i < iovcnt && off < static_cast<size_t>(r); ++i) {
    size_t n = std::min(iov[i].iov_len, static_cast<size_t>(r) - off);
    if (n) std::memcpy(iov[i].iov_base, tmp.data() + off, n);  // an empty iovec may be NULL
    off += n;
  }
  return r;
}

ssize_t SimKernel::writev(int fd, const struct iovec* iov, int iovcnt) {
  sim::File* f = fdt_->get(fd);
  if (f == nullptr) return fail(EBADF);
  // vfs_writev: file mode first, then the iovec; an empty total never reaches the file.
  if (!f->writable()) return fail(EBADF);
  if (!has_write_op(f)) return fail(EINVAL);
  ssize_t total = iov_total(iov, iovcnt);
  if (total < 0) return fail(static_cast<int>(-total));
  if (total == 0) return 0;
  if (!f->write_iter()) return loop_writev(fd, iov, iovcnt);
  std::vector<std::byte> tmp;
  tmp.reserve(static_cast<size_t>(total));
  for (int i = 0; i < iovcnt; ++i) {
    const auto* p = static_cast<const std::byte*>(iov[i].iov_base);
    tmp.insert(tmp.end(), p, p + iov[i].iov_len);
  }
  return do_write(fd, tmp.data(), tmp.size(), 0, "writev");
}

// do_loop_readv_writev: one write per iovec, stopping at the first error or short write.
ssize_t SimKernel::loop_writev(int fd, const struct iovec* iov, int iovcnt) {
  ssize_t done = 0;
  for (int i = 0; i < iovcnt; ++i) {
    if (iov[i].iov_len == 0) continue;  // an empty segment is skipped by the iterator
    ssize_t r = do_write(fd, iov[i].iov_base, iov[i].iov_len, 0, "writev");
    if (r < 0) return done ? done : -1;
    done += r;
    if (static_cast<size_t>(r) != iov[i].iov_len) break;
  }
  return done;
}

// copy_msghdr_from_user's checks shared by recvmsg and sendmsg: the header itself, the vector
// length (EMSGSIZE past UIO_MAXIOV) and the name length.
static int check_msghdr(const struct msghdr* msg) {
  if (msg == nullptr) return -EFAULT;
  if (msg->msg_iovlen > static_cast<size_t>(kIovMax)) return -EMSGSIZE;
  if (msg->msg_name != nullptr && static_cast<int>(msg->msg_namelen) < 0) return -EINVAL;
  return 0;
}

// ____sys_recvmsg: sock_recvmsg into the vector (gathered through one buffer, as readv), then the
// outputs: msg_namelen 0 (a stream socket reports no address), msg_controllen 0 (no ancillary
// data: msg_control is never written), msg_flags 0 (a stream never truncates).
ssize_t SimKernel::recvmsg(int sockfd, struct msghdr* msg, int flags) {
  sim::FileRef f(fdt_->get(sockfd));
  if (!f) return fail(EBADF);
  if (f->as_socket() == nullptr) return fail(ENOTSOCK);
  if (const int e = check_msghdr(msg); e < 0) return fail(-e);
  const ssize_t total = iov_total(msg->msg_iov, static_cast<int>(msg->msg_iovlen));
  if (total < 0) return fail(static_cast<int>(-total));
  std::vector<std::byte> tmp(static_cast<size_t>(total));
  const ssize_t r = do_read(sockfd, tmp.data(), tmp.size(), flags, "recvmsg", /*via_recv=*/true);
  if (r < 0) return r;
  size_t off = 0;
  for (size_t i = 0; i < msg->msg_iovlen && off < static_cast<size_t>(r); ++i) {
    const size_t n = std::min(msg->msg_iov[i].iov_len, static_cast<size_t>(r) - off);
    if (n) std::memcpy(msg->msg_iov[i].iov_base, tmp.data() + off, n);
    off += n;
  }
  msg->msg_namelen = 0;
  msg->msg_controllen = 0;
  msg->msg_flags = 0;
  return r;
}

// ____sys_sendmsg: the vector gathered and sent as send would. Ancillary data is not modelled:
// rather than pass or drop what the handler meant (SCM_RIGHTS would install fds in the peer),
// a non-empty msg_control fails with EINVAL, the errno sock_cmsg_send gives for what it cannot
// parse. docs/SEMANTICS.md.
ssize_t SimKernel::sendmsg(int sockfd, const struct msghdr* msg, int flags) {
  sim::FileRef f(fdt_->get(sockfd));
  if (!f) return fail(EBADF);
  if (f->as_socket() == nullptr) return fail(ENOTSOCK);
  if (const int e = check_msghdr(msg); e < 0) return fail(-e);
  if (msg->msg_controllen > static_cast<size_t>(INT_MAX)) return fail(ENOBUFS);
  if (msg->msg_controllen != 0) return fail(EINVAL);
  const ssize_t total = iov_total(msg->msg_iov, static_cast<int>(msg->msg_iovlen));
  if (total < 0) return fail(static_cast<int>(-total));
  std::vector<std::byte> tmp;
  tmp.reserve(static_cast<size_t>(total));
  for (size_t i = 0; i < msg->msg_iovlen; ++i) {
    const auto* p = static_cast<const std::byte*>(msg->msg_iov[i].iov_base);
    tmp.insert(tmp.end(), p, p + msg->msg_iov[i].iov_len);
  }
  return do_write(sockfd, tmp.data(), tmp.size(), flags, "sendmsg");
}

int SimKernel::close(int fd) {
  if (fdt_->get(fd) == nullptr) return fail(EBADF);
  sim::fput(fdt_->remove(fd));
  return 0;
}

int SimKernel::dup(int oldfd) {
  sim::File* f = fdt_->get(oldfd);
  if (f == nullptr) return fail(EBADF);
  int fd = install(f, false);
  return fd < 0 ? fail(-fd) : fd;
}

int SimKernel::dup2(int oldfd, int newfd) {
  sim::File* f = fdt_->get(oldfd);
  if (oldfd == newfd) return f ? newfd : fail(EBADF);
  return do_dup2(oldfd, newfd, false);
}

// ksys_dup3: the flags, then oldfd == newfd, then the limit, then oldfd; dup2 shares the rest.
int SimKernel::dup3(int oldfd, int newfd, int flags) {
  if (flags & ~O_CLOEXEC) return fail(EINVAL);
  if (oldfd == newfd) return fail(EINVAL);
  return do_dup2(oldfd, newfd, (flags & O_CLOEXEC) != 0);
}

// do_dup2: newfd past the soft limit (or negative: the kernel's newfd is unsigned) is EBADF; the
// old file at newfd is closed silently after the slot is replaced.
int SimKernel::do_dup2(int oldfd, int newfd, bool cloexec) {
  if (newfd < 0 || newfd >= options_.nofile) return fail(EBADF);
  sim::File* f = fdt_->get(oldfd);
  if (f == nullptr) return fail(EBADF);
  sim::fget(f);
  sim::File* old = fdt_->get(newfd) ? fdt_->remove(newfd) : nullptr;
  fdt_->install(newfd, f, cloexec);
  if (old) sim::fput(old);
  return newfd;
}

int SimKernel::fcntl(int fd, int cmd, long arg) {
  sim::File* f = fdt_->get(fd);
  if (f == nullptr) return fail(EBADF);
  switch (cmd) {
    case F_DUPFD:
    case F_DUPFD_CLOEXEC: {
      // do_fcntl passes (int)arg to f_dupfd's unsigned `from`: the upper 32 bits are ignored
      // and a negative low half is a huge start.
      const auto from = static_cast<unsigned>(static_cast<int>(arg));
      if (from >= static_cast<unsigned>(options_.nofile)) return fail(EINVAL);
      sim::fget(f);
      int nfd = fdt_->alloc(static_cast<int>(from));
      if (nfd < 0) {
        sim::fput(f);
        return fail(-nfd);
      }
      fdt_->install(nfd, f, cmd == F_DUPFD_CLOEXEC);
      return nfd;
    }
    case F_GETFD: return fdt_->cloexec(fd) ? FD_CLOEXEC : 0;
    case F_SETFD: fdt_->set_cloexec(fd, (arg & FD_CLOEXEC) != 0); return 0;
    case F_GETFL: return static_cast<int>(f->f_flags);
    case F_SETFL: {
      // setfl: SETFL_MASK is what may change. O_DIRECT needs FMODE_CAN_ODIRECT, which only a
      // pipe (packet mode) has among the simulated files. O_ASYNC (fasync) is not modelled.
      constexpr unsigned kSetflMask = O_APPEND | O_NONBLOCK | O_NDELAY | O_DIRECT | O_NOATIME;
      auto bits = static_cast<unsigned>(arg);
      if ((bits & O_DIRECT) && f->kind() != sim::File::Kind::pipe) return fail(EINVAL);
      f->f_flags = (bits & kSetflMask) | (f->f_flags & ~kSetflMask);
      return 0;
    }
    default: return fail(EINVAL);
  }
}

int SimKernel::ioctl(int fd, unsigned long request, int* arg) {
  sim::FileRef f(fdt_->get(fd));
  if (!f) return fail(EBADF);
  if (request == FIONBIO) {  // generic, in do_vfs_ioctl
    if (arg == nullptr) return fail(EFAULT);
    if (*arg) f->f_flags |= O_NONBLOCK; else f->f_flags &= ~static_cast<unsigned>(O_NONBLOCK);
    return 0;
  }
  int r = f->ioctl(request, arg);
  return r < 0 ? fail(-r) : r;
}

int SimKernel::clock_gettime(clockid_t clockid, struct timespec* tp) {
  int64_t t = now_ns();
  switch (clockid) {
    case CLOCK_MONOTONIC: case CLOCK_MONOTONIC_RAW: case CLOCK_BOOTTIME: break;
    case CLOCK_REALTIME: t += sim::kRealtimeOffset; break;
    default: return fail(EINVAL);
  }
  if (tp == nullptr) return fail(EFAULT);
  tp->tv_sec = t / sim::kNanosPerSecond;
  tp->tv_nsec = t % sim::kNanosPerSecond;
  return 0;
}

// posix_get_hrtimer_res: the same clocks clock_gettime accepts; `res` may be NULL.
int SimKernel::clock_getres(clockid_t clockid, struct timespec* res) {
  switch (clockid) {
    case CLOCK_MONOTONIC: case CLOCK_MONOTONIC_RAW: case CLOCK_BOOTTIME: case CLOCK_REALTIME:
      break;
    default: return fail(EINVAL);
  }
  if (res != nullptr) *res = timespec{0, kClockResolutionNs};
  return 0;
}

// hrtimer_nanosleep: timespec64_valid first, then a sleep on a queue nobody wakes, so only the
// deadline (or a signal) ends it. Alone the clock jumps to the deadline; in a World the world
// runs until then. Interrupted: EINTR, with the time left in *rem (restart_block's remainder).
int SimKernel::nanosleep(const struct timespec* req, struct timespec* rem) {
  if (req == nullptr) return fail(EFAULT);
  if (req->tv_sec < 0 || req->tv_nsec < 0 || req->tv_nsec >= kNanosPerSecond)
    return fail(EINVAL);
  constexpr int64_t kMaxSleepSeconds = INT64_MAX / kNanosPerSecond - 1;  // KTIME_MAX, clamped
  const int64_t secs = std::min<int64_t>(req->tv_sec, kMaxSleepSeconds);
  const int64_t deadline = now_ns_ + secs * kNanosPerSecond + req->tv_nsec;
  sim::WaitQueue nobody;
  if (block(nobody, deadline, "nanosleep", -1) != sim::WaitResult::interrupted) return 0;
  if (rem != nullptr) {
    const int64_t left = std::max<int64_t>(deadline - now_ns_, 0);
    rem->tv_sec = left / kNanosPerSecond;
    rem->tv_nsec = left % kNanosPerSecond;
  }
  return fail(EINTR);
}

// do_prlimit: the resource, then the new limit's order, then (RLIMIT_NOFILE) fs.nr_open, then
// CAP_SYS_RESOURCE for a raised hard limit (the simulated process has none).
int SimKernel::getrlimit(int resource, struct rlimit* rlim) {
  if (resource < 0 || resource >= RLIM_NLIMITS) return fail(EINVAL);
  if (rlim == nullptr) return fail(EFAULT);
  if (resource == RLIMIT_NOFILE) {
    *rlim = rlimit{static_cast<rlim_t>(options_.nofile), static_cast<rlim_t>(options_.nofile_max)};
    return 0;
  }
  *rlim = other_limits_[static_cast<size_t>(resource)];
  return 0;
}

int SimKernel::setrlimit(int resource, const struct rlimit* rlim) {
  if (resource < 0 || resource >= RLIM_NLIMITS) return fail(EINVAL);
  if (rlim == nullptr) return fail(EFAULT);
  if (rlim->rlim_cur > rlim->rlim_max) return fail(EINVAL);
  if (resource != RLIMIT_NOFILE) {
    rlimit& old = other_limits_[static_cast<size_t>(resource)];
    if (rlim->rlim_max > old.rlim_max) return fail(EPERM);
    old = *rlim;
    return 0;
  }
  if (rlim->rlim_max > static_cast<rlim_t>(SimOptions::kNrOpen)) return fail(EPERM);
  if (rlim->rlim_max > static_cast<rlim_t>(options_.nofile_max)) return fail(EPERM);
  options_.nofile_max = static_cast<int>(rlim->rlim_max);
  set_nofile(static_cast<int>(rlim->rlim_cur));
  return 0;
}

std::optional<uint64_t> SimKernel::bytes_to_read(int fd) {
  sim::File* f = fdt_->get(fd);
  if (f == nullptr) return std::nullopt;
  int n = 0;
  if (f->ioctl(FIONREAD, &n) < 0) return std::nullopt;
  return static_cast<uint64_t>(n);
}

std::optional<uint64_t> SimKernel::bytes_to_send(int fd) {
  sim::File* f = fdt_->get(fd);
  sim::Socket* s = f ? f->as_socket() : nullptr;
  if (s == nullptr) return std::nullopt;
  int64_t n = s->outq();
  if (n < 0) return std::nullopt;
  return static_cast<uint64_t>(n);
}

std::optional<uint32_t> SimKernel::poll_mask(int fd) {
  sim::File* f = fdt_->get(fd);
  if (f == nullptr) return std::nullopt;
  return f->poll(0);
}

std::optional<uint64_t> SimKernel::accept_queue(int fd) {
  sim::File* f = fdt_->get(fd);
  sim::Socket* s = f ? f->as_socket() : nullptr;
  int64_t n = s ? s->accept_backlog() : -EINVAL;
  if (n < 0) return std::nullopt;
  return static_cast<uint64_t>(n);
}

std::optional<std::vector<Interest>> SimKernel::interest_set(int epfd) {
  sim::File* f = fdt_->get(epfd);
  sim::EventPoll* ep = f ? f->as_epoll() : nullptr;
  if (ep == nullptr) return std::nullopt;
  std::vector<Interest> out;
  for (const sim::EpItem* epi : ep->items())
    out.push_back({epi->fd, epi->event.events, epi->event.data.u64});
  std::sort(out.begin(), out.end(), [](const Interest& a, const Interest& b) {
    if (a.fd != b.fd) return a.fd < b.fd;
    if (a.events != b.events) return a.events < b.events;
    return a.data < b.data;
  });
  return out;
}

std::string SimKernel::check_invariants() const {
  if (std::string e = fdt_->check(); !e.empty()) return e;
  if (std::string e = net_->check(); !e.empty()) return e;
  for (int fd = 0; fd < fdt_->size(); ++fd) {
    sim::File* f = fdt_->get(fd);
    if (f == nullptr) continue;
    if (sim::EventPoll* ep = f->as_epoll())
      if (std::string e = ep->check(); !e.empty()) return "fd " + std::to_string(fd) + ": " + e;
  }
  return "";
}

// open (fs/open.c do_sys_openat2) of the paths of kernel_calls.def (any other is refused with
// ENOENT first, as RealKernel refuses it). The fd first (get_unused_fd_flags: EMFILE before
// the path is looked at, and before may_open's EISDIR), then the file; "/" stands on a
// /dev/null file (drivers/char/mem.c) since the model has no directories.
int SimKernel::open(const char* path, int flags) {
  if (path == nullptr) return fail(EFAULT);
  const std::string_view p(path);
  const bool root = p == "/";
  if (p != "/dev/null" && !root) return fail(ENOENT);  // refused before it is opened
  const int free_fd = fdt_->alloc();  // reserves nothing: only whether one is free
  if (free_fd < 0) return fail(-free_fd);
  if (root && (flags & O_ACCMODE) != O_RDONLY) return fail(EISDIR);
  const auto f_flags = static_cast<unsigned>(flags & (O_ACCMODE | O_NONBLOCK | O_APPEND));
  const int fd = install(born(new sim::DevNull(f_flags)), (flags & O_CLOEXEC) != 0);
  if (fd < 0) return fail(-fd);
  return fd;
}

}  // namespace edgecase
