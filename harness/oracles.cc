#include "harness/oracles.h"

#include <cerrno>
#include <fmt/format.h>
#include <map>
#include <optional>
#include <sys/epoll.h>

#include "edgecase/strace.h"

namespace edgecase {

namespace {

using FdState = Observer::FdState;

// Bits of a stored interest mask that are flags, not events: a disarmed ONESHOT item keeps
// only these.
constexpr uint32_t kPrivateBits = EPOLLET | EPOLLONESHOT | EPOLLEXCLUSIVE | EPOLLWAKEUP;
// A run that reached the step budget after this many interrupted blocking waits in a row was
// waiting, not spinning (the EINTR fault at a high rate never lets the world go quiescent).
constexpr uint64_t kInterruptedWaitsNotSpin = 100;
// Readiness that means the far end is gone.
constexpr uint32_t kHangupBits = EPOLLRDHUP | EPOLLHUP;

bool is_wait_call(const std::string& call) {
  return call == "epoll_wait" || call == "epoll_pwait";
}

bool armed(const Interest& i) { return (i.events & ~kPrivateBits) != 0; }

// Bytes the peer's expect steps want, over the steps [0, upto).
uint64_t expected_bytes(const PeerScript& s, size_t upto) {
  uint64_t n = 0;
  for (size_t i = 0; i < upto && i < s.steps.size(); ++i)
    if (s.steps[i].op == Step::Op::expect) n += s.steps[i].n;
  return n;
}

bool has_step(const PeerScript& s, Step::Op op) {
  for (const Step& st : s.steps)
    if (st.op == op) return true;
  return false;
}

// The index of the script's first `op` step, or steps.size().
size_t step_of(const PeerScript& s, Step::Op op) {
  for (size_t i = 0; i < s.steps.size(); ++i)
    if (s.steps[i].op == op) return i;
  return s.steps.size();
}

// The judging of one run: the view, what was found so far, and the lookups the oracles share.
class Judge {
 public:
  Judge(const RunView& v, std::vector<std::string>& undecided) : v_(v), undecided_(undecided) {
    for (const auto& [fd, st] : v.calls.fds())
      if (st.open && st.kind == FdState::Kind::connection && st.peer_port != 0)
        fd_by_port_[st.peer_port] = fd;
    at_ = v.end.at != 0 ? v.end.at : v.now;
  }

  std::vector<Violation> run() {
    handler_ended();
    if (v_.end.how == RunEnd::How::idle) {
      read_interest_sets();
      for (const auto& [epfd, items] : sets_)
        for (const Interest& i : items) lost_accept(i);
      for (const auto& [epfd, items] : sets_)
        for (const Interest& i : items) lost_read_event(i);
      for (const auto& [epfd, items] : sets_)
        for (const Interest& i : items) disarmed_forever(epfd, i);
      stuck_output();
    }
    for (const PeerEnd& p : v_.peers) reply_lost_after_half_close(p);
    for (const PeerEnd& p : v_.peers) stream_corrupt(p);
    fd_leak();
    stall();
    return std::move(found_);
  }

 private:
  // --- lookups --------------------------------------------------------------------------------
  const Peer* waiting_peer() const {
    for (const PeerEnd& p : v_.peers)
      if (!p.peer->done()) return p.peer;
    return nullptr;
  }
  // The peer a server connection belongs to (0: none known).
  uint32_t peer_of(int fd) const {
    auto it = v_.calls.fds().find(fd);
    if (it == v_.calls.fds().end() || it->second.peer_port == 0) return 0;
    for (const PeerEnd& p : v_.peers)
      if (p.peer->local_port() == it->second.peer_port) return p.peer->index();
    return 0;
  }
  int fd_of(const Peer& p) const {
    auto it = fd_by_port_.find(p.local_port());
    return it == fd_by_port_.end() ? -1 : it->second;
  }
  const FdState* open_fd(int fd) const {
    auto it = v_.calls.fds().find(fd);
    return it != v_.calls.fds().end() && it->second.open ? &it->second : nullptr;
  }
  std::string peer_name(uint32_t peer) const {
    return peer != 0 ? fmt::format(" (peer#{})", peer) : std::string();
  }
  const PeerScript& script_of(const PeerEnd& p) const {
    return p.script != nullptr ? *p.script : p.peer->script();
  }
  // On live, a lookup that found nothing cannot decide; in the simulation it means "not so".
  void cannot_decide(std::string sentence) {
    if (v_.backend == Backend::live) undecided_.push_back(std::move(sentence));
  }

  void report(std::string_view oracle, Evidence e) {
    if (e.at == 0) e.at = at_;
    found_.push_back(Violation{std::string(oracle), std::move(e)});
  }

