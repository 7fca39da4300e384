#include "harness/observer.h"

#include <algorithm>
#include <arpa/inet.h>
#include <cerrno>
#include <fcntl.h>
#include <fmt/format.h>
#include <limits>
#include <optional>
#include <string_view>
#include <netinet/in.h>
#include <utility>

#include "edgecase/strace.h"
#include "real/errno_guard.h"
#include "world/world.h"

namespace edgecase {

namespace {

const char* ctl_op_name(int op) {
  switch (op) {
    case EPOLL_CTL_ADD: return "EPOLL_CTL_ADD";
    case EPOLL_CTL_MOD: return "EPOLL_CTL_MOD";
    case EPOLL_CTL_DEL: return "EPOLL_CTL_DEL";
    default: return "EPOLL_CTL_?";
  }
}

// Failures that say nothing about a loop spinning: retry-later answers.
bool routine_errno(int err) { return err == EAGAIN || err == EWOULDBLOCK || err == EINTR; }


}  // namespace

Observer::Observer(Kernel& inner, Kernel& quiet, Inspect& inspect, std::function<Nanos()> clock)
    : KernelLayer(inner), inner_(inner), quiet_(quiet), inspect_(inspect), clock_(std::move(clock)) {}

std::optional<uint32_t> Observer::requested(int epfd, int fd) const {
  auto it = requested_.find({fd, epfd});
  if (it == requested_.end()) return std::nullopt;
  return it->second.events;
}

// --- recording --------------------------------------------------------------------------------

void Observer::violation(std::string_view oracle, Evidence e) {
  auto it = per_oracle_.find(oracle);
  if (it == per_oracle_.end()) it = per_oracle_.emplace(std::string(oracle), 0).first;
  if (it->second >= kMaxPerOracle) return;
  ++it->second;
  violations_.push_back(Violation{std::string(oracle), std::move(e)});
}

Observer::FdCheck Observer::check(int fd) const {
  if (in_batch_ && closed_in_batch_.count(fd) != 0) return FdCheck::closed_in_batch;
  const auto it = fds_.find(fd);
  if (it == fds_.end()) return FdCheck::never_obtained;
  if (in_batch_ && stale_event(fd, it->second)) return FdCheck::reused_in_batch;
  return FdCheck::ok;
}

// The event of this batch, not yet passed, that epoll_wait returned for an earlier file under
// the number `fd` (closed since and reopened, in this batch): a call on fd now acts on it for
// the new file. Not while fd is still being opened (its set-up calls are its own).
std::optional<size_t> Observer::stale_event(int fd, const FdState& st) const {
  if (fd == opening_fd_ || !st.open) return std::nullopt;
  for (size_t e = passed_; e < batch_.size(); ++e)
    if (batch_[e].fd == fd && batch_[e].generation != st.generation) return e;
  return std::nullopt;
}

// A call names `fd`: the opening window of another number ends, and naming an event's fd (the
// same file as at the return) means the handler got to that event. Ending the file does not
// (close, shutdown, EPOLL_CTL_DEL): the handler of event i evicting j has not handled j's event.
void Observer::touched(int fd, bool closing) {
  if (!in_batch_) return;
  const auto it = fds_.find(fd);
  const bool epoll = it != fds_.end() && it->second.kind == FdState::Kind::epoll;
  if (fd != opening_fd_ && !epoll) opening_fd_ = -1;
  if (closing || it == fds_.end() || !it->second.open) return;
  for (size_t e = passed_; e < batch_.size(); ++e)
    if (batch_[e].fd == fd && batch_[e].generation == it->second.generation) passed_ = e + 1;
}

void Observer::judge_fd_call(const char* call, int fd, FdCheck before, bool failed, int err) {
  if (failed && !routine_errno(err))
    last_error_ = fmt::format("{}({}): {}", call, fd, errno_name(err));
  if (before == FdCheck::closed_in_batch) {
    const ErrnoGuard g;
    Evidence e;
    e.fd = fd;
    e.at = clock_();
    e.detail = fmt::format("{}({}) after the handler closed fd {} earlier in the same epoll_wait "
                           "batch{}",
                           call, fd, fd, failed ? " (" + errno_name(err) + ")" : "");
    violation(oracle::kUseAfterClose, std::move(e));
    return;
  }
  if (before == FdCheck::reused_in_batch) {
    const ErrnoGuard g;
    // The stale event is acted on now: one report per event, not per call of its handling.
    const auto it = fds_.find(fd);
    if (it != fds_.end())
      if (const auto stale = stale_event(fd, it->second)) passed_ = *stale + 1;
    Evidence e;
    e.fd = fd;
    e.at = clock_();
    e.detail = fmt::format("{}({}) for an event epoll_wait returned for fd {} before the handler "
                           "closed it; the number now names a file opened since ({}) in the "
                           "same epoll_wait batch{}",
                           call, fd, fd, it != fds_.end() ? it->second.origin : "?",
                           failed ? " (" + errno_name(err) + ")" : "");
    violation(oracle::kUseAfterClose, std::move(e));
    return;
  }
  if (!(failed && err == EBADF) && before != FdCheck::never_obtained) return;
  const ErrnoGuard g;
  Evidence e;
  e.fd = fd;
  e.at = clock_();
  if (failed && err == EBADF)
    e.detail = fmt::format("{}({}) failed with EBADF", call, fd);
  else
    e.detail = fmt::format("{}({}): fd {} was never obtained by the handler (socket, accept4, "
                           "epoll_create, pipe2, eventfd, dup, socketpair)",
                           call, fd, fd);
  violation(oracle::kBadFd, std::move(e));
}

template <class Call>
auto Observer::fd_call(const char* call, int fd, Call&& c) {
  ++calls_;
  const FdCheck before = check(fd);
  touched(fd, std::string_view(call) == "close" || std::string_view(call) == "shutdown");
  const auto r = c();
  const int err = errno;
  if (r < 0) count_failure(call, err);
  if (r < 0 || before != FdCheck::ok) judge_fd_call(call, fd, before, r < 0, err);
  errno = err;
  return r;
}

void Observer::opened(int fd, FdState::Kind kind, const char* origin, uint16_t peer_port) {
  const ErrnoGuard g;
  FdState s;
  s.kind = kind;
  s.origin = origin;
  s.peer_port = peer_port;
  s.opened_at = clock_();
  s.generation = ++generations_;
  fds_[fd] = std::move(s);
  closed_in_batch_.erase(fd);
  opening_fd_ = fd;
}

void Observer::closed(int fd) {
  auto it = fds_.find(fd);
  if (it != fds_.end()) {
    const ErrnoGuard g;
    it->second.open = false;
    it->second.closed_at = clock_();
    if (it->second.accepted_at_fd_limit && it->second.bytes_read == 0 && it->second.peer_port != 0)
      shed_ports_.insert(it->second.peer_port);
    if (it->second.kind == FdState::Kind::epoll)
      std::erase_if(requested_, [fd](const auto& r) { return r.first.second == fd; });
  }
  constexpr int kLowest = std::numeric_limits<int>::min();
  constexpr int kHighest = std::numeric_limits<int>::max();
  requested_.erase(requested_.lower_bound({fd, kLowest}), requested_.upper_bound({fd, kHighest}));
  shedding_.erase(fd);
  if (in_batch_) closed_in_batch_.insert(fd);
  made_progress();
  if (dup_made_) find_ghosts(fd);
}

// After close(fd): a registration of fd still in an interest set outlives the fd number,
// because another fd (a dup) holds the file. Its events will keep coming.
void Observer::find_ghosts(int fd) {
  const ErrnoGuard g;
  for (const auto& [epfd, st] : fds_) {
    if (st.kind != FdState::Kind::epoll || !st.open) continue;
    const auto items = inspect_.interest_set(epfd);
    if (!items) continue;
    for (const Interest& i : *items)
      if (i.fd == fd) ghosts_.push_back(Ghost{epfd, fd, i.events, i.data, false});
  }
}

void Observer::duplicated(int oldfd, int newfd, const char* origin) {
  dup_made_ = true;
  auto it = fds_.find(oldfd);
  FdState s = it != fds_.end() ? it->second : FdState{};
  const ErrnoGuard g;
  s.open = true;
  s.origin = origin;
  s.opened_at = clock_();
  s.closed_at = 0;
  s.generation = ++generations_;
  fds_[newfd] = std::move(s);
  closed_in_batch_.erase(newfd);
  opening_fd_ = newfd;
}

uint16_t Observer::peer_port_of(int fd) {
  const ErrnoGuard g;
  sockaddr_in a{};
  socklen_t len = sizeof a;
  if (quiet_.getpeername(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0 || a.sin_family != AF_INET)
    return 0;
  return ntohs(a.sin_port);
}

uint16_t Observer::local_port_of(int fd) {
  const ErrnoGuard g;
  sockaddr_storage a{};
  socklen_t len = sizeof a;
  if (quiet_.getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) return 0;
  if (a.ss_family == AF_INET) return ntohs(reinterpret_cast<const sockaddr_in&>(a).sin_port);
  if (a.ss_family == AF_INET6) return ntohs(reinterpret_cast<const sockaddr_in6&>(a).sin6_port);
  return 0;
}

void Observer::count_failure(const char* call, int err) {
  if (err == EAGAIN || err == EWOULDBLOCK) ++stats_.eagain;
  else if (err == EINTR) ++stats_.eintr;
  else if (err == ECONNRESET || err == EPIPE) ++stats_.resets;
  else if (std::string_view(call) == "accept4" && err == EMFILE) ++stats_.emfile;
  else if (std::string_view(call) == "accept4" && err == ECONNABORTED) ++stats_.econnaborted;
}

void Observer::wrote(int fd, ssize_t r, size_t len, int err) {
  auto it = fds_.find(fd);
  if (r >= 0 && static_cast<size_t>(r) < len) ++stats_.short_writes;
  if (r > 0) made_progress();
  if (it == fds_.end()) return;
  if (r > 0) it->second.bytes_written += static_cast<uint64_t>(r);
  if (r >= 0 && static_cast<size_t>(r) < len) it->second.output_pending = true;
  else if (r >= 0) it->second.output_pending = false;
  else if (err == EAGAIN || err == EWOULDBLOCK) it->second.output_pending = true;
}

void Observer::read_done(int fd, ssize_t r, size_t asked, bool peek) {
  if (r < 0) return;
  auto it = fds_.find(fd);
  const uint16_t port = it != fds_.end() ? it->second.peer_port : 0;
  if (r == 0) {
    if (port != 0 && asked > 0) eof_ports_.insert(port);
    return;
  }
  made_progress();
  if (it != fds_.end()) it->second.bytes_read += static_cast<uint64_t>(r);
  if (peek) return;
  if (static_cast<size_t>(r) < asked) ++stats_.short_reads;
  if (read_hook_ && port != 0) {
    const ErrnoGuard g;
    read_hook_(port, read_from_port_[port] += static_cast<uint64_t>(r));
  }
}

// --- epoll_wait: batches, busy loops, ghosts ----------------------------------------------------

void Observer::wait_begins(int epfd) {
  if (wait_counts_) {
    if (progress_) {
      idle_waits_ = 0;
      last_error_.clear();
    } else if (++idle_waits_ >= kBusyLoopWaits) {
      busy_loop(epfd);
    }
  }
  wait_counts_ = false;
  progress_ = false;
  in_batch_ = false;
  closed_in_batch_.clear();
  batch_.clear();
  passed_ = 0;
  opening_fd_ = -1;
}

void Observer::busy_loop(int epfd) {
  const ErrnoGuard g;
  std::string events;
  const int shown = std::min<int>(last_wait_n_, static_cast<int>(kEventsShown));
  for (int i = 0; i < shown; ++i)
    events += fmt::format("{}{{data {}: {}}}", i ? ", " : "",
                          data_names_.text(last_events_[i].data.u64),
                          epoll_events_name(static_cast<uint32_t>(last_events_[i].events)));
  if (last_wait_n_ > shown) events += fmt::format(", ... ({} events)", last_wait_n_);
  if (last_wait_n_ == 0) events = fmt::format("no events (timeout {})", last_wait_timeout_);
  const Nanos at = clock_();
  Evidence e;
  e.fd = epfd;
  e.at = at;
  e.detail = fmt::format(
      "epoll_wait({}) returned {} times in a row with no byte moved, nothing accepted or closed "
      "and no registration changed; last return: {}{}",
      epfd, idle_waits_, events, last_error_.empty() ? "" : "; last error: " + last_error_);
  violation(oracle::kBusyLoop, std::move(e));
  throw Stop{Stop::Reason::oracle, "epoll_wait", epfd, at};
}

void Observer::wait_returned(int epfd, const struct epoll_event* events, int r, int timeout,
                             int err) {
  for (int i = 0; i < r; ++i) data_names_.text(events[i].data.u64);
  in_batch_ = true;
  resolve_batch(epfd, events, r);
  interrupted_waits_ = r < 0 && err == EINTR && timeout != 0 ? interrupted_waits_ + 1 : 0;
  wait_counts_ = r > 0 || (r == 0 && timeout == 0);
  if (!wait_counts_) {
    idle_waits_ = 0;
    last_error_.clear();
    return;
  }
  last_wait_n_ = r;
  last_wait_timeout_ = timeout;
  std::copy_n(events, std::min<int>(r, static_cast<int>(kEventsShown)), last_events_);
  if (!ghosts_.empty()) check_ghosts(epfd, events, r);
}

// Which fd each returned event is for: the one live registration of this epfd with the
// event's data (the handler chose data: an fd, a pointer, an index). A ONESHOT item that
// fired is disarmed (ep_send_events clears its events), so a MOD with the same mask re-arms it.
void Observer::resolve_batch(int epfd, const struct epoll_event* events, int n) {
  batch_.assign(static_cast<size_t>(std::max(n, 0)), BatchEvent{});
  if (n <= 0) return;
  by_data_.clear();
  for (int i = 0; i < n; ++i)
    by_data_.emplace_back(static_cast<uint64_t>(events[i].data.u64), static_cast<size_t>(i));
  std::sort(by_data_.begin(), by_data_.end());
  constexpr int kAmbiguous = -2;  // two registrations carry the event's data
  for (auto& [key, reg] : requested_) {
    if (key.second != epfd) continue;
    auto at = std::lower_bound(by_data_.begin(), by_data_.end(),
                               std::pair<uint64_t, size_t>{reg.data, 0});
    for (; at != by_data_.end() && at->first == reg.data; ++at) {
      if ((reg.events & EPOLLONESHOT) != 0) reg.disarmed = true;
      BatchEvent& b = batch_[at->second];
      b.fd = b.fd == BatchEvent::kUnresolved ? key.first : kAmbiguous;
    }
  }
  for (BatchEvent& b : batch_) {
    const auto it = b.fd >= 0 ? fds_.find(b.fd) : fds_.end();
    if (it != fds_.end()) b.generation = it->second.generation;
    else b.fd = BatchEvent::kUnresolved;
  }
}

// An event whose data is a ghost's and no live registration's: the handler is told about an
// fd number it closed. Matching is by data only: see docs/ORACLES.md.
void Observer::check_ghosts(int epfd, const struct epoll_event* events, int n) {
  for (int i = 0; i < n; ++i) {
    const uint64_t data = events[i].data.u64;
    const bool live = std::any_of(requested_.begin(), requested_.end(), [&](const auto& r) {
      return r.first.second == epfd && r.second.data == data;
    });
    if (live) continue;
    for (Ghost& gh : ghosts_) {
      if (gh.reported || gh.epfd != epfd || gh.data != data) continue;
      gh.reported = true;
      const ErrnoGuard g;
      Evidence e;
      e.fd = gh.fd;
      e.interest = gh.events;
      e.at = clock_();
      e.detail = fmt::format(
          "epoll_wait({}) returned {} for fd {} (data {}), which the handler closed while a dup "
          "kept its file and registration alive",
          epfd, epoll_events_name(static_cast<uint32_t>(events[i].events)), gh.fd,
          data_names_.text(data));
      violation(oracle::kEventForClosedFd, std::move(e));
    }
  }
}

long Observer::around(const CallSite& call, Forward forward) {
  if (call.names_fd) return fd_call(call.name, call.fd, forward);
  ++calls_;
  return forward();
}

// --- Kernel: epoll ------------------------------------------------------------------------------

int Observer::epoll_create1(int flags) {
  ++calls_;
  const int r = inner_.epoll_create1(flags);
  if (r >= 0) opened(r, FdState::Kind::epoll, "epoll_create1");
  return r;
}

int Observer::epoll_create(int size) {
  ++calls_;
  const int r = inner_.epoll_create(size);
  if (r >= 0) opened(r, FdState::Kind::epoll, "epoll_create");
  return r;
}

// Progress for the busy-loop oracle is a changed interest: ADD and DEL always change it; a
// MOD only when it gives another mask or data, or re-arms a ONESHOT item that fired. A MOD of
// the same mask (ep_modify) may queue the item again, which is how such a loop keeps waking.
bool Observer::registration_changed(int epfd, int op, int fd,
                                    const struct epoll_event* event) const {
  if (op != EPOLL_CTL_MOD || event == nullptr) return true;
  const auto it = requested_.find({fd, epfd});
  if (it == requested_.end()) return true;
  const Registration& was = it->second;
  return was.disarmed || was.events != event->events || was.data != event->data.u64;
}

void Observer::ctl_failed(int epfd, int op, int fd, const struct epoll_event* event, int err) {
  last_error_ = fmt::format("epoll_ctl({}): {}", fd, errno_name(err));
  const ErrnoGuard g;
  const bool has_mask = event != nullptr && op != EPOLL_CTL_DEL;
  Evidence e;
  e.fd = fd;
  if (has_mask) e.interest = event->events;
  e.at = clock_();
  e.detail = fmt::format("epoll_ctl({}, {}, {}, {}) failed with {}", epfd, ctl_op_name(op), fd,
                         has_mask ? epoll_events_name(event->events) : "NULL", errno_name(err));
  violation(oracle::kCtlError, std::move(e));
}

int Observer::epoll_ctl(int epfd, int op, int fd, struct epoll_event* event) {
  ++calls_;
  FdCheck target = check(fd);
  // ADD of a number reopened in this batch registers the new file: never a stale event's.
  if (target == FdCheck::reused_in_batch && op == EPOLL_CTL_ADD) target = FdCheck::ok;
  const FdCheck ep = check(epfd);
  touched(fd, op == EPOLL_CTL_DEL);
  const bool changes = registration_changed(epfd, op, fd, event);
  const int r = inner_.epoll_ctl(epfd, op, fd, event);
  const int err = errno;
  if (event) data_names_.text(event->data.u64);  // named in the order the trace names them
  if (r == 0) {
    if (changes) progress_ = true;  // progress, but no work done (outgrown_text)
    if (op == EPOLL_CTL_DEL) requested_.erase({fd, epfd});
    else if (event) requested_[{fd, epfd}] = Registration{event->events, event->data.u64, false};
  }
  // A failed ctl on an fd closed earlier in the batch is both: the call failed (ctl-error) and
  // why (use-after-close).
  const bool ctl_error = r < 0 && (err == EBADF || err == ENOENT || err == EEXIST);
  if (ctl_error) ctl_failed(epfd, op, fd, event, err);
  if (target == FdCheck::closed_in_batch || ep == FdCheck::closed_in_batch) {
    const int which = target == FdCheck::closed_in_batch ? fd : epfd;
    judge_fd_call("epoll_ctl", which, FdCheck::closed_in_batch, r < 0, err);
  } else if (target == FdCheck::reused_in_batch) {
    judge_fd_call("epoll_ctl", fd, target, r < 0, err);
  } else if (!ctl_error && target == FdCheck::never_obtained) {
    judge_fd_call("epoll_ctl", fd, target, r < 0, err);
  } else if (!ctl_error && (ep == FdCheck::never_obtained || r < 0)) {
    judge_fd_call("epoll_ctl", epfd, ep, r < 0, err);
  }
  errno = err;
  return r;
}

int Observer::epoll_wait(int epfd, struct epoll_event* events, int maxevents, int timeout) {
  wait_begins(epfd);
  const int r = fd_call("epoll_wait", epfd,
                        [&] { return inner_.epoll_wait(epfd, events, maxevents, timeout); });
  const int err = errno;
  wait_returned(epfd, events, r, timeout, err);
  errno = err;
  return r;
}

int Observer::epoll_pwait(int epfd, struct epoll_event* events, int maxevents, int timeout,
                          const sigset_t* sigmask) {
  wait_begins(epfd);
  const int r = fd_call("epoll_pwait", epfd, [&] {
    return inner_.epoll_pwait(epfd, events, maxevents, timeout, sigmask);
  });
  const int err = errno;
  wait_returned(epfd, events, r, timeout, err);
  errno = err;
  return r;
}

// --- Kernel: sockets ----------------------------------------------------------------------------

int Observer::socket(int domain, int type, int protocol) {
  ++calls_;
  const int r = inner_.socket(domain, type, protocol);
  if (r >= 0) opened(r, FdState::Kind::other, "socket");
  return r;
}

int Observer::listen(int sockfd, int backlog) {
  const int r = fd_call("listen", sockfd, [&] { return inner_.listen(sockfd, backlog); });
  if (r == 0) {
    auto it = fds_.find(sockfd);
    if (it != fds_.end()) it->second.kind = FdState::Kind::listener;
    listened_ports_.insert(local_port_of(sockfd));
  }
  return r;
}

int Observer::accept4(int sockfd, struct sockaddr* addr, socklen_t* addrlen, int flags) {
  const int r =
      fd_call("accept4", sockfd, [&] { return inner_.accept4(sockfd, addr, addrlen, flags); });
  if (r >= 0) {
    made_progress();
    const uint16_t port = peer_port_of(r);
    if (port != 0) accepted_ports_.insert(port);
    opened(r, FdState::Kind::connection, "accept4", port);
    fds_[r].accepted_at_fd_limit = shedding_.count(sockfd) != 0;
  } else if (errno == EMFILE || errno == ENFILE) {
    shedding_.insert(sockfd);
  } else if (errno != EINTR && errno != ECONNABORTED) {
    shedding_.erase(sockfd);  // EAGAIN: the queue is drained, the episode over
  }
  return r;
}

int Observer::connect(int sockfd, const struct sockaddr* addr, socklen_t addrlen) {
  const int r = fd_call("connect", sockfd, [&] { return inner_.connect(sockfd, addr, addrlen); });
  if (r == 0 || errno == EINPROGRESS) {
    auto it = fds_.find(sockfd);
    if (it != fds_.end()) it->second.kind = FdState::Kind::connection;
  }
  return r;
}

ssize_t Observer::recv(int sockfd, void* buf, size_t len, int flags) {
  const ssize_t r = fd_call("recv", sockfd, [&] { return inner_.recv(sockfd, buf, len, flags); });
  // MSG_PEEK leaves the bytes queued: not a read of them for the stats or the read order.
  read_done(sockfd, r, len, (flags & MSG_PEEK) != 0);
  return r;
}

ssize_t Observer::send(int sockfd, const void* buf, size_t len, int flags) {
  const ssize_t r = fd_call("send", sockfd, [&] { return inner_.send(sockfd, buf, len, flags); });
  const int err = errno;
  wrote(sockfd, r, len, err);
  errno = err;
  return r;
}

template <class R>
R Observer::sent(int fd, R r, size_t len) {
  const int err = errno;
  wrote(fd, r, len, err);
  errno = err;
  return r;
}

// The bytes a msghdr's vector holds (0 for a header the kernel will refuse).
static size_t msg_bytes(const struct msghdr* msg) {
  size_t len = 0;
  for (size_t i = 0; msg != nullptr && msg->msg_iov != nullptr && i < msg->msg_iovlen; ++i)
    len += msg->msg_iov[i].iov_len;
  return len;
}

ssize_t Observer::recvfrom(int sockfd, void* buf, size_t len, int flags,
                           struct sockaddr* src_addr, socklen_t* addrlen) {
  const ssize_t r = fd_call("recvfrom", sockfd, [&] {
    return inner_.recvfrom(sockfd, buf, len, flags, src_addr, addrlen);
  });
  read_done(sockfd, r, len, (flags & MSG_PEEK) != 0);
  return r;
}

ssize_t Observer::sendto(int sockfd, const void* buf, size_t len, int flags,
                         const struct sockaddr* dest_addr, socklen_t addrlen) {
  const ssize_t r = fd_call("sendto", sockfd, [&] {
    return inner_.sendto(sockfd, buf, len, flags, dest_addr, addrlen);
  });
  return sent(sockfd, r, len);
}

ssize_t Observer::recvmsg(int sockfd, struct msghdr* msg, int flags) {
  const size_t len = msg_bytes(msg);
  const ssize_t r = fd_call("recvmsg", sockfd, [&] { return inner_.recvmsg(sockfd, msg, flags); });
  read_done(sockfd, r, len, (flags & MSG_PEEK) != 0);
  return r;
}

ssize_t Observer::sendmsg(int sockfd, const struct msghdr* msg, int flags) {
  const ssize_t r = fd_call("sendmsg", sockfd, [&] { return inner_.sendmsg(sockfd, msg, flags); });
  return sent(sockfd, r, msg_bytes(msg));
}

int Observer::socketpair(int domain, int type, int protocol, int sv[2]) {
  ++calls_;
  const int r = inner_.socketpair(domain, type, protocol, sv);
  if (r == 0) {
    opened(sv[0], FdState::Kind::other, "socketpair");
    opened(sv[1], FdState::Kind::other, "socketpair");
  }
  return r;
}

// --- Kernel: files ------------------------------------------------------------------------------

ssize_t Observer::read(int fd, void* buf, size_t count) {
  const ssize_t r = fd_call("read", fd, [&] { return inner_.read(fd, buf, count); });
  read_done(fd, r, count);
  return r;
}

ssize_t Observer::write(int fd, const void* buf, size_t count) {
  const ssize_t r = fd_call("write", fd, [&] { return inner_.write(fd, buf, count); });
  const int err = errno;
  wrote(fd, r, count, err);
  errno = err;
  return r;
}

ssize_t Observer::readv(int fd, const struct iovec* iov, int iovcnt) {
  size_t len = 0;
  for (int i = 0; iov != nullptr && i < iovcnt; ++i) len += iov[i].iov_len;
  const ssize_t r = fd_call("readv", fd, [&] { return inner_.readv(fd, iov, iovcnt); });
  read_done(fd, r, len);
  return r;
}

ssize_t Observer::writev(int fd, const struct iovec* iov, int iovcnt) {
  size_t len = 0;
  for (int i = 0; iov != nullptr && i < iovcnt; ++i) len += iov[i].iov_len;
  const ssize_t r = fd_call("writev", fd, [&] { return inner_.writev(fd, iov, iovcnt); });
  const int err = errno;
  wrote(fd, r, len, err);
  errno = err;
  return r;
}

int Observer::close(int fd) {
  const int r = fd_call("close", fd, [&] { return inner_.close(fd); });
  if (r == 0) closed(fd);
  return r;
}

int Observer::dup(int oldfd) {
  const int r = fd_call("dup", oldfd, [&] { return inner_.dup(oldfd); });
  if (r >= 0) duplicated(oldfd, r, "dup");
  return r;
}

int Observer::redirected(int oldfd, int newfd, bool replaces, int r, const char* origin) {
  if (r >= 0 && oldfd != newfd) {
    const int err = errno;
    if (replaces) closed(newfd);
    duplicated(oldfd, r, origin);
    errno = err;
  }
  return r;
}

int Observer::dup2(int oldfd, int newfd) {
  const auto before = fds_.find(newfd);
  const bool replaces = oldfd != newfd && before != fds_.end() && before->second.open;
  const int r = fd_call("dup2", oldfd, [&] { return inner_.dup2(oldfd, newfd); });
  return redirected(oldfd, newfd, replaces, r, "dup2");
}

int Observer::dup3(int oldfd, int newfd, int flags) {
  const auto before = fds_.find(newfd);
  const bool replaces = oldfd != newfd && before != fds_.end() && before->second.open;
  const int r = fd_call("dup3", oldfd, [&] { return inner_.dup3(oldfd, newfd, flags); });
  return redirected(oldfd, newfd, replaces, r, "dup3");
}

int Observer::pipe2(int pipefd[2], int flags) {
  ++calls_;
  const int r = inner_.pipe2(pipefd, flags);
  if (r == 0) {
    opened(pipefd[0], FdState::Kind::other, "pipe2");
    opened(pipefd[1], FdState::Kind::other, "pipe2");
  }
  return r;
}

int Observer::timerfd_create(int clockid, int flags) {
  ++calls_;
  const int r = inner_.timerfd_create(clockid, flags);
  if (r >= 0) opened(r, FdState::Kind::other, "timerfd_create");
  return r;
}

int Observer::open(const char* path, int flags) {
  ++calls_;
  const int r = inner_.open(path, flags);
  if (r >= 0) opened(r, FdState::Kind::other, "open");
  return r;
}

int Observer::eventfd(unsigned int initval, int flags) {
  ++calls_;
  const int r = inner_.eventfd(initval, flags);
  if (r >= 0) opened(r, FdState::Kind::other, "eventfd");
  return r;
}

int Observer::fcntl(int fd, int cmd, long arg) {
  const bool dupfd = cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC;
  // A process inherits fds 0-2 at exec (the model's are /dev/null, sim/devnull.h): duplicating
  // one is how the interposition layer opens "/dev/null" for a handler (posix/wrap_process.cc,
  // open_routed; libuv reserves such an fd for its EMFILE trick), not a call on a number the
  // handler never obtained. Any other call on them still is (writing to fd 1: bad-fd).
  if (dupfd && fd >= 0 && fd < kInheritedFds && fds_.count(fd) == 0) {
    ++calls_;
    const int r = inner_.fcntl(fd, cmd, arg);
    const int err = errno;
    if (r < 0) count_failure("fcntl", err);
    else duplicated(fd, r, "fcntl");
    errno = err;
    return r;
  }
  const int r = fd_call("fcntl", fd, [&] { return inner_.fcntl(fd, cmd, arg); });
  if (r >= 0 && dupfd) duplicated(fd, r, "fcntl");
  return r;
}

}  // namespace edgecase
