// Tests of the network model (world/network.h) without the World: two simulated hosts on one
// network, a tiny Host with its own event queue and fixed-seed streams, and a Scheduler that
// runs deliveries while a call waits. Splitting, coalescing and delays as a receiver's epoll
// sees them, order per direction under random faults, windows, FIN and RST after data, the
// accept queue overflowing during a delayed handshake, and pinned outputs for fixed seeds.
#include <catch2/catch.hpp>

#include <algorithm>
#include <arpa/inet.h>
#include <fcntl.h>
#include <array>
#include <cstdint>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <optional>
#include <string>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <type_traits>
#include <utility>
#include <vector>

#include "edgecase/scenario.h"
#include "edgecase/sim_kernel.h"
#include "world/event_queue.h"
#include "sim/net.h"
#include "world/network.h"
#include "world/random.h"
#include "world/trace.h"
#include "sim/wait.h"

namespace {

using edgecase::FaultKind;
using edgecase::Nanos;
using edgecase::SimKernel;
using edgecase::SimOptions;
using edgecase::sim::EventQueue;
using edgecase::sim::Network;
using edgecase::sim::Rng;
using edgecase::sim::Segment;
using edgecase::sim::WaitEntry;
using edgecase::sim::WaitQueue;
using edgecase::sim::WaitResult;

constexpr uint32_t kPerMille = 1000;
constexpr uint32_t kIn = EPOLLIN;
constexpr uint32_t kOut = EPOLLOUT;
// The faults stream is seeded apart from the network stream, as the world's streams are.
constexpr uint64_t kFaultSeedSalt = 0x5eed'fa17;

// Server host `a` (the listener) and peer host `b` sharing one network, with the network model
// as their wire. The Host side: faults fire with fixed per-mille chances from their own
// stream, deliveries wait in an event queue. The Scheduler side: a blocked call runs the
// queue until it is woken, its deadline passes, or nothing is left (edgecase::Deadlock).
class TestNet final : public Network::Host, public edgecase::sim::Scheduler {
 public:
  explicit TestNet(uint64_t seed, bool keep_trace = false)
      : net_rng_(seed), fault_rng_(seed ^ kFaultSeedSalt), tracing_(keep_trace) {
    a.set_scheduler(this);
    b.set_scheduler(this);
  }
  ~TestNet() override {
    a.set_scheduler(nullptr);
    b.set_scheduler(nullptr);
  }

  void set_fault(FaultKind k, uint32_t per_mille) {
    per_mille_[static_cast<size_t>(k)] = per_mille;
  }

  // --- Network::Host ------------------------------------------------------------------------
  Nanos now() const override { return a.now_ns(); }
  void schedule_delivery(Nanos at, uint32_t flow) override { queue.push(at, flow); }
  bool fire(FaultKind k) override {
    const uint32_t p = per_mille_[static_cast<size_t>(k)];
    return p != 0 && fault_rng_.chance(p, kPerMille);
  }
  Rng& rng() override { return net_rng_; }
  bool tracing() const override { return tracing_; }
  void trace(std::string_view line) override {
    lines.push_back(edgecase::sim::Trace::stamp(now()) + " " + std::string(line));
  }

  // --- driving the network by hand ----------------------------------------------------------
  void set_clock(Nanos t) {
    a.set_now_ns(t);
    b.set_now_ns(t);
  }
  // Delivers the next due segment; returns its time.
  Nanos step() {
    auto [at, flow] = queue.pop();
    set_clock(at);
    network.deliver_next(flow);
    return at;
  }
  void run_until(Nanos t) {
    while (!queue.empty() && queue.next_time() <= t) step();
    set_clock(t);
  }
  void settle() {
    while (!queue.empty()) step();
  }

  // --- Scheduler ------------------------------------------------------------------------------
  WaitResult wait(WaitQueue& wq, std::optional<Nanos> deadline, const char* call,
                  int fd) override {
    Waiter w;
    wq.add(&w);
    for (;;) {
      if (w.woken) break;
      if (!queue.empty() && (!deadline || queue.next_time() <= *deadline)) {
        step();
        continue;
      }
      wq.remove(&w);
      if (!deadline) throw edgecase::Deadlock{call, fd};
      set_clock(*deadline);
      return WaitResult::timed_out;
    }
    wq.remove(&w);
    return WaitResult::woken;
  }

