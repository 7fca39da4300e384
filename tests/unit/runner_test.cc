// The runner's own parts: protocol checkers, the report's text and wire form, isolated runs,
// input errors. (The oracles have their own tests in oracle_test.cc.)
#include <catch2/catch.hpp>

#include <csignal>
#include <fmt/format.h>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

#include "edgecase/runner.h"
#include "handlers/handlers.h"
#include "harness/generate.h"
#include "harness/peer.h"
#include "harness/report_wire.h"

using edgecase::handlers::with_builtins;

namespace edgecase {
namespace {

// Feeds `received` to a fresh check of `checker`, `chunk` bytes at a time, as from a peer
// that sent `sent`; then ends the run. The first error.
std::optional<StreamError> check_stream(const ProtocolChecker& checker, std::string_view sent,
                                        std::string_view received, size_t chunk) {
  SentStream s;
  s.append_literal(sent);
  const std::unique_ptr<ProtocolCheck> check = checker.start();
  Conversation c;
  c.peer = 1;
  c.sent = &s;
  for (size_t at = 0; at < received.size(); at += chunk) {
    c.received = at;
    if (auto e = check->received(c, received.substr(at, chunk))) return e;
  }
  c.received = received.size();
  return check->end(c);
}

// Every verdict must be the same however the bytes were cut into chunks.
constexpr size_t kWhole = std::string_view::npos;

TEST_CASE("echo checker: a prefix of what was sent is fine, the first wrong byte is named",
          "[runner][protocol]") {
  const size_t chunk = GENERATE(size_t{1}, size_t{3}, kWhole);
  const EchoChecker echo;
  auto check = [&](std::string_view sent, std::string_view received) {
    return check_stream(echo, sent, received, chunk);
  };
  CHECK_FALSE(check("hello world", "").has_value());
  CHECK_FALSE(check("hello world", "hello").has_value());
  CHECK_FALSE(check("hello world", "hello world").has_value());
  const auto wrong = check("hello world", "hellO");
  REQUIRE(wrong.has_value());
  CHECK(wrong->offset == 4);
  CHECK(wrong->detail.find("expected 'o'") != std::string::npos);
  const auto extra = check("abc", "abcabc");
  REQUIRE(extra.has_value());
  CHECK(extra->offset == 3);
  CHECK(extra->detail.find("extra or repeated") != std::string::npos);
}

TEST_CASE("echo checker: a write restarted at an earlier offset is named as a repeat",
          "[runner][protocol]") {
  const EchoChecker echo;
  const auto repeat = check_stream(echo, "abcdefghijklmnop", "abcdefghabcdefgh", kWhole);
  REQUIRE(repeat.has_value());
  CHECK(repeat->offset == 8);
  CHECK(repeat->detail.find("repeats sent bytes from offset 0") != std::string::npos);
  // In a long pattern stream, a restart of the chunk at 3 MiB: found in the last
  // SentStream::kRepeatSearchBytes before the wrong byte, without keeping the stream.
  constexpr uint64_t kRestart = 3u << 20, kAt = kRestart + 1000;
  SentStream s;
  s.append_pattern(2, kAt + 100);
  const std::unique_ptr<ProtocolCheck> check = echo.start();
  Conversation c;
  c.peer = 2;
  c.sent = &s;
  c.received = kAt;
  const auto e = check->received(c, s.text(kRestart, 16));
  REQUIRE(e.has_value());
  CHECK(e->offset == kAt);
  CHECK(e->detail.find(fmt::format("repeats sent bytes from offset {})", kRestart)) !=
        std::string::npos);
}

TEST_CASE("sent streams: pattern runs and literal bytes, read back at any offset",
          "[runner][protocol]") {
  SentStream s;
  s.append_pattern(3, 10);
  s.append_literal("ab\ncd");
  s.append_pattern(3, 5);
  s.append_pattern(3, 5);
  s.append_literal("\n");
  std::string want;
  for (uint64_t i = 0; i < 10; ++i) want += pattern_byte(3, i);
  want += "ab\ncd";
  for (uint64_t i = 15; i < 25; ++i) want += pattern_byte(3, i);
  want += "\n";
  REQUIRE(s.size() == want.size());
  for (uint64_t from = 0; from < want.size(); ++from)
    for (uint64_t n = 0; from + n <= want.size(); ++n)
      REQUIRE(s.text(from, n) == want.substr(from, n));
  CHECK(s.find_newline(0) == 12u);
  CHECK(s.find_newline(13) == 25u);
  CHECK_FALSE(s.find_newline(26).has_value());
  CHECK(s.find_earlier(want.substr(16, 4), 25) == 16u);
  CHECK_FALSE(s.find_earlier(want.substr(16, 4), 19).has_value());
}

TEST_CASE("sent streams: literal bytes in place and the regenerated pattern past 1 MiB",
          "[runner][protocol]") {
  constexpr uint64_t kWindow = uint64_t{1} << 20;
  SentStream s;
  std::string want;
  // Chunks of odd sizes, a literal among them, so the window wraps mid-chunk.
  for (uint64_t chunk = 1; s.size() < 3 * kWindow; chunk = chunk * 3 + 7) {
    const uint64_t n = chunk % 50'000 + 1;
    std::string bytes(n, '\0');
    pattern_fill(4, s.size(), bytes.data(), bytes.size());
    s.append_pattern(4, bytes);
    want += bytes;
    if (chunk % 5 == 0) {
      s.append_literal("line\n");
      want += "line\n";
    }
  }
  REQUIRE(s.size() == want.size());
  for (uint64_t at : {uint64_t{0}, kWindow - 3, s.size() - kWindow - 1, s.size() - kWindow,
                      s.size() - kWindow / 2, s.size() - 100}) {
    INFO("offset " << at);
    CHECK(s.text(at, 100) == want.substr(at, 100));
    const std::string_view r = s.recent(at, 100);
    if (!r.empty()) CHECK(r == want.substr(at, 100));
  }
  CHECK(s.recent(0, 10).empty());  // pattern bytes are regenerated, never kept
  s.append_pattern(4, uint64_t{3});
  s.append_literal("last\n");
  CHECK(s.recent(s.size() - 5, 5) == "last\n");       // literal bytes are kept in place
  CHECK(s.recent(s.size() - 6, 6).empty());           // not in one literal run
}

TEST_CASE("line checkers: one accepted response line per request line", "[runner][protocol]") {
  const size_t chunk = GENERATE(size_t{1}, size_t{3}, kWhole);
  const ProtocolChecker* hello = find_checker("hello");
  const ProtocolChecker* line = find_checker("line");
  REQUIRE(hello != nullptr);
  REQUIRE(line != nullptr);
  CHECK(find_checker("smtp") == nullptr);
  auto check = [&](const ProtocolChecker& p, std::string_view sent, std::string_view received) {
    return check_stream(p, sent, received, chunk);
  };
  CHECK_FALSE(check(*hello, "a\nb\n", "Hello, client fd: 5\nHello, client fd: 5\n"));
  CHECK_FALSE(check(*hello, "a\nb\n", "Hello, client fd: 5\nHello, cli"));  // in flight
  // Seed 000's NUL after each reply starts the next line.
  const auto nul = check(*hello, "a\nb\n",
                         std::string_view("Hello, client fd: 5\n\0Hello, client fd: 5\n", 41));
  REQUIRE(nul.has_value());
  CHECK(nul->offset == 20);
  // More responses than requests.
  const auto extra = check(*line, "a\n", "x\ny\n");
  REQUIRE(extra.has_value());
  CHECK(extra->offset == 2);
  const LineChecker upper("upper", [](std::string_view req, std::string_view resp) {
    std::string u(req);
    for (char& ch : u) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    return u == resp;
  });
  CHECK_FALSE(check(upper, "ab\ncd\n", "AB\nCD\n"));
  CHECK(check(upper, "ab\ncd\n", "AB\nCX\n")->offset == 3);
}

// Issue 9, item 5: what protocol.h promised and did not do.
TEST_CASE("line checkers: bytes after the last line must start a valid response (accept_prefix)",
          "[runner][protocol]") {
  const size_t chunk = GENERATE(size_t{1}, size_t{3}, kWhole);
  const ProtocolChecker& hello = *find_checker("hello");
  auto check = [&](std::string_view sent, std::string_view received) {
    return check_stream(hello, sent, received, chunk);
  };
  // No newline ever: an echo server's reply to "hi".
  const auto echoed = check("hi", "hi");
  REQUIRE(echoed.has_value());
  CHECK(echoed->offset == 0);
  CHECK(echoed->detail.find("response line 1 (incomplete) cannot become an answer") !=
        std::string::npos);
  // After a good line, a partial one that can still become a reply is fine at the end ...
  CHECK_FALSE(check("a\nb\n", "Hello, client fd: 5\nHello, client fd: 1"));
  // ... one that cannot is an error at its first byte, even if the run ends there.
  const auto bad = check("a\nb\n", "Hello, client fd: 5\nHello, client fd: 1x");
  REQUIRE(bad.has_value());
  CHECK(bad->offset == 20);
  CHECK(check("a\nb\n", "Hello, client fd: 5\nHello, client fd: 12345678901").has_value());
  // The "line" checker's prefixes: printable bytes.
  CHECK(check_stream(*find_checker("line"), "a\n", std::string_view("ok\0", 3), chunk));
  // Without accept_prefix, any partial line is accepted.
  const LineChecker any("any", [](std::string_view, std::string_view) { return true; });
  CHECK_FALSE(check_stream(any, "a\n", std::string_view("x\0", 2), chunk));
}

TEST_CASE("run_case: the echo server fails the hello checker with stream-corrupt",
          "[runner][protocol]") {
  // `edgecase case --seed 42` with its protocol line changed to hello.
  Case c = echo_case(42, FaultPlan::all(200));
  c.scenario.protocol = "hello";
  const Report r = run_case(c, with_builtins());
  INFO(r.format());
  REQUIRE_FALSE(r.clean());
  CHECK(r.violations.front().oracle == oracle::kStreamCorrupt);
  CHECK(r.violations.front().evidence.detail.find("cannot become an answer") != std::string::npos);
  // The same case under its own protocol is clean.
  c.scenario.protocol = "echo";
  CHECK(run_case(c, with_builtins()).clean());
}

TEST_CASE("run_case: report_text off leaves the text out and the verdict as it was",
          "[runner]") {
  Case c = echo_case(42, FaultPlan::all(200));
  c.scenario.protocol = "hello";  // a failing run: the verdict has something to compare
  RunOptions o;
  o.handlers = &edgecase::handlers::builtins();
  const Report full = run_case(c, o);
  o.report_text = false;
  const Report bare = run_case(c, o);
  REQUIRE_FALSE(full.clean());
  CHECK(bare.violations == full.violations);
  CHECK(bare.undecided == full.undecided);
  CHECK(bare.ending == full.ending);
  CHECK(bare.end == full.end);
  CHECK_FALSE(full.case_text.empty());
  CHECK_FALSE(full.fault_plan.empty());
  CHECK_FALSE(full.peers.empty());
  CHECK(bare.case_text.empty());
  CHECK(bare.fault_plan.empty());
  CHECK(bare.peers.empty());
}

TEST_CASE("checker registries: built-ins by name, a user's own added to a copy",
          "[runner][protocol]") {
  CHECK(CheckerRegistry::builtins().names() == std::vector<std::string>{"echo", "hello", "line"});
  CHECK(checker_names() == CheckerRegistry::builtins().names());
  CheckerRegistry mine = CheckerRegistry::builtins();
  // Echo, under another name: the runner finds it through RunOptions::checkers.
  struct Mirror final : ProtocolChecker {
    std::string_view name() const override { return "mirror"; }
    std::unique_ptr<ProtocolCheck> start() const override { return EchoChecker().start(); }
  };
  mine.add(std::make_shared<Mirror>());
  CHECK(mine.names() == std::vector<std::string>{"echo", "hello", "line", "mirror"});
  CHECK(find_checker("mirror") == nullptr);  // the built-ins are not changed
  Case c = echo_case(7, FaultPlan::none());
  c.scenario.protocol = "mirror";
  CHECK_THROWS_AS(run_case(c, with_builtins()), std::invalid_argument);
  RunOptions o;
  o.handlers = &edgecase::handlers::builtins();
  o.checkers = &mine;
  CHECK(run_case(c, o).clean());
  // Replacing a built-in by name in a copy.
  const auto never = [](std::string_view, std::string_view) { return false; };
  mine.add(std::make_shared<LineChecker>("echo", never, never));
  CHECK(mine.names().size() == 4);
  c.scenario.protocol = "echo";
  CHECK_FALSE(run_case(c, o).clean());
  CHECK(run_case(c, with_builtins()).clean());
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
  in_process.handlers = &edgecase::handlers::builtins();
  RunOptions isolated;
  isolated.handlers = &edgecase::handlers::builtins();
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
  o.handlers = &edgecase::handlers::builtins();
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
  CHECK_THROWS_AS(run_case(echo_case_for("no-such-server"), with_builtins()),
                  std::invalid_argument);
  // The runner knows no handler by name unless it is handed a registry.
  CHECK_THROWS_AS(run_case(echo_case_for("echo")), std::invalid_argument);
  Case c = echo_case_for("echo");
  c.scenario.protocol = "smtp";
  CHECK_THROWS_AS(run_case(c, with_builtins()), std::invalid_argument);
  RunOptions isolated;
  isolated.handlers = &edgecase::handlers::builtins();
  isolated.isolate = true;
  CHECK_THROWS_AS(run_case(c, isolated), std::invalid_argument);
  // An explicit checker overrides the scenario's protocol.
  const EchoChecker echo;
  RunOptions with_checker;
  with_checker.handlers = &edgecase::handlers::builtins();
  with_checker.checker = &echo;
  CHECK(run_case(c, with_checker).clean());
}

}  // namespace
}  // namespace edgecase