  // --- how the handler ended ------------------------------------------------------------------
  void handler_ended() {
    const RunEnd& end = v_.end;
    const Peer* waits = waiting_peer();
    Evidence e;
    e.at = at_;
    switch (end.how) {
      case RunEnd::How::threw:
        e.detail = "the handler threw: " + end.error;
        report(oracle::kHandlerThrew, std::move(e));
        return;
      case RunEnd::How::crashed:
        // When the handler died, not when the world the peers go on in came to rest.
        if (end.at > 0) e.at = end.at;
        e.detail = "the handler crashed: " + end.error;
        report(oracle::kHandlerCrashed, std::move(e));
        return;
      case RunEnd::How::sigpipe:
        if (end.at > 0) e.at = end.at;  // the write that raised it
        e.fd = end.fd;
        e.detail = end.error;
        report(oracle::kKilledBySigpipe, std::move(e));
        return;
      case RunEnd::How::exited:
        if (waits == nullptr) return;
        e.peer = waits->index();
        e.detail = "the handler returned while a peer waits: " + waits->status();
        report(oracle::kHandlerExited, std::move(e));
        return;
      case RunEnd::How::blocked:
        if (waits == nullptr || is_wait_call(end.call)) return;
        e.fd = end.fd;
        e.peer = waits->index();
        e.detail = fmt::format("the handler is stuck in {}({}), which can never complete, while "
                               "a peer waits: {}",
                               end.call, end.fd, waits->status());
        report(oracle::kHandlerBlocked, std::move(e));
        return;
      case RunEnd::How::step_budget:
        // Steps spent in waits the fault plan kept interrupting are not the handler's spin:
        // stall names a peer left waiting.
        if (v_.calls.interrupted_waits() >= kInterruptedWaitsNotSpin) return;
        e.fd = end.fd;
        e.detail = fmt::format("the step budget ran out after {} calls, in {}({})",
                               v_.calls.calls(), end.call, end.fd);
        report(oracle::kBusyLoop, std::move(e));
        return;
      case RunEnd::How::idle:
      case RunEnd::How::time_limit:
      case RunEnd::How::oracle:
      case RunEnd::How::kit_limit:
        return;
    }
  }

  // --- the interest sets, at idle ---------------------------------------------------------------
  void read_interest_sets() {
    for (const auto& [fd, st] : v_.calls.fds()) {
      if (!st.open || st.kind != FdState::Kind::epoll) continue;
      const int saved = errno;
      auto items = v_.inspect.interest_set(fd);
      errno = saved;
      if (!items) {
        cannot_decide(fmt::format("the interest set of epoll fd {} could not be read: "
                                  "lost-accept, lost-read-event, disarmed-forever and "
                                  "stuck-output are not decided for its items",
                                  fd));
        continue;
      }
      // Items of fds the handler no longer holds (closed with a dup alive) are the
      // event-for-closed-fd oracle's: the fd number may name another file now.
      std::vector<Interest> held;
      for (const Interest& i : *items)
        if (open_fd(i.fd) != nullptr) held.push_back(i);
      sets_[fd] = std::move(held);
    }
  }

  void lost_accept(const Interest& i) {
    if (!(i.events & EPOLLET) || !(i.events & EPOLLIN)) return;
    const FdState* st = open_fd(i.fd);
    if (st == nullptr || st->kind != FdState::Kind::listener) return;
    const auto queued = v_.inspect.accept_queue(i.fd);
    if (!queued) {
      cannot_decide(fmt::format("the accept queue of listener fd {} could not be read", i.fd));
      return;
    }
    if (*queued == 0) return;
    Evidence e;
    e.fd = i.fd;
    e.bytes = *queued;
    e.interest = i.events;
    // The fd, mask and count are the evidence's fields (Violation::format prints them).
    e.detail = "the listener's accept queue is not empty and the handler sleeps in epoll_wait: "
               "no new edge will come";
    report(oracle::kLostAccept, std::move(e));
  }

  void lost_read_event(const Interest& i) {
    if (!(i.events & EPOLLET) || !(i.events & EPOLLIN)) return;
    const FdState* st = open_fd(i.fd);
    if (st == nullptr || st->kind == FdState::Kind::listener || st->kind == FdState::Kind::epoll)
      return;
    const auto unread = v_.inspect.bytes_to_read(i.fd);
    if (!unread) {
      // eventfds and the like have no byte count; a connection always has one.
      if (st->kind == FdState::Kind::connection)
        cannot_decide(fmt::format("the unread bytes of fd {} could not be read", i.fd));
      return;
    }
    if (*unread == 0) return;
    Evidence e;
    e.fd = i.fd;
    e.bytes = *unread;
    e.interest = i.events;
    e.peer = peer_of(i.fd);
    e.detail = "the handler sleeps in epoll_wait: the edge was spent without reading to EAGAIN";
    report(oracle::kLostReadEvent, std::move(e));
  }