  SimKernel a{SimOptions{}};
  SimKernel b{SimOptions{}, a};
  EventQueue<uint32_t> queue;
  std::vector<std::string> lines;

 private:
  struct Waiter : WaitEntry {
    Waiter() : WaitEntry(&Waiter::woken_cb) {}
    static int woken_cb(WaitEntry* e, uint32_t) {
      static_cast<Waiter*>(e)->woken = true;
      return 1;
    }
    bool woken = false;
  };

  Rng net_rng_;
  Rng fault_rng_;
  bool tracing_;
  std::array<uint32_t, edgecase::kFaultCount> per_mille_{};

 public:
  // Last, so that it is destroyed first: the kernels' teardown then delivers at once.
  Network network{a.net(), *this};
};

sockaddr_in loopback(uint16_t port) {
  sockaddr_in s{};
  s.sin_family = AF_INET;
  s.sin_port = htons(port);
  s.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return s;
}
sockaddr* sa(sockaddr_in& s) { return reinterpret_cast<sockaddr*>(&s); }

int ioctl_int(SimKernel& k, int fd, unsigned long req) {
  int v = -1;
  REQUIRE(k.ioctl(fd, req, &v) == 0);
  return v;
}
void set_int(SimKernel& k, int fd, int opt, int v) {
  REQUIRE(k.setsockopt(fd, SOL_SOCKET, opt, &v, sizeof v) == 0);
}

struct Pair {
  int listener;  // on a
  int s;         // accepted, on a
  int c;         // connected, on b
};

// A listener on `t.a` (options applied before listen, so the child inherits them), a client
// on `t.b`, the handshake delivered, the connection accepted. Both ends nonblocking.
Pair connect_pair(TestNet& t, int rcvbuf = 0, int sndbuf = 0, int backlog = 16) {
  Pair p{};
  p.listener = t.a.socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  REQUIRE(p.listener >= 0);
  if (rcvbuf) set_int(t.a, p.listener, SO_RCVBUF, rcvbuf);
  sockaddr_in addr = loopback(0);
  REQUIRE(t.a.bind(p.listener, sa(addr), sizeof addr) == 0);
  REQUIRE(t.a.listen(p.listener, backlog) == 0);
  socklen_t len = sizeof addr;
  REQUIRE(t.a.getsockname(p.listener, sa(addr), &len) == 0);
  p.c = t.b.socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  REQUIRE(p.c >= 0);
  if (sndbuf) set_int(t.b, p.c, SO_SNDBUF, sndbuf);
  REQUIRE(t.b.connect(p.c, sa(addr), sizeof addr) == -1);
  REQUIRE(errno == EINPROGRESS);
  t.settle();
  p.s = t.a.accept4(p.listener, nullptr, nullptr, SOCK_NONBLOCK);
  REQUIRE(p.s >= 0);
  return p;
}

int make_ep(SimKernel& k, int fd, uint32_t events) {
  int ep = k.epoll_create1(0);
  REQUIRE(ep >= 0);
  epoll_event ev{};
  ev.events = events;
  ev.data.fd = fd;
  REQUIRE(k.epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) == 0);
  return ep;
}

// The events an epoll reports now (timeout 0: nothing runs).
std::vector<uint32_t> ready(SimKernel& k, int ep) {
  epoll_event evs[8];
  const int n = k.epoll_wait(ep, evs, 8, 0);
  REQUIRE(n >= 0);
  std::vector<uint32_t> out;
  for (int i = 0; i < n; ++i) out.push_back(evs[i].events);
  return out;
}

std::string pattern(size_t n, size_t from = 0) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + (from + i) % 23);
  return s;
}

std::string read_all(SimKernel& k, int fd) {
  std::string out;
  char buf[4096];
  for (;;) {
    const ssize_t r = k.read(fd, buf, sizeof buf);
    if (r <= 0) return out;
    out.append(buf, static_cast<size_t>(r));
  }
}

// Delivers everything in flight one segment at a time; for each delivery that added bytes to
// `fd`'s receive queue, records how many and checks that it was exactly one ET edge.
std::vector<int> deliveries_seen(TestNet& t, int fd, int ep) {
  std::vector<int> sizes;
  while (!t.queue.empty()) {
    const int before = ioctl_int(t.a, fd, FIONREAD);
    t.step();
    const int grew = ioctl_int(t.a, fd, FIONREAD) - before;
    INFO("delivery " << sizes.size() << " added " << grew << " bytes");
    if (grew > 0) {
      REQUIRE(ready(t.a, ep) == std::vector<uint32_t>{kIn});
      sizes.push_back(grew);
    } else {
      REQUIRE(ready(t.a, ep).empty());
    }
  }
  return sizes;
}

}  // namespace

