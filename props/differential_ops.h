// The differential property's call vocabulary and executor, shared by the rapidcheck property
// (props/differential_test.cc) and the differential fuzz target (fuzz/targets/differential.cc):
// a sequence of Ops runs on the simulated and on the live kernel through a Runner each, and
// the strace lines of each step must agree.
//
// Ops name handles by index (modulo the handles created so far), so any Op is meaningful in
// any sequence. Every fd is nonblocking, so no live call can block.
#pragma once

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <fcntl.h>
#include <fmt/format.h>
#include <string>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>
#include <vector>

#include "edgecase/sim_kernel.h"
#include "edgecase/strace.h"
#include "sim/epoll.h"
#include "sim/file.h"

namespace edgecase::differential {

enum class OpKind : uint8_t {
  create_pipe, create_eventfd, create_socketpair, create_epoll, write, read, send, recv_peek,
  writev, readv, eventfd_write, shutdown, close, dup, dup2, epoll_add, epoll_mod, epoll_del,
  epoll_ctl_bad_op, epoll_wait, fionread, getfl, setfd_cloexec, so_error, epoll_add_fan,
  create_epoll_chain, kCount
};
constexpr int kOpKinds = static_cast<int>(OpKind::kCount);

struct Op {
  OpKind kind;
  uint32_t a;       // first handle (index into the handles created so far, modulo)
  uint32_t b;       // second handle
  uint32_t n;       // byte count, flag bits or value, per kind
  uint64_t data;    // epoll data
  int into = -1;    // epoll_add_fan: the handle chosen by Runner::prepare (not generated)
};

inline constexpr const char* kOpNames[] = {
    "create_pipe", "create_eventfd", "create_socketpair", "create_epoll", "write", "read", "send",
    "recv_peek", "writev", "readv", "eventfd_write", "shutdown", "close", "dup", "dup2",
    "epoll_add", "epoll_mod", "epoll_del", "epoll_ctl_bad_op", "epoll_wait", "fionread", "getfl",
    "setfd_cloexec", "so_error", "epoll_add_fan", "create_epoll_chain"};
static_assert(std::size(kOpNames) == kOpKinds);

enum class Kind : uint8_t { pipe_r, pipe_w, eventfd, sock, epoll };

struct Handle {
  int fd;
  Kind kind;
  int peer;  // handle index of the other end (pipes, socketpairs), -1 if none
};

// Limits that keep socketpairs out of the bands where the model's buffer accounting and the
// kernel's (per-skb overhead) legitimately differ: a few small unread writes per direction.
constexpr uint64_t kUnixUnreadBytesMax = 16 * 1024;
constexpr uint32_t kUnixWriteMax = 4096;
constexpr int kMaxEvents = 8;
// The most bytes one write or read op moves (op.n % (kMaxOpBytes + 1)).
constexpr uint32_t kMaxOpBytes = 70000;
// epoll_add_fan: how many fds of one description it registers, around the per-depth limits of
// wakeup paths (path_limits[] = {1000, 500, 100, 50, 10}: 10 at depth 4, 50 at depth 3; products
// of fans reach 100 and 500). Each fan costs up to 51 fds and 102 lines.
constexpr uint32_t kFanSizes[] = {2, 3, 5, 9, 10, 11, 49, 50, 51};
// EP_MAX_NESTS: the longest chain of epolls has this many links.
constexpr int kMaxLinks = edgecase::sim::kEpMaxNests;

// What happened in one sequence, for rapidcheck's classification.
struct Seen {
  bool eagain = false, short_write = false, hup = false, err = false, reset = false,
       epipe = false, loop = false, nested = false, deepest = false, path_limit = false;
};

// Runs ops on one backend and returns the strace line of each step.
class Runner {
 public:
  Runner(Kernel& k, SimKernel& sim) : sim_(sim), t_(k, [this](const std::string& l) { lines_.push_back(l); }) {}

  // The most links below `ep` in the simulation (0: no epoll inside it).
  static int links_below(const sim::EventPoll* ep, int depth = 0) {
    int most = 0;
    if (depth > kMaxLinks) return most;  // cannot happen (ELOOP); bounds the walk anyway
    for (const sim::EpItem* epi : ep->items())
      if (const sim::EventPoll* child = epi->file->as_epoll())
        most = std::max(most, links_below(child, depth + 1) + 1);
    return most;
  }

  // Whether `op` may run: writes to a socketpair stay within the unread-bytes budget. Decided
  // once per op, from the simulation's state before either backend runs it.
  bool admissible(const Op& op) {
    if (op.kind != OpKind::write && op.kind != OpKind::send && op.kind != OpKind::writev) return true;
    Handle* h = pick(op.a);
    return !h || h->kind != Kind::sock || unix_budget_allows(*h, std::min(op.n % (kMaxOpBytes + 1), kUnixWriteMax));
  }

