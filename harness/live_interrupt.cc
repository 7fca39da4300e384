#include "harness/live_interrupt.h"

#include <cassert>
#include <cerrno>
#include <mutex>
#include <pthread.h>
#include <system_error>
#include <unistd.h>

#include "real/errno_guard.h"

namespace edgecase {

namespace {

// Does nothing: its only job is to exist, so that the signal interrupts the wait instead of
// being ignored (SIG_DFL for SIGURG) or ending the process.
extern "C" void on_interrupt(int) {}

// The process-wide disposition, shared by every InterruptTimer alive: the only global state of
// the live runs, because sigaction has no per-thread form.
struct Disposition {
  std::mutex mu;
  int users = 0;
  struct sigaction saved {};
};

Disposition& disposition() {
  static Disposition d;
  return d;
}

void acquire_disposition() {
  Disposition& d = disposition();
  const std::lock_guard lock(d.mu);
  if (d.users++ > 0) return;
  struct sigaction sa {};
  sa.sa_handler = on_interrupt;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;  // no SA_RESTART: the interrupted call fails with EINTR
  ::sigaction(InterruptTimer::signal_number(), &sa, &d.saved);
}

void release_disposition() {
  Disposition& d = disposition();
  const std::lock_guard lock(d.mu);
  assert(d.users > 0);
  if (--d.users > 0) return;
  ::sigaction(InterruptTimer::signal_number(), &d.saved, nullptr);
}

// Consumes the signal if it is pending for this thread (it is blocked here). True if it was.
bool consume_pending() {
  sigset_t s;
  sigemptyset(&s);
  sigaddset(&s, InterruptTimer::signal_number());
  const timespec now{0, 0};
  return ::sigtimedwait(&s, nullptr, &now) == InterruptTimer::signal_number();
}

}  // namespace

InterruptTimer::InterruptTimer() {
  const ErrnoGuard g;
  acquire_disposition();
  sigset_t block;
  sigemptyset(&block);
  sigaddset(&block, signal_number());
  ::pthread_sigmask(SIG_BLOCK, &block, &old_mask_);
  sigevent ev{};
  ev.sigev_notify = SIGEV_THREAD_ID;
  ev.sigev_signo = signal_number();
#ifdef sigev_notify_thread_id
  ev.sigev_notify_thread_id = ::gettid();
#else
  ev._sigev_un._tid = ::gettid();
#endif
  if (::timer_create(CLOCK_MONOTONIC, &ev, &timer_) != 0) {
    const int e = errno;
    ::pthread_sigmask(SIG_SETMASK, &old_mask_, nullptr);
    release_disposition();
    throw std::system_error(e, std::generic_category(), "timer_create");
  }
}

InterruptTimer::~InterruptTimer() {
  const ErrnoGuard g;
  disarm();
  ::timer_delete(timer_);
  consume_pending();
  ::pthread_sigmask(SIG_SETMASK, &old_mask_, nullptr);
  release_disposition();
}

void InterruptTimer::arm(Nanos delay) {
  const ErrnoGuard g;
  if (delay < 1) delay = 1;  // an all-zero it_value would disarm instead
  itimerspec its{};
  its.it_value.tv_sec = static_cast<time_t>(delay / 1'000'000'000);
  its.it_value.tv_nsec = static_cast<long>(delay % 1'000'000'000);
  ::timer_settime(timer_, 0, &its, nullptr);
  armed_ = true;
}

bool InterruptTimer::disarm() {
  if (!armed_) return false;
  const ErrnoGuard g;
  itimerspec old{};
  const itimerspec zero{};
  ::timer_settime(timer_, 0, &zero, &old);
  armed_ = false;
  const bool expired = old.it_value.tv_sec == 0 && old.it_value.tv_nsec == 0;
  const bool consumed = consume_pending();
  return expired || consumed;
}

sigset_t InterruptTimer::wait_mask(const sigset_t* base) const {
  sigset_t m;
  if (base != nullptr)
    m = *base;
  else
    ::pthread_sigmask(SIG_SETMASK, nullptr, &m);
  sigdelset(&m, signal_number());
  return m;
}

}  // namespace edgecase