  void disarmed_forever(int epfd, const Interest& i) {
    if (!(i.events & EPOLLONESHOT) || armed(i)) return;
    const auto wanted = v_.calls.requested(epfd, i.fd);
    if (!wanted) return;
    const auto ready = v_.inspect.poll_mask(i.fd);
    if (!ready) {
      cannot_decide(fmt::format("the readiness of fd {} could not be read", i.fd));
      return;
    }
    const uint32_t hit = *ready & *wanted & ~kPrivateBits;
    if (hit == 0) return;
    Evidence e;
    e.fd = i.fd;
    e.interest = i.events;
    e.peer = peer_of(i.fd);
    if (const auto unread = v_.inspect.bytes_to_read(i.fd); unread && *unread > 0) e.bytes = unread;
    e.detail = fmt::format("fd {}{} was registered {} on epoll fd {}, its last event disarmed it "
                           "and no EPOLL_CTL_MOD re-armed it; it is ready ({})",
                           i.fd, peer_name(e.peer), epoll_events_name(*wanted), epfd,
                           epoll_events_name(hit));
    report(oracle::kDisarmedForever, std::move(e));
  }

  // Whether some interest set holds fd with EPOLLOUT armed; the first item for fd in `item`.
  bool out_armed(int fd, std::optional<uint32_t>& item) const {
    bool armed_out = false;
    for (const auto& [epfd, items] : sets_)
      for (const Interest& i : items) {
        if (i.fd != fd) continue;
        if (!item) item = i.events;
        if (i.events & EPOLLOUT) armed_out = true;
      }
    return armed_out;
  }

  void stuck_output() {
    for (const PeerEnd& p : v_.peers) {
      const Peer& peer = *p.peer;
      const PeerScript& s = script_of(p);
      if (peer.done() || peer.step_index() >= s.steps.size()) continue;
      const Step::Op op = s.steps[peer.step_index()].op;
      if (op != Step::Op::expect && op != Step::Op::expect_line && op != Step::Op::read_eof)
        continue;
      const int fd = fd_of(peer);
      const FdState* st = open_fd(fd);
      if (st == nullptr || !st->output_pending) continue;
      std::optional<uint32_t> item;
      if (out_armed(fd, item)) continue;
      const auto ready = v_.inspect.poll_mask(fd);
      if (!ready) {
        cannot_decide(fmt::format("the readiness of fd {} could not be read", fd));
        continue;
      }
      if (!(*ready & EPOLLOUT)) continue;
      Evidence e;
      e.fd = fd;
      e.peer = peer.index();
      e.interest = item;
      const uint64_t want = expected_bytes(s, peer.step_index() + 1);
      if (want > peer.received_bytes()) e.bytes = want - peer.received_bytes();
      e.detail = fmt::format("fd {} (peer#{}): the handler's last write was short, the send "
                             "buffer has room (EPOLLOUT) but no EPOLLOUT is registered ({}); "
                             "the peer waits: {}",
                             fd, peer.index(),
                             item ? epoll_events_name(*item) : std::string("not registered"),
                             peer.status());
      report(oracle::kStuckOutput, std::move(e));
    }
  }

  // --- the peers' conversations ---------------------------------------------------------------
  // The peer's script stopped in an expect step because the handler closed (EOF) or reset its
  // connection. A connection reset before the handler accepted it (accept-abort) is not its
  // doing; one it shed at the fd limit, unread, was refused service, not cut off
  // (docs/ORACLES.md, "Shed at the fd limit").
  bool cut_off(const Peer& peer, const PeerScript& s) const {
    if (peer.failure().empty() || peer.step_index() >= s.steps.size()) return false;
    if (!v_.calls.accepted_port(peer.local_port())) return false;
    if (v_.calls.shed_port(peer.local_port())) return false;
    const Step::Op op = s.steps[peer.step_index()].op;
    if (op != Step::Op::expect && op != Step::Op::expect_line) return false;
    return peer.eof() || peer.failure().find("ECONNRESET") != std::string::npos;
  }