TEST_CASE("network: a split write arrives as several deliveries, each an ET edge",
          "[network][split]") {
  TestNet t(42);
  Pair p = connect_pair(t);
  t.set_fault(FaultKind::split, kPerMille);
  const int ep = make_ep(t.a, p.s, EPOLLIN | EPOLLET);
  const std::string data = pattern(10'000);
  REQUIRE(t.b.write(p.c, data.data(), data.size()) == 10'000);
  REQUIRE(t.network.in_flight() >= 2);
  const std::vector<int> sizes = deliveries_seen(t, p.s, ep);
  CHECK(sizes.size() >= 2);
  CHECK(sizes.size() <= Network::kMaxPieces);
  CHECK(read_all(t.a, p.s) == data);
  CHECK(ioctl_int(t.b, p.c, SIOCOUTQ) == 0);  // every piece was acknowledged
}

TEST_CASE("network: piece sizes for seed 42 are pinned", "[network][split][seed]") {
  // Any change to the draw order (or to the Rng) shows here first.
  TestNet t(42);
  Pair p = connect_pair(t);
  t.set_fault(FaultKind::split, kPerMille);
  const int ep = make_ep(t.a, p.s, EPOLLIN | EPOLLET);
  const std::string data = pattern(10'000);
  REQUIRE(t.b.write(p.c, data.data(), data.size()) == 10'000);
  CHECK(deliveries_seen(t, p.s, ep) == std::vector<int>{6552, 1840, 105, 251, 313, 696, 243});
}

TEST_CASE("network: two writes coalesce into one delivery and one ET edge",
          "[network][coalesce]") {
  TestNet t(7);
  Pair p = connect_pair(t);
  t.set_fault(FaultKind::coalesce, kPerMille);
  const int ep = make_ep(t.a, p.s, EPOLLIN | EPOLLET);
  REQUIRE(t.b.write(p.c, "abc", 3) == 3);
  REQUIRE(t.b.write(p.c, "def", 3) == 3);
  CHECK(t.network.in_flight() == 1);
  CHECK(deliveries_seen(t, p.s, ep) == std::vector<int>{6});
  CHECK(read_all(t.a, p.s) == "abcdef");
  CHECK(ioctl_int(t.b, p.c, SIOCOUTQ) == 0);  // the merged segment's ACK covers both
}

TEST_CASE("network: a delivered segment is never coalesced into, a FIN ends coalescing",
          "[network][coalesce]") {
  TestNet t(7);
  Pair p = connect_pair(t);
  t.set_fault(FaultKind::coalesce, kPerMille);
  REQUIRE(t.b.write(p.c, "ab", 2) == 2);
  t.settle();  // delivered (and acknowledged): nothing left to join
  REQUIRE(t.b.write(p.c, "cd", 2) == 2);
  REQUIRE(t.b.shutdown(p.c, SHUT_WR) == 0);  // the FIN joins "cd"
  CHECK(t.network.in_flight() == 1);
  REQUIRE(t.b.write(p.c, "x", 1) == -1);  // EPIPE after SHUT_WR
  REQUIRE(t.a.write(p.s, "zz", 2) == 2);  // the other direction has its own queue
  CHECK(t.network.in_flight() == 2);
  t.settle();
  CHECK(read_all(t.a, p.s) == "abcd");
  char c;
  CHECK(t.a.read(p.s, &c, 1) == 0);
}

TEST_CASE("network: a delayed segment is not readable before its delivery time",
          "[network][delay]") {
  TestNet t(3);
  Pair p = connect_pair(t);
  t.set_fault(FaultKind::delay, kPerMille);
  const int ep = make_ep(t.a, p.s, EPOLLIN | EPOLLET);
  const Nanos sent = t.now();
  REQUIRE(t.b.write(p.c, "hello", 5) == 5);
  REQUIRE(!t.queue.empty());
  const Nanos due = t.queue.next_time();
  CHECK(due > sent);
  CHECK(due <= sent + static_cast<Nanos>(Network::kMaxDelayMicros) * edgecase::kNanosPerMicro);
  t.run_until(due - 1);
  CHECK(ioctl_int(t.a, p.s, FIONREAD) == 0);
  CHECK(ready(t.a, ep).empty());
  char buf[8];
  CHECK(t.a.read(p.s, buf, sizeof buf) == -1);
  CHECK(errno == EAGAIN);
  // A waiting epoll_wait sleeps exactly until the delivery.
  epoll_event ev{};
  REQUIRE(t.a.epoll_wait(ep, &ev, 1, 10) == 1);
  CHECK(ev.events == kIn);
  CHECK(t.now() == due);
  CHECK(t.a.read(p.s, buf, sizeof buf) == 5);
}

TEST_CASE("network: a blocking read waits for the delivery", "[network][delay]") {
  TestNet t(5);
  Pair p = connect_pair(t);
  t.set_fault(FaultKind::delay, kPerMille);
  const int fl = t.a.fcntl(p.s, F_GETFL);
  REQUIRE(t.a.fcntl(p.s, F_SETFL, fl & ~O_NONBLOCK) == 0);
  REQUIRE(t.b.write(p.c, "xyz", 3) == 3);
  const Nanos due = t.queue.next_time();
  char buf[8];
  CHECK(t.a.read(p.s, buf, sizeof buf) == 3);
  CHECK(t.now() == due);
  CHECK_THROWS_AS(t.a.read(p.s, buf, sizeof buf), edgecase::Deadlock);
}

TEST_CASE("network: per-direction order holds under random faults (1,000 seeds)",
          "[network][order]") {
  constexpr uint64_t kSeeds = 1000;
  constexpr int kWrites = 24;
  constexpr uint64_t kMaxWrite = 3000;
  for (uint64_t seed = 1; seed <= kSeeds; ++seed) {
    INFO("seed " << seed);
    TestNet t(seed);
    Rng script(seed * 0x9e37'79b9);
    // Small receive buffers in half the runs, so that windows close and reopen too.
    const int rcvbuf = script.chance(1, 2) ? static_cast<int>(script.between(2304, 16384)) : 0;
    Pair p = connect_pair(t, rcvbuf);
    for (FaultKind k : {FaultKind::split, FaultKind::coalesce, FaultKind::delay})
      t.set_fault(k, static_cast<uint32_t>(script.between(0, kPerMille)));
    std::string sent[2], got[2];  // [0]: b -> a, [1]: a -> b
    auto pump = [&](int dir) {
      SimKernel& from = dir == 0 ? t.b : t.a;
      SimKernel& to = dir == 0 ? t.a : t.b;
      const int wfd = dir == 0 ? p.c : p.s;
      const int rfd = dir == 0 ? p.s : p.c;
      const std::string chunk = pattern(script.between(1, kMaxWrite), sent[dir].size());
      const ssize_t w = from.write(wfd, chunk.data(), chunk.size());
      if (w > 0) sent[dir].append(chunk, 0, static_cast<size_t>(w));
      if (script.chance(1, 2)) got[dir] += read_all(to, rfd);
    };
    for (int i = 0; i < kWrites; ++i) {
      pump(static_cast<int>(script.below(2)));
      for (uint64_t n = script.below(4); n > 0 && !t.queue.empty(); --n) t.step();
    }
    // Drain: read until both directions are fully delivered.
    for (int round = 0; round < 1000 && (got[0].size() < sent[0].size() ||
                                         got[1].size() < sent[1].size()); ++round) {
      t.settle();
      got[0] += read_all(t.a, p.s);
      got[1] += read_all(t.b, p.c);
    }
    REQUIRE(got[0] == sent[0]);
    REQUIRE(got[1] == sent[1]);
    t.settle();  // the last reads' window updates
    REQUIRE(t.network.in_flight() == 0);
  }
}

TEST_CASE("network: a small receive window bounds what is in flight, EPOLLOUT after draining",
          "[network][window]") {
  TestNet t(11);
  constexpr int kRcvbuf = 4096;    // stored doubled; the window is half: 4096
  constexpr int kSndbuf = 8192;    // stored doubled: 16384, locked (no autotuning)
  constexpr int kWindow = kRcvbuf;
  Pair p = connect_pair(t, kRcvbuf, kSndbuf);
  t.set_fault(FaultKind::split, 500);
  t.set_fault(FaultKind::delay, 500);
  const int ep = make_ep(t.b, p.c, EPOLLOUT | EPOLLET);
  REQUIRE(ready(t.b, ep) == std::vector<uint32_t>{kOut});
  const std::string data = pattern(100'000);
  const ssize_t first = t.b.write(p.c, data.data(), data.size());
  CHECK(first == 2 * kSndbuf);  // a short write: the send buffer's worth
  // Nothing beyond the window is ever sent: the receiver never holds more than it offered.
  while (!t.queue.empty()) {
    t.step();
    REQUIRE(ioctl_int(t.a, p.s, FIONREAD) <= kWindow);
  }
  CHECK(ioctl_int(t.a, p.s, FIONREAD) == kWindow);
  CHECK(ioctl_int(t.b, p.c, SIOCOUTQ) == 2 * kSndbuf - kWindow);  // the rest waits
  size_t written = static_cast<size_t>(first);
  const ssize_t more = t.b.write(p.c, data.data() + written, data.size() - written);
  CHECK(more == kWindow);  // the acknowledged bytes' room
  written += static_cast<size_t>(more);
  CHECK(t.b.write(p.c, data.data() + written, 1) == -1);
  CHECK(errno == EAGAIN);
  CHECK(ready(t.b, ep).empty());
  // The reader drains; its window updates let the rest through; the writer hears EPOLLOUT.
  std::string got;
  for (int i = 0; i < 1000 && got.size() < written; ++i) {
    got += read_all(t.a, p.s);
    t.settle();
  }
  t.settle();
  CHECK(got == data.substr(0, written));
  CHECK(ready(t.b, ep) == std::vector<uint32_t>{kOut});
}

TEST_CASE("network: a FIN arrives after every byte sent before it", "[network][fin]") {
  for (uint64_t seed = 1; seed <= 200; ++seed) {
    INFO("seed " << seed);
    TestNet t(seed);
    Pair p = connect_pair(t);
    t.set_fault(FaultKind::split, 700);
    t.set_fault(FaultKind::coalesce, 700);
    t.set_fault(FaultKind::delay, 700);
    const std::string data = pattern(5000);
    REQUIRE(t.b.write(p.c, data.data(), 2000) == 2000);
    REQUIRE(t.b.write(p.c, data.data() + 2000, 3000) == 3000);
    REQUIRE(t.b.shutdown(p.c, SHUT_WR) == 0);
    while (!t.queue.empty()) {
      t.step();
      uint32_t mask = 0;
      const int ep = make_ep(t.a, p.s, EPOLLIN | EPOLLRDHUP);
      epoll_event ev{};
      if (t.a.epoll_wait(ep, &ev, 1, 0) == 1) mask = ev.events;
      REQUIRE(t.a.close(ep) == 0);
      if (mask & EPOLLRDHUP) REQUIRE(ioctl_int(t.a, p.s, FIONREAD) == 5000);
    }
    CHECK(read_all(t.a, p.s) == data);
    char c;
    CHECK(t.a.read(p.s, &c, 1) == 0);
  }
}

TEST_CASE("network: a RST arrives after the data, reads give the data, then ECONNRESET",
          "[network][rst]") {
  // Linux (checked live by the conformance case "SO_LINGER {1, 0} close sends RST"): tcp_reset
  // purges the write queue, not the receive queue; tcp_recvmsg copies queued bytes before it
  // looks at sk_err.
  TestNet t(9);
  Pair p = connect_pair(t);
  t.set_fault(FaultKind::split, kPerMille);
  t.set_fault(FaultKind::delay, kPerMille);
  REQUIRE(t.b.write(p.c, "hello world", 11) == 11);
  linger lg{1, 0};
  REQUIRE(t.b.setsockopt(p.c, SOL_SOCKET, SO_LINGER, &lg, sizeof lg) == 0);
  REQUIRE(t.b.close(p.c) == 0);
  int err_seen_at = -1;
  while (!t.queue.empty()) {
    t.step();
    // Look at the error without consuming it: poll's ERR bit.
    const int ep = make_ep(t.a, p.s, EPOLLIN);
    epoll_event ev{};
    const bool erred = t.a.epoll_wait(ep, &ev, 1, 0) == 1 && (ev.events & EPOLLERR);
    REQUIRE(t.a.close(ep) == 0);
    if (erred && err_seen_at < 0) err_seen_at = ioctl_int(t.a, p.s, FIONREAD);
  }
  CHECK(err_seen_at == 11);  // every byte was queued before the RST arrived
  char buf[32];
  CHECK(t.a.read(p.s, buf, sizeof buf) == 11);
  CHECK(t.a.read(p.s, buf, sizeof buf) == -1);
  CHECK(errno == ECONNRESET);
  CHECK(t.a.read(p.s, buf, sizeof buf) == 0);
}

TEST_CASE("network: the handshake's ACK meets a full accept queue, accept completes it",
          "[network][backlog]") {
  // Two SYNs reach a backlog-0 listener (room for one) before either ACK: both get a child.
  // The first ACK fills the queue, the second is dropped, yet that client is ESTABLISHED and
  // writes, and its data and FIN are dropped too. Accepting makes room: the client goes back
  // to snd_una and everything arrives.
  for (bool delays : {false, true}) {
    INFO("delays " << delays);
    TestNet t(21);
    if (delays) t.set_fault(FaultKind::delay, kPerMille);
    int l = t.a.socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    sockaddr_in addr = loopback(0);
    REQUIRE(t.a.bind(l, sa(addr), sizeof addr) == 0);
    REQUIRE(t.a.listen(l, 0) == 0);
    socklen_t len = sizeof addr;
    REQUIRE(t.a.getsockname(l, sa(addr), &len) == 0);
    int c[2];
    for (int& fd : c) {
      fd = t.b.socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
      REQUIRE(t.b.connect(fd, sa(addr), sizeof addr) == -1);
      REQUIRE(errno == EINPROGRESS);
    }
    t.settle();
    const std::string msg[2] = {"first client", "second client"};
    for (int i = 0; i < 2; ++i) {
      const int ep = make_ep(t.b, c[i], EPOLLOUT | EPOLLET);
      REQUIRE(ready(t.b, ep) == std::vector<uint32_t>{kOut});  // both clients are connected
      REQUIRE(t.b.write(c[i], msg[i].data(), msg[i].size()) ==
              static_cast<ssize_t>(msg[i].size()));
      REQUIRE(t.b.shutdown(c[i], SHUT_WR) == 0);
    }
    t.settle();
    // One child is queued; the other's ACK, data and FIN were dropped, never acknowledged.
    const int outq0 = ioctl_int(t.b, c[0], SIOCOUTQ);
    const int outq1 = ioctl_int(t.b, c[1], SIOCOUTQ);
    CHECK(outq0 + outq1 == static_cast<int>(outq0 ? msg[0].size() : msg[1].size()));
    CHECK((outq0 == 0) != (outq1 == 0));
    std::vector<std::string> got;
    for (int i = 0; i < 2; ++i) {
      const int s = t.a.accept4(l, nullptr, nullptr, SOCK_NONBLOCK);
      REQUIRE(s >= 0);
      t.settle();  // after the first accept: the go-back retransmission
      got.push_back(read_all(t.a, s));
      char ch;
      CHECK(t.a.read(s, &ch, 1) == 0);
    }
    std::sort(got.begin(), got.end());
    CHECK(got == std::vector<std::string>{msg[0], msg[1]});
    CHECK(ioctl_int(t.b, c[0], SIOCOUTQ) == 0);
    CHECK(ioctl_int(t.b, c[1], SIOCOUTQ) == 0);
    CHECK(t.a.check_invariants().empty());
  }
}

TEST_CASE("network: clients whose ACK was dropped are reset when the listener closes",
          "[network][backlog]") {
  TestNet t(22);
  int l = t.a.socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  sockaddr_in addr = loopback(0);
  REQUIRE(t.a.bind(l, sa(addr), sizeof addr) == 0);
  REQUIRE(t.a.listen(l, 0) == 0);
  socklen_t len = sizeof addr;
  REQUIRE(t.a.getsockname(l, sa(addr), &len) == 0);
  int c[2];
  for (int& fd : c) {
    fd = t.b.socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    REQUIRE(t.b.connect(fd, sa(addr), sizeof addr) == -1);
  }
  t.settle();
  REQUIRE(t.a.close(l) == 0);
  t.settle();
  for (int fd : c) {
    int err = 0;
    len = sizeof err;
    REQUIRE(t.b.getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0);
    CHECK(err == ECONNRESET);
  }
  CHECK(t.a.net().tcb_count() == 2);  // the clients' sockets, still open
}

TEST_CASE("network: a SYN dropped on arrival waits for room, with or without delays",
          "[network][backlog]") {
  TestNet t(23);
  t.set_fault(FaultKind::delay, kPerMille);
  int l = t.a.socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  sockaddr_in addr = loopback(0);
  REQUIRE(t.a.bind(l, sa(addr), sizeof addr) == 0);
  REQUIRE(t.a.listen(l, 0) == 0);
  socklen_t len = sizeof addr;
  REQUIRE(t.a.getsockname(l, sa(addr), &len) == 0);
  int c1 = t.b.socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  REQUIRE(t.b.connect(c1, sa(addr), sizeof addr) == -1);
  t.settle();  // c1 is queued: the queue is full
  int c2 = t.b.socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  REQUIRE(t.b.connect(c2, sa(addr), sizeof addr) == -1);
  t.settle();
  const int ep = make_ep(t.b, c2, EPOLLOUT);
  CHECK(ready(t.b, ep).empty());  // SYN_SENT, waiting
  REQUIRE(t.a.accept4(l, nullptr, nullptr, 0) >= 0);
  t.settle();
  CHECK(ready(t.b, ep) == std::vector<uint32_t>{kOut});
  CHECK(t.a.accept4(l, nullptr, nullptr, 0) >= 0);
}

TEST_CASE("network: trace lines are tcpdump-shaped", "[network][trace]") {
  Segment s;
  s.saddr = edgecase::sim::kLoopbackAddr;
  s.sport = 32768;
  s.daddr = edgecase::sim::kLoopbackAddr;
  s.dport = 7000;
  s.flags = Segment::kSyn;
  s.wnd = 65535;
  CHECK(Network::describe(s) ==
        "net: 127.0.0.1.32768 > 127.0.0.1.7000: Flags [S], seq 0, win 65535, length 0");
  s.flags = Segment::kAck;
  s.seq = 1;
  s.ack = 1;
  s.data.assign(100, std::byte{'x'});
  CHECK(Network::describe(s) == "net: 127.0.0.1.32768 > 127.0.0.1.7000: Flags [P.], "
                                "seq 1:101, ack 1, win 65535, length 100");
  s.flags = Segment::kFin | Segment::kAck;
  CHECK(Network::describe(s) == "net: 127.0.0.1.32768 > 127.0.0.1.7000: Flags [FP.], "
                                "seq 1:101, ack 1, win 65535, length 100");
  s.data.clear();
  s.seq = 101;
  CHECK(Network::describe(s) == "net: 127.0.0.1.32768 > 127.0.0.1.7000: Flags [F.], "
                                "seq 101, ack 1, win 65535, length 0");
  s.flags = Segment::kAck;
  CHECK(Network::describe(s) ==
        "net: 127.0.0.1.32768 > 127.0.0.1.7000: Flags [.], ack 1, win 65535, length 0");
  s.flags = Segment::kRst;
  s.wnd = 0;
  CHECK(Network::describe(s) ==
        "net: 127.0.0.1.32768 > 127.0.0.1.7000: Flags [R], seq 101, win 0, length 0");
  s.flags = Segment::kRst | Segment::kAck;
  CHECK(Network::describe(s) ==
        "net: 127.0.0.1.32768 > 127.0.0.1.7000: Flags [R.], seq 101, ack 1, win 0, length 0");
  s.flags = Segment::kSyn | Segment::kAck;
  s.seq = 0;
  CHECK(Network::describe(s) == "net: 127.0.0.1.32768 > 127.0.0.1.7000: Flags [S.], "
                                "seq 0, ack 1, win 0, length 0");
}

TEST_CASE("network: the trace of a run with every fault is pinned for seed 42",
          "[network][trace][seed]") {
  TestNet t(42, /*keep_trace=*/true);
  t.set_fault(FaultKind::split, 500);
  t.set_fault(FaultKind::coalesce, 500);
  t.set_fault(FaultKind::delay, 500);
  Pair p = connect_pair(t);
  REQUIRE(t.b.write(p.c, pattern(300).data(), 300) == 300);
  REQUIRE(t.b.write(p.c, pattern(200).data(), 200) == 200);
  REQUIRE(t.b.shutdown(p.c, SHUT_WR) == 0);
  t.settle();
  REQUIRE(t.a.close(p.s) == 0);
  t.settle();
  const std::vector<std::string> expected = {
      "[      0.000ms] net: 127.0.0.1.32768 > 127.0.0.1.32769: "
      "Flags [S], seq 0, win 65536, length 0",
      "[      0.000ms] net: 127.0.0.1.32769 > 127.0.0.1.32768: "
      "Flags [S.], seq 0, ack 1, win 65536, length 0",
      "[      0.000ms] net: 127.0.0.1.32768 > 127.0.0.1.32769: "
      "Flags [.], ack 1, win 65536, length 0",
      "[      1.414ms] net: 127.0.0.1.32768 > 127.0.0.1.32769: "
      "Flags [P.], seq 1:301, ack 1, win 65536, length 300",
      "[      1.414ms] net: 127.0.0.1.32768 > 127.0.0.1.32769: "
      "Flags [P.], seq 301:356, ack 1, win 65536, length 55",
      "[      1.414ms] net: 127.0.0.1.32768 > 127.0.0.1.32769: "
      "Flags [P.], seq 356:401, ack 1, win 65536, length 45",
      "[      1.414ms] net: 127.0.0.1.32768 > 127.0.0.1.32769: "
      "Flags [P.], seq 401:484, ack 1, win 65536, length 83",
      "[      1.414ms] net: 127.0.0.1.32768 > 127.0.0.1.32769: "
      "Flags [P.], seq 484:489, ack 1, win 65536, length 5",
      "[      1.414ms] net: 127.0.0.1.32768 > 127.0.0.1.32769: "
      "Flags [P.], seq 489:495, ack 1, win 65536, length 6",
      "[      1.647ms] net: 127.0.0.1.32768 > 127.0.0.1.32769: "
      "Flags [P.], seq 495:499, ack 1, win 65536, length 4",
      "[      1.647ms] net: 127.0.0.1.32768 > 127.0.0.1.32769: "
      "Flags [FP.], seq 499:501, ack 1, win 65536, length 2",
      "[      2.910ms] net: 127.0.0.1.32769 > 127.0.0.1.32768: "
      "Flags [.], ack 356, win 65181, length 0",
      "[      2.910ms] net: 127.0.0.1.32769 > 127.0.0.1.32768: "
      "Flags [.], ack 401, win 65136, length 0",
      "[      2.910ms] net: 127.0.0.1.32769 > 127.0.0.1.32768: "
      "Flags [.], ack 489, win 65048, length 0",
      "[      2.910ms] net: 127.0.0.1.32769 > 127.0.0.1.32768: "
      "Flags [.], ack 495, win 65042, length 0",
      "[      2.910ms] net: 127.0.0.1.32769 > 127.0.0.1.32768: "
      "Flags [.], ack 499, win 65038, length 0",
      "[      2.910ms] net: 127.0.0.1.32769 > 127.0.0.1.32768: "
      "Flags [.], ack 502, win 65036, length 0",
      "[      2.910ms] net: 127.0.0.1.32769 > 127.0.0.1.32768: "
      "Flags [R.], seq 1, ack 502, win 65036, length 0"
  };
  CHECK(t.lines == expected);
}

TEST_CASE("network: destroying it drops what is in flight and restores instant delivery",
          "[network]") {
  SimKernel a;
  SimKernel b(SimOptions{}, a);
  struct Host final : Network::Host {
    Nanos now() const override { return 0; }
    void schedule_delivery(Nanos, uint32_t) override { ++scheduled; }
    bool fire(FaultKind) override { return false; }
    Rng& rng() override { return r; }
    bool tracing() const override { return false; }
    void trace(std::string_view) override {}
    Rng r{1};
    int scheduled = 0;
  } host;
  int l = a.socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  sockaddr_in addr = loopback(0);
  REQUIRE(a.bind(l, sa(addr), sizeof addr) == 0);
  REQUIRE(a.listen(l, 4) == 0);
  socklen_t len = sizeof addr;
  REQUIRE(a.getsockname(l, sa(addr), &len) == 0);
  int c = b.socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  {
    Network n(a.net(), host);
    CHECK(a.net().wire() == &n);
    REQUIRE(b.connect(c, sa(addr), sizeof addr) == -1);
    CHECK(n.in_flight() == 1);
    CHECK(host.scheduled == 1);
  }
  CHECK(a.net().wire() == nullptr);
  // The SYN was dropped with the network; a new connection is delivered within connect.
  int c2 = b.socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(b.connect(c2, sa(addr), sizeof addr) == 0);
  CHECK(a.accept4(l, nullptr, nullptr, 0) >= 0);
}
