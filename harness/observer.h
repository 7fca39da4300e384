// The handler's calls as the oracles see them.
//
// Observer is a Kernel that forwards every call to the handler's kernel (the world's handler
// kernel, or the live kernel) and records what the oracles need: which fds the handler got
// and from where, what it registered, which writes were cut short, which fds it closed in the
// current epoll_wait batch. The oracles that judge single calls run here, as the call returns
// (ctl-error, bad-fd, use-after-close, event-for-closed-fd, busy-loop); the ones that judge
// the final state run after the run (harness/oracles.h) and read this record.
//
// Recording never changes a call's result or errno. Looking at kernel state goes through
// `quiet` and `inspect`, never through `inner`, so it costs no virtual time and writes no
// trace line: a run observed and a run not observed are the same run.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "edgecase/inspect.h"
#include "edgecase/kernel.h"
#include "edgecase/kernel_layer.h"
#include "edgecase/report.h"
#include "edgecase/strace.h"

namespace edgecase {

class Observer final : public KernelLayer {
 public:
  // Consecutive epoll_wait returns (with events, or a zero-timeout poll) after which the
  // handler moved no byte, accepted nothing, closed nothing and changed no registration:
  // beyond this the loop is spinning. Observer then throws Stop (Reason::oracle).
  static constexpr int kBusyLoopWaits = 1000;
  // fds 0-2: a process's stdio, inherited at exec. Duplicating one (fcntl F_DUPFD) obtains a
  // new fd, as the layer's open("/dev/null") does; any other call on them is bad-fd.
  static constexpr int kInheritedFds = 3;

  // inner: the kernel the handler's calls go to. quiet: the same host without call costs or
  // tracing (sim: World::server(); live: the RealKernel) for looking up peer addresses.
  // clock: the run's time for evidence (sim: virtual).
  Observer(Kernel& inner, Kernel& quiet, Inspect& inspect, std::function<Nanos()> clock);

  // --- what the record holds -------------------------------------------------------------
  struct FdState {
    enum class Kind : uint8_t { listener, connection, epoll, other };
    Kind kind = Kind::other;
    bool open = true;
    std::string origin;        // the call that made it: "accept4", "socket", "epoll_create1", ...
    uint16_t peer_port = 0;    // connection: the client's port (getpeername at accept4)
    // The last write/send/writev on it was short or failed with EAGAIN, and no complete one
    // followed: the handler holds bytes it has yet to send.
    bool output_pending = false;
    uint64_t bytes_read = 0;
    // Accepted while its listener was out of fds (shedding_: between an accept4 that failed
    // with EMFILE or ENFILE and the next one that failed otherwise).
    bool accepted_at_fd_limit = false;
    uint64_t bytes_written = 0;
    Nanos opened_at = 0;
    Nanos closed_at = 0;
    // Which open of this number it is (1, 2, ... over the run): a stale event names the number
    // and the generation it had when epoll_wait returned it.
    uint64_t generation = 0;
  };
  // By fd number: the latest file the handler held under that number.
  const std::map<int, FdState>& fds() const { return fds_; }
  // The mask the handler last gave (epfd, fd) with ADD or MOD; nullopt after DEL or never.
  // Unlike the interest set, it keeps a disarmed ONESHOT item's requested bits.
  std::optional<uint32_t> requested(int epfd, int fd) const;
  // Whether accept4 ever gave the handler a connection from this client port (the fd may be
  // closed and its number reused since).
  bool accepted_port(uint16_t port) const { return accepted_ports_.count(port) != 0; }
  // Whether a listen() of the handler's ever succeeded on a socket bound to this port (IPv4;
  // an IPv6 or AF_UNIX listener counts as port 0).
  bool listened_on(uint16_t port) const { return listened_ports_.count(port) != 0; }
  // Whether the handler shed the connection from this client port at the fd limit: accepted
  // it while out of fds and closed it before reading a byte of it (libuv's EMFILE trick,
  // src/unix/stream.c uv__emfile_trick; docs/ORACLES.md, "Shed at the fd limit").
  bool shed_port(uint16_t port) const { return shed_ports_.count(port) != 0; }
  // epoll_wait calls in a row, up to the latest, that blocked and were interrupted by a signal
  // (-1 EINTR): a handler the fault plan keeps interrupting spends its steps here, which is
  // not a spin of its own.
  uint64_t interrupted_waits() const { return interrupted_waits_; }
  // Calls that moved a byte, accepted or closed, over the whole run: with calls(), whether a
  // run the step budget ended was a handler at work or a spin. (A changed registration is
  // progress for the busy-loop window but not work: a ONESHOT re-arm spin changes it forever.)
  uint64_t productive_calls() const { return productive_calls_; }
  // What the handler's calls met so far (Report::stats), without half-closes: those need the
  // peers' side (eof_read_from).
  const RunStats& stats() const { return stats_; }
  // Whether one of the handler's reads returned end of file on a connection from this client
  // port.
  bool eof_read_from(uint16_t port) const { return eof_ports_.count(port) != 0; }
  // Called after every read/recv/readv that returned data on a connection accepted from a
  // client port: (that port, bytes the handler has read from it so far over every fd). The
  // live backend's approximation of the server's read order (ProtocolCheck::server_read).
  using ReadHook = std::function<void(uint16_t port, uint64_t total)>;
  void set_read_hook(ReadHook hook) { read_hook_ = std::move(hook); }
  // Violations found call by call, in order.
  const std::vector<Violation>& violations() const { return violations_; }
  uint64_t calls() const { return calls_; }

