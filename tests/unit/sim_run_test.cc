// Tests of harness/sim_run.h: a case run in the world with its peers, every fault of the plan
// shown firing (at 1000 per mille) and not firing (off, or at 0), the reference echo handler
// under no faults, the network's faults and all faults together, and determinism of the trace.
// The network's own faults (split, coalesce, delay) are tested in detail in network_test.cc.
#include "handlers/handlers.h"
#include "harness/sim_run.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <arpa/inet.h>
#include <cerrno>
#include <cstdint>
#include <fcntl.h>
#include <functional>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <vector>

#include "harness/generate.h"
#include "tests/unit/stream_check.h"

namespace {

using edgecase::Case;
using edgecase::echo_case;
using edgecase::Fault;
using edgecase::FaultKind;
using edgecase::FaultPlan;
using edgecase::Kernel;
using edgecase::kNanosPerMicro;
using edgecase::kNanosPerMilli;
using edgecase::Nanos;
using edgecase::Peer;
using edgecase::PeerScript;
using edgecase::SimRun;
using edgecase::SimRunOptions;
using edgecase::Step;
using edgecase::test::echo_check;
using edgecase::test::echoed_all;
using edgecase::test::echoed_prefix;
using edgecase::Stop;
using edgecase::sim::World;
using Op = Step::Op;
using Outcome = World::Outcome;

constexpr uint16_t kPort = edgecase::Scenario::kDefaultPort;
// Seeds for the runs that sweep: enough to reach every branch the faults take (each fault
// fires at a handful of opportunities per run).
constexpr uint64_t kSweepSeeds = 200;
// Seeds for the per-fault checks, which assert on every peer of every run.
constexpr uint64_t kFaultSeeds = 30;
// A handler's pause (an epoll_wait on an empty instance) that lets every connection of a case
// be established: handshakes take microseconds of virtual time.
constexpr int kSettleMs = 20;

FaultPlan only(FaultKind k, uint32_t per_mille) {
  FaultPlan p = FaultPlan::none();
  p[k] = Fault{true, per_mille};
  return p;
}

Case make_case(std::vector<PeerScript> peers, const FaultPlan& faults, uint64_t seed = 1) {
  Case c;
  c.scenario.peers = std::move(peers);
  c.seed = seed;
  c.faults = faults;
  return c;
}

PeerScript script(std::vector<Step> steps, Nanos start = 0) {
  return PeerScript{start, std::move(steps)};
}

Step step(Op op, uint64_t n = 0) { return Step{op, n, 0, ""}; }

SimRunOptions keep_trace() {
  SimRunOptions o;
  o.keep_trace = true;
  return o;
}

// `o` with `check` fed by the run's peers.
SimRunOptions checked(SimRunOptions o, edgecase::ProtocolCheck& check) {
  o.check = &check;
  return o;
}

size_t count_lines(SimRun& run, std::string_view needle) {
  const auto& all = run.world().trace().all();
  return static_cast<size_t>(std::count_if(all.begin(), all.end(), [&](const std::string& l) {
    return l.find(needle) != std::string::npos;
  }));
}

std::string trace_text(SimRun& run) {
  std::string out;
  for (const auto& l : run.world().trace().tail()) out += l + "\n";
  return out;
}

// --- handlers written for one check -------------------------------------------------------------

// A nonblocking listener on the scenario's address, and an epoll instance watching it (LT).
struct Listener {
  int lfd = -1;
  int ep = -1;
  int idle = -1;  // an epoll instance with nothing in it: waiting on it is a pause
};

Listener listen_on(Kernel& k) {
  Listener l;
  l.ep = k.epoll_create1(0);
  l.idle = k.epoll_create1(0);
  l.lfd = k.socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(kPort);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = static_cast<uint64_t>(l.lfd);
  if (l.ep < 0 || l.idle < 0 || l.lfd < 0 ||
      k.bind(l.lfd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || k.listen(l.lfd, 128) != 0 ||
      k.epoll_ctl(l.ep, EPOLL_CTL_ADD, l.lfd, &ev) != 0)
    throw std::runtime_error("cannot listen");
  return l;
}

void pause(Kernel& k, const Listener& l, int ms) {
  epoll_event evs[1];
  k.epoll_wait(l.idle, evs, 1, ms);
}

// Waits until the listener is readable, then lets every connection of the case arrive.
void await_clients(Kernel& k, const Listener& l) {
  epoll_event evs[1];
  while (k.epoll_wait(l.ep, evs, 1, -1) != 1) {
  }
  pause(k, l, kSettleMs);
}

// --- nothing fires when off -----------------------------------------------------------------------

TEST_CASE("sim_run: no fault fires when off or at 0 per mille", "[sim_run][fault]") {
  FaultPlan zero = FaultPlan::all(0);
  const FaultPlan plan = GENERATE_COPY(FaultPlan::none(), zero);
  for (uint64_t seed = 1; seed <= kFaultSeeds; ++seed) {
    const Case c = echo_case(seed, plan);
    const auto echo = echo_check();
    SimRun run(c, checked(keep_trace(), *echo));
    REQUIRE(run.scripts() == c.scenario.peers);
    run.run(edgecase::handlers::builtins());
    INFO("seed " << seed);
    REQUIRE(count_lines(run, "fault:") == 0);
    REQUIRE(count_lines(run, "signal:") == 0);
    for (const Peer* p : run.peers()) {
      REQUIRE(p->failure().empty());
      REQUIRE(echoed_all(*p));
    }
  }
}

// --- the reference handler ------------------------------------------------------------------------

TEST_CASE("sim_run: the echo handler with no faults echoes every byte, 200 seeds",
          "[sim_run][echo]") {
  for (uint64_t seed = 1; seed <= kSweepSeeds; ++seed) {
    const Case c = echo_case(seed, FaultPlan::none());
    const auto echo = echo_check();
    SimRun run(c, checked({}, *echo));
    const auto r = run.run(edgecase::handlers::builtins());
    INFO("seed " << seed << "\n" << trace_text(run));
    REQUIRE(r.outcome == Outcome::stopped);
    REQUIRE(r.stop->reason == Stop::Reason::quiescent);
    REQUIRE(r.stop->call == "epoll_wait");
    REQUIRE(run.peers().size() == c.scenario.peers.size());
    for (size_t i = 0; i < run.peers().size(); ++i) {
      const Peer& p = *run.peers()[i];
      uint64_t expected = 0;
      for (const Step& s : c.scenario.peers[i].steps)
        if (s.op == Op::send) expected += s.n;
      REQUIRE(p.done());
      REQUIRE(p.failure() == "");
      REQUIRE(p.step_index() == c.scenario.peers[i].steps.size());
      REQUIRE(p.sent().size() == expected);
      REQUIRE(echoed_all(p));
    }
    REQUIRE(run.world().server().check_invariants() == "");
  }
}

TEST_CASE("sim_run: the echo handler with the network's faults on echoes every byte, 200 seeds",
          "[sim_run][echo][fault]") {
  const uint32_t per_mille = GENERATE(500u, 1000u);
  FaultPlan plan = FaultPlan::none();
  for (FaultKind k : {FaultKind::split, FaultKind::coalesce, FaultKind::delay})
    plan[k] = Fault{true, per_mille};
  for (uint64_t seed = 1; seed <= kSweepSeeds; ++seed) {
    const auto echo = echo_check();
    SimRun run(echo_case(seed, plan), checked({}, *echo));
    run.run(edgecase::handlers::builtins());
    INFO("per mille " << per_mille << ", seed " << seed << "\n" << trace_text(run));
    for (const Peer* p : run.peers()) {
      REQUIRE(p->done());
      REQUIRE(p->failure() == "");
      REQUIRE(echoed_all(*p));
    }
  }
}

// Every peer either completes with everything echoed, or failed because a fault reset its
// connection (its own reset, or the server's accept abort); what it received is always a prefix
// of what it sent.
TEST_CASE("sim_run: the echo handler under all faults at 200 per mille: no silent mismatch",
          "[sim_run][echo][fault]") {
  const FaultPlan plan = FaultPlan::all(200);
  uint64_t failed_total = 0, aborts_total = 0, resets_total = 0;
  for (uint64_t seed = 1; seed <= kSweepSeeds; ++seed) {
    const auto echo = echo_check();
    SimRun run(echo_case(seed, plan), checked(keep_trace(), *echo));
    const auto r = run.run(edgecase::handlers::builtins());
    INFO("seed " << seed << "\n" << trace_text(run));
    REQUIRE(r.outcome == Outcome::stopped);
    REQUIRE(r.stop->reason == Stop::Reason::quiescent);
    const size_t aborts = count_lines(run, "fault: accept-abort");
    size_t failed = 0;
    for (size_t i = 0; i < run.peers().size(); ++i) {
      const Peer& p = *run.peers()[i];
      const auto& steps = run.scripts()[i].steps;
      const bool resets = std::any_of(steps.begin(), steps.end(),
                                      [](const Step& s) { return s.op == Op::reset; });
      INFO("peer#" << i + 1 << ": " << p.status() << " failure: " << p.failure());
      REQUIRE(p.done());
      REQUIRE(echoed_prefix(p));
      if (!p.failure().empty()) {
        ++failed;
        const bool by_reset = p.failure().find("ECONNRESET") != std::string::npos ||
                              p.failure().find("EPIPE") != std::string::npos;
        REQUIRE(by_reset);
      } else if (!resets) {
        REQUIRE(echoed_all(p));
      }
      resets_total += resets;
    }
    // A failed peer is one whose connection the server aborted.
    REQUIRE(failed <= aborts);
    failed_total += failed;
    aborts_total += aborts;
  }
  // The sweep reached both kinds of reset.
  REQUIRE(aborts_total > 0);
  REQUIRE(failed_total > 0);
  REQUIRE(resets_total > 0);
}

// --- the fd limit -----------------------------------------------------------------------------------

TEST_CASE("sim_run: fd_limit: accept4 fails with EMFILE at the lowered limit and the connection "
          "stays queued", "[sim_run][fault]") {
  constexpr int kPeers = 6;
  const bool on = GENERATE(true, false);
  std::vector<PeerScript> peers(kPeers, script({step(Op::connect), step(Op::read_eof)}));
  SimRun run(make_case(peers, only(FaultKind::fd_limit, on ? Fault::kPerMille : 0)),
             keep_trace());
  int first_batch = 0, err = 0, after_close = -2, total = 0, last_err = 0;
  size_t open_at_emfile = 0;
  const auto r = run.run([&](Kernel& k) {
    const Listener l = listen_on(k);
    await_clients(k, l);
    std::vector<int> fds;
    int fd;
    while ((fd = k.accept4(l.lfd, nullptr, nullptr, SOCK_NONBLOCK)) >= 0) fds.push_back(fd);
    err = errno;
    first_batch = static_cast<int>(fds.size());
    open_at_emfile = run.world().server().open_fd_count();
    // A freed fd lets the next queued connection through.
    k.close(fds.back());
    fds.pop_back();
    after_close = k.accept4(l.lfd, nullptr, nullptr, SOCK_NONBLOCK);
    total = first_batch + (after_close >= 0 ? 1 : 0);
    if (after_close >= 0) fds.push_back(after_close);
    for (;;) {
      for (int f : fds) k.close(f);
      fds.clear();
      while ((fd = k.accept4(l.lfd, nullptr, nullptr, SOCK_NONBLOCK)) >= 0) fds.push_back(fd);
      last_err = errno;
      total += static_cast<int>(fds.size());
      if (fds.empty()) break;
    }
  });
  INFO(trace_text(run));
  REQUIRE(r.outcome == Outcome::exited);
  REQUIRE(last_err == EAGAIN);
  REQUIRE(total == kPeers);  // EMFILE dropped no connection
  if (on) {
    REQUIRE(err == EMFILE);
    REQUIRE(first_batch >= 1);
    REQUIRE(first_batch < kPeers);
    REQUIRE(after_close >= 0);
    REQUIRE(count_lines(run, "fault: fd-limit: RLIMIT_NOFILE lowered to") == 1);
    std::string line;
    for (const auto& t : run.world().trace().all())
      if (t.find("RLIMIT_NOFILE lowered to ") != std::string::npos) line = t;
    REQUIRE(std::stoul(line.substr(line.rfind(' ') + 1)) == open_at_emfile);
  } else {
    REQUIRE(err == EAGAIN);
    REQUIRE(first_batch == kPeers);
    REQUIRE(after_close == -1);  // nothing was left queued
    REQUIRE(count_lines(run, "fault: fd-limit") == 0);
  }
}

// --- accept aborts ----------------------------------------------------------------------------------

TEST_CASE("sim_run: accept_abort: accept4 fails with ECONNABORTED and the peer sees ECONNRESET",
          "[sim_run][fault]") {
  constexpr int kPeers = 2;
  const bool on = GENERATE(true, false);
  std::vector<PeerScript> peers(kPeers, script({step(Op::connect), step(Op::expect, 5)}));
  edgecase::test::Recorder rec;
  SimRun run(make_case(peers, only(FaultKind::accept_abort, on ? Fault::kPerMille : 0)),
             checked(keep_trace(), rec));
  std::vector<int> results, errs;
  const auto r = run.run([&](Kernel& k) {
    const Listener l = listen_on(k);
    await_clients(k, l);
    for (;;) {
      const int fd = k.accept4(l.lfd, nullptr, nullptr, SOCK_NONBLOCK);
      results.push_back(fd);
      errs.push_back(fd < 0 ? errno : 0);
      if (fd < 0 && errno == EAGAIN) break;
      if (fd >= 0) k.write(fd, "hello", 5);
    }
    pause(k, l, kSettleMs);  // the resets reach the peers
  });
  INFO(trace_text(run));
  REQUIRE(r.outcome == Outcome::exited);
  REQUIRE(results.size() == kPeers + 1);
  REQUIRE(errs.back() == EAGAIN);
  for (int i = 0; i < kPeers; ++i) {
    const Peer& p = *run.peers()[static_cast<size_t>(i)];
    if (on) {
      REQUIRE(results[static_cast<size_t>(i)] == -1);
      REQUIRE(errs[static_cast<size_t>(i)] == ECONNABORTED);
      REQUIRE(p.done());
      REQUIRE(p.failure().find("ECONNRESET") != std::string::npos);
    } else {
      REQUIRE(results[static_cast<size_t>(i)] >= 0);
      REQUIRE(p.failure().empty());
      REQUIRE(rec.of(p) == "hello");
    }
  }
  REQUIRE(count_lines(run, "fault: accept-abort: accept4(") == (on ? kPeers : 0u));
}

// --- short writes -----------------------------------------------------------------------------------

// tcp_sendmsg under memory pressure (sim/tcp.h, memory_pressure): the write copies part and
// sets SOCK_NOSPACE, so the ACK that frees space wakes the writer with a new EPOLLOUT edge. A
// write that copied everything sets nothing, and no edge comes.
TEST_CASE("sim_run: short_write cuts a TCP write and EPOLLOUT comes back for the ET writer",
          "[sim_run][fault]") {
  constexpr size_t kLen = 1000;
  const bool on = GENERATE(true, false);
  std::vector<PeerScript> peers{script({step(Op::connect), step(Op::read_eof)})};
  SimRun run(make_case(peers, only(FaultKind::short_write, on ? Fault::kPerMille : 0)),
             keep_trace());
  ssize_t written = -2, pipe_written = -2, one_byte = -2;
  int initial = -2, later = -2;
  uint32_t later_events = 0;
  const auto r = run.run([&](Kernel& k) {
    const Listener l = listen_on(k);
    await_clients(k, l);
    const int fd = k.accept4(l.lfd, nullptr, nullptr, SOCK_NONBLOCK);
    const int ep = k.epoll_create1(0);
    epoll_event ev{};
    ev.events = EPOLLOUT | EPOLLET;
    ev.data.u64 = static_cast<uint64_t>(fd);
    k.epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
    epoll_event evs[2];
    initial = k.epoll_wait(ep, evs, 2, 0);  // the registration's edge
    const std::string buf(kLen, 'x');
    written = k.write(fd, buf.data(), buf.size());
    later = k.epoll_wait(ep, evs, 2, 100);  // the writer stops here, as an ET writer may
    later_events = later == 1 ? evs[0].events : 0;
    one_byte = k.write(fd, "y", 1);  // a single byte is never cut
    int p[2];
    k.pipe2(p, O_NONBLOCK);
    pipe_written = k.write(p[1], buf.data(), buf.size());  // not TCP: never cut
  });
  INFO(trace_text(run));
  REQUIRE(r.outcome == Outcome::exited);
  REQUIRE(initial == 1);
  REQUIRE(pipe_written == static_cast<ssize_t>(kLen));
  REQUIRE(one_byte == 1);
  if (on) {
    REQUIRE(written >= 1);
    REQUIRE(written <= static_cast<ssize_t>(kLen) - 1);
    REQUIRE(count_lines(run, "fault: short-write: write(") == 1);
    REQUIRE(later == 1);
    REQUIRE((later_events & EPOLLOUT) != 0);
  } else {
    REQUIRE(written == static_cast<ssize_t>(kLen));
    REQUIRE(count_lines(run, "fault: short-write") == 0);
    REQUIRE(later == 0);
  }
  const Peer& p = *run.peers()[0];
  REQUIRE(p.received_bytes() == static_cast<size_t>(written) + 1);
}

// --- small buffers ------------------------------------------------------------------------------------

TEST_CASE("sim_run: small_buffers: the server's send buffers are small, peers set SO_RCVBUF",
          "[sim_run][fault]") {
  const bool on = GENERATE(true, false);
  std::vector<PeerScript> peers(2, script({step(Op::connect), step(Op::read_eof)}));
  SimRun run(make_case(peers, only(FaultKind::small_buffers, on ? Fault::kPerMille : 0)),
             keep_trace());
  int sndbuf = -1;
  const auto r = run.run([&](Kernel& k) {
    const Listener l = listen_on(k);
    await_clients(k, l);
    const int fd = k.accept4(l.lfd, nullptr, nullptr, SOCK_NONBLOCK);
    socklen_t len = sizeof sndbuf;
    k.getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, &len);
  });
  INFO(trace_text(run));
  REQUIRE(r.outcome == Outcome::exited);
  for (size_t i = 0; i < run.peers().size(); ++i) {
    const auto& steps = run.scripts()[i].steps;
    const Peer& p = *run.peers()[i];
    if (on) {
      REQUIRE(steps.size() == 3);
      REQUIRE(steps[0].op == Op::rcvbuf);
      REQUIRE(steps[0].n >= SimRun::kSmallRcvbufMin);
      REQUIRE(steps[0].n <= SimRun::kSmallRcvbufMax);
      REQUIRE(steps[1].op == Op::connect);
      int rcvbuf = -1;
      socklen_t len = sizeof rcvbuf;
      REQUIRE(p.fd() >= 0);
      REQUIRE(run.world().remote().getsockopt(p.fd(), SOL_SOCKET, SO_RCVBUF, &rcvbuf, &len) == 0);
      REQUIRE(rcvbuf == static_cast<int>(2 * steps[0].n));  // Linux doubles it
    } else {
      REQUIRE(steps == run.the_case().scenario.peers[i].steps);
    }
  }
  if (on) {
    REQUIRE(sndbuf >= static_cast<int>(SimRun::kSmallWmemMin));
    REQUIRE(sndbuf <= static_cast<int>(SimRun::kSmallWmemMax));
    REQUIRE(count_lines(run, "fault: small-buffers: server send buffers") == 1);
  } else {
    REQUIRE(sndbuf > static_cast<int>(SimRun::kSmallWmemMax));
    REQUIRE(count_lines(run, "fault: small-buffers") == 0);
  }
}

// --- half close ---------------------------------------------------------------------------------------

TEST_CASE("sim_run: half_close: peers shut down after their last send and still get every byte",
          "[sim_run][fault]") {
  for (uint64_t seed = 1; seed <= kFaultSeeds; ++seed) {
    const Case c = echo_case(seed, only(FaultKind::half_close, Fault::kPerMille));
    const auto echo = echo_check();
    SimRun run(c, checked({}, *echo));
    run.run(edgecase::handlers::builtins());
    INFO("seed " << seed << "\n" << trace_text(run));
    for (size_t i = 0; i < run.peers().size(); ++i) {
      const auto& before = c.scenario.peers[i].steps;
      const auto& after = run.scripts()[i].steps;
      REQUIRE(after.size() == before.size() + 1);
      // Right after the last send, and nowhere else.
      size_t last_send = 0;
      for (size_t j = 0; j < before.size(); ++j)
        if (before[j].op == Op::send) last_send = j;
      REQUIRE(after[last_send + 1].op == Op::shutdown_write);
      std::vector<Step> without = after;
      without.erase(without.begin() + static_cast<std::ptrdiff_t>(last_send) + 1);
      REQUIRE(without == before);
      const Peer& p = *run.peers()[i];
      REQUIRE(p.done());
      REQUIRE(p.failure() == "");
      REQUIRE(echoed_all(p));
    }
  }
}

// --- peer resets --------------------------------------------------------------------------------------

// A server that echoes one connection until it ends, and says how it ended.
struct EndSeen {
  bool eof = false;
  int err = 0;
};

void echo_one(Kernel& k, EndSeen& end) {
  const Listener l = listen_on(k);
  epoll_event evs[1];
  while (k.epoll_wait(l.ep, evs, 1, -1) != 1) {
  }
  const int fd = k.accept4(l.lfd, nullptr, nullptr, SOCK_NONBLOCK);
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLRDHUP;
  ev.data.u64 = static_cast<uint64_t>(fd);
  k.epoll_ctl(l.ep, EPOLL_CTL_DEL, l.lfd, nullptr);  // the connection only, from now on
  k.epoll_ctl(l.ep, EPOLL_CTL_ADD, fd, &ev);
  char buf[4096];
  for (;;) {
    k.epoll_wait(l.ep, evs, 1, -1);
    const ssize_t r = k.read(fd, buf, sizeof buf);
    if (r > 0) {
      k.write(fd, buf, static_cast<size_t>(r));  // small: never short without the fault
    } else if (r == 0) {
      end.eof = true;
      return;
    } else if (errno != EAGAIN) {
      end.err = errno;
      return;
    }
  }
}

TEST_CASE("sim_run: peer_reset: the script is cut and ends with a reset, the server sees it end",
          "[sim_run][fault]") {
  const std::vector<Step> original{step(Op::connect), step(Op::send, 100), step(Op::expect, 100),
                                   step(Op::send, 50), step(Op::expect, 50), step(Op::close)};
  std::set<size_t> lengths;
  for (uint64_t seed = 1; seed <= kFaultSeeds; ++seed) {
    const auto echo = echo_check();
    SimRun run(make_case({script(original)}, only(FaultKind::peer_reset, Fault::kPerMille), seed),
               checked(keep_trace(), *echo));
    const auto& steps = run.scripts()[0].steps;
    INFO("seed " << seed);
    REQUIRE(steps.size() >= 2);
    REQUIRE(steps.back().op == Op::reset);
    REQUIRE(steps[0].op == Op::connect);
    // A prefix of the original, cut before its close: a reset after a close has no socket.
    REQUIRE(steps.size() - 1 < original.size());
    REQUIRE(std::equal(steps.begin(), steps.end() - 1, original.begin()));
    lengths.insert(steps.size());
    EndSeen end;
    const auto r = run.run([&](Kernel& k) { echo_one(k, end); });
    INFO(trace_text(run));
    REQUIRE(r.outcome == Outcome::exited);
    REQUIRE((end.eof || end.err == ECONNRESET));
    const Peer& p = *run.peers()[0];
    REQUIRE(p.done());
    REQUIRE(p.failure() == "");
    REQUIRE(p.fd() == -1);
    REQUIRE(echoed_prefix(p));
    REQUIRE(count_lines(run, "fault: peer-reset: peer#1 resets at step") == 1);
  }
  // Every cut point was drawn: after connect, after each send and expect.
  REQUIRE(lengths.size() == original.size() - 1);
}

TEST_CASE("sim_run: a peer's reset without the fault: the server sees ECONNRESET or EOF",
          "[sim_run]") {
  const auto echo = echo_check();
  SimRun run(make_case({script({step(Op::connect), step(Op::send, 10), step(Op::expect, 10),
                                step(Op::reset)})},
                       FaultPlan::none()),
             checked(keep_trace(), *echo));
  EndSeen end;
  const auto r = run.run([&](Kernel& k) { echo_one(k, end); });
  INFO(trace_text(run));
  REQUIRE(r.outcome == Outcome::exited);
  REQUIRE(end.err == ECONNRESET);
  REQUIRE_FALSE(end.eof);
  REQUIRE(echoed_all(*run.peers()[0]));
}

// --- slow readers ---------------------------------------------------------------------------------------

Nanos stamp_of(const std::string& line) {
  // "[    1.250ms] ...": whole milliseconds, then microseconds.
  const size_t open = line.find('['), dot = line.find('.'), ms = line.find("ms]");
  return std::stoll(line.substr(open + 1, dot - open - 1)) * kNanosPerMilli +
         std::stoll(line.substr(dot + 1, ms - dot - 1)) * kNanosPerMicro;
}

TEST_CASE("sim_run: slow_reader: reads of at most k bytes, spaced by at least t",
          "[sim_run][fault]") {
  for (uint64_t seed = 1; seed <= kFaultSeeds / 3; ++seed) {
    const Case c = echo_case(seed, only(FaultKind::slow_reader, Fault::kPerMille));
    const auto echo = echo_check();
    SimRun run(c, checked(keep_trace(), *echo));
    run.run(edgecase::handlers::builtins());
    INFO("seed " << seed);
    for (size_t i = 0; i < run.peers().size(); ++i) {
      const auto& steps = run.scripts()[i].steps;
      REQUIRE(steps[0].op == Op::connect);
      REQUIRE(steps[1].op == Op::slow_read);
      const uint64_t k = steps[1].n;
      const Nanos t = steps[1].t;
      REQUIRE(k >= 1);
      REQUIRE(k <= SimRun::kSlowReadMaxBytes);
      REQUIRE(t >= SimRun::kSlowReadMinGap);
      REQUIRE(t <= SimRun::kSlowReadMaxGap);
      const Peer& p = *run.peers()[i];
      REQUIRE(p.failure() == "");
      REQUIRE(echoed_all(p));
      // Each recv that returned data: at most k bytes, at least t after the previous one (the
      // stamps are truncated to microseconds).
      const std::string prefix = "peer#" + std::to_string(i + 1) + ": recv = ";
      Nanos last = -1;
      int reads = 0;
      for (const auto& line : run.world().trace().all()) {
        const size_t at = line.find(prefix);
        if (at == std::string::npos || line.find("= -1 ", at) != std::string::npos) continue;
        const uint64_t n = std::stoull(line.substr(at + prefix.size()));
        REQUIRE(n >= 1);
        REQUIRE(n <= k);
        const Nanos when = stamp_of(line);
        if (last >= 0) REQUIRE(when - last >= t - kNanosPerMicro);
        last = when;
        ++reads;
      }
      REQUIRE(static_cast<uint64_t>(reads) * k >= p.received_bytes());
    }
  }
}

// --- quiescence with peers --------------------------------------------------------------------------

// A rate-limited sender: a tick every 10 ms, a few bytes each. Its waits all time out, but the
// world is busy between them (deliveries, the peer reading): not quiescent.
TEST_CASE("sim_run: a handler sending on a timer to a reading peer is not quiescent",
          "[sim_run][world]") {
  constexpr int kTicks = 10;
  constexpr size_t kChunk = 10;
  SimRun run(make_case({script({step(Op::connect), step(Op::expect, kTicks * kChunk)})},
                       FaultPlan::none()),
             keep_trace());
  int sent = 0;
  const auto r = run.run([&](Kernel& k) {
    const Listener l = listen_on(k);
    await_clients(k, l);
    const int fd = k.accept4(l.lfd, nullptr, nullptr, SOCK_NONBLOCK);
    const std::string chunk(kChunk, 'x');
    for (int i = 0; i < kTicks; ++i) {
      pause(k, l, 10);
      if (k.write(fd, chunk.data(), chunk.size()) == static_cast<ssize_t>(kChunk)) ++sent;
    }
  });
  INFO(trace_text(run));
  REQUIRE(r.outcome == Outcome::exited);
  REQUIRE(sent == kTicks);
  REQUIRE(run.peers()[0]->done());
  REQUIRE(run.peers()[0]->failure() == "");
  REQUIRE(run.peers()[0]->received_bytes() == kTicks * kChunk);
}

// --- determinism ----------------------------------------------------------------------------------

TEST_CASE("sim_run: the same seed gives the same trace, different seeds different ones",
          "[sim_run][determinism]") {
  const FaultPlan plan = FaultPlan::all(200);
  auto hash = [&](uint64_t seed) {
    SimRun run(echo_case(seed, plan), {});
    run.run(edgecase::handlers::builtins());
    return run.world().trace().hash();
  };
  constexpr uint64_t kSeeds = 50;
  std::set<uint64_t> hashes;
  for (uint64_t seed = 1; seed <= kSeeds; ++seed) {
    const uint64_t h = hash(seed);
    REQUIRE(hash(seed) == h);
    hashes.insert(h);
  }
  REQUIRE(hashes.size() >= kSeeds - 1);
}

TEST_CASE("sim_run: two runs alive at once give the traces each gives alone",
          "[sim_run][determinism]") {
  const FaultPlan plan = FaultPlan::all(200);
  uint64_t alone1 = 0, alone2 = 0;
  {
    SimRun r1(echo_case(11, plan), {});
    r1.run(edgecase::handlers::builtins());
    alone1 = r1.world().trace().hash();
    SimRun r2(echo_case(12, plan), {});
    r2.run(edgecase::handlers::builtins());
    alone2 = r2.world().trace().hash();
  }
  SimRun a(echo_case(11, plan), {});
  SimRun b(echo_case(12, plan), {});
  b.run(edgecase::handlers::builtins());
  a.run(edgecase::handlers::builtins());
  REQUIRE(a.world().trace().hash() == alone1);
  REQUIRE(b.world().trace().hash() == alone2);
}

}  // namespace
