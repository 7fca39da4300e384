// Tests of harness/peer.h: every step kind, its waits, what it records and how it fails, on two
// simulated hosts sharing one network (no World: with no wire installed, segments are delivered
// within the sending call, so the test drives the peer and a hand-written server alternately).
// One case runs the same engine live, on loopback through RealKernel.
#include "harness/peer.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <arpa/inet.h>
#include <cerrno>
#include <cstdint>
#include <functional>
#include <ostream>
#include <netinet/in.h>
#include <string>
#include <string_view>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <vector>

#include "edgecase/real_kernel.h"
#include "edgecase/scenario.h"
#include "edgecase/sim_kernel.h"
#include "edgecase/strace.h"
#include "tests/unit/stream_check.h"

namespace edgecase {
// For Catch's messages.
std::ostream& operator<<(std::ostream& os, const PeerWait& w) {
  static constexpr const char* kKinds[] = {"io", "time", "done"};
  return os << "{" << kKinds[static_cast<int>(w.kind)] << ", " << epoll_events_name(w.events)
            << ", " << w.until << "}";
}
}  // namespace edgecase

namespace {

using edgecase::Kernel;
using edgecase::kNanosPerMilli;
using edgecase::Nanos;
using edgecase::Peer;
using edgecase::PeerScript;
using edgecase::PeerWait;
using edgecase::SimKernel;
using edgecase::SimOptions;
using edgecase::Step;
using Op = Step::Op;
using Kind = PeerWait::Kind;

constexpr uint16_t kPort = 7000;
// Rounds of (peer, server) a case may take: every case here needs far fewer; a bug that makes
// a peer stall or spin fails the REQUIRE after the loop instead of hanging.
constexpr int kMaxRounds = 200;

sockaddr_in loopback(uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return a;
}

Step step(Op op, uint64_t n = 0, Nanos t = 0, std::string data = {}) {
  Step s;
  s.op = op;
  s.n = n;
  s.t = t;
  s.data = std::move(data);
  return s;
}

std::string pattern(uint32_t peer, uint64_t from, uint64_t n) {
  std::string s;
  for (uint64_t i = 0; i < n; ++i) s += edgecase::pattern_byte(peer, from + i);
  return s;
}

// Host a is the server's, host b the peers'. The server side is written by hand per case.
struct Hosts {
  SimKernel a;
  SimKernel b{SimOptions{}, a};
  int lfd = -1;
  int cfd = -1;  // the accepted connection