  // --- Kernel: the calls with a record of their own; the rest go through around() ----------
  int epoll_create1(int flags) override;
  int epoll_create(int size) override;
  int epoll_ctl(int epfd, int op, int fd, struct epoll_event* event) override;
  int epoll_wait(int epfd, struct epoll_event* events, int maxevents, int timeout) override;
  int epoll_pwait(int epfd, struct epoll_event* events, int maxevents, int timeout,
                  const sigset_t* sigmask) override;
  int socket(int domain, int type, int protocol) override;
  int listen(int sockfd, int backlog) override;
  int accept4(int sockfd, struct sockaddr* addr, socklen_t* addrlen, int flags) override;
  int connect(int sockfd, const struct sockaddr* addr, socklen_t addrlen) override;
  ssize_t recv(int sockfd, void* buf, size_t len, int flags) override;
  ssize_t send(int sockfd, const void* buf, size_t len, int flags) override;
  ssize_t recvfrom(int sockfd, void* buf, size_t len, int flags, struct sockaddr* src_addr,
                   socklen_t* addrlen) override;
  ssize_t sendto(int sockfd, const void* buf, size_t len, int flags,
                 const struct sockaddr* dest_addr, socklen_t addrlen) override;
  ssize_t recvmsg(int sockfd, struct msghdr* msg, int flags) override;
  ssize_t sendmsg(int sockfd, const struct msghdr* msg, int flags) override;
  int socketpair(int domain, int type, int protocol, int sv[2]) override;
  ssize_t read(int fd, void* buf, size_t count) override;
  ssize_t write(int fd, const void* buf, size_t count) override;
  ssize_t readv(int fd, const struct iovec* iov, int iovcnt) override;
  ssize_t writev(int fd, const struct iovec* iov, int iovcnt) override;
  int close(int fd) override;
  int dup(int oldfd) override;
  int dup2(int oldfd, int newfd) override;
  int dup3(int oldfd, int newfd, int flags) override;
  int pipe2(int pipefd[2], int flags) override;
  int eventfd(unsigned int initval, int flags) override;
  int open(const char* path, int flags) override;
  int timerfd_create(int clockid, int flags) override;
  int fcntl(int fd, int cmd, long arg = 0) override;

  // Violations of one oracle kept at most: a buggy loop repeats the same mistake thousands of
  // times, and the first few name it.
  static constexpr size_t kMaxPerOracle = 8;
  static constexpr int kLastStdioFd = 2;  // fds 0-2: the process's stdio, open from the start
  // Events of the latest epoll_wait return kept for a busy-loop report.
  static constexpr size_t kEventsShown = 4;

 private:
  // What a call's fd was before the call: the verdict is recorded after it returns.
  enum class FdCheck : uint8_t { ok, never_obtained, closed_in_batch, reused_in_batch };
  struct Registration {
    uint32_t events = 0;
    uint64_t data = 0;
    // EPOLLONESHOT, and epoll_wait returned an event for it since the last ADD or MOD: the
    // kernel disarmed the item, and a MOD with the same mask re-arms it.
    bool disarmed = false;
  };
  // An event of the current batch as the Observer resolved it at the return: the fd whose
  // live registration (in this epfd) carries the event's data, and that fd's generation.
  struct BatchEvent {
    static constexpr int kUnresolved = -1;  // no registration, or several, carry that data
    int fd = kUnresolved;
    uint64_t generation = 0;
  };
  // An item left in an interest set by close() because a dup kept the file open.
  struct Ghost {
    int epfd = -1;
    int fd = -1;
    uint32_t events = 0;
    uint64_t data = 0;
    bool reported = false;
  };

