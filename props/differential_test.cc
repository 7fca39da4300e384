// Differential property: random sequences of calls over pipes, eventfds, socketpairs and
// (nested) epolls run on the simulated and the live kernel, step by step, and must produce the
// same strace line at every step: same return value, errno, bytes and event masks.
//
// Besides single calls, two ops build shapes that single calls rarely reach: a chain of 2 to 5
// new epolls, and a fan (one target through up to 51 dup'd fds into one epoll, half the time
// the most deeply nested one), so that sequences hit EP_MAX_NESTS and the wakeup-path limits of
// reverse_path_check (see docs/semantics-epoll.md). Sizes up to 400 (the nightly run,
// scripts/nightly.sh) reach them often; CI's sizes seldom.
//
// Both backends see the same fd numbers: the simulation occupies every fd this process has
// open (mirror_open_fds), and the live backend closes its fds after each sequence. Every fd is
// nonblocking, so no live call can block. A mismatch shrinks to a minimal sequence, printed
// from both sides.
#include <catch2/catch.hpp>
#include <rapidcheck.h>
#include <rapidcheck/catch.h>

#include <cerrno>
#include <fcntl.h>
#include <sys/resource.h>
#include <fmt/format.h>
#include <string>
#include <tuple>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include <ostream>
#include <vector>

#include "edgecase/live_match.h"
#include "edgecase/real_kernel.h"
#include "edgecase/sim_kernel.h"
#include "edgecase/strace.h"
#include "sim/epoll.h"

namespace {

using namespace edgecase;

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

constexpr const char* kOpNames[] = {
    "create_pipe", "create_eventfd", "create_socketpair", "create_epoll", "write", "read", "send",
    "recv_peek", "writev", "readv", "eventfd_write", "shutdown", "close", "dup", "dup2",
    "epoll_add", "epoll_mod", "epoll_del", "epoll_ctl_bad_op", "epoll_wait", "fionread", "getfl",
    "setfd_cloexec", "so_error", "epoll_add_fan", "create_epoll_chain"};
static_assert(std::size(kOpNames) == kOpKinds);

void showValue(const Op& op, std::ostream& os) {
  os << kOpNames[static_cast<int>(op.kind)] << "(a=" << op.a << " b=" << op.b << " n=" << op.n
     << " data=" << op.data << ")";
}

// Byte counts: mostly small, sometimes a page or more so that pipes fill up.
rc::Gen<uint32_t> gen_count() {
  return rc::gen::weightedOneOf<uint32_t>({
      {6, rc::gen::inRange<uint32_t>(0, 64)},
      {3, rc::gen::inRange<uint32_t>(64, 4097)},
      {2, rc::gen::element<uint32_t>(4095, 4096, 4097, 8192, 65536, 70000)},
  });
}

rc::Gen<uint32_t> gen_epoll_events() {
  static constexpr uint32_t kBits[] = {EPOLLIN, EPOLLOUT, EPOLLRDHUP, EPOLLPRI, EPOLLET, EPOLLONESHOT,
                                EPOLLRDNORM, EPOLLWRNORM, EPOLLEXCLUSIVE, EPOLLERR, EPOLLHUP, EPOLLWAKEUP};
  return rc::gen::map(rc::gen::container<std::vector<bool>>(std::size(kBits), rc::gen::weightedElement<bool>({{3, false}, {1, true}})),
                      [](const std::vector<bool>& on) {
                        uint32_t m = 0;
                        for (size_t i = 0; i < on.size(); ++i)
                          if (on[i]) m |= kBits[i];
                        return m;
                      });
}

// Epoll calls and epoll creation weigh more than the rest: they are what the property is about,
// and nesting (ELOOP, depth) needs several epolls in one sequence.
rc::Gen<OpKind> gen_kind() {
  auto weight = [](int k) {
    auto kind = static_cast<OpKind>(k);
    return kind == OpKind::create_epoll || kind == OpKind::epoll_add || kind == OpKind::epoll_wait ? 5 : 2;
  };
  int total = 0;
  for (int k = 0; k < kOpKinds; ++k) total += weight(k);
  return rc::gen::map(rc::gen::inRange(0, total), [weight](int x) {
    int k = 0;
    while (x >= weight(k)) x -= weight(k++);
    return static_cast<OpKind>(k);
  });
}

}  // namespace

namespace rc {
template <>
struct Arbitrary<Op> {
  static Gen<Op> arbitrary() {
    return gen::build<Op>(
        gen::set(&Op::kind, gen_kind()),
        gen::set(&Op::a, gen::inRange<uint32_t>(0, 64)), gen::set(&Op::b, gen::inRange<uint32_t>(0, 64)),
        gen::set(&Op::n, gen::oneOf(gen_count(), gen_epoll_events(), gen::arbitrary<uint32_t>())),
        gen::set(&Op::data, gen::inRange<uint64_t>(0, 1000)));
  }
};
}  // namespace rc

namespace {

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
    return !h || h->kind != Kind::sock || unix_budget_allows(*h, std::min(op.n % 70001, kUnixWriteMax));
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
    std::vector<char> buf(70000);
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
        uint32_t n = op.n % 70001;
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
        uint32_t n = op.n % 70001;
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
};

