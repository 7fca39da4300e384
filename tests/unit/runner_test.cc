// The runner's own parts: protocol checkers, the report's text and wire form, isolated runs,
// input errors. (The oracles have their own tests in oracle_test.cc.)
#include <catch2/catch.hpp>

#include <csignal>
#include <stdexcept>
#include <string>

#include "edgecase/runner.h"
#include "harness/generate.h"
#include "harness/report_wire.h"

namespace edgecase {
namespace {

Conversation conv(std::string_view sent, std::string_view received) {
  Conversation c;
  c.peer = 1;
  c.sent = sent;
  c.received = received;
  return c;
}

TEST_CASE("echo checker: a prefix of what was sent is fine, the first wrong byte is named",
          "[runner][protocol]") {
  const EchoChecker echo;
  CHECK_FALSE(echo.check(conv("hello world", "")).has_value());
  CHECK_FALSE(echo.check(conv("hello world", "hello")).has_value());
  CHECK_FALSE(echo.check(conv("hello world", "hello world")).has_value());
  const auto wrong = echo.check(conv("hello world", "hellO"));
  REQUIRE(wrong.has_value());
  CHECK(wrong->offset == 4);
  CHECK(wrong->detail.find("expected 'o'") != std::string::npos);
  // A write restarted at offset 0: the repeat is named with where it comes from.
  const auto repeat = echo.check(conv("abcdefghijklmnop", "abcdefghabcdefgh"));
  REQUIRE(repeat.has_value());
  CHECK(repeat->offset == 8);
  CHECK(repeat->detail.find("repeats sent bytes from offset 0") != std::string::npos);
  const auto extra = echo.check(conv("abc", "abcabc"));
  REQUIRE(extra.has_value());
  CHECK(extra->offset == 3);
  CHECK(extra->detail.find("extra or repeated") != std::string::npos);
}

TEST_CASE("line checkers: one accepted response line per request line", "[runner][protocol]") {
  const ProtocolChecker* hello = find_checker("hello");
  const ProtocolChecker* line = find_checker("line");
  REQUIRE(hello != nullptr);
  REQUIRE(line != nullptr);
  CHECK(find_checker("smtp") == nullptr);
  CHECK_FALSE(hello->check(conv("a\nb\n", "Hello, client fd: 5\nHello, client fd: 5\n")));
  CHECK_FALSE(hello->check(conv("a\nb\n", "Hello, client fd: 5\nHello, cli")));  // in flight
  // Seed 000's NUL after each reply starts the next line.
  const auto nul = hello->check(conv("a\nb\n", std::string_view("Hello, client fd: 5\n\0Hello, client fd: 5\n", 41)));
  REQUIRE(nul.has_value());
  CHECK(nul->offset == 20);
  // More responses than requests.
  const auto extra = line->check(conv("a\n", "x\ny\n"));
  REQUIRE(extra.has_value());
  CHECK(extra->offset == 2);
  const LineChecker upper("upper", [](std::string_view req, std::string_view resp) {
    std::string u(req);
    for (char& ch : u) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    return u == resp;
  });
  CHECK_FALSE(upper.check(conv("ab\ncd\n", "AB\nCD\n")));
  CHECK(upper.check(conv("ab\ncd\n", "AB\nCX\n"))->offset == 3);
}

TEST_CASE("reports survive the wire between an isolated child and the parent", "[runner][wire]") {
  Report r;
  r.backend = Backend::live;
  r.handler = "seed002";
  r.fault_plan = "faults: split=off";
  r.ending = "stopped (quiescent) in epoll_wait(4)";
  Violation v;
  v.oracle = std::string(oracle::kLostReadEvent);
  v.evidence = {5, 2, 1448, EPOLLIN | EPOLLET, std::nullopt, 2'100'000, "detail\nwith a newline"};
  r.violations = {v, Violation{std::string(oracle::kFdLeak), Evidence{}}};
  r.last_calls = {"read(5, ...) = 10", std::string("binary\0byte", 11)};
  r.peers = {"peer#1: done"};
  r.case_text = "edgecase-case 1\n";
  r.undecided = {"bytes_to_send unavailable"};
  r.steps = 42;
  r.end = 7;
  const std::string wire = report_to_wire(r);
  const std::optional<Report> back = report_from_wire(wire);
  REQUIRE(back.has_value());
  CHECK(back->format() == r.format());
  CHECK(back->violations == r.violations);
  CHECK(back->last_calls == r.last_calls);
  CHECK(back->case_text == r.case_text);
  // Every truncation is rejected, never half a report.
  for (size_t n = 0; n < wire.size(); ++n) CHECK_FALSE(report_from_wire(wire.substr(0, n)));
  CHECK_FALSE(report_from_wire(wire + "x"));
}

Case echo_case_for(std::string handler) {
  Case c = echo_case(7, FaultPlan::none());
  c.scenario.handler = std::move(handler);
  return c;
}

TEST_CASE("isolated runs: a crash is a handler-crashed violation, a clean run is the same report",
          "[runner][isolate]") {
  const Case c = echo_case_for("echo");
  RunOptions in_process;
  RunOptions isolated;
  isolated.isolate = true;
  const Report a = run_case(c, in_process);
  const Report b = run_case(c, isolated);
  CHECK(a.clean());
  CHECK(b.format() == a.format());
  CHECK(b.case_text == write_case(c));

  const Report crashed = run_case([](Kernel&) { std::raise(SIGSEGV); }, c, isolated);
  REQUIRE(crashed.violations.size() == 1);
  CHECK(crashed.violations[0].oracle == oracle::kHandlerCrashed);
  CHECK(crashed.ending.find("crashed") != std::string::npos);
  CHECK(crashed.case_text == write_case(c));

  const Report threw =
      run_case([](Kernel&) { throw std::runtime_error("listen failed"); }, c, isolated);
  CHECK(threw.found(oracle::kHandlerThrew));
  CHECK(threw.ending == "handler threw: listen failed");
}

TEST_CASE("an IsolatedRunner keeps one child for many cases and replaces it after a crash",
          "[runner][isolate]") {
  RunOptions o;
  o.trace = false;
  IsolatedRunner runner(o);
  const Case clean = echo_case_for("echo");
  Case crashes = echo_case_for("seed001");  // strcpy of 2,000 bytes into 1,024: stack smashed
  crashes.scenario.port = 6667;
  auto step = [](Step::Op op, uint64_t n) {
    Step s;
    s.op = op;
    s.n = n;
    return s;
  };
  crashes.scenario.peers = {PeerScript{0, {step(Step::Op::connect, 0), step(Step::Op::send, 2000),
                                           step(Step::Op::expect, 2000)}}};
  CHECK(runner.run(clean).clean());
  CHECK(runner.run(clean).clean());
  CHECK(runner.workers_started() == 1);
  const Report crashed = runner.run(crashes);
  CHECK(crashed.found(oracle::kHandlerCrashed));
  CHECK(crashed.case_text == write_case(crashes));
  const Report after = runner.run(clean);
  CHECK(after.clean());
  CHECK(after.format() == run_case(clean, o).format());
  CHECK(runner.workers_started() == 2);
  // Input errors are the caller's, not crashes.
  CHECK_THROWS_AS(runner.run(echo_case_for("no-such-server")), std::invalid_argument);
  CHECK(runner.workers_started() == 2);
}

TEST_CASE("run_case: unknown handler or protocol is the caller's error", "[runner]") {
  CHECK_THROWS_AS(run_case(echo_case_for("no-such-server")), std::invalid_argument);
  Case c = echo_case_for("echo");
  c.scenario.protocol = "smtp";
  CHECK_THROWS_AS(run_case(c), std::invalid_argument);
  RunOptions isolated;
  isolated.isolate = true;
  CHECK_THROWS_AS(run_case(c, isolated), std::invalid_argument);
  // An explicit checker overrides the scenario's protocol.
  const EchoChecker echo;
  RunOptions with_checker;
  with_checker.checker = &echo;
  CHECK(run_case(c, with_checker).clean());
}

}  // namespace
}  // namespace edgecase