  // Decisions taken from the simulation's state, once, before either backend runs `op`: half
  // the fans go into the epoll with the most levels above it, where the limits are low.
  Op prepare(Op op) {
    if (op.kind == OpKind::epoll_add_fan && op.a % 2 == 0) op.into = deepest_epoll();
    return op;
  }

  // Executes `op`; returns the lines it produced (possibly none when the op does not apply).
  std::vector<std::string> step(const Op& op, Seen& seen) {
    lines_.clear();
    run(op, seen);
    for (const auto& l : lines_) {
      if (l.find("EAGAIN") != std::string::npos) seen.eagain = true;
      if (l.find("EPOLLHUP") != std::string::npos) seen.hup = true;
      if (l.find("EPOLLERR") != std::string::npos) seen.err = true;
      if (l.find("ECONNRESET") != std::string::npos) seen.reset = true;
      if (l.find("EPIPE") != std::string::npos) seen.epipe = true;
      if (l.find("ELOOP") != std::string::npos) seen.loop = true;
    }
    return lines_;
  }

 private:
  Handle* pick(uint32_t i) { return h_.empty() ? nullptr : &h_[i % h_.size()]; }
  // Epoll operations mostly name an epoll (else they only test EINVAL), and a quarter of their
  // targets are epolls too, so that nesting, cycles and the depth limit come up.
  Handle* pick_epoll(uint32_t i) {
    std::vector<Handle*> eps;
    for (Handle& h : h_)
      if (h.kind == Kind::epoll) eps.push_back(&h);
    if (eps.empty() || i % 8 == 7) return pick(i);
    return eps[i % eps.size()];
  }
  Handle* pick_target(const Op& op) { return op.data % 4 == 0 ? pick_epoll(op.b) : pick(op.b); }
  int pick_index(uint32_t i) const { return h_.empty() ? -1 : static_cast<int>(i % h_.size()); }

  // The unread bytes in the direction written by `h`, as the simulation counts them.
  bool unix_budget_allows(const Handle& h, uint32_t n) {
    if (h.kind != Kind::sock || h.peer < 0) return true;
    auto queued = sim_.bytes_to_read(h_[static_cast<size_t>(h.peer)].fd);
    return !queued || *queued + n <= kUnixUnreadBytesMax;
  }

  void add_pair(int a, int b, Kind ka, Kind kb) {
    int ia = static_cast<int>(h_.size());
    h_.push_back({a, ka, ia + 1});
    h_.push_back({b, kb, ia});
  }

