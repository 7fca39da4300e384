// The process calls of posix/wrap.list: clocks, open, syscall(SYS_close), signals (SIGPIPE
// tracked), exit/_exit/abort, pthread_atfork, pthread_create. Real calls when no session is current.
#include <assert.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <pthread.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <cstdarg>
#include <cstdlib>
#include <cstring>

#include "posix/layer.h"
#include "world/world.h"

using edgecase::Stop;
using edgecase::posix::OpenPolicy;
using edgecase::posix::Session;
using edgecase::posix::current;
using namespace edgecase::posix::detail;

EDGECASE_WRAP int __wrap_close(int fd);  // wrap_fd.cc

namespace {

constexpr long kNanosPerMicro = 1000;

// The clocks the model has: CLOCK_REALTIME and CLOCK_MONOTONIC, both the virtual clock. The
// coarse, raw and boot-time variants read the same clock (they differ from it on Linux only by
// resolution, NTP slewing and suspend); CPU-time clocks cannot be honoured.
clockid_t model_clock(const char* call, clockid_t id) {
  switch (id) {
    case CLOCK_REALTIME:
    case CLOCK_REALTIME_COARSE: return CLOCK_REALTIME;
    case CLOCK_MONOTONIC:
    case CLOCK_MONOTONIC_COARSE:
    case CLOCK_MONOTONIC_RAW:
    case CLOCK_BOOTTIME: return CLOCK_MONOTONIC;
    default:
      unsupported(call, -1, fmt::format("{}, tp", id), "clock not modelled");
  }
}

// open's policy (include/edgecase/posix.h, OpenPolicy): the Kernel's open ("/dev/null", and
// "/" read-only, where libuv keeps its spare fd for the EMFILE trick, src/unix/stream.c
// uv__emfile_trick; any other path ENOENT: kernel_calls.def), or ENOENT for every path.
// Through the Kernel on both backends, so that the fd is the run's: counted against the
// fd-limit fault, owned by the live runner, seen by the Observer, traced.
int open_routed(Session& s, const char* path, int flags) {
  if (s.options().open == OpenPolicy::refuse) {
    errno = ENOENT;
    return -1;
  }
  return s.kernel().open(path, flags);
}

int mode_open(int flags, va_list ap) {
  return (flags & (O_CREAT | O_TMPFILE)) ? va_arg(ap, int) : 0;
}

}  // namespace

// --- clocks -----------------------------------------------------------------------------------

EDGECASE_WRAP int __wrap_clock_gettime(clockid_t id, struct timespec* tp) {
  Session* s = current();
  if (s == nullptr) return ::clock_gettime(id, tp);
  return s->kernel().clock_gettime(model_clock("clock_gettime", id), tp);
}

// The resolution of the clock clock_gettime reads for `id` (the model's: 1 ns), so that the two
// agree; CPU-time clocks cannot be honoured, as for clock_gettime.
EDGECASE_WRAP int __wrap_clock_getres(clockid_t id, struct timespec* res) {
  Session* s = current();
  if (s == nullptr) return ::clock_getres(id, res);
  return s->kernel().clock_getres(model_clock("clock_getres", id), res);
}

// --- sleeps: the Kernel's nanosleep (the virtual clock in the simulation) ---------------------

EDGECASE_WRAP int __wrap_nanosleep(const struct timespec* req, struct timespec* rem) {
  Session* s = current();
  return s == nullptr ? ::nanosleep(req, rem) : s->kernel().nanosleep(req, rem);
}

// glibc's sleep (sysdeps/posix/sleep.c): one nanosleep; interrupted, the whole seconds left;
// errno kept on success.
EDGECASE_WRAP unsigned int __wrap_sleep(unsigned int seconds) {
  Session* s = current();
  if (s == nullptr) return ::sleep(seconds);
  const int saved = errno;
  struct timespec ts {static_cast<time_t>(seconds), 0};
  if (s->kernel().nanosleep(&ts, &ts) < 0) return static_cast<unsigned int>(ts.tv_sec);
  errno = saved;
  return 0;
}

