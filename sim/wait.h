// Wait queues and wakeups (include/linux/wait.h). Every object keeps a queue; at fixed points it
// wakes the queue with a key (a poll mask, or 0 for "everything"), and each entry's callback runs.
// epoll items are entries; so is a blocked caller while the world runs.
#pragma once

#include <cstdint>
#include <optional>

#include "sim/list.h"

namespace edgecase::sim {

struct WaitEntry {
  // Returns non-zero when the entry "woke someone"; an exclusive entry that does so ends a
  // wake-one pass (__wake_up_common's nr_exclusive).
  using Func = int (*)(WaitEntry* entry, uint32_t key);
  explicit WaitEntry(Func f) : func(f) {}
  Func func;
  bool exclusive = false;
  ListLink<WaitEntry> link;
};

class WaitQueue {
 public:
  WaitQueue() = default;
  WaitQueue(const WaitQueue&) = delete;
  WaitQueue& operator=(const WaitQueue&) = delete;

  // add_wait_queue() links at the head, so the newest entry is woken first, as on Linux;
  // add_wait_queue_exclusive() links at the tail.
  void add(WaitEntry* e) {
    if (e->exclusive) entries_.push_back(e); else entries_.push_front(e);
  }
  void remove(WaitEntry* e) { entries_.remove(e); }
  bool empty() const { return entries_.empty(); }

  // Runs the callbacks with `key` (0 matches every mask). A wake-one pass (wake_up_poll and
  // friends) stops after the first exclusive entry that woke someone; `all` (wake_up_all)
  // never stops. A callback may unlink its own entry, but must not unlink others.
  void wake(uint32_t key, bool all = false) {
    for (WaitEntry* e = entries_.front(); e;) {
      WaitEntry* next = decltype(entries_)::next(e);
      int woke = e->func(e, key);
      if (woke && e->exclusive && !all) break;
      e = next;
    }
  }

 private:
  IntrusiveList<WaitEntry, &WaitEntry::link> entries_;
};

// A blocked caller's entry: woken() marks it (default_wake_function, for one task).
struct Waiter : WaitEntry {
  Waiter() : WaitEntry(&Waiter::woken_cb) {}
  static int woken_cb(WaitEntry* e, uint32_t) {
    static_cast<Waiter*>(e)->woken = true;
    return 1;
  }
  bool woken = false;
};
// Unlinks the waiter however the wait ends (an exception unwinds through here).
struct WaitGuard {
  WaitQueue& wq;
  Waiter& w;
  ~WaitGuard() { wq.remove(&w); }
};

// Virtual time in nanoseconds since the simulated boot.
using Nanos = int64_t;

// What a blocked call does. SimKernel alone has nothing that could wake it: a timed wait jumps
// the clock to its deadline and a wait without one is a deadlock. The world (a later layer)
// replaces this to run peers and deliveries in virtual time.
enum class WaitResult : uint8_t { woken, timed_out, interrupted };

class Scheduler {
 public:
  virtual ~Scheduler() = default;
  // Runs until `wq` is woken or the clock reaches `deadline`, or a signal interrupts the wait
  // (EINTR). Throws edgecase::Deadlock when nothing can ever happen. `call` and `fd` name the
  // blocked caller for that report.
  virtual WaitResult wait(WaitQueue& wq, std::optional<Nanos> deadline, const char* call,
                          int fd) = 0;
};

}  // namespace edgecase::sim