  void run(const Op& op, Seen& seen) {
    std::vector<char>& buf = buf_;
    switch (op.kind) {
      case OpKind::create_pipe: {
        int p[2];
        if (t_.pipe2(p, O_NONBLOCK | ((op.n & 1) ? O_CLOEXEC : 0)) == 0) add_pair(p[0], p[1], Kind::pipe_r, Kind::pipe_w);
        break;
      }
      case OpKind::create_eventfd: {
        int fd = t_.eventfd(op.n % 4, EFD_NONBLOCK | ((op.n & 4) ? EFD_SEMAPHORE : 0));
        if (fd >= 0) h_.push_back({fd, Kind::eventfd, -1});
        break;
      }
      case OpKind::create_socketpair: {
        int sv[2];
        if (t_.socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) == 0) add_pair(sv[0], sv[1], Kind::sock, Kind::sock);
        break;
      }
      case OpKind::create_epoll: {
        int fd = t_.epoll_create1((op.n & 1) ? EPOLL_CLOEXEC : 0);
        if (fd >= 0) h_.push_back({fd, Kind::epoll, -1});
        break;
      }
      case OpKind::write:
      case OpKind::send:
      case OpKind::writev: {
        Handle* h = pick(op.a);
        if (!h) break;
        uint32_t n = op.n % (kMaxOpBytes + 1);
        if (h->kind == Kind::sock) n = std::min(n, kUnixWriteMax);
        if (h->kind == Kind::eventfd) n = 8;
        for (uint32_t i = 0; i < n; ++i) buf[i] = static_cast<char>('a' + (i + op.data) % 26);
        if (h->kind == Kind::eventfd) {
          uint64_t v = op.data;
          std::memcpy(buf.data(), &v, 8);
        }
        ssize_t r;
        if (op.kind == OpKind::send) {
          r = t_.send(h->fd, buf.data(), n, MSG_DONTWAIT | MSG_NOSIGNAL);
        } else if (op.kind == OpKind::writev) {
          iovec iov[2] = {{buf.data(), n / 2}, {buf.data() + n / 2, n - n / 2}};
          r = t_.writev(h->fd, iov, 2);
        } else {
          r = t_.write(h->fd, buf.data(), n);
        }
        if (r >= 0 && static_cast<uint32_t>(r) < n) seen.short_write = true;
        break;
      }
      case OpKind::read:
      case OpKind::readv:
      case OpKind::recv_peek: {
        Handle* h = pick(op.a);
        if (!h) break;
        uint32_t n = op.n % (kMaxOpBytes + 1);
        if (op.kind == OpKind::recv_peek) t_.recv(h->fd, buf.data(), n, MSG_PEEK | MSG_DONTWAIT);
        else if (op.kind == OpKind::readv) {
          iovec iov[2] = {{buf.data(), n / 3}, {buf.data() + n / 3, n - n / 3}};
          t_.readv(h->fd, iov, 2);
        } else t_.read(h->fd, buf.data(), n);
        break;
      }
      case OpKind::eventfd_write: {
        Handle* h = pick(op.a);
        if (!h) break;
        uint64_t v = op.n % 3 == 0 ? UINT64_MAX - 1 - op.data : op.data;
        t_.write(h->fd, &v, 8);
        break;
      }
      case OpKind::shutdown: {
        Handle* h = pick(op.a);
        if (h) t_.shutdown(h->fd, static_cast<int>(op.n % 4));  // 3 is invalid: EINVAL
        break;
      }
      case OpKind::close: {
        Handle* h = pick(op.a);
        if (h) t_.close(h->fd);  // the handle stays: later calls on it exercise EBADF and reuse
        break;
      }
      case OpKind::dup: {
        Handle* h = pick(op.a);
        if (!h) break;
        Handle copy = *h;
        int fd = t_.dup(h->fd);
        if (fd >= 0) h_.push_back({fd, copy.kind, copy.peer});
        break;
      }
      case OpKind::dup2: {
        Handle* from = pick(op.a);
        int to = pick_index(op.b);
        if (!from || to < 0) break;
        Handle copy = *from;
        if (t_.dup2(copy.fd, h_[static_cast<size_t>(to)].fd) >= 0) {
          h_[static_cast<size_t>(to)].kind = copy.kind;
          h_[static_cast<size_t>(to)].peer = copy.peer;
        }
        break;
      }
      case OpKind::epoll_add:
      case OpKind::epoll_mod: {
        Handle* ep = pick_epoll(op.a);
        Handle* target = pick_target(op);
        if (!ep || !target) break;
        epoll_event ev{};
        ev.events = op.n;
        ev.data.u64 = op.data;
        int r = t_.epoll_ctl(ep->fd, op.kind == OpKind::epoll_add ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, target->fd, &ev);
        const int err = errno;
        if (r == 0 && op.kind == OpKind::epoll_add && target->kind == Kind::epoll && ep->kind == Kind::epoll)
          seen.nested = true;
        if (op.kind == OpKind::epoll_add) classify_add(ep->fd, target->fd, op.n, r, err, seen);
        break;
      }
      case OpKind::create_epoll_chain: {
        // 2 to 5 new epolls, each inside the next: deep nesting in one step, so that fans and
        // ADDs below it reach the limits of the deeper paths (and ELOOP) often.
        const int n = 2 + static_cast<int>(op.n % kMaxLinks);
        int below = -1;
        for (int i = 0; i < n; ++i) {
          int fd = t_.epoll_create1(EPOLL_CLOEXEC);
          if (fd < 0) break;
          h_.push_back({fd, Kind::epoll, -1});
          if (below >= 0) {
            epoll_event ev{};
            ev.events = EPOLLIN;
            ev.data.u64 = op.data + static_cast<uint64_t>(i);
            int r = t_.epoll_ctl(fd, EPOLL_CTL_ADD, below, &ev);
            const int err = errno;
            classify_add(fd, below, ev.events, r, err, seen);
          }
          below = fd;
        }
        break;
      }
      case OpKind::epoll_add_fan: {
        // One target through several dup'd fds into one epoll: the paths above the target's
        // file multiply, which is how sequences reach reverse_path_check's limits. The dups are
        // no handles (they would crowd the picks); each backend closes them with itself.
        Handle* ep = op.into >= 0 ? &h_[static_cast<size_t>(op.into)] : pick_epoll(op.a);
        Handle* target = pick_target(op);
        if (!ep || !target) break;
        const uint32_t fan = kFanSizes[op.n % std::size(kFanSizes)];
        for (uint32_t i = 0; i < fan; ++i) {
          int fd = i == 0 ? target->fd : t_.dup(target->fd);
          if (fd < 0) break;
          epoll_event ev{};
          ev.events = EPOLLIN | (op.n & EPOLLET);
          ev.data.u64 = op.data + i;
          int r = t_.epoll_ctl(ep->fd, EPOLL_CTL_ADD, fd, &ev);
          const int err = errno;
          classify_add(ep->fd, fd, ev.events, r, err, seen);
        }
        break;
      }
      case OpKind::epoll_del: {
        Handle* ep = pick_epoll(op.a);
        Handle* target = pick_target(op);
        if (ep && target) t_.epoll_ctl(ep->fd, EPOLL_CTL_DEL, target->fd, (op.n & 1) ? nullptr : &dummy_);
        break;
      }
      case OpKind::epoll_ctl_bad_op: {
        Handle* ep = pick_epoll(op.a);
        Handle* target = pick(op.b);
        epoll_event ev{EPOLLIN, {}};
        if (ep && target) t_.epoll_ctl(ep->fd, 4 + static_cast<int>(op.n % 3), target->fd, (op.n & 8) ? nullptr : &ev);
        break;
      }
      case OpKind::epoll_wait: {
        Handle* ep = pick_epoll(op.a);
        if (!ep) break;
        epoll_event out[kMaxEvents];
        int maxevents = static_cast<int>(op.n % (kMaxEvents + 1));  // 0 is EINVAL
        t_.epoll_wait(ep->fd, out, maxevents, 0);
        break;
      }
      case OpKind::fionread: {
        Handle* h = pick(op.a);
        int v = -1;
        if (h) t_.ioctl(h->fd, FIONREAD, &v);
        break;
      }
      case OpKind::getfl: {
        Handle* h = pick(op.a);
        if (h) t_.fcntl(h->fd, (op.n & 1) ? F_GETFD : F_GETFL);
        break;
      }
      case OpKind::setfd_cloexec: {
        Handle* h = pick(op.a);
        if (h) t_.fcntl(h->fd, F_SETFD, (op.n & 1) ? FD_CLOEXEC : 0);
        break;
      }
      case OpKind::so_error: {
        Handle* h = pick(op.a);
        int v = -1;
        socklen_t len = sizeof v;
        if (h) t_.getsockopt(h->fd, SOL_SOCKET, SO_ERROR, &v, &len);
        break;
      }
      case OpKind::kCount: break;
    }
  }

