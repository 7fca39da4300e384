// Tests of harness/live_run.h: cases run on live loopback sockets. The reference echo server
// ends every case quiescent in epoll_wait with every peer served; handlers blocked in a
// blocking call, returning, or spinning are stopped as the simulation stops them; the
// scenario's port is remapped so that runs never collide; no run leaves an fd behind.
#include "harness/live_run.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <arpa/inet.h>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <dirent.h>
#include <fcntl.h>
#include <string>
#include <sys/epoll.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <vector>

#include "edgecase/runner.h"
#include "handlers/handlers.h"
#include "harness/generate.h"
#include "harness/sim_run.h"
#include "tests/unit/stream_check.h"

namespace {

using edgecase::Case;
using edgecase::echo_case;
using edgecase::FaultPlan;
using edgecase::Kernel;
using edgecase::kNanosPerMilli;
using edgecase::LiveRun;
using edgecase::LiveRunOptions;
using edgecase::test::echo_check;
using edgecase::test::echoed_all;
using edgecase::Nanos;
using edgecase::PeerScript;
using edgecase::SimRun;
using edgecase::SimRunOptions;
using edgecase::Step;
using edgecase::Stop;
using edgecase::sim::World;
using Op = Step::Op;
using Outcome = World::Outcome;

constexpr uint16_t kPort = edgecase::Scenario::kDefaultPort;
// Echo runs per check: a handful of shapes (sizes, starts, peers per message).
constexpr uint64_t kEchoSeeds = 8;
// A 4-peer echo case takes a few milliseconds live; far more means the peers were not driven
// promptly (or quiescence waited more than it should).
constexpr Nanos kEchoRunBound = 1'000 * kNanosPerMilli;
// Runs for the fd-leak and timing checks.
constexpr int kManyRuns = 50;
// A spinning handler's budget: small, so the test is quick.
constexpr uint64_t kSpinBudget = 20'000;
// Far more than a connection that is never read holds: the send buffer grows to tcp_wmem[2]
// (4 MiB here), an unread receive buffer stays near tcp_rmem[1] (128 KiB).
constexpr size_t kFlood = 16u << 20;

// The scripts both backends run for `c` (the fault plan applied).
std::vector<PeerScript> scripts_of(const Case& c) {
  SimRunOptions o;
  o.trace = false;
  return SimRun(c, o).scripts();
}

// Live options with `check` fed by the run's peers.
LiveRunOptions checked(edgecase::ProtocolCheck& check) {
  LiveRunOptions o;
  o.check = &check;
  return o;
}

Case case_with(std::vector<PeerScript> peers) {
  Case c;
  c.scenario.peers = std::move(peers);
  c.faults = FaultPlan::none();
  return c;
}

PeerScript script(std::vector<Step> steps) {
  PeerScript s;
  s.steps = std::move(steps);
  return s;
}

int open_fds() {
  int n = 0;
  DIR* d = ::opendir("/proc/self/fd");
  REQUIRE(d != nullptr);
  while (const dirent* e = ::readdir(d))
    if (e->d_name[0] != '.') ++n;
  ::closedir(d);
  return n;
}

// Listens on the scenario's port with a blocking socket and accepts one connection (blocking).
int listen_and_accept(Kernel& k) {
  const int lfd = k.socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(kPort);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(k.bind(lfd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  REQUIRE(k.listen(lfd, 16) == 0);
  const int fd = k.accept4(lfd, nullptr, nullptr, 0);
  REQUIRE(fd >= 0);
  return fd;
}

void require_echo_served(const LiveRun& run, const World::Result& r) {
  REQUIRE(r.outcome == Outcome::stopped);
  REQUIRE(r.stop->reason == Stop::Reason::quiescent);
  REQUIRE(r.stop->call == "epoll_wait");
  REQUIRE(r.stop->at < kEchoRunBound);
  for (const edgecase::Peer* p : run.peers()) {
    INFO(p->status());
    REQUIRE(p->done());
    REQUIRE(p->failure().empty());
    REQUIRE(echoed_all(*p));
    REQUIRE(p->sent().size() > 0);
  }
}

}  // namespace

TEST_CASE("live: the echo server serves every peer and ends quiescent in epoll_wait", "[live]") {
  for (uint64_t seed = 1; seed <= kEchoSeeds; ++seed) {
    INFO("seed " << seed);
    const Case c = echo_case(seed, FaultPlan::none());
    const auto echo = echo_check();
    LiveRun run(c, scripts_of(c), checked(*echo));
    const World::Result r = run.run(edgecase::handlers::find("echo", c.scenario));
    require_echo_served(run, r);
    REQUIRE(run.steps() > 0);
    REQUIRE(run.peers().size() == c.scenario.peers.size());
  }
}

TEST_CASE("live: a handler blocked in recv on a blocking socket is stopped there", "[live]") {
  // The peer connects and waits for a reply that never comes: nothing can move.
  const Case c = case_with({script({{Op::connect, 0, 0, ""}, {Op::expect, 5, 0, ""}})});
  LiveRun run(c, scripts_of(c));
  int conn = -1;
  const World::Result r = run.run([&](Kernel& k) {
    conn = listen_and_accept(k);
    char buf[16];
    k.recv(conn, buf, sizeof buf, 0);
    FAIL("recv returned");
  });
  REQUIRE(r.outcome == Outcome::stopped);
  REQUIRE(r.stop->reason == Stop::Reason::quiescent);
  REQUIRE(r.stop->call == "recv");
  REQUIRE(r.stop->fd == conn);
  // The emulated blocking left the socket as the handler made it: blocking.
  REQUIRE((::fcntl(conn, F_GETFL) & O_NONBLOCK) == 0);
  REQUIRE(run.peers()[0]->failure().empty());
  REQUIRE(!run.peers()[0]->done());
}

TEST_CASE("live: a blocking read gets the bytes a peer sends later", "[live]") {
  const Case c = case_with({script({{Op::connect, 0, 0, ""},
                                    {Op::sleep, 0, 5 * kNanosPerMilli, ""},
                                    {Op::send, 0, 0, "hello"},
                                    {Op::expect, 5, 0, ""}})});
  edgecase::test::Recorder rec;
  LiveRun run(c, scripts_of(c), checked(rec));
  std::string got;
  const World::Result r = run.run([&](Kernel& k) {
    const int conn = listen_and_accept(k);
    char buf[16];
    const ssize_t n = k.read(conn, buf, sizeof buf);
    REQUIRE(n == 5);
    got.assign(buf, 5);
    REQUIRE(k.write(conn, buf, 5) == 5);
    k.read(conn, buf, sizeof buf);  // the peer is done and keeps its socket: blocks
  });
  REQUIRE(got == "hello");
  REQUIRE(r.outcome == Outcome::stopped);
  REQUIRE(r.stop->reason == Stop::Reason::quiescent);
  REQUIRE(r.stop->call == "read");
  REQUIRE(run.peers()[0]->done());
  REQUIRE(rec.of(*run.peers()[0]) == "hello");
}

TEST_CASE("live: a blocking send to a peer that stopped reading is stopped in send", "[live]") {
  // The peer connects and its script ends: its socket stays open, never read (seed 000's
  // handler-blocked).
  const Case c = case_with({script({{Op::connect, 0, 0, ""}})});
  LiveRun run(c, scripts_of(c));
  size_t sent = 0;
  const World::Result r = run.run([&](Kernel& k) {
    const int conn = listen_and_accept(k);
    const std::string big(kFlood, 'x');
    const ssize_t n = k.send(conn, big.data(), big.size(), MSG_NOSIGNAL);
    sent = static_cast<size_t>(n);
  });
  REQUIRE(sent == 0);  // the send never returned
  REQUIRE(r.outcome == Outcome::stopped);
  REQUIRE(r.stop->reason == Stop::Reason::quiescent);
  REQUIRE(r.stop->call == "send");
  // What was queued before it stopped is still there for the oracles.
  REQUIRE(run.real().bytes_to_send(r.stop->fd).value_or(0) > 0);
}

TEST_CASE("live: a blocking write completes in full as the peer reads", "[live]") {
  constexpr uint64_t kBytes = 8u << 20;  // several times the socket buffers
  const Case c = case_with({script({{Op::connect, 0, 0, ""}, {Op::read_eof, 0, 0, ""}})});
  LiveRun run(c, scripts_of(c));
  ssize_t wrote = -1;
  const World::Result r = run.run([&](Kernel& k) {
    const int conn = listen_and_accept(k);
    const std::string big(kBytes, 'y');
    wrote = k.write(conn, big.data(), big.size());
    k.close(conn);
  });
  REQUIRE(wrote == static_cast<ssize_t>(kBytes));
  REQUIRE(r.outcome == Outcome::exited);
  REQUIRE(run.peers()[0]->done());
  REQUIRE(run.peers()[0]->failure().empty());
  REQUIRE(run.peers()[0]->received_bytes() == kBytes);
}

TEST_CASE("live: blocking accept4 and pipe read with nothing to come are quiescent", "[live]") {
  SECTION("accept4") {
    const Case c = case_with({});
    LiveRun run(c, {});
    const World::Result r = run.run([](Kernel& k) { listen_and_accept(k); });
    REQUIRE(r.outcome == Outcome::stopped);
    REQUIRE(r.stop->reason == Stop::Reason::quiescent);
    REQUIRE(r.stop->call == "accept4");
  }
  SECTION("read on an empty pipe") {
    const Case c = case_with({});
    LiveRun run(c, {});
    int rfd = -1;
    const World::Result r = run.run([&](Kernel& k) {
      int p[2];
      REQUIRE(k.pipe2(p, 0) == 0);
      rfd = p[0];
      char b;
      k.read(p[0], &b, 1);
    });
    REQUIRE(r.outcome == Outcome::stopped);
    REQUIRE(r.stop->reason == Stop::Reason::quiescent);
    REQUIRE(r.stop->call == "read");
    REQUIRE(r.stop->fd == rfd);
  }
}

TEST_CASE("live: poll is a blocking point, fds not the handler's are POLLNVAL", "[live][poll]") {
  SECTION("a timerfd wakes it; a foreign fd shows POLLNVAL at once") {
    const Case c = case_with({});
    LiveRun run(c, {});
    int n = -2, m = -2, foreign = 0, timer = 0;
    const World::Result r = run.run([&](Kernel& k) {
      const int t = k.timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
      itimerspec v{};
      v.it_value.tv_nsec = 2 * kNanosPerMilli;
      k.timerfd_settime(t, 0, &v, nullptr);
      pollfd fds[] = {{t, POLLIN, 0}};
      n = k.poll(fds, 1, -1);
      timer = fds[0].revents;
      pollfd other[] = {{1, POLLOUT, 0}, {t, POLLIN, 0}};  // fd 1 is the test's, not the handler's
      m = k.poll(other, 2, -1);
      foreign = other[0].revents;
    });
    REQUIRE(r.outcome == Outcome::exited);
    REQUIRE(n == 1);
    REQUIRE(timer == POLLIN);
    REQUIRE(m == 2);  // the unread timer, and the foreign fd
    REQUIRE(foreign == POLLNVAL);
  }
  SECTION("with nothing to come it is quiescent") {
    const Case c = case_with({});
    LiveRun run(c, {});
    const World::Result r = run.run([](Kernel& k) {
      int p[2];
      REQUIRE(k.pipe2(p, 0) == 0);
      pollfd fds[] = {{p[0], POLLIN, 0}};
      k.poll(fds, 1, -1);
    });
    REQUIRE(r.outcome == Outcome::stopped);
    REQUIRE(r.stop->reason == Stop::Reason::quiescent);
    REQUIRE(r.stop->call == "poll");
  }
}

TEST_CASE("live: calls made while the handler unwinds neither block nor throw", "[live]") {
  const Case c = case_with({});
  LiveRun run(c, {});
  ssize_t in_dtor = 0;
  int dtor_errno = 0;
  struct ReadsOnExit {
    Kernel& k;
    int fd;
    ssize_t& r;
    int& e;
    ~ReadsOnExit() {
      char b;
      r = k.read(fd, &b, 1);  // a blocking pipe with nothing in it
      e = errno;
      k.close(fd);
    }
  };
  const World::Result r = run.run([&](Kernel& k) {
    int p[2];
    REQUIRE(k.pipe2(p, 0) == 0);
    ReadsOnExit guard{k, p[0], in_dtor, dtor_errno};
    const int ep = k.epoll_create1(0);
    epoll_event ev[1];
    for (;;) k.epoll_wait(ep, ev, 1, -1);
  });
  REQUIRE(r.outcome == Outcome::stopped);
  REQUIRE(r.stop->reason == Stop::Reason::quiescent);
  REQUIRE(in_dtor == -1);
  REQUIRE(dtor_errno == EAGAIN);
}

TEST_CASE("live: a handler that returns exits, its clients are refused", "[live]") {
  const Case c = case_with({script({{Op::connect, 0, 0, ""}, {Op::expect, 1, 0, ""}})});
  LiveRun run(c, scripts_of(c));
  const World::Result r = run.run([](Kernel&) {});
  REQUIRE(r.outcome == Outcome::exited);
  REQUIRE(!r.stop);
  // Nothing listens: the peers connect to a port that is ours and refuses, not to whatever
  // another process has on the scenario's port.
  REQUIRE(run.peers()[0]->failure() == "connect: ECONNREFUSED");
}

TEST_CASE("live: a handler that throws is reported", "[live]") {
  const Case c = case_with({});
  LiveRun run(c, {});
  const World::Result r = run.run([](Kernel&) { throw std::runtime_error("boom"); });
  REQUIRE(r.outcome == Outcome::threw);
  REQUIRE(r.error == "boom");
}

TEST_CASE("live: a handler spinning on epoll_wait(0) hits the step budget", "[live]") {
  const Case c = echo_case(1, FaultPlan::none());
  LiveRunOptions o;
  o.step_budget = kSpinBudget;
  LiveRun run(c, scripts_of(c), o);
  const World::Result r = run.run([](Kernel& k) {
    const int ep = k.epoll_create1(0);
    epoll_event ev[4];
    for (;;) k.epoll_wait(ep, ev, 4, 0);
  });
  REQUIRE(r.outcome == Outcome::stopped);
  REQUIRE(r.stop->reason == Stop::Reason::step_budget);
  REQUIRE(r.stop->call == "epoll_wait");
  REQUIRE(run.steps() == kSpinBudget + 1);
}

TEST_CASE("live: a handler past the wall-time limit is stopped", "[live]") {
  // A peer that sleeps keeps the run from being quiescent.
  const Case c = case_with({script({{Op::sleep, 0, 10'000 * kNanosPerMilli, ""}})});
  LiveRunOptions o;
  o.time_limit = 100 * kNanosPerMilli;
  LiveRun run(c, scripts_of(c), o);
  const World::Result r = run.run([](Kernel& k) {
    const int ep = k.epoll_create1(0);
    epoll_event ev[4];
    for (;;) k.epoll_wait(ep, ev, 4, -1);
  });
  REQUIRE(r.outcome == Outcome::stopped);
  REQUIRE(r.stop->reason == Stop::Reason::time_limit);
  REQUIRE(r.stop->call == "epoll_wait");
  REQUIRE(r.stop->at >= o.time_limit);
}

TEST_CASE("live: the scenario's port is remapped, two runs hold it at once", "[live]") {
  const Case c = echo_case(3, FaultPlan::none());
  const auto echo_first = echo_check();
  const auto echo_second = echo_check();
  LiveRun first(c, scripts_of(c), checked(*echo_first));
  LiveRun second(c, scripts_of(c), checked(*echo_second));
  // The first run's listener stays bound until `first` is destroyed.
  require_echo_served(first, first.run(edgecase::handlers::find("echo", c.scenario)));
  uint16_t seen = 0;
  uint16_t real = 0;
  const World::Result r = second.run([&](Kernel& k) {
    const int lfd = k.socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(kPort);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(k.bind(lfd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    socklen_t len = sizeof a;
    REQUIRE(k.getsockname(lfd, reinterpret_cast<sockaddr*>(&a), &len) == 0);
    seen = ntohs(a.sin_port);
    REQUIRE(second.real().getsockname(lfd, reinterpret_cast<sockaddr*>(&a), &len) == 0);
    real = ntohs(a.sin_port);
    k.close(lfd);
    edgecase::handlers::echo_server(k, INADDR_LOOPBACK, kPort);
  });
  REQUIRE(seen == kPort);  // the handler sees the port it asked for
  REQUIRE(real != kPort);
  require_echo_served(second, r);
}

TEST_CASE("live: the handler cannot touch fds that are not its own", "[live]") {
  const Case c = case_with({});
  LiveRun run(c, {});
  run.run([](Kernel& k) {
    REQUIRE(k.close(1) == -1);
    REQUIRE(errno == EBADF);
    REQUIRE(k.write(2, "x", 1) == -1);
    REQUIRE(errno == EBADF);
    const int fd = k.socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(fd >= 0);
    REQUIRE(k.dup2(fd, 1) == -1);
    REQUIRE(errno == EBUSY);
  });
  REQUIRE(::fcntl(1, F_GETFD) >= 0);
}

TEST_CASE("live: runs leave no fd behind", "[live]") {
  const Case c = echo_case(5, FaultPlan::none());
  const std::vector<PeerScript> scripts = scripts_of(c);
  const int before = open_fds();
  for (int i = 0; i < kManyRuns; ++i) {
    LiveRun run(c, scripts);
    const World::Result r = run.run(edgecase::handlers::find("echo", c.scenario));
    REQUIRE(r.outcome == Outcome::stopped);
  }
  // A blocked handler and a handler that exits with fds open leave none either.
  for (int i = 0; i < 5; ++i) {
    const Case b = case_with({script({{Op::connect, 0, 0, ""}})});
    LiveRun run(b, scripts_of(b));
    run.run([](Kernel& k) {
      int p[2];
      k.pipe2(p, 0);
      k.eventfd(0, 0);
      listen_and_accept(k);
    });
  }
  REQUIRE(open_fds() == before);
}

TEST_CASE("live: timing of a 4-peer echo case", "[.][live-timing]") {
  const Case c = echo_case(7, FaultPlan::none());
  const std::vector<PeerScript> scripts = scripts_of(c);
  std::vector<double> ms;
  std::vector<double> stop_ms;
  for (int i = 0; i < kManyRuns; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    const auto echo = echo_check();
    LiveRun run(c, scripts, checked(*echo));
    const World::Result r = run.run(edgecase::handlers::find("echo", c.scenario));
    require_echo_served(run, r);
    stop_ms.push_back(static_cast<double>(r.stop->at) / 1e6);
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0)
                     .count());
  }
  std::sort(ms.begin(), ms.end());
  std::sort(stop_ms.begin(), stop_ms.end());
  std::printf("live echo (4 peers, seed 7): median %.2f ms per run (min %.2f, max %.2f); "
              "stopped at median %.2f ms\n",
              ms[ms.size() / 2], ms.front(), ms.back(), stop_ms[stop_ms.size() / 2]);
}

TEST_CASE("live: many runs in a row (ports, TIME_WAIT)", "[.][live-stress]") {
  constexpr int kRuns = 3000;
  int unclean = 0;
  for (int i = 0; i < kRuns; ++i) {
    const Case c = echo_case(static_cast<uint64_t>(i), FaultPlan::none());
    LiveRun run(c, scripts_of(c));
    const World::Result r = run.run(edgecase::handlers::find("echo", c.scenario));
    bool ok = r.outcome == Outcome::stopped && r.stop->reason == Stop::Reason::quiescent;
    for (const edgecase::Peer* p : run.peers()) ok = ok && p->done() && p->failure().empty();
    if (!ok) {
      ++unclean;
      for (const edgecase::Peer* p : run.peers()) UNSCOPED_INFO(p->status());
    }
  }
  REQUIRE(unclean == 0);
}

TEST_CASE("live: the peers' script faults apply live, echo serves them all", "[live]") {
  FaultPlan faults = FaultPlan::none();
  for (const edgecase::FaultKind k : {edgecase::FaultKind::slow_reader,
                                      edgecase::FaultKind::small_buffers,
                                      edgecase::FaultKind::half_close})
    faults[k] = edgecase::Fault{true, 1000};
  for (uint64_t seed = 1; seed <= 4; ++seed) {
    INFO("seed " << seed);
    const Case c = echo_case(seed, faults);
    const std::vector<PeerScript> scripts = scripts_of(c);
    // The faults did change the scripts (a slow_read step after each connect).
    REQUIRE(scripts != c.scenario.peers);
    const auto echo = echo_check();
    LiveRun run(c, scripts, checked(*echo));
    require_echo_served(run, run.run(edgecase::handlers::find("echo", c.scenario)));
  }
}

// --- through the runner ---------------------------------------------------------------------

namespace {
constexpr uint64_t kRunnerSeeds = 50;

edgecase::RunOptions live_options() {
  edgecase::RunOptions o;
  o.handlers = &edgecase::handlers::builtins();
  o.backend = edgecase::Backend::live;
  return o;
}
}  // namespace

TEST_CASE("live: run_case finds the echo server clean on 50 seeds", "[live][runner]") {
  const edgecase::RunOptions o = live_options();
  for (uint64_t seed = 1; seed <= kRunnerSeeds; ++seed) {
    const Case c = echo_case(seed, FaultPlan::none());
    const edgecase::Report r = edgecase::run_case(c, o);
    INFO("seed " << seed << "\n" << r.format());
    REQUIRE(r.backend == edgecase::Backend::live);
    REQUIRE(r.clean());
    REQUIRE(r.steps > 0);
    REQUIRE(r.peers.size() == c.scenario.peers.size());
  }
}

TEST_CASE("live: timing of a 4-peer echo case through run_case", "[.][live-timing]") {
  const Case c = echo_case(7, FaultPlan::none());
  for (const bool isolate : {false, true}) {
    edgecase::RunOptions o = live_options();
    o.isolate = isolate;
    std::vector<double> ms;
    std::vector<double> end_ms;
    for (int i = 0; i < kManyRuns; ++i) {
      const auto t0 = std::chrono::steady_clock::now();
      const edgecase::Report r = edgecase::run_case(c, o);
      REQUIRE(r.clean());
      end_ms.push_back(static_cast<double>(r.end) / 1e6);
      ms.push_back(
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    }
    std::sort(ms.begin(), ms.end());
    std::sort(end_ms.begin(), end_ms.end());
    std::printf("run_case live%s (4 peers, seed 7): median %.2f ms per run (min %.2f, max %.2f); "
                "ended at median %.2f ms\n",
                isolate ? " isolated" : "", ms[ms.size() / 2], ms.front(), ms.back(),
                end_ms[end_ms.size() / 2]);
  }
}