// glibc's usleep (sysdeps/unix/sysv/linux/usleep.c): nanosleep without a remainder.
EDGECASE_WRAP int __wrap_usleep(useconds_t usec) {
  Session* s = current();
  if (s == nullptr) return ::usleep(usec);
  constexpr useconds_t kMicrosPerSecond = 1'000'000;
  const struct timespec ts {static_cast<time_t>(usec / kMicrosPerSecond),
                            static_cast<long>(usec % kMicrosPerSecond) * kNanosPerMicro};
  return s->kernel().nanosleep(&ts, nullptr);
}

EDGECASE_WRAP int __wrap_gettimeofday(struct timeval* tv, void* tz) {
  Session* s = current();
  if (s == nullptr) return ::gettimeofday(tv, static_cast<struct timezone*>(tz));
  struct timespec ts {};
  if (s->kernel().clock_gettime(CLOCK_REALTIME, &ts) != 0) return -1;
  if (tv != nullptr) {
    tv->tv_sec = ts.tv_sec;
    tv->tv_usec = ts.tv_nsec / kNanosPerMicro;
  }
  if (tz != nullptr) std::memset(tz, 0, sizeof(struct timezone));  // UTC, no DST
  return 0;
}

EDGECASE_WRAP time_t __wrap_time(time_t* t) {
  Session* s = current();
  if (s == nullptr) return ::time(t);
  struct timespec ts {};
  if (s->kernel().clock_gettime(CLOCK_REALTIME, &ts) != 0) return -1;
  if (t != nullptr) *t = ts.tv_sec;
  return ts.tv_sec;
}

// --- resource limits: every resource the Kernel's ------------------------------------------
// The simulation enforces RLIMIT_NOFILE and remembers the others (reported back, not enforced);
// live, the Kernel's call is the process's (live fds are the process's too). glibc's *64 names
// are what -D_FILE_OFFSET_BITS=64 code calls; on x86-64 struct rlimit64 is struct rlimit.
static_assert(sizeof(struct rlimit64) == sizeof(struct rlimit));

EDGECASE_WRAP int __wrap_getrlimit(int resource, struct rlimit* rlim) {
  Session* s = current();
  return s == nullptr ? ::getrlimit(static_cast<__rlimit_resource_t>(resource), rlim)
                      : s->kernel().getrlimit(resource, rlim);
}

EDGECASE_WRAP int __wrap_setrlimit(int resource, const struct rlimit* rlim) {
  Session* s = current();
  return s == nullptr ? ::setrlimit(static_cast<__rlimit_resource_t>(resource), rlim)
                      : s->kernel().setrlimit(resource, rlim);
}

EDGECASE_WRAP int __wrap_getrlimit64(int resource, struct rlimit64* rlim) {
  return __wrap_getrlimit(resource, reinterpret_cast<struct rlimit*>(rlim));
}

EDGECASE_WRAP int __wrap_setrlimit64(int resource, const struct rlimit64* rlim) {
  return __wrap_setrlimit(resource, reinterpret_cast<const struct rlimit*>(rlim));
}

// prlimit on the calling process (pid 0) as do_prlimit does it: the old limit is read, the new
// one set, and the old one written only when that succeeded. Another process cannot be
// honoured: the simulation has one.
EDGECASE_WRAP int __wrap_prlimit(pid_t pid, int resource, const struct rlimit* new_limit,
                                 struct rlimit* old_limit) {
  Session* s = current();
  if (s == nullptr)
    return ::prlimit(pid, static_cast<enum __rlimit_resource>(resource), new_limit, old_limit);
  if (pid != 0)
    unsupported("prlimit", -1, fmt::format("{}, {}, new, old", pid, resource),
                "only the calling process (pid 0) is modelled");
  struct rlimit old {};
  if (old_limit != nullptr && s->kernel().getrlimit(resource, &old) != 0) return -1;
  if (new_limit != nullptr && s->kernel().setrlimit(resource, new_limit) != 0) return -1;
  if (old_limit != nullptr) *old_limit = old;
  return 0;
}

EDGECASE_WRAP int __wrap_prlimit64(pid_t pid, int resource, const struct rlimit64* new_limit,
                                   struct rlimit64* old_limit) {
  return __wrap_prlimit(pid, resource, reinterpret_cast<const struct rlimit*>(new_limit),
                        reinterpret_cast<struct rlimit*>(old_limit));
}

