// The eintr fault on live sockets: a signal that interrupts the handler's real epoll_wait.
//
// Linux gives a test one way to make a real epoll_wait fail with EINTR: a signal with a
// handler arrives while the thread sleeps in it (ep_poll returns -EINTR when
// signal_pending(); epoll_wait is never restarted, and the handler is installed without
// SA_RESTART anyway). InterruptTimer is a POSIX timer aimed at one thread (SIGEV_THREAD_ID),
// armed for one wait at a time. The signal stays blocked in that thread except inside the
// real wait (the wait's own sigmask unblocks it, as ppoll/epoll_pwait are meant to be used),
// so it interrupts nothing else: not the peers' calls, not the kit's polls, not the handler's
// code between calls. A signal generated but not delivered before the wait ends is consumed
// at disarm (sigtimedwait), so it never interrupts a later wait the fault did not choose.
//
// Process state touched: the signal's disposition (sigaction) is process-wide. It is installed
// by the first InterruptTimer alive and restored by the last (a count under a mutex, so two
// runs in two threads share it); every other effect (the timer, the blocked signal) belongs to
// the thread that made the timer and is undone by the destructor.
#pragma once

#include <csignal>
#include <ctime>

#include "edgecase/scenario.h"

namespace edgecase {

class InterruptTimer {
 public:
  // SIGURG: ignored by default, so a stray one (after the disposition is restored) can end
  // nothing; and no socket here asks for it (no F_SETOWN).
  static int signal_number() { return SIGURG; }

  // In the thread whose waits it will interrupt. Throws std::system_error if the timer cannot
  // be made.
  InterruptTimer();
  ~InterruptTimer();
  InterruptTimer(const InterruptTimer&) = delete;
  InterruptTimer& operator=(const InterruptTimer&) = delete;

  // The signal is sent `delay` from now (at least 1 ns).
  void arm(Nanos delay);
  // No signal will come; one already sent and not delivered is consumed. Returns whether the
  // timer had fired (the signal was delivered, or consumed here).
  bool disarm();
  bool armed() const { return armed_; }
  // The mask for a real wait that the signal may interrupt: `base` (the caller's wait mask,
  // or the thread's when null) without the signal.
  sigset_t wait_mask(const sigset_t* base) const;

 private:
  timer_t timer_{};
  sigset_t old_mask_{};
  bool armed_ = false;
};

}  // namespace edgecase
