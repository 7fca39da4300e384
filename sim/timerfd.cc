#include "sim/timerfd.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/epoll.h>

#include "edgecase/sim_kernel.h"
#include "sim/fdtable.h"

namespace edgecase::sim {

namespace {

// timespec64_to_ktime: saturates at KTIME_MAX.
Nanos to_ktime(const timespec& ts) {
  constexpr int64_t kKtimeSecMax = kKtimeMax / kNanosPerSecond;
  if (ts.tv_sec >= kKtimeSecMax) return kKtimeMax;
  return ts.tv_sec * kNanosPerSecond + ts.tv_nsec;
}

timespec to_timespec(Nanos ns) {
  return timespec{static_cast<time_t>(ns / kNanosPerSecond),
                  static_cast<long>(ns % kNanosPerSecond)};
}

bool timespec_valid(const timespec& ts) {
  return ts.tv_sec >= 0 && ts.tv_nsec >= 0 && ts.tv_nsec < kNanosPerSecond;
}

}  // namespace

bool timerfd_clock_valid(int clockid, bool* alarm) {
  *alarm = clockid == CLOCK_REALTIME_ALARM || clockid == CLOCK_BOOTTIME_ALARM;
  return *alarm || clockid == CLOCK_MONOTONIC || clockid == CLOCK_REALTIME ||
         clockid == CLOCK_BOOTTIME;
}

bool itimerspec_valid(const struct itimerspec& its) {
  return timespec_valid(its.it_value) && timespec_valid(its.it_interval);
}

TimerFd::TimerFd(HrTimerBase& base, int clockid, bool alarm, unsigned flags)
    : File(Kind::timerfd, flags), base_(base), clockid_(clockid), alarm_(alarm) {}

void TimerFd::tmrproc(HrTimer* t) {
  TimerFd* ctx = static_cast<CtxTimer*>(t)->ctx;
  ctx->expired_ = true;
  ++ctx->ticks_;
  ctx->wqh_.wake(EPOLLIN);
}

uint32_t TimerFd::poll(int) { return ticks_ ? uint32_t{EPOLLIN} : 0u; }

uint64_t TimerFd::forward_now() { return hrtimer_forward(tmr_.expires, base_.now(), tintv_); }

ssize_t TimerFd::read(std::span<std::byte> buf) {
  uint64_t ticks = ticks_;
  if (buf.size() < sizeof ticks) return -EINVAL;
  if (ticks == 0) return -EAGAIN;
  if (expired_ && tintv_) {
    // A periodic timer is re-armed here rather than in the callback (a very short period
    // would otherwise keep the CPU in the timer interrupt): the intervals it missed are counted.
    ticks += forward_now() - 1;
    base_.start(&tmr_, tmr_.expires);
  }
  expired_ = false;
  ticks_ = 0;
  std::memcpy(buf.data(), &ticks, sizeof ticks);
  return sizeof ticks;
}

int TimerFd::ioctl(unsigned long request, int* arg) {
  if (request != kTfdIocSetTicks) return -ENOTTY;
  uint64_t ticks;
  if (arg == nullptr) return -EFAULT;
  std::memcpy(&ticks, arg, sizeof ticks);
  if (ticks == 0) return -EINVAL;
  ticks_ = ticks;  // `expired` is left alone: a read then returns exactly this count
  wqh_.wake(EPOLLIN);
  return 0;
}

void TimerFd::release() { base_.cancel(&tmr_); }

Nanos TimerFd::remaining() const {
  const Nanos r = tmr_.expires - base_.now();
  return r < 0 ? 0 : r;
}

void TimerFd::setup(int flags, const struct itimerspec& value) {
  Nanos texp = to_ktime(value.it_value);
  expired_ = false;
  ticks_ = 0;
  tintv_ = to_ktime(value.it_interval);
  if (texp == 0) {
    tmr_.expires = 0;  // hrtimer_set_expires(0): disarmed, nothing remains
    return;
  }
  const bool realtime = clockid_ == CLOCK_REALTIME || clockid_ == CLOCK_REALTIME_ALARM;
  if (!(flags & TFD_TIMER_ABSTIME)) texp = ktime_add_safe(base_.now(), texp);
  else if (realtime) texp -= kRealtimeOffset;  // an absolute date, on the monotonic clock
  base_.start(&tmr_, texp);
}

void TimerFd::settime(int flags, const struct itimerspec& value, struct itimerspec* old) {
  base_.cancel(&tmr_);
  // An expired periodic timer is moved forward first, so the old value is the time to its
  // next expiry; the count is not updated, since setup() resets it.
  if (expired_ && tintv_) forward_now();
  old->it_value = to_timespec(remaining());
  old->it_interval = to_timespec(tintv_);
  setup(flags, value);
}

void TimerFd::gettime(struct itimerspec* cur) {
  if (expired_ && tintv_) {
    expired_ = false;
    ticks_ += forward_now() - 1;
    base_.start(&tmr_, tmr_.expires);
  }
  cur->it_value = to_timespec(remaining());
  cur->it_interval = to_timespec(tintv_);
}

}  // namespace edgecase::sim

// --- system calls (fs/timerfd.c) -------------------------------------------------------------
namespace edgecase {

namespace {
int fail(int err) {
  errno = err;
  return -1;
}
}  // namespace

int SimKernel::timerfd_create(int clockid, int flags) {
  bool alarm = false;
  if ((flags & ~(TFD_CLOEXEC | TFD_NONBLOCK)) || !sim::timerfd_clock_valid(clockid, &alarm))
    return fail(EINVAL);
  if (alarm && !options_.cap_wake_alarm) return fail(EPERM);
  // The file is O_RDWR plus O_NONBLOCK; TFD_CLOEXEC lives in the fd, so F_GETFL never shows it.
  const unsigned f_flags = O_RDWR | ((flags & TFD_NONBLOCK) ? O_NONBLOCK : 0u);
  int fd = install(born(new sim::TimerFd(*timers_, clockid, alarm, f_flags)),
                   (flags & TFD_CLOEXEC) != 0);
  return fd < 0 ? fail(-fd) : fd;
}

// Checks in the kernel's order: the new value is copied in first (EFAULT), then the flags and
// the value (EINVAL), the fd (EBADF), its type (EINVAL) and the alarm capability (EPERM); the
// old value is copied out last.
int SimKernel::timerfd_settime(int fd, int flags, const struct itimerspec* new_value,
                               struct itimerspec* old_value) {
  if (new_value == nullptr) return fail(EFAULT);
  if ((flags & ~sim::kTfdSettimeFlags) || !sim::itimerspec_valid(*new_value)) return fail(EINVAL);
  sim::File* f = fdt_->get(fd);
  if (f == nullptr) return fail(EBADF);
  sim::TimerFd* t = f->as_timerfd();
  if (t == nullptr) return fail(EINVAL);
  if (t->alarm() && !options_.cap_wake_alarm) return fail(EPERM);
  struct itimerspec old {};
  t->settime(flags, *new_value, &old);
  if (old_value != nullptr) *old_value = old;
  return 0;
}

int SimKernel::timerfd_gettime(int fd, struct itimerspec* curr_value) {
  sim::File* f = fdt_->get(fd);
  if (f == nullptr) return fail(EBADF);
  sim::TimerFd* t = f->as_timerfd();
  if (t == nullptr) return fail(EINVAL);
  struct itimerspec cur {};
  t->gettime(&cur);  // catches up even when the copy out then fails, as on Linux
  if (curr_value == nullptr) return fail(EFAULT);
  *curr_value = cur;
  return 0;
}

}  // namespace edgecase
