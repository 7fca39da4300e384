// A host's clock and its high-resolution timers (kernel/time/hrtimer.c, timekeeping.c).
//
// One monotonic clock in virtual nanoseconds and one queue of armed timers ordered by expiry,
// as hrtimer_clock_base keeps them (a timerqueue: an rbtree with the earliest first). The
// clock moves only forward and only when told (advance); on its way it runs every timer that
// falls due, earliest first, each with the clock set to its own expiry, as hrtimer_interrupt
// does when the clock event device fires. Timers never restart themselves (timerfd's
// callback returns HRTIMER_NORESTART; its owner re-arms on read), so running the due timers
// always ends.
//
// CLOCK_REALTIME is the monotonic clock plus a fixed offset (no clock_settime, no NTP steps),
// so one queue serves every clock: a realtime expiry is converted once, when it is armed.
#pragma once

#include <cstdint>
#include <optional>

#include "sim/rbtree.h"
#include "sim/wait.h"

namespace edgecase::sim {

inline constexpr Nanos kNanosPerSecond = 1'000'000'000;
// CLOCK_REALTIME at boot (monotonic 0): a fixed date, so that traces never show the host's time.
inline constexpr int64_t kRealtimeEpochSeconds = 1'700'000'000;
inline constexpr Nanos kRealtimeOffset = kRealtimeEpochSeconds * kNanosPerSecond;
// KTIME_MAX: ktime arithmetic saturates here (ktime_add_safe, timespec64_to_ktime).
inline constexpr Nanos kKtimeMax = INT64_MAX;

// struct hrtimer. `function` runs when the timer expires; the timer is no longer queued then.
struct HrTimer {
  using Func = void (*)(HrTimer* timer);
  explicit HrTimer(Func f) : function(f) {}
  HrTimer(const HrTimer&) = delete;
  HrTimer& operator=(const HrTimer&) = delete;

  Func function;
  Nanos expires = 0;     // on the monotonic clock; kept after expiry (hrtimer_get_expires)
  uint64_t seq = 0;      // arming order: timers due at one instant run in the order armed
  bool queued = false;   // HRTIMER_STATE_ENQUEUED
  RbNode node;
};

struct HrTimerLess {
  bool operator()(const HrTimer& a, const HrTimer& b) const {
    return a.expires != b.expires ? a.expires < b.expires : a.seq < b.seq;
  }
};

// hrtimer_forward: moves `expires` forward by whole intervals until it is past `now`; returns
// how many intervals it moved (0 if it was already in the future). An expiry exactly at `now`
// counts as passed, as the kernel's correction for exact multiples does.
uint64_t hrtimer_forward(Nanos& expires, Nanos now, Nanos interval);

// a + b, saturating at KTIME_MAX (ktime_add_safe), for b >= 0.
inline Nanos ktime_add_safe(Nanos a, Nanos b) { return a > kKtimeMax - b ? kKtimeMax : a + b; }

class HrTimerBase {
 public:
  // `clock` is the host's clock and `next` the earliest expiry (kNoExpiry when none), both
  // kept by their owner where the world reads them at every call without a function call
  // (SimKernel, inline); the base keeps them up to date.
  HrTimerBase(Nanos* clock, Nanos* next) : now_(*clock), next_(*next) { next_ = kNoExpiry; }
  static constexpr Nanos kNoExpiry = kKtimeMax;
  HrTimerBase(const HrTimerBase&) = delete;
  HrTimerBase& operator=(const HrTimerBase&) = delete;

  // ktime_get: the monotonic clock.
  Nanos now() const { return now_; }
  // Moves the clock to `t` (never backwards), running each timer due by then, earliest first.
  void advance(Nanos t);
  // hrtimer_start(HRTIMER_MODE_ABS): (re)arms `t` to expire at `expires`. An expiry that has
  // already passed runs the timer at once: Linux programs the clock event device for its
  // minimum delta (about a microsecond) and the timer fires then; in virtual time that is now.
  void start(HrTimer* t, Nanos expires);
  // hrtimer_try_to_cancel: dequeues `t` if it is queued (its expiry stays as it was).
  void cancel(HrTimer* t);
  // The earliest queued expiry, or nullopt when no timer is armed.
  std::optional<Nanos> next_expiry() const;
  // Timers armed; for invariant checks.
  size_t armed() const { return queue_.size(); }

 private:
  // __hrtimer_run_queues: runs the timers due by `t`.
  void run_due(Nanos t);
  void update_next();  // after any change to the queue


  Nanos& now_;
  Nanos& next_;
  uint64_t next_seq_ = 0;
  RbTree<HrTimer, &HrTimer::node, HrTimerLess> queue_;
};

}  // namespace edgecase::sim