namespace edgecase {
namespace {

TEST_CASE("handler registry: a user's handlers by name, sorted, with their own ports", "[runner]") {
  HandlerRegistry mine;
  CHECK(mine.names().empty());
  CHECK_FALSE(mine.find("echo", Scenario{}));
  mine.add("zed", [](const Scenario&) { return Handler([](Kernel&) {}); }, uint16_t{7000});
  uint16_t seen_port = 0;
  mine.add("mine", [&](const Scenario& s) {
    seen_port = s.port;
    return Handler([](Kernel&) {});
  });
  CHECK(mine.names() == std::vector<std::string>{"mine", "zed"});
  CHECK(mine.own_port("zed") == uint16_t{7000});
  CHECK(mine.own_port("mine") == std::nullopt);
  Scenario s;
  s.port = 4242;
  CHECK(mine.find("mine", s));
  CHECK(seen_port == 4242);  // the factory is given the scenario
  CHECK_THROWS_AS(mine.get("nope", s), std::invalid_argument);
  // The built-ins are a registry like any other: the kit's tools hand it to the runner.
  CHECK(handlers::builtins().names() == handlers::names());
  CHECK(handlers::builtins().own_port("seed001") == handlers::kSeed001Port);
  RunOptions o;
  o.handlers = &mine;
  CHECK_THROWS_AS(run_case(echo_case_for("echo"), o), std::invalid_argument);
}

}  // namespace
}  // namespace edgecase
