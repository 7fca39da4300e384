// timerfd (fs/timerfd.c): a timer whose expirations are read from a file descriptor.
//
// struct timerfd_ctx together with its file (one description per ctx, as for eventfd). The
// timer is an hrtimer on the host's clock (sim/hrtimer.h). When it expires, timerfd_tmrproc
// counts a tick and wakes the wait queue with EPOLLIN, and does not re-arm itself: a periodic
// timer is moved forward over every interval it missed when its owner reads the count (read,
// timerfd_gettime, timerfd_settime), which is how the missed expirations add up without one
// callback per interval. poll reports EPOLLIN while the count is positive.
//
// Clocks: CLOCK_MONOTONIC and CLOCK_BOOTTIME (the same clock here: the simulation never
// suspends), CLOCK_REALTIME (the monotonic clock plus a fixed offset, never set, so
// TFD_TIMER_CANCEL_ON_SET is accepted and never cancels), and the two _ALARM clocks as their
// plain counterparts, for a caller with CAP_WAKE_ALARM.
#pragma once

#include <cstdint>
#include <ctime>
#include <span>
#include <sys/ioctl.h>
#include <sys/timerfd.h>
#include <sys/types.h>

#include "sim/file.h"
#include "sim/hrtimer.h"
#include "sim/wait.h"

namespace edgecase::sim {

// TFD_IOC_SET_TICKS (linux/timerfd.h, which glibc's headers do not include): sets the count.
inline constexpr unsigned long kTfdIocSetTicks = _IOW('T', 0, uint64_t);
// TFD_SETTIME_FLAGS: what timerfd_settime accepts.
inline constexpr int kTfdSettimeFlags = TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET;

// timerfd_create's clockid check; `alarm` is set for the clocks that need CAP_WAKE_ALARM.
bool timerfd_clock_valid(int clockid, bool* alarm);
// itimerspec64_valid: both timespecs have tv_sec >= 0 and 0 <= tv_nsec < 1e9.
bool itimerspec_valid(const struct itimerspec& its);

class TimerFd final : public File {
 public:
  TimerFd(HrTimerBase& base, int clockid, bool alarm, unsigned flags);

  uint32_t poll(int depth) override;                 // timerfd_poll
  WaitQueue* wait_queue() override { return &wqh_; }
  ssize_t read(std::span<std::byte> buf) override;   // timerfd_read_iter (never blocks)
  // timerfd_ioctl: TFD_IOC_SET_TICKS (CONFIG_CHECKPOINT_RESTORE; `arg` points to a u64);
  // anything else, FIONREAD included, is ENOTTY.
  int ioctl(unsigned long request, int* arg) override;
  void release() override;                           // timerfd_release: hrtimer_cancel
  TimerFd* as_timerfd() override { return this; }

  bool alarm() const { return alarm_; }
  // do_timerfd_settime once the ctx is found: stops the timer, reports the old setting in
  // `old`, arms the new one. flags: TFD_TIMER_ABSTIME, TFD_TIMER_CANCEL_ON_SET (checked by
  // the caller).
  void settime(int flags, const struct itimerspec& value, struct itimerspec* old);
  // do_timerfd_gettime: catches a periodic timer up first, so the count it owes is kept.
  void gettime(struct itimerspec* cur);
  uint64_t ticks() const { return ticks_; }

 private:
  static void tmrproc(HrTimer* t);  // timerfd_tmrproc -> timerfd_triggered
  // hrtimer_forward_now on an expired periodic timer: how many intervals it moved.
  uint64_t forward_now();
  void setup(int flags, const struct itimerspec& value);  // timerfd_setup
  Nanos remaining() const;                                 // timerfd_get_remaining

  HrTimerBase& base_;
  // ctx->t.tmr: the timer, with the way back to its ctx (container_of).
  struct CtxTimer : HrTimer {
    explicit CtxTimer(TimerFd* c) : HrTimer(&TimerFd::tmrproc), ctx(c) {}
    TimerFd* ctx;
  } tmr_{this};
  Nanos tintv_ = 0;       // the interval; 0 for a one-shot timer
  WaitQueue wqh_;
  uint64_t ticks_ = 0;    // expirations not read yet
  bool expired_ = false;  // the timer fired and has not been moved forward since
  int clockid_;
  bool alarm_;
};

}  // namespace edgecase::sim