std::string side_by_side(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  std::string out;
  for (size_t i = 0; i < std::max(a.size(), b.size()); ++i) {
    const std::string& l = i < a.size() ? a[i] : "";
    const std::string& r = i < b.size() ? b[i] : "";
    out += fmt::format("{:>3} {} sim : {}\n      live: {}\n", i + 1, l == r ? " " : "!", l, r);
  }
  return out;
}

}  // namespace

TEST_CASE("differential: random call sequences agree on both backends", "[differential]") {
  // How many sequences reached each interesting state: a property that never gets there proves
  // nothing about it, so each must be reached (checked after the run).
  struct Reached {
    int runs = 0, eagain = 0, short_write = 0, hup = 0, err = 0, reset = 0, epipe = 0, loop = 0,
        nested = 0, deepest = 0, path_limit = 0;
  } reached;
  SimOptions options = sim_options_like_live();
  // Fans of dups can open more fds than the model's default limit: give it the live one.
  rlimit nofile{};
  if (::getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur != RLIM_INFINITY)
    options.nofile = static_cast<int>(std::min<rlim_t>(nofile.rlim_cur, INT32_MAX));
  rc::prop("sim and live give the same result at every step", [&reached, &options](const std::vector<Op>& ops) {
    SimKernel sim(options);
    mirror_open_fds(sim);
    std::vector<std::string> trace_sim, trace_live;
    Seen seen;
    {
      RealKernel live;
      Runner rs(sim, sim);
      Runner rl(live, sim);
      for (const Op& generated : ops) {
        if (!rs.admissible(generated)) continue;
        const Op op = rs.prepare(generated);
        auto a = rs.step(op, seen);
        auto b = rl.step(op, seen);
        trace_sim.insert(trace_sim.end(), a.begin(), a.end());
        trace_live.insert(trace_live.end(), b.begin(), b.end());
        if (a != b) RC_FAIL("backends disagree at the last line:\n" + side_by_side(trace_sim, trace_live));
        std::string inv = sim.check_invariants();
        if (!inv.empty()) RC_FAIL("simulation invariant broken: " + inv + "\n" + side_by_side(trace_sim, trace_live));
      }
    }  // the live backend closes its fds here, so the next sequence starts from fd 3 again
    ++reached.runs;
    reached.eagain += seen.eagain;
    reached.short_write += seen.short_write;
    reached.hup += seen.hup;
    reached.err += seen.err;
    reached.reset += seen.reset;
    reached.epipe += seen.epipe;
    reached.loop += seen.loop;
    reached.nested += seen.nested;
    reached.deepest += seen.deepest;
    reached.path_limit += seen.path_limit;
    RC_TAG(seen.eagain ? "reaches EAGAIN" : "no EAGAIN");
    RC_CLASSIFY(seen.short_write, "short write");
    RC_CLASSIFY(seen.hup, "EPOLLHUP reported");
    RC_CLASSIFY(seen.err, "EPOLLERR reported");
    RC_CLASSIFY(seen.reset, "ECONNRESET");
    RC_CLASSIFY(seen.epipe, "EPIPE");
    RC_CLASSIFY(seen.loop, "ELOOP (nested epoll cycle)");
    RC_CLASSIFY(seen.nested, "nested epoll");
    RC_CLASSIFY(seen.deepest, "a chain of 5 epolls (EP_MAX_NESTS links)");
    RC_CLASSIFY(seen.path_limit, "EINVAL: too many wakeup paths");
  });
  // After a failing property Catch re-enters the test case only to finish it: nothing ran.
  if (reached.runs == 0) return;
  // A state reached by about 1% of sequences (ELOOP) says little when missed below 1,000 of
  // them; one that needs long sequences (a 5-epoll chain: 0.7%, a wakeup-path limit: 0.1% at
  // CI's sizes; 47% and 17% at the nightly size 400) below CI's 5,000. Each is reported always,
  // required only from its count on.
  constexpr int kRunsToRequireCommon = 1000;
  constexpr int kRunsToRequireRare = 5000;
  const std::tuple<const char*, int, int> states[] = {
      {"EAGAIN", reached.eagain, kRunsToRequireCommon},
      {"short write", reached.short_write, kRunsToRequireCommon},
      {"EPOLLHUP", reached.hup, kRunsToRequireCommon},
      {"EPOLLERR", reached.err, kRunsToRequireCommon},
      {"ECONNRESET", reached.reset, kRunsToRequireCommon},
      {"EPIPE", reached.epipe, kRunsToRequireCommon},
      {"ELOOP", reached.loop, kRunsToRequireCommon},
      {"nested epoll", reached.nested, kRunsToRequireCommon},
      {"5-epoll chain", reached.deepest, kRunsToRequireRare},
      {"path limit", reached.path_limit, kRunsToRequireRare}};
  std::string summary = fmt::format("{} sequences (shrink steps included); reached:", reached.runs);
  for (const auto& [name, n, required_from] : states)
    summary += fmt::format(" {} {:.1f}%", name, 100.0 * n / reached.runs);
  WARN(summary);
  for (const auto& [name, n, required_from] : states) {
    if (reached.runs < required_from) continue;
    INFO("no generated sequence reached " << name);
    CHECK(n > 0);
  }
}