  // A call with nothing of its own to record: an fd call is judged as fd_call judges it
  // (bind, shutdown, setsockopt, ioctl, ...), any other is counted.
  long around(const CallSite& call, Forward forward) override;
  template <class Call>
  auto fd_call(const char* call, int fd, Call&& c);
  FdCheck check(int fd) const;
  std::optional<size_t> stale_event(int fd, const FdState& st) const;
  void touched(int fd, bool closing);
  bool registration_changed(int epfd, int op, int fd, const struct epoll_event* event) const;
  void resolve_batch(int epfd, const struct epoll_event* events, int n);
  void judge_fd_call(const char* call, int fd, FdCheck before, bool failed, int err);
  void ctl_failed(int epfd, int op, int fd, const struct epoll_event* event, int err);
  void opened(int fd, FdState::Kind kind, const char* origin, uint16_t peer_port = 0);
  void closed(int fd);
  void duplicated(int oldfd, int newfd, const char* origin);
  void find_ghosts(int fd);
  void wrote(int fd, ssize_t r, size_t len, int err);
  void read_done(int fd, ssize_t r, size_t asked, bool peek = false);
  // A write-like call returned: wrote() with errno kept.
  template <class R>
  R sent(int fd, R r, size_t len);
  // dup2 and dup3 past the call: newfd's old file (if the handler's) is closed, newfd is oldfd's.
  int redirected(int oldfd, int newfd, bool replaces, int r, const char* origin);
  void count_failure(const char* call, int err);
  void wait_begins(int epfd);
  void wait_returned(int epfd, const struct epoll_event* events, int r, int timeout, int err);
  void check_ghosts(int epfd, const struct epoll_event* events, int n);
  [[noreturn]] void busy_loop(int epfd);
  void made_progress() {
    progress_ = true;
    ++productive_calls_;
  }
  uint16_t peer_port_of(int fd);
  uint16_t local_port_of(int fd);
  void violation(std::string_view oracle, Evidence e);

  Kernel& inner_;
  Kernel& quiet_;
  Inspect& inspect_;
  std::function<Nanos()> clock_;
  std::map<int, FdState> fds_;
  std::vector<Violation> violations_;
  uint64_t calls_ = 0;

  // Keyed (fd, epfd), so that a close finds the fd's registrations as one range.
  std::map<std::pair<int, int>, Registration> requested_;
  std::vector<Ghost> ghosts_;
  std::set<uint16_t> accepted_ports_;
  std::set<uint16_t> listened_ports_;
  std::set<uint16_t> shed_ports_;
  // Listeners whose latest failed accept4 (EINTR and ECONNABORTED aside, which the handler
  // retries) failed with EMFILE or ENFILE: what they accept now is accepted at the fd limit.
  std::set<int> shedding_;
  RunStats stats_;
  std::set<uint16_t> eof_ports_;
  std::map<uint16_t, uint64_t> read_from_port_;  // only with a read hook
  ReadHook read_hook_;
  bool dup_made_ = false;  // without a dup no close can leave a registration behind
  std::map<std::string, size_t, std::less<>> per_oracle_;

  // The batch: from an epoll_wait return to the next epoll_wait call.
  bool in_batch_ = false;
  std::set<int> closed_in_batch_;
  // The batch's events, resolved at the return (see docs/ORACLES.md, use-after-close). The
  // handler is taken to be past event e once it names e's fd, still the same file, in a call
  // other than close: `passed_` is one past the highest such e.
  std::vector<BatchEvent> batch_;
  std::vector<std::pair<uint64_t, size_t>> by_data_;  // scratch: (data, index), sorted
  size_t passed_ = 0;
  // The number most recently opened in this batch, until the handler names another fd that is
  // not an epoll fd: its set-up calls (fcntl, setsockopt, ADD, an eager read) are its own.
  int opening_fd_ = -1;
  uint64_t generations_ = 0;

  // Busy loop: the latest wait counts (events, or a zero-timeout poll), whether anything
  // moved since, and how many counted waits in a row saw nothing move.
  bool wait_counts_ = false;
  bool progress_ = false;
  int idle_waits_ = 0;
  uint64_t interrupted_waits_ = 0;
  uint64_t productive_calls_ = 0;
  int last_wait_n_ = 0;
  int last_wait_timeout_ = 0;
  struct epoll_event last_events_[kEventsShown] = {};
  std::string last_error_;  // the latest failure in the streak, e.g. "accept4(4): EMFILE"
  // Evidence shows epoll data as the trace does: pointers by name, numbered by first appearance
  // at the same points as the trace's (each ctl's event, then each returned event), so with a
  // trace underneath, "ptr#1" in evidence is the trace's ptr#1.
  DataNames data_names_;
};

}  // namespace edgecase