  // After an ADD: whether it made a chain of the greatest depth, or was refused for too many
  // wakeup paths. The only other EINVALs of an ADD are a non-epoll epfd, an epoll added to
  // itself and EXCLUSIVE misuse; the simulation's files tell them apart.
  void classify_add(int epfd, int fd, uint32_t events, int r, int err, Seen& seen) {
    sim::File* f = sim_.file_at(epfd);
    sim::File* tf = sim_.file_at(fd);
    sim::EventPoll* ep = f ? f->as_epoll() : nullptr;
    if (!ep || !tf) return;
    if (r == 0) {
      if (tf->as_epoll() && links_below(ep) + links_above(ep) >= kMaxLinks) seen.deepest = true;
      return;
    }
    if (r < 0 && err == EINVAL && tf != f && !(events & EPOLLEXCLUSIVE)) seen.path_limit = true;
  }
  // The handle of the open epoll (by the simulation) with the most links above it, the first
  // of those; -1 if no epoll is nested.
  int deepest_epoll() const {
    int best = -1, most = 0;
    for (size_t i = 0; i < h_.size(); ++i) {
      sim::File* f = sim_.file_at(h_[i].fd);
      if (!f || !f->as_epoll()) continue;
      if (int above = links_above(f); above > most) {
        most = above;
        best = static_cast<int>(i);
      }
    }
    return best;
  }
  static int links_above(const sim::File* f, int depth = 0) {
    int most = 0;
    if (depth > kMaxLinks) return most;
    for (const sim::EpItem* epi = f->f_ep.front(); epi; epi = decltype(f->f_ep)::next(epi))
      most = std::max(most, links_above(epi->ep, depth + 1) + 1);
    return most;
  }

  SimKernel& sim_;
  std::vector<std::string> lines_;
  TracingKernel t_;
  std::vector<Handle> h_;
  epoll_event dummy_{};
  // The bytes an op writes or reads (70,000: the largest count an op draws). One buffer per
  // Runner: a write fills the bytes it sends first, so what an earlier op left is never sent.
  std::vector<char> buf_ = std::vector<char>(kMaxOpBytes);
};

inline std::string side_by_side(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  std::string out;
  for (size_t i = 0; i < std::max(a.size(), b.size()); ++i) {
    const std::string& l = i < a.size() ? a[i] : "";
    const std::string& r = i < b.size() ? b[i] : "";
    out += fmt::format("{:>3} {} sim : {}\n      live: {}\n", i + 1, l == r ? " " : "!", l, r);
  }
  return out;
}

}  // namespace edgecase::differential