  void reply_lost_after_half_close(const PeerEnd& p) {
    const Peer& peer = *p.peer;
    const PeerScript& s = script_of(p);
    const size_t shut = step_of(s, Step::Op::shutdown_write);
    if (shut >= s.steps.size() || peer.step_index() <= shut || !cut_off(peer, s)) return;
    const uint64_t want = expected_bytes(s, s.steps.size());
    const uint64_t got = peer.received_bytes();
    if (got >= want) return;
    Evidence e;
    e.peer = peer.index();
    e.fd = fd_of(peer);
    e.bytes = want - got;
    e.detail = fmt::format("peer#{} shut down its write side, then the server closed after {} "
                           "of {} reply bytes: {}",
                           peer.index(), got, want, peer.failure());
    report(oracle::kReplyLostAfterHalfClose, std::move(e));
  }

  void stream_corrupt(const PeerEnd& p) {
    const Peer& peer = *p.peer;
    const PeerScript& s = script_of(p);
    // The check saw every chunk as it arrived; what is left is what only the end shows.
    std::optional<StreamError> err = peer.stream_error();
    if (!err) err = v_.check.end(peer.conversation());
    Evidence e;
    e.peer = peer.index();
    e.fd = fd_of(peer);
    if (err) {
      e.offset = err->offset;
      e.detail = fmt::format("peer#{}: {}", peer.index(), err->detail);
      report(oracle::kStreamCorrupt, std::move(e));
      return;
    }
    const size_t shut = step_of(s, Step::Op::shutdown_write);
    const bool half_closed = shut < s.steps.size() && peer.step_index() > shut;
    if (half_closed || has_step(s, Step::Op::reset) || !cut_off(peer, s)) return;
    const uint64_t want = expected_bytes(s, s.steps.size());
    e.offset = peer.received_bytes();
    e.detail = fmt::format("peer#{}: connection closed by the server after {} of {} bytes ({})",
                           peer.index(), peer.received_bytes(), want, peer.failure());
    report(oracle::kStreamCorrupt, std::move(e));
  }

  // --- the end --------------------------------------------------------------------------------
  void fd_leak() {
    if (v_.end.how != RunEnd::How::idle && v_.end.how != RunEnd::How::blocked) return;
    if (waiting_peer() != nullptr) return;
    for (const auto& [fd, st] : v_.calls.fds()) {
      if (!st.open || st.kind != FdState::Kind::connection) continue;
      const int saved = errno;
      const auto ready = v_.inspect.poll_mask(fd);
      errno = saved;
      if (!ready) {
        cannot_decide(fmt::format("the readiness of fd {} could not be read", fd));
        continue;
      }
      if (!(*ready & kHangupBits)) continue;
      Evidence e;
      e.fd = fd;
      e.peer = peer_of(fd);
      e.detail = fmt::format("fd {}{} from {} is still open after its peer closed ({}); every "
                             "peer is done",
                             fd, peer_name(e.peer), st.origin, epoll_events_name(*ready));
      report(oracle::kFdLeak, std::move(e));
    }
  }

  void stall() {
    const Peer* waits = waiting_peer();
    if (waits == nullptr || !found_.empty() || !v_.calls.violations().empty()) return;
    if (v_.end.how == RunEnd::How::oracle) return;
    if (v_.end.how == RunEnd::How::time_limit) {
      // Live time is real time: a slow reader's megabyte can outlast the limit while every
      // byte still flows. In the simulation a world that never went quiescent until the time
      // limit had peers sleeping, starting late or reading slowly: the case's timing. (A
      // handler that lost an event leaves the world quiescent long before; one that spins is
      // the busy-loop oracle's.) Nothing says the handler lost anything.
      undecided_.push_back(fmt::format("the {} run reached its time limit while a peer was "
                                       "still busy ({}): not judged a stall",
                                       backend_name(v_.backend), waits->status()));
      return;
    }
    size_t more = 0;
    for (const PeerEnd& p : v_.peers)
      if (!p.peer->done() && p.peer != waits) ++more;
    Evidence e;
    e.peer = waits->index();
    e.fd = fd_of(*waits);
    e.detail = fmt::format("{}{}{}",
                           v_.end.how == RunEnd::How::time_limit ? "time limit reached; " : "",
                           waits->status(),
                           more ? fmt::format(" (and {} more peers wait)", more) : "");
    report(oracle::kStall, std::move(e));
  }

  const RunView& v_;
  std::vector<std::string>& undecided_;
  std::map<uint16_t, int> fd_by_port_;
  std::map<int, std::vector<Interest>> sets_;  // epfd -> items of fds the handler holds
  Nanos at_ = 0;
  std::vector<Violation> found_;
};

}  // namespace

std::vector<Violation> judge(const RunView& v, std::vector<std::string>& undecided) {
  return Judge(v, undecided).run();
}

}  // namespace edgecase