  void listen(uint16_t port = kPort) {
    lfd = a.socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    REQUIRE(lfd >= 0);
    sockaddr_in addr = loopback(port);
    REQUIRE(a.bind(lfd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    REQUIRE(a.listen(lfd, 16) == 0);
  }
  bool accept() {
    if (cfd < 0) cfd = a.accept4(lfd, nullptr, nullptr, SOCK_NONBLOCK);
    return cfd >= 0;
  }
  // Everything readable now; `eof` is set when a read returned 0, `err` to a read's errno.
  std::string drain(bool* eof = nullptr, int* err = nullptr) {
    std::string out;
    char buf[4096];
    for (;;) {
      ssize_t r = a.recv(cfd, buf, sizeof buf, 0);
      if (r > 0) {
        out.append(buf, static_cast<size_t>(r));
        continue;
      }
      if (r == 0 && eof) *eof = true;
      if (r < 0 && errno != EAGAIN && err) *err = errno;
      return out;
    }
  }
  void write(std::string_view s) {
    REQUIRE(a.send(cfd, s.data(), s.size(), 0) == static_cast<ssize_t>(s.size()));
  }
  void reset_server_side() {
    linger lg{1, 0};
    REQUIRE(a.setsockopt(cfd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg) == 0);
    REQUIRE(a.close(cfd) == 0);
    cfd = -1;
  }
};

// A peer whose trace lines and received bytes are kept.
struct Traced {
  Peer peer;
  std::vector<std::string> lines;
  edgecase::test::Recorder rec;
  Traced(uint32_t index, PeerScript script, uint16_t port = kPort)
      : peer(index, std::move(script), loopback(port)) {
    peer.set_trace([this](std::string_view l) { lines.emplace_back(l); });
    peer.set_check(&rec);
  }
  std::string received() const { return rec.of(peer); }
  std::string sent() const { return edgecase::test::sent_text(peer); }
};

PeerScript script(std::vector<Step> steps, Nanos start = 0) {
  return PeerScript{start, std::move(steps)};
}

// Runs the peer, then `server`, until the peer is done; a time wait moves `now` to it.
// Returns every wait the peer returned.
std::vector<PeerWait> drive(Peer& p, Kernel& k, const std::function<void()>& server,
                            Nanos& now) {
  std::vector<PeerWait> waits;
  for (int round = 0; round < kMaxRounds && !p.done(); ++round) {
    PeerWait w = p.run(k, now);
    waits.push_back(w);
    if (w.kind == Kind::time) now = std::max(now, w.until);
    server();
  }
  REQUIRE(p.done());
  return waits;
}
std::vector<PeerWait> drive(Peer& p, Kernel& k, const std::function<void()>& server) {
  Nanos now = 0;
  return drive(p, k, server, now);
}

bool contains(const std::vector<std::string>& lines, std::string_view s) {
  return std::find(lines.begin(), lines.end(), s) != lines.end();
}

}  // namespace

TEST_CASE("peer: pattern_byte is printable, never a newline, and not periodic", "[peer]") {
  constexpr uint64_t kSpan = 64 * 1024;
  constexpr uint64_t kMaxPeriod = 256;
  const std::string p1 = pattern(1, 0, kSpan + kMaxPeriod);
  CHECK(std::all_of(p1.begin(), p1.end(), [](char c) { return c >= '!' && c <= '~'; }));
  CHECK(p1.find('\n') == std::string::npos);
  for (uint64_t period = 1; period <= kMaxPeriod; ++period) {
    bool differs = false;
    for (uint64_t i = 0; i + period < kSpan && !differs; ++i) differs = p1[i] != p1[i + period];
    INFO("period " << period);
    REQUIRE(differs);
  }
  // Fixed values: a change of the pattern changes every stored case's expected bytes.
  CHECK(pattern(1, 0, 8) == "gn7~.P-;");
  CHECK(pattern(2, 0, 8) != pattern(1, 0, 8));
  CHECK(edgecase::pattern_byte(1, 1'000'000) == edgecase::pattern_byte(1, 1'000'000));
}

TEST_CASE("peer: pattern_fill gives pattern_byte's bytes at any offset and length", "[peer]") {
  for (uint32_t peer : {1u, 2u, 77u}) {
    for (uint64_t offset : {0u, 1u, 7u, 8u, 13u, 4096u, 65533u}) {
      for (size_t n : {0u, 1u, 5u, 8u, 9u, 16u, 31u, 32u, 33u, 63u, 64u, 71u, 1000u, 4099u}) {
        INFO("peer " << peer << " offset " << offset << " n " << n);
        std::string got(n, '\0');
        edgecase::pattern_fill(peer, offset, got.data(), n);
        const std::string want = pattern(peer, offset, n);
        REQUIRE(got == want);
        // Every way the CPU has gives the same bytes.
        using edgecase::PatternPath;
        for (PatternPath path : {PatternPath::portable, PatternPath::avx2, PatternPath::avx512}) {
          std::string via(n, '\0');
          if (edgecase::pattern_fill_via(path, peer, offset, via.data(), n))
            REQUIRE(via == want);
        }
      }
    }
  }
}

TEST_CASE("peer: connect creates the socket, waits for EPOLLOUT, then is connected", "[peer]") {
  Hosts h;
  h.listen();
  Traced t(1, script({step(Op::connect)}));
  CHECK(t.peer.fd() == -1);
  CHECK(t.peer.run(h.b, 0) == PeerWait{Kind::io, EPOLLOUT, 0});
  CHECK(t.peer.fd() == 3);
  CHECK(!t.peer.done());
  CHECK(t.peer.step_index() == 0);
  CHECK(t.peer.run(h.b, 0) == PeerWait{Kind::done, 0, 0});
  CHECK(t.peer.done());
  CHECK(t.peer.failure().empty());
  CHECK(t.peer.step_index() == 1);
  // The script ended without close: the socket stays open, and the server can accept it.
  CHECK(t.peer.fd() == 3);
  CHECK(h.b.file_at(3) != nullptr);
  CHECK(h.accept());
  CHECK(t.lines == std::vector<std::string>{
                       "peer#1: socket(AF_INET, SOCK_STREAM|SOCK_NONBLOCK|SOCK_CLOEXEC, 0) = 3",
                       "peer#1: connect(3, 127.0.0.1:7000) = -1 EINPROGRESS (from port 32768)",
                       "peer#1: connected", "peer#1: done"});
  // A done peer does nothing more.
  CHECK(t.peer.run(h.b, 0) == PeerWait{Kind::done, 0, 0});
  CHECK(t.lines.size() == 4);
}

TEST_CASE("peer: connect refused ends the script with ECONNREFUSED", "[peer]") {
  Hosts h;  // nothing listens
  Traced t(2, script({step(Op::connect), step(Op::send, 10)}));
  CHECK(t.peer.run(h.b, 0) == PeerWait{Kind::io, EPOLLOUT, 0});
  CHECK(t.peer.run(h.b, 0) == PeerWait{Kind::done, 0, 0});
  CHECK(t.peer.failure() == "connect: ECONNREFUSED");
  CHECK(t.peer.step_index() == 0);
  CHECK(t.peer.sent().size() == 0);
  CHECK(contains(t.lines, "peer#2: getsockopt(3, SO_ERROR) = ECONNREFUSED"));
  CHECK(t.lines.back() == "peer#2: failed: connect: ECONNREFUSED");
}

TEST_CASE("peer: a connection reset before the peer saw it complete fails the connect step",
          "[peer]") {
  // The check after EPOLLOUT reads SO_ERROR, which then says ECONNRESET: what any client
  // using the usual connect pattern sees. In a world the peer runs on the handshake's wakeup,
  // before the server can accept; here the test lets the server go first.
  Hosts h;
  h.listen();
  Traced t(1, script({step(Op::connect), step(Op::expect, 10)}));
  CHECK(t.peer.run(h.b, 0) == PeerWait{Kind::io, EPOLLOUT, 0});
  REQUIRE(h.accept());
  h.reset_server_side();
  CHECK(t.peer.run(h.b, 0) == PeerWait{Kind::done, 0, 0});
  CHECK(t.peer.failure() == "connect: ECONNRESET");
}

TEST_CASE("peer: a wakeup before the handshake completes is waited out", "[peer]") {
  Hosts h;
  h.lfd = h.a.socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  sockaddr_in addr = loopback(kPort);
  REQUIRE(h.a.bind(h.lfd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  REQUIRE(h.a.listen(h.lfd, 0) == 0);  // holds one connection
  int first = h.b.socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  REQUIRE(h.b.connect(first, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == -1);
  Traced t(1, script({step(Op::connect)}));
  CHECK(t.peer.run(h.b, 0) == PeerWait{Kind::io, EPOLLOUT, 0});
  // The accept queue is full: the peer's SYN waits. Running it again finds it still connecting.
  CHECK(t.peer.run(h.b, 0) == PeerWait{Kind::io, EPOLLOUT, 0});
  CHECK(!t.peer.done());
  REQUIRE(h.accept());  // room again: the waiting SYN gets its answer
  CHECK(t.peer.run(h.b, 0) == PeerWait{Kind::done, 0, 0});
  CHECK(t.peer.failure().empty());
  CHECK(t.lines.back() == "peer#1: done");
}

TEST_CASE("peer: send writes the pattern over the whole stream, or the given bytes", "[peer]") {
  Hosts h;
  h.listen();
  Traced t(1, script({step(Op::connect), step(Op::send, 100), step(Op::send, 0, 0, "hello\n"),
                      step(Op::send, 50), step(Op::send, 0)}));
  std::string got;
  drive(t.peer, h.b, [&] {
    if (h.accept()) got += h.drain();
  });
  const std::string want = pattern(1, 0, 100) + "hello\n" + pattern(1, 106, 50);
  CHECK(t.sent() == want);
  CHECK(got == want);
  CHECK(t.peer.failure().empty());
  CHECK(t.received().empty());
  CHECK(contains(t.lines, "peer#1: send 100 = 100 (100/100)"));
  CHECK(contains(t.lines, "peer#1: send 6 = 6 (6/6)"));
  CHECK(contains(t.lines, "peer#1: send 50 = 50 (50/50)"));
}

TEST_CASE("peer: a large send waits for EPOLLOUT and never makes more than the call budget",
          "[peer]") {
  constexpr uint64_t kBig = 4 * 1024 * 1024;
  Hosts h;
  h.listen();
  int calls = 0;
  edgecase::TracingKernel counted(h.b, [&](const std::string&) { ++calls; });
  Peer p(3, script({step(Op::connect), step(Op::send, kBig)}), loopback(kPort));
  std::string got;
  int io_waits = 0;
  int yields = 0;
  int max_calls = 0;
  for (int round = 0; round < 10 * kMaxRounds && !p.done(); ++round) {
    calls = 0;
    PeerWait w = p.run(counted, 0);
    max_calls = std::max(max_calls, calls);
    if (w == PeerWait{Kind::io, EPOLLOUT, 0}) ++io_waits;
    if (w == PeerWait{Kind::time, 0, 0}) ++yields;
    // A server that reads now and then, so that the peer's buffers fill.
    if (h.accept() && round % 8 == 7) got += h.drain();
  }
  got += h.drain();
  REQUIRE(p.done());
  CHECK(p.failure().empty());
  CHECK(max_calls <= Peer::kMaxCallsPerRun);
  INFO("EPOLLOUT waits " << io_waits << ", yields " << yields);
  CHECK(io_waits > 1);
  CHECK(p.sent().size() == kBig);
  CHECK((edgecase::test::sent_text(p) == pattern(3, 0, kBig)));  // megabytes: no expansion
  CHECK((got == edgecase::test::sent_text(p)));  // megabytes: no expansion
  CHECK(p.sent().size() == kBig);
}

TEST_CASE("peer: run() yields after kMaxCallsPerRun calls with a time wait at now", "[peer]") {
  constexpr size_t kSteps = 200;
  Hosts h;
  std::vector<Step> steps(kSteps, step(Op::rcvbuf, 8192));
  Peer p(1, script(steps), loopback(kPort));
  // socket() is the first call, then one setsockopt per step.
  CHECK(p.run(h.b, 5) == PeerWait{Kind::time, 0, 5});
  CHECK(p.step_index() == Peer::kMaxCallsPerRun - 1);
  CHECK(p.run(h.b, 5) == PeerWait{Kind::time, 0, 5});
  CHECK(p.step_index() == 2 * Peer::kMaxCallsPerRun - 1);
  CHECK(p.run(h.b, 6) == PeerWait{Kind::time, 0, 6});
  CHECK(p.step_index() == 3 * Peer::kMaxCallsPerRun - 1);
  CHECK(p.run(h.b, 6) == PeerWait{Kind::done, 0, 0});
  CHECK(p.step_index() == kSteps);
}

TEST_CASE("peer: send on a reset connection fails with ECONNRESET, after shutdown with EPIPE",
          "[peer]") {
  Hosts h;
  h.listen();
  SECTION("reset by the server") {
    Traced t(1, script({step(Op::connect), step(Op::sleep, 0, kNanosPerMilli),
                        step(Op::send, 100)}));
    drive(t.peer, h.b, [&] {
      if (t.peer.step_index() == 1 && h.accept()) h.reset_server_side();
    });
    CHECK(t.peer.failure() == "send: connection reset (ECONNRESET) after 0 of 100 bytes");
    CHECK(t.peer.sent().size() == 0);
    CHECK(t.peer.step_index() == 2);
    CHECK(contains(t.lines, "peer#1: send 100 = -1 ECONNRESET (0/100)"));
  }
  SECTION("own write side shut down") {
    Traced t(1, script({step(Op::connect), step(Op::send, 5), step(Op::shutdown_write),
                        step(Op::send, 10)}));
    drive(t.peer, h.b, [&] { h.accept(); });
    CHECK(t.peer.failure() == "send: broken pipe (EPIPE) after 0 of 10 bytes");
    CHECK(t.sent() == pattern(1, 0, 5));
  }
}

TEST_CASE("peer: expect reads exactly the bytes it needs", "[peer]") {
  Hosts h;
  h.listen();
  Traced t(1, script({step(Op::connect), step(Op::expect, 100), step(Op::expect, 5)}));
  const std::string reply = pattern(9, 0, 100) + "tail!";
  int writes = 0;
  auto waits = drive(t.peer, h.b, [&] {
    if (!h.accept()) return;
    if (writes == 0) h.write(reply.substr(0, 40));
    if (writes == 1) h.write(reply.substr(40));
    ++writes;
  });
  CHECK(t.received() == reply);
  CHECK(t.peer.failure().empty());
  CHECK(std::count(waits.begin(), waits.end(), PeerWait{Kind::io, EPOLLIN, 0}) == 1);
  // The first expect asks for the 60 it still needs, though 65 are there.
  CHECK(contains(t.lines, "peer#1: recv = 40 (40/100)"));
  CHECK(contains(t.lines, "peer#1: recv = -1 EAGAIN (40/100)"));
  CHECK(contains(t.lines, "peer#1: recv = 60 (100/100)"));
  CHECK(contains(t.lines, "peer#1: recv = 5 (5/5)"));
}

TEST_CASE("peer: expect fails on end of file or a reset before n bytes", "[peer]") {
  Hosts h;
  h.listen();
  Traced t(1, script({step(Op::connect), step(Op::expect, 100), step(Op::close)}));
  bool wrote = false;
  SECTION("end of file") {
    drive(t.peer, h.b, [&] {
      if (wrote || !h.accept()) return;
      h.write(pattern(9, 0, 40));
      REQUIRE(h.a.shutdown(h.cfd, SHUT_WR) == 0);
      wrote = true;
    });
    CHECK(t.peer.failure() == "expect: end of file after 40 of 100 bytes");
    CHECK(t.peer.eof());
    CHECK(contains(t.lines, "peer#1: EOF (40/100)"));
  }
  SECTION("reset") {
    drive(t.peer, h.b, [&] {
      if (wrote || t.peer.step_index() < 1 || !h.accept()) return;
      h.write(pattern(9, 0, 40));
      h.reset_server_side();
      wrote = true;
    });
    CHECK(t.peer.failure() == "expect: connection reset (ECONNRESET) after 40 of 100 bytes");
    CHECK(!t.peer.eof());
  }
  CHECK(t.received() == pattern(9, 0, 40));
  CHECK(t.peer.step_index() == 1);
  CHECK(t.peer.fd() == 3);  // a failed script leaves its socket as it was
}

TEST_CASE("peer: expect_line waits for a newline, bytes after it go to the next step", "[peer]") {
  Hosts h;
  h.listen();
  Traced t(1, script({step(Op::connect), step(Op::expect_line), step(Op::expect, 3),
                      step(Op::expect_line)}));
  const std::vector<std::string> chunks = {"abc", "def\nxyz", "ghi\n"};
  size_t next = 0;
  drive(t.peer, h.b, [&] {
    if (h.accept() && next < chunks.size()) h.write(chunks[next++]);
  });
  CHECK(t.peer.failure().empty());
  CHECK(t.received() == "abcdef\nxyzghi\n");
  CHECK(contains(t.lines, "peer#1: recv = 3 (3/line)"));
  CHECK(contains(t.lines, "peer#1: recv = 7 (10/line)"));
  CHECK(contains(t.lines, "peer#1: recv = 4 (4/line)"));
  // expect 3 found "xyz" already read: no recv in between.
  CHECK(std::count_if(t.lines.begin(), t.lines.end(), [](const std::string& l) {
          return l.rfind("peer#1: recv = ", 0) == 0 && l.find("EAGAIN") == std::string::npos;
        }) == 3);
}

TEST_CASE("peer: expect_line fails on end of file without a newline", "[peer]") {
  Hosts h;
  h.listen();
  Traced t(1, script({step(Op::connect), step(Op::expect_line)}));
  bool wrote = false;
  drive(t.peer, h.b, [&] {
    if (wrote || !h.accept()) return;
    h.write("abc");
    REQUIRE(h.a.close(h.cfd) == 0);
    wrote = true;
  });
  CHECK(t.peer.failure() == "expect_line: end of file after 3 bytes without a newline");
}

TEST_CASE("peer: read_eof reads until end of file, a reset is a failure", "[peer]") {
  Hosts h;
  h.listen();
  Traced t(1, script({step(Op::connect), step(Op::read_eof)}));
  int round = 0;
  SECTION("end of file") {
    drive(t.peer, h.b, [&] {
      if (!h.accept()) return;
      if (round == 0) h.write(pattern(9, 0, 50));
      if (round == 1) REQUIRE(h.a.shutdown(h.cfd, SHUT_WR) == 0);
      ++round;
    });
    CHECK(t.peer.failure().empty());
    CHECK(t.peer.eof());
    CHECK(t.received() == pattern(9, 0, 50));
    CHECK(contains(t.lines, "peer#1: EOF (50/EOF)"));
    CHECK(t.lines.back() == "peer#1: done");
  }
  SECTION("reset") {
    drive(t.peer, h.b, [&] {
      if (t.peer.step_index() == 1 && round++ == 0 && h.accept()) h.reset_server_side();
    });
    CHECK(t.peer.failure() == "read_eof: connection reset (ECONNRESET) after 0 bytes");
  }
}

TEST_CASE("peer: shutdown_write sends a FIN and keeps the socket open", "[peer]") {
  Hosts h;
  h.listen();
  Traced t(1, script({step(Op::connect), step(Op::send, 10), step(Op::shutdown_write)}));
  bool eof = false;
  std::string got;
  drive(t.peer, h.b, [&] {
    if (h.accept()) got += h.drain(&eof);
  });
  CHECK(t.peer.failure().empty());
  CHECK(got == pattern(1, 0, 10));
  CHECK(eof);
  CHECK(t.peer.fd() == 3);
  CHECK(contains(t.lines, "peer#1: shutdown(3, SHUT_WR) = 0"));
  // The server can still answer.
  h.write("ok");
  char buf[8];
  CHECK(h.b.recv(3, buf, sizeof buf, 0) == 2);
}

TEST_CASE("peer: close releases the fd, a later connect makes a new socket", "[peer]") {
  Hosts h;
  h.listen();
  Traced t(1, script({step(Op::connect), step(Op::send, 10), step(Op::close), step(Op::connect),
                      step(Op::send, 10)}));
  std::vector<int> fds;
  int conns = 0;
  std::string got;
  bool eof = false;
  for (int round = 0; round < kMaxRounds && !t.peer.done(); ++round) {
    t.peer.run(h.b, 0);
    fds.push_back(t.peer.fd());
    if (h.cfd < 0 && h.accept()) ++conns;
    if (h.cfd >= 0) got += h.drain(&eof);
    if (eof) {
      REQUIRE(h.a.close(h.cfd) == 0);
      h.cfd = -1;
      eof = false;
    }
  }
  REQUIRE(t.peer.done());
  CHECK(t.peer.failure().empty());
  CHECK(conns == 2);
  CHECK(got == pattern(1, 0, 20));
  CHECK(contains(t.lines, "peer#1: close(3) = 0"));
  CHECK(std::count(t.lines.begin(), t.lines.end(),
                   "peer#1: socket(AF_INET, SOCK_STREAM|SOCK_NONBLOCK|SOCK_CLOEXEC, 0) = 3") == 2);
  CHECK(fds.front() == 3);
  CHECK(fds.back() == 3);
  CHECK(t.peer.sockets() == 2);
}

TEST_CASE("peer: close and reset without a socket fail", "[peer]") {
  Hosts h;
  Traced t(1, script({step(Op::close)}));
  CHECK(t.peer.run(h.b, 0) == PeerWait{Kind::done, 0, 0});
  CHECK(t.peer.failure() == "close: no socket");
  Traced r(2, script({step(Op::reset)}));
  r.peer.run(h.b, 0);
  CHECK(r.peer.failure() == "reset: no socket");
}

TEST_CASE("peer: reset closes with SO_LINGER {1, 0}: the server sees ECONNRESET", "[peer]") {
  Hosts h;
  h.listen();
  Traced t(1, script({step(Op::connect), step(Op::send, 10), step(Op::reset)}));
  std::vector<int> fds;
  int err = 0;
  std::string got;
  for (int round = 0; round < kMaxRounds && !t.peer.done(); ++round) {
    t.peer.run(h.b, 0);
    fds.push_back(t.peer.fd());
    if (h.accept()) got += h.drain(nullptr, &err);
  }
  REQUIRE(t.peer.done());
  CHECK(t.peer.failure().empty());
  CHECK(fds.front() == 3);
  CHECK(fds.back() == -1);
  CHECK(got == pattern(1, 0, 10));  // queued data is read first, then the reset
  CHECK(err == ECONNRESET);
  CHECK(contains(t.lines, "peer#1: setsockopt(3, SO_LINGER, {l_onoff=1, l_linger=0}) = 0"));
  CHECK(contains(t.lines, "peer#1: close(3) = 0"));
  CHECK(h.b.open_fd_count() == 3);  // stdio only
}

TEST_CASE("peer: sleep waits for time, spurious runs change nothing", "[peer]") {
  Hosts h;
  h.listen();
  // `start` is the driver's: run() begins at once whatever it says.
  Traced t(1, script({step(Op::sleep, 0, 5 * kNanosPerMilli), step(Op::connect)},
                     2 * kNanosPerMilli));
  CHECK(t.peer.run(h.b, kNanosPerMilli) == PeerWait{Kind::time, 0, 6 * kNanosPerMilli});
  CHECK(t.peer.fd() == -1);
  // Run early (a spurious call): the same wait, nothing new done.
  CHECK(t.peer.run(h.b, 3 * kNanosPerMilli) == PeerWait{Kind::time, 0, 6 * kNanosPerMilli});
  CHECK(t.lines == std::vector<std::string>{"peer#1: sleep 5000000 ns"});
  CHECK(t.peer.run(h.b, 6 * kNanosPerMilli) == PeerWait{Kind::io, EPOLLOUT, 0});
  CHECK(t.peer.step_index() == 1);
  CHECK(t.peer.sockets() == 1);
  CHECK(t.peer.run(h.b, 6 * kNanosPerMilli) == PeerWait{Kind::done, 0, 0});
}

TEST_CASE("peer: rcvbuf sets SO_RCVBUF (Linux shows it doubled) and bounds the window",
          "[peer]") {
  constexpr int kSmall = 4096;
  Hosts h;
  h.listen();
  // The server writes until EAGAIN to a peer that reads nothing; returns what reached the
  // peer's receive queue (the rest waits in the server's send buffer), and the peer's fd.
  auto fill = [&](std::vector<Step> steps) {
    Peer p(1, script(std::move(steps)), loopback(kPort));
    drive(p, h.b, [&] { h.accept(); });
    REQUIRE(p.failure().empty());
    const std::string chunk(64 * 1024, 'x');
    while (h.a.send(h.cfd, chunk.data(), chunk.size(), 0) > 0) {
    }
    REQUIRE(errno == EAGAIN);
    int queued = 0;
    REQUIRE(h.b.ioctl(p.fd(), FIONREAD, &queued) == 0);
    REQUIRE(h.a.close(h.cfd) == 0);
    h.cfd = -1;
    return std::pair{queued, p.fd()};
  };
  auto [small, fd] = fill({step(Op::rcvbuf, kSmall), step(Op::connect)});
  int v = 0;
  socklen_t len = sizeof v;
  REQUIRE(h.b.getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, &len) == 0);
  CHECK(v == 2 * kSmall);
  auto [normal, fd2] = fill({step(Op::connect)});
  REQUIRE(h.b.getsockopt(fd2, SOL_SOCKET, SO_RCVBUF, &v, &len) == 0);
  INFO("queued at the peer: small " << small << ", default " << normal << " (rcvbuf " << v << ")");
  CHECK(small > 0);
  CHECK(small <= 2 * kSmall);
  CHECK(normal > 2 * kSmall);
}

TEST_CASE("peer: slow_read reads at most k bytes, then waits t", "[peer]") {
  constexpr Nanos kPause = kNanosPerMilli;
  Hosts h;
  h.listen();
  Traced t(1, script({step(Op::connect), step(Op::slow_read, 10, kPause), step(Op::expect, 100),
                      step(Op::slow_read, 0), step(Op::expect, 50)}));
  bool wrote = false;
  auto waits = drive(t.peer, h.b, [&] {
    if (wrote || !h.accept()) return;
    h.write(pattern(9, 0, 150));
    wrote = true;
  });
  CHECK(t.peer.failure().empty());
  CHECK(t.received() == pattern(9, 0, 150));
  std::vector<Nanos> untils;
  for (const PeerWait& w : waits)
    if (w.kind == Kind::time) untils.push_back(w.until);
  // Ten reads of 10: a pause after each but the last (the step is then complete).
  REQUIRE(untils.size() == 9);
  for (size_t i = 0; i < untils.size(); ++i) CHECK(untils[i] == static_cast<Nanos>(i + 1) * kPause);
  CHECK(std::count(t.lines.begin(), t.lines.end(), "peer#1: recv = 10 (10/100)") == 1);
  CHECK(contains(t.lines, "peer#1: recv = 10 (100/100)"));
  CHECK(contains(t.lines, "peer#1: slow_read 10 bytes every 1000000 ns"));
  // slow_read 0 switches it off at once (no pause is owed): the last 50 come in one read.
  CHECK(contains(t.lines, "peer#1: recv = 50 (50/50)"));
}

TEST_CASE("peer: status names the step, its progress and the wait", "[peer]") {
  Hosts h;
  h.listen();
  Peer p(4, script({step(Op::connect), step(Op::expect, 100)}), loopback(kPort));
  CHECK(p.status() == "peer#4: step 1 of 2 (connect)");
  p.run(h.b, 0);
  CHECK(p.status() == "peer#4: step 1 of 2 (connect), waits EPOLLOUT");
  REQUIRE(h.accept());
  h.write(pattern(9, 0, 40));
  p.run(h.b, 0);
  CHECK(p.status() == "peer#4: step 2 of 2 (expect 100): 40/100, waits EPOLLIN");
  REQUIRE(h.a.close(h.cfd) == 0);
  p.run(h.b, 0);
  CHECK(p.status() ==
        "peer#4: step 2 of 2 (expect 100): 40/100, failed: expect: end of file after 40 of 100 "
        "bytes");
}

TEST_CASE("peer: the same engine runs live on loopback through RealKernel", "[peer][live]") {
  // Every wait for the live kernel is bounded: a stuck peer fails the round count, never hangs.
  constexpr int kWaitMs = 100;
  constexpr int kLiveRounds = 2000;
  // Sent before the peer reads: several chunks and several runs' worth. Whether a send meets
  // EAGAIN is up to the live kernel: loopback grows the sender's buffer to over a megabyte
  // (tcp_sndbuf_expand with a 64 KiB MSS), so it rarely does.
  constexpr uint64_t kBytes = 2 * 1024 * 1024;
  constexpr int kRcvbuf = 64 * 1024;
  constexpr uint64_t kListener = 1, kConn = 2, kPeer = 3;  // epoll data
  edgecase::RealKernel k;
  const int l = k.socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  REQUIRE(l >= 0);
  sockaddr_in addr = loopback(0);
  REQUIRE(k.bind(l, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  REQUIRE(k.listen(l, 4) == 0);
  socklen_t alen = sizeof addr;
  REQUIRE(k.getsockname(l, reinterpret_cast<sockaddr*>(&addr), &alen) == 0);
  const int ep = k.epoll_create1(EPOLL_CLOEXEC);
  REQUIRE(ep >= 0);
  auto ctl = [&](int op, int fd, uint32_t events, uint64_t data) {
    epoll_event ev{};
    ev.events = events;
    ev.data.u64 = data;
    REQUIRE(k.epoll_ctl(ep, op, fd, &ev) == 0);
  };
  ctl(EPOLL_CTL_ADD, l, EPOLLIN, kListener);

  Peer p(1, script({step(Op::rcvbuf, kRcvbuf), step(Op::connect), step(Op::send, kBytes),
                    step(Op::shutdown_write), step(Op::read_eof)}),
         addr);
  const auto echo_check = edgecase::test::echo_check();
  p.set_check(echo_check.get());
  int send_eagain = 0;
  p.set_trace([&](std::string_view line) {
    if (line.find("send") != line.npos && line.find("EAGAIN") != line.npos) ++send_eagain;
  });
  auto monotonic = [&] {
    timespec ts{};
    REQUIRE(k.clock_gettime(CLOCK_MONOTONIC, &ts) == 0);
    return static_cast<Nanos>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
  };

  // A nonblocking echo server in the same thread: reads everything, writes back what it can.
  int conn = -1;
  bool served = false;
  std::string echo;
  size_t echoed = 0;
  bool server_eof = false;
  auto serve = [&] {
    if (conn < 0 && !served) {
      conn = k.accept4(l, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (conn < 0) return;
      ctl(EPOLL_CTL_ADD, conn, EPOLLIN, kConn);
    }
    if (conn < 0) return;
    char buf[Peer::kIoChunk];
    ssize_t r;
    while ((r = k.recv(conn, buf, sizeof buf, 0)) > 0) echo.append(buf, static_cast<size_t>(r));
    if (r == 0) server_eof = true;
    while (echoed < echo.size() &&
           (r = k.send(conn, echo.data() + echoed, echo.size() - echoed, MSG_NOSIGNAL)) > 0)
      echoed += static_cast<size_t>(r);
    if (server_eof && echoed == echo.size()) {
      REQUIRE(k.close(conn) == 0);
      conn = -1;
      served = true;
      return;
    }
    uint32_t events = server_eof ? 0u : uint32_t{EPOLLIN};
    if (echoed < echo.size()) events |= EPOLLOUT;
    ctl(EPOLL_CTL_MOD, conn, events, kConn);
  };

  int registered = -1;
  int io_waits = 0;
  for (int round = 0; round < kLiveRounds && !p.done(); ++round) {
    const PeerWait w = p.run(k, monotonic());
    serve();
    if (w.kind != Kind::io) continue;
    ++io_waits;
    ctl(registered == p.fd() ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, p.fd(), w.events, kPeer);
    registered = p.fd();
    epoll_event out[3];
    REQUIRE(k.epoll_wait(ep, out, 3, kWaitMs) >= 0);
  }
  REQUIRE(p.done());
  CHECK(p.failure().empty());
  CHECK((edgecase::test::sent_text(p) == pattern(1, 0, kBytes)));  // megabytes: no expansion
  CHECK(p.received_bytes() == kBytes);
  CHECK(!p.stream_error());  // the echo check saw every byte come back in order
  CHECK(p.eof());
  INFO("send EAGAIN " << send_eagain << ", io waits " << io_waits);
  CHECK(io_waits >= 1);  // the connect's EPOLLOUT at least
  // The script ended without close: the socket is open, with the doubled SO_RCVBUF.
  int v = 0;
  socklen_t len = sizeof v;
  REQUIRE(k.getsockopt(p.fd(), SOL_SOCKET, SO_RCVBUF, &v, &len) == 0);
  CHECK(v == 2 * kRcvbuf);
}
