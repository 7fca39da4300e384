// Report::stats: each count is reached by a case built to reach it and stays 0 in a case that
// does not; the isolated runner carries them over its pipe; stats_tags names them.
// Cost: about 30 small runs, well under a second (one live run of a few ms).
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <cerrno>
#include <netinet/in.h>
#include <string>
#include <sys/socket.h>
#include <vector>

#include "edgecase/runner.h"
#include "handlers/handlers.h"
#include "harness/report_wire.h"

using edgecase::handlers::with_builtins;

namespace edgecase {
namespace {

constexpr uint64_t kMessage = 100;  // small: one segment, so a blocking read gets all of it

Step step(Step::Op op, uint64_t n = 0) { return Step{op, n, 0, ""}; }

// One peer: connect, send kMessage pattern bytes, [shutdown_write], expect them back, close.
PeerScript echo_peer(bool half_close = false, uint64_t bytes = kMessage) {
  PeerScript s;
  s.steps.push_back(step(Step::Op::connect));
  s.steps.push_back(step(Step::Op::send, bytes));
  if (half_close) s.steps.push_back(step(Step::Op::shutdown_write));
  s.steps.push_back(step(Step::Op::expect, bytes));
  s.steps.push_back(step(Step::Op::close));
  return s;
}

Case echo_with(std::vector<PeerScript> peers, FaultPlan faults = FaultPlan::none()) {
  Case c;
  c.scenario.handler = "echo";
  c.scenario.peers = std::move(peers);
  c.seed = 7;
  c.faults = faults;
  return c;
}

FaultPlan only(FaultKind k) {
  FaultPlan p;
  p[k] = Fault{true, Fault::kPerMille};
  return p;
}

// A server that meets none of the edges: blocking fds, one connection at a time, reads
// exactly kMessage bytes (one segment), writes them back in one write, reads the end of file
// and closes. With no faults its calls never fail and never come back short.
void exact_server(Kernel& k) {
  const int lfd = k.socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(Scenario::kDefaultPort);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(k.bind(lfd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  REQUIRE(k.listen(lfd, 16) == 0);
  for (;;) {
    const int fd = k.accept4(lfd, nullptr, nullptr, 0);
    REQUIRE(fd >= 0);
    char buf[kMessage];
    REQUIRE(k.read(fd, buf, sizeof buf) == static_cast<ssize_t>(sizeof buf));
    REQUIRE(k.write(fd, buf, sizeof buf) == static_cast<ssize_t>(sizeof buf));
    REQUIRE(k.read(fd, buf, sizeof buf) == 0);
    k.close(fd);
  }
}

TEST_CASE("run stats: a server that meets no edge counts nothing", "[runner][stats]") {
  const Report r = run_case(exact_server, echo_with({echo_peer(), echo_peer()}));
  INFO(r.format());
  REQUIRE(r.clean());
  CHECK(r.stats == RunStats{});
  CHECK(stats_tags(r.stats).empty());
}

TEST_CASE("run stats: the reference echo server's reads come back short and end in EAGAIN",
          "[runner][stats]") {
  const Report r = run_case(echo_with({echo_peer()}), with_builtins());
  INFO(r.format());
  REQUIRE(r.clean());
  CHECK(r.stats.short_reads > 0);  // 16 KiB asked, 100 bytes there
  CHECK(r.stats.eagain > 0);       // read to EAGAIN, accept to EAGAIN
  // Nothing else was injected or done.
  CHECK(r.stats.short_writes == 0);
  CHECK(r.stats.eintr == 0);
  CHECK(r.stats.resets == 0);
  CHECK(r.stats.half_closes == 0);  // the peer closed: an end of file, not a half-close
  CHECK(r.stats.emfile == 0);
  CHECK(r.stats.econnaborted == 0);
}

TEST_CASE("run stats: each fault's count is reached by the fault", "[runner][stats]") {
  SECTION("short-write") {
    const Report r = run_case(echo_with({echo_peer(false, 200'000)}, only(FaultKind::short_write)),
                              with_builtins());
    INFO(r.format());
    CHECK(r.stats.short_writes > 0);
    CHECK(stats_tags(r.stats) == std::vector<std::string>{"short-read", "short-write", "eagain"});
  }
  SECTION("eintr") {
    const Report r = run_case(echo_with({echo_peer()}, only(FaultKind::eintr)), with_builtins());
    INFO(r.format());
    CHECK(r.stats.eintr > 0);
  }
  SECTION("emfile") {
    std::vector<PeerScript> peers(6, echo_peer());
    const Report r = run_case(echo_with(peers, only(FaultKind::fd_limit)), with_builtins());
    INFO(r.format());
    CHECK(r.stats.emfile > 0);
    CHECK(r.stats.econnaborted == 0);
  }
  SECTION("econnaborted") {
    const Case c = echo_with({echo_peer(), echo_peer()}, only(FaultKind::accept_abort));
    const Report r = run_case(c, with_builtins());
    INFO(r.format());
    CHECK(r.stats.econnaborted > 0);
    CHECK(r.stats.emfile == 0);
  }
  SECTION("none of them without faults") {
    const Report r = run_case(echo_with({echo_peer(false, 200'000)}), with_builtins());
    INFO(r.format());
    CHECK(r.stats.short_writes == 0);
    CHECK(r.stats.eintr == 0);
    CHECK(r.stats.emfile == 0);
    CHECK(r.stats.econnaborted == 0);
  }
}

TEST_CASE("run stats: a peer's reset is seen as ECONNRESET or EPIPE", "[runner][stats]") {
  // The peer sends far more than the socket buffers hold and resets without reading: the
  // echo server's next read or write fails.
  PeerScript s;
  s.steps = {step(Step::Op::connect), step(Step::Op::send, 300'000), step(Step::Op::sleep),
             step(Step::Op::reset)};
  s.steps[2].t = kNanosPerMilli;
  const Report r = run_case(echo_with({s}), with_builtins());
  INFO(r.format());
  CHECK(r.stats.resets > 0);
  const Report calm = run_case(echo_with({echo_peer(false, 300'000)}), with_builtins());
  CHECK(calm.stats.resets == 0);
}

TEST_CASE("run stats: a half-close counts when the handler reads its end of file",
          "[runner][stats]") {
  const Backend backend = GENERATE(Backend::sim, Backend::live);
  RunOptions o;
  o.handlers = &edgecase::handlers::builtins();
  o.backend = backend;
  const Report half = run_case(echo_with({echo_peer(true), echo_peer(true), echo_peer()}), o);
  INFO(half.format());
  REQUIRE(half.clean());
  CHECK(half.stats.half_closes == 2);
  CHECK(half.stats.short_reads > 0);  // live too: the Observer counts on both backends
  const Report closed = run_case(echo_with({echo_peer()}), o);
  CHECK(closed.stats.half_closes == 0);
  // A server that never reads the end of file met no half-close.
  const Report unread = run_case(exact_server, echo_with({echo_peer()}));
  CHECK(unread.stats.half_closes == 0);
}

TEST_CASE("run stats: carried over the isolated runner's pipe and the wire form",
          "[runner][stats]") {
  const Case c = echo_with({echo_peer(true), echo_peer(false, 50'000)}, only(FaultKind::short_write));
  const Report direct = run_case(c, with_builtins());
  RunOptions o;
  o.handlers = &edgecase::handlers::builtins();
  o.isolate = true;
  const Report isolated = run_case(c, o);
  CHECK(direct.stats != RunStats{});
  CHECK(isolated.stats == direct.stats);
  Report r;
  r.stats = RunStats{1, 2, 3, 4, 5, 6, 7, 8};
  const auto back = report_from_wire(report_to_wire(r));
  REQUIRE(back.has_value());
  CHECK(back->stats == r.stats);
  // A damaged count is a damaged report, never half a one.
  std::string wire = report_to_wire(r);
  const size_t at = wire.find("1 2 3 4 5 6 7 8");
  REQUIRE(at != std::string::npos);
  wire[at + 2] = 'x';
  CHECK_FALSE(report_from_wire(wire).has_value());
}

TEST_CASE("run stats: tags are stable names, one per count above zero", "[runner][stats]") {
  CHECK(stats_tags(RunStats{}).empty());
  CHECK(stats_tags(RunStats{1, 1, 1, 1, 1, 1, 1, 1}) ==
        std::vector<std::string>{"short-read", "short-write", "eagain", "eintr", "reset",
                                 "half-close", "emfile", "econnaborted"});
  RunStats s;
  s.resets = 3;
  s.emfile = 1;
  CHECK(stats_tags(s) == std::vector<std::string>{"reset", "emfile"});
}

}  // namespace
}  // namespace edgecase
