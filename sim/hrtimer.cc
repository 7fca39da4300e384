#include "sim/hrtimer.h"

#include <cassert>

namespace edgecase::sim {

// hrtimer_forward with a resolution of 1 ns (hrtimer_resolution with high-resolution timers).
uint64_t hrtimer_forward(Nanos& expires, Nanos now, Nanos interval) {
  const Nanos delta = now - expires;
  if (delta < 0) return 0;
  if (interval < 1) interval = 1;
  uint64_t orun = 1;
  if (delta >= interval) {
    orun = static_cast<uint64_t>(delta / interval);
    expires = ktime_add_safe(expires, interval * static_cast<Nanos>(orun));
    if (expires > now) return orun;
    ++orun;  // the correction for exact multiples
  }
  expires = ktime_add_safe(expires, interval);
  return orun;
}

void HrTimerBase::advance(Nanos t) {
  if (t <= now_) return;
  run_due(t);
  now_ = t;
}

void HrTimerBase::start(HrTimer* t, Nanos expires) {
  cancel(t);
  t->expires = expires;
  t->seq = next_seq_++;
  t->queued = true;
  const bool inserted = queue_.insert(t);
  assert(inserted);
  (void)inserted;
  update_next();
  if (expires <= now_) run_due(now_);
}

void HrTimerBase::cancel(HrTimer* t) {
  if (!t->queued) return;
  queue_.erase(t);
  t->queued = false;
  update_next();
}

void HrTimerBase::update_next() {
  const HrTimer* first = queue_.first();
  next_ = first ? first->expires : kNoExpiry;
}

std::optional<Nanos> HrTimerBase::next_expiry() const {
  const HrTimer* first = queue_.first();
  if (first == nullptr) return std::nullopt;
  return first->expires;
}

void HrTimerBase::run_due(Nanos t) {
  for (HrTimer* first = queue_.first(); first != nullptr && first->expires <= t;
       first = queue_.first()) {
    // __run_hrtimer: dequeue, then call; the callback may re-arm any timer, itself included.
    queue_.erase(first);
    first->queued = false;
    update_next();
    if (first->expires > now_) now_ = first->expires;
    first->function(first);
  }
}

}  // namespace edgecase::sim