// --- open -------------------------------------------------------------------------------------

EDGECASE_WRAP int __wrap_open(const char* path, int flags, ...) {
  va_list ap;
  va_start(ap, flags);
  const int mode = mode_open(flags, ap);
  va_end(ap);
  Session* s = current();
  return s == nullptr ? ::open(path, flags, mode) : open_routed(*s, path, flags);
}

EDGECASE_WRAP int __wrap_open64(const char* path, int flags, ...) {
  va_list ap;
  va_start(ap, flags);
  const int mode = mode_open(flags, ap);
  va_end(ap);
  Session* s = current();
  return s == nullptr ? ::open64(path, flags, mode) : open_routed(*s, path, flags);
}

// _FORTIFY_SOURCE's open without a mode (libuv opens /dev/null this way).
EDGECASE_WRAP int __wrap___open64_2(const char* path, int flags) {
  Session* s = current();
  return s == nullptr ? ::open64(path, flags) : open_routed(*s, path, flags);
}

EDGECASE_WRAP int __wrap___open_2(const char* path, int flags) {
  Session* s = current();
  return s == nullptr ? ::open(path, flags) : open_routed(*s, path, flags);
}

// openat: the same policy whatever dirfd (the empty filesystem has no directory either).
EDGECASE_WRAP int __wrap_openat(int dirfd, const char* path, int flags, ...) {
  va_list ap;
  va_start(ap, flags);
  const int mode = mode_open(flags, ap);
  va_end(ap);
  Session* s = current();
  return s == nullptr ? ::openat(dirfd, path, flags, mode) : open_routed(*s, path, flags);
}

// fopen: no stream can sit on a model fd, so every path fails with ENOENT while a session is
// current, /dev/null included.
EDGECASE_WRAP FILE* __wrap_fopen(const char* path, const char* mode) {
  if (current() == nullptr) return ::fopen(path, mode);
  errno = ENOENT;
  return nullptr;
}

// --- syscall ----------------------------------------------------------------------------------

// syscall(2) with six register-sized arguments, as glibc's passes them. SYS_close is libuv's
// close (uv__close_nocheckstdio); any other number cannot be honoured while a session is current.
// Reading all six whatever the number takes the sixth from the caller's stack, as glibc's own
// syscall (assembly) does: AddressSanitizer would call that an underflow, so it is not
// instrumented here.
EDGECASE_WRAP __attribute__((no_sanitize("address"))) long __wrap_syscall(long number, ...) {
  constexpr int kArgs = 6;
  long a[kArgs];
  va_list ap;
  va_start(ap, number);
  for (long& x : a) x = va_arg(ap, long);
  va_end(ap);
  if (current() == nullptr) return ::syscall(number, a[0], a[1], a[2], a[3], a[4], a[5]);
  if (number == SYS_close) return __wrap_close(static_cast<int>(a[0]));
  unsupported("syscall", -1, fmt::format("{}, ...", number), "system call number not modelled");
}

// --- signals: SIGPIPE tracked, the others passed through --------------------------------------

EDGECASE_WRAP sighandler_t __wrap_signal(int sig, sighandler_t handler) {
  Session* s = current();
  if (s == nullptr || sig != SIGPIPE) return ::signal(sig, handler);
  struct sigaction& a = s->sigpipe_action();
  const sighandler_t old = (a.sa_flags & SA_SIGINFO) ? SIG_DFL : a.sa_handler;
  a = {};
  a.sa_handler = handler;
  return old;
}

EDGECASE_WRAP int __wrap_sigaction(int sig, const struct sigaction* act, struct sigaction* old) {
  Session* s = current();
  if (s == nullptr || sig != SIGPIPE) return ::sigaction(sig, act, old);
  if (old != nullptr) *old = s->sigpipe_action();
  if (act != nullptr) s->sigpipe_action() = *act;
  return 0;
}

