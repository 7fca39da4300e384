// edgecase::SimKernel — a simulated Linux kernel behind edgecase::Kernel.
//
// Deterministic and self-contained: an fd table, open file descriptions, pipes, eventfd, AF_UNIX
// stream socketpairs, TCP on loopback addresses and epoll, modelled on fs/eventpoll.c and
// friends. No call touches the live kernel. Two SimKernels in one process share nothing.
//
// Blocking: a call that would block waits on the object's wait queue through a sim::Scheduler.
// Alone, a SimKernel has only its own timers (timerfds) to wake it: a wait runs them as they
// fall due, a timed wait then jumps the virtual clock to its deadline, and an untimed one with
// no timer left throws edgecase::Deadlock naming the call and fd.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "edgecase/inspect.h"
#include "edgecase/kernel.h"

namespace edgecase {

namespace sim {
class FdTable;
class File;
class HrTimerBase;
class Net;
class Scheduler;
class WaitQueue;
enum class WaitResult : uint8_t;
}  // namespace sim

// Thrown when a blocking call can never complete. Deliberately not a std::exception, so that a
// handler's `catch (const std::exception&)` cannot swallow it.
struct Deadlock {
  std::string call;  // e.g. "read"
  int fd;
  std::string message() const;
};

struct SimOptions {
  static constexpr int kDefaultNofile = 1024;          // RLIMIT_NOFILE soft limit on Debian
  static constexpr int kDefaultNofileMax = 524'288;    // its hard limit (systemd's default)
  static constexpr int kNrOpen = 1'048'576;            // fs.nr_open: no hard limit above it
  static constexpr int kDefaultSomaxconn = 4096;       // net.core.somaxconn
  static constexpr uint64_t kDefaultMaxUserWatches = 5'491'489;  // fs.epoll.max_user_watches here

  int nofile = kDefaultNofile;
  int nofile_max = kDefaultNofileMax;
  int somaxconn = kDefaultSomaxconn;
  uint64_t max_user_watches = kDefaultMaxUserWatches;
  // EPOLLWAKEUP is kept in the stored mask only on kernels built with CONFIG_PM_SLEEP and for
  // a caller with CAP_BLOCK_SUSPEND; otherwise it is silently cleared. The machines here lack
  // CONFIG_PM_SLEEP, so even root sees it cleared: leave this false to match them.
  bool cap_block_suspend = false;
  // Open fds 0, 1 and 2 on /dev/null, so that numbering starts at 3 as in a real process.
  bool stdio = true;
  // CAP_WAKE_ALARM: timerfds on CLOCK_REALTIME_ALARM and CLOCK_BOOTTIME_ALARM (EPERM without
  // it). Off, as for an unprivileged process; sim_options_like_live asks the live kernel.
  bool cap_wake_alarm = false;
};

class SimKernel final : public Kernel, public Inspect {
 public:
  explicit SimKernel(SimOptions options = {});
  // Another host on `network`'s network: its own fd table and files, sharing the TCP port and
  // connection tables and the wire. The world's peers live on such a host. Either kernel may
  // be destroyed first.
  SimKernel(SimOptions options, SimKernel& network);
  ~SimKernel() override;

  // --- Kernel: every call of the table (kernel_calls.def), in sim/*.cc --------------------
#define EDGECASE_KERNEL_CALL(ret, name, params, args, fd) ret name params override;
#include "edgecase/kernel_calls.def"

  std::optional<uint64_t> bytes_to_read(int fd) override;
  std::optional<uint64_t> bytes_to_send(int fd) override;
  std::optional<std::vector<Interest>> interest_set(int epfd) override;
  std::optional<uint32_t> poll_mask(int fd) override;
  std::optional<uint64_t> accept_queue(int fd) override;

  // --- for the simulation's own layers (world, tests) ---------------------------------------
  const SimOptions& options() const { return options_; }
  int64_t now_ns() const { return now_ns_; }
  // Time only moves forward; timers due on the way fire, each at its own expiry.
  void set_now_ns(int64_t t);
  // The earliest armed timer's expiry (a timerfd's), or nullopt: a scheduler must not move
  // the clock past it without letting it fire first.
  std::optional<int64_t> next_timer_ns() const {
    if (next_timer_ns_ == INT64_MAX) return std::nullopt;
    return next_timer_ns_;
  }
  // Replaces what blocked calls do (nullptr restores the standalone behaviour).
  void set_scheduler(sim::Scheduler* s);
  sim::Net& net() { return *net_; }
  // prlimit(RLIMIT_NOFILE) from outside: fds already open stay; new ones fail with EMFILE
  // at or above the limit.
  void set_nofile(int limit);
  // Open fds, as /proc/self/fd would count them.
  size_t open_fd_count() const;
  // Verifies internal invariants (epoll trees, ready lists, fd table); "" when all hold.
  std::string check_invariants() const;
  // The open file behind `fd`, or nullptr (no reference taken).
  sim::File* file_at(int fd) const;

 private:
  SimKernel(SimOptions options, std::shared_ptr<sim::Net> net);
  // Puts a new file (one reference, owned by the table on success) at the lowest free fd.
  // Returns the fd, or -EMFILE after dropping the reference.
  int install(sim::File* f, bool cloexec);
  // Gives a fresh file its creation serial.
  sim::File* born(sim::File* f);
  // Waits on `wq` through the scheduler.
  sim::WaitResult block(sim::WaitQueue& wq, std::optional<int64_t> deadline_ns, const char* call, int fd);
  // Blocking read/write loops shared by read, recv, write, send, readv and writev.
  // `via_recv`: recv() reaches the protocol's recvmsg directly; read() and readv() go through
  // the file's read (which for sockets is sock_read_iter).
  ssize_t do_read(int fd, void* buf, size_t len, int msg_flags, const char* call,
                  bool via_recv = false);
  ssize_t do_write(int fd, const void* buf, size_t len, int msg_flags, const char* call);
  ssize_t loop_writev(int fd, const struct iovec* iov, int iovcnt);
  // dup2 and dup3 past their own checks (do_dup2).
  int do_dup2(int oldfd, int newfd, bool cloexec);
  int do_epoll_wait(int epfd, struct epoll_event* events, int maxevents, int timeout);

  SimOptions options_;
  int64_t now_ns_ = 0;                         // the clock, moved by timers_
  int64_t next_timer_ns_ = INT64_MAX;          // timers_' earliest expiry (INT64_MAX: none)
  std::unique_ptr<sim::HrTimerBase> timers_;  // the clock's timers; outlives fdt_
  std::unique_ptr<sim::FdTable> fdt_;
  std::shared_ptr<sim::Net> net_;
  std::unique_ptr<sim::Scheduler> standalone_;
  sim::Scheduler* sched_;
  uint64_t next_file_id_ = 1;
  uint64_t user_watches_ = 0;  // epoll items alive, against max_user_watches (ENOSPC)
  uint64_t loop_check_gen_ = 0;
  // setrlimit's other resources: remembered and reported, never enforced.
  std::array<struct rlimit, RLIM_NLIMITS> other_limits_ = initial_limits();
  static std::array<struct rlimit, RLIM_NLIMITS> initial_limits() {
    std::array<struct rlimit, RLIM_NLIMITS> l{};
    l.fill(rlimit{RLIM_INFINITY, RLIM_INFINITY});
    return l;
  }  // generation for ep_loop_check's visited marks
  friend class SimKernelAccess;
};

}  // namespace edgecase