namespace {

// sigprocmask's SIGPIPE bit kept in the session; the rest of the mask is the real call's.
int mask_routed(Session& s, int how, const sigset_t* set, sigset_t* old,
                int (*real)(int, const sigset_t*, sigset_t*)) {
  const bool was_blocked = s.sigpipe_blocked();
  sigset_t rest;
  if (set != nullptr) {
    rest = *set;
    const bool pipe = sigismember(set, SIGPIPE) == 1;
    sigdelset(&rest, SIGPIPE);
    if (how == SIG_BLOCK && pipe) s.sigpipe_blocked() = true;
    if (how == SIG_UNBLOCK && pipe) s.sigpipe_blocked() = false;
    if (how == SIG_SETMASK) s.sigpipe_blocked() = pipe;
  }
  const int r = real(how, set != nullptr ? &rest : nullptr, old);
  if (r != 0) {
    s.sigpipe_blocked() = was_blocked;
    return r;
  }
  if (old != nullptr) {
    if (was_blocked) sigaddset(old, SIGPIPE);
    else sigdelset(old, SIGPIPE);
  }
  return 0;
}

int real_pthread_sigmask(int how, const sigset_t* set, sigset_t* old) {
  const int e = ::pthread_sigmask(how, set, old);
  if (e == 0) return 0;
  errno = e;
  return -1;
}

}  // namespace

EDGECASE_WRAP int __wrap_sigprocmask(int how, const sigset_t* set, sigset_t* old) {
  Session* s = current();
  if (s == nullptr) return ::sigprocmask(how, set, old);
  return mask_routed(*s, how, set, old, ::sigprocmask);
}

EDGECASE_WRAP int __wrap_pthread_sigmask(int how, const sigset_t* set, sigset_t* old) {
  Session* s = current();
  if (s == nullptr) return ::pthread_sigmask(how, set, old);
  return mask_routed(*s, how, set, old, real_pthread_sigmask) == 0 ? 0 : errno;
}

// --- exits and threads ------------------------------------------------------------------------

// exit() from the handler ends the run as its return would (handler-exited when a peer still
// waits); the process lives on for the next case, so atexit handlers do not run.
EDGECASE_WRAP void __wrap_exit(int status) {
  if (current() == nullptr) ::exit(status);
  throw Stop{Stop::Reason::exited, "exit", -1, 0, fmt::format("the handler called exit({})", status)};
}

EDGECASE_WRAP void __wrap__exit(int status) {
  if (current() == nullptr) ::_exit(status);
  throw Stop{Stop::Reason::exited, "_exit", -1, 0, fmt::format("the handler called _exit({})", status)};
}

EDGECASE_WRAP void __wrap_abort() {
  if (current() == nullptr) ::abort();
  throw Stop{Stop::Reason::crashed, "abort", -1, 0,
             "the handler called abort(): SIGABRT kills the process"};
}

// assert()'s failure, which calls the real abort() from inside libc.
EDGECASE_WRAP void __wrap___assert_fail(const char* expr, const char* file, unsigned int line,
                                        const char* function) {
  if (current() == nullptr) ::__assert_fail(expr, file, line, function);
  throw Stop{Stop::Reason::crashed, "abort", -1, 0,
             fmt::format("the handler's assertion failed: {}:{}: {}: {}; abort() kills the process",
                         file, line, function, expr)};
}

// pthread_atfork (libuv's signal.c registers its signal pipe's re-creation for the child): a
// handler in the model never forks, and the forks the process makes are the kit's own (the
// isolated runner's workers), which must not run the handler's callbacks: its child callback
// would close, with real close(), the numbers of model fds in the kit's new child. Accepted
// and not registered; the real call without a session.
EDGECASE_WRAP int __wrap_pthread_atfork(void (*prepare)(), void (*parent)(), void (*child)()) {
  if (current() == nullptr) return ::pthread_atfork(prepare, parent, child);
  return 0;
}

EDGECASE_WRAP int __wrap_pthread_create(pthread_t* thread, const pthread_attr_t* attr,
                                        void* (*start)(void*), void* arg) {
  if (current() == nullptr) return ::pthread_create(thread, attr, start, arg);
  unsupported("pthread_create", -1, "thread, attr, start, arg",
              "threads are not supported yet: a handler runs single-threaded");
}
