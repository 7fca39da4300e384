// Tests of case files (include/edgecase/case_file.h): the canonical text, round trips both ways, a table
// of malformed files with the line and message each gets, truncations and mutations.
#include "edgecase/case_file.h"

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <unistd.h>
#include <variant>
#include <vector>

#include <catch2/catch.hpp>
#include <rapidcheck.h>
#include <rapidcheck/catch.h>

namespace {

using edgecase::Case;
using edgecase::CaseError;
using edgecase::CaseLimits;
using edgecase::Fault;
using edgecase::FaultKind;
using edgecase::kFaultCount;
using edgecase::Nanos;
using edgecase::PeerScript;
using edgecase::Step;
using Op = edgecase::Step::Op;

// A case with every kind of step, and its text. The text is the format's reference: a change
// to it breaks every case file already written.
Case every_step_case() {
  Case c;
  c.kit_version = "0.1.0";
  c.seed = 42;
  c.faults[FaultKind::split] = Fault{true, 250};
  c.faults[FaultKind::delay] = Fault{true, 1000};
  c.faults[FaultKind::eintr] = Fault{false, 50};
  c.scenario.peers.push_back(PeerScript{0,
                                        {{Op::rcvbuf, 4096, 0, ""},
                                         {Op::connect, 0, 0, ""},
                                         {Op::send, 100, 0, ""},
                                         {Op::send, 0, 0, "hi \"x\"\\\n\r\t\x01\xff"},
                                         {Op::expect, 100, 0, ""},
                                         {Op::expect_line, 0, 0, ""},
                                         {Op::slow_read, 16, 1'000'000, ""},
                                         {Op::shutdown_write, 0, 0, ""},
                                         {Op::read_eof, 0, 0, ""},
                                         {Op::close, 0, 0, ""}}});
  c.scenario.peers.push_back(PeerScript{5000, {}});
  c.scenario.peers.push_back(PeerScript{
      1, {{Op::sleep, 0, 1'000'000, ""}, {Op::connect, 0, 0, ""}, {Op::reset, 0, 0, ""}}});
  return c;
}

constexpr std::string_view kEveryStepText = R"(edgecase-case 1
kit 0.1.0
handler echo
protocol echo
listen 127.0.0.1 7000
seed 0x000000000000002a
fault split on 250
fault coalesce off 0
fault delay on 1000
fault small-buffers off 0
fault short-write off 0
fault eintr off 50
fault accept-abort off 0
fault fd-limit off 0
fault half-close off 0
fault peer-reset off 0
fault slow-reader off 0
peer start 0
  rcvbuf 4096
  connect
  send 100
  send-data "hi \"x\"\\\n\r\t\x01\xff"
  expect 100
  expect-line
  slow-read 16 1000000
  shutdown-write
  read-eof
  close
end
peer start 5000
end
peer start 1
  sleep 1000000
  connect
  reset
end
end-case
)";

// The base of the malformed table: 24 lines, numbered as the table uses them.
constexpr std::string_view kBase = R"(edgecase-case 1
kit 0.1.0
handler echo
protocol echo
listen 127.0.0.1 7000
seed 0x000000000000002a
fault split on 250
fault coalesce off 0
fault delay on 1000
fault small-buffers off 0
fault short-write off 0
fault eintr off 0
fault accept-abort off 0
fault fd-limit off 0
fault half-close off 0
fault peer-reset off 0
fault slow-reader off 0
peer start 0
  connect
  send-data "hello\n"
  expect-line
  close
end
end-case
)";

std::vector<std::string> lines_of(std::string_view text) {
  std::vector<std::string> out;
  while (!text.empty()) {
    const size_t nl = text.find('\n');
    out.emplace_back(text.substr(0, nl));
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
  }
  return out;
}

std::string joined(const std::vector<std::string>& lines) {
  std::string out;
  for (const std::string& l : lines) out += l + '\n';
  return out;
}

// kBase with line `n` (1-based) replaced, removed, or with `text` inserted before it.
std::string replaced(int n, const std::string& text) {
  auto lines = lines_of(kBase);
  lines.at(static_cast<size_t>(n - 1)) = text;
  return joined(lines);
}
std::string removed(int n) {
  auto lines = lines_of(kBase);
  lines.erase(lines.begin() + (n - 1));
  return joined(lines);
}
std::string inserted(int n, const std::string& text) {
  auto lines = lines_of(kBase);
  lines.insert(lines.begin() + (n - 1), text);
  return joined(lines);
}

// kBase's header (17 lines), then `peers` peers of `steps` connect steps each: written by hand,
// since write_case refuses a case beyond the limits.
std::string with_peers(size_t peers, size_t steps) {
  auto lines = lines_of(kBase);
  lines.resize(17);
  for (size_t i = 0; i < peers; ++i) {
    lines.push_back("peer start 0");
    lines.insert(lines.end(), steps, "  connect");
    lines.push_back("end");
  }
  lines.push_back("end-case");
  return joined(lines);
}

// The text of `text` without its comments and blank lines: what the canonical writer writes.
std::string significant(std::string_view text) {
  std::vector<std::string> keep;
  for (const std::string& l : lines_of(text)) {
    const size_t first = l.find_first_not_of(' ');
    if (!l.empty() && !(first != std::string::npos && l[first] == '#')) keep.push_back(l);
  }
  return joined(keep);
}

const Case& must_parse(const std::variant<Case, CaseError>& r) {
  if (const auto* e = std::get_if<CaseError>(&r)) FAIL(e->message);
  return std::get<Case>(r);
}

// --- generated cases ---------------------------------------------------------------------------

constexpr std::string_view kNameChars =
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._+-";

std::string any_name() {
  const auto n = *rc::gen::inRange<size_t>(1, CaseLimits::kMaxNameLength + 1);
  return *rc::gen::container<std::string>(n, rc::gen::elementOf(kNameChars));
}

// Small values mostly, the bounds sometimes.
uint64_t any_count(uint64_t lo, uint64_t hi) {
  return *rc::gen::weightedOneOf<uint64_t>({{4, rc::gen::inRange<uint64_t>(lo, lo + 100)},
                                            {1, rc::gen::inRange<uint64_t>(lo, hi + 1)},
                                            {1, rc::gen::element(lo, hi)}});
}

Step any_step() {
  Step s;
  s.op = *rc::gen::element(Op::connect, Op::send, Op::expect, Op::expect_line, Op::read_eof,
                           Op::shutdown_write, Op::close, Op::reset, Op::sleep, Op::rcvbuf,
                           Op::slow_read);
  const uint64_t max_t = static_cast<uint64_t>(CaseLimits::kMaxTime);
  switch (s.op) {
    case Op::send:
      if (*rc::gen::arbitrary<bool>()) {
        const auto n = *rc::gen::inRange<size_t>(1, CaseLimits::kMaxDataBytes + 1);
        s.data = *rc::gen::container<std::string>(n, rc::gen::arbitrary<char>());
      } else {
        s.n = any_count(0, CaseLimits::kMaxBytes);
      }
      break;
    case Op::expect: s.n = any_count(1, CaseLimits::kMaxBytes); break;
    case Op::rcvbuf: s.n = any_count(0, CaseLimits::kMaxBytes); break;
    case Op::sleep: s.t = static_cast<Nanos>(any_count(0, max_t)); break;
    case Op::slow_read:
      s.n = any_count(1, CaseLimits::kMaxBytes);
      s.t = static_cast<Nanos>(any_count(1, max_t));
      break;
    default: break;
  }
  return s;
}

Case any_case() {
  Case c;
  c.kit_version = any_name();
  c.scenario.handler = any_name();
  c.scenario.protocol = any_name();
  c.scenario.addr = *rc::gen::arbitrary<uint32_t>();
  c.scenario.port = static_cast<uint16_t>(*rc::gen::inRange<uint32_t>(1, 65536));
  c.seed = *rc::gen::arbitrary<uint64_t>();
  for (Fault& f : c.faults.faults)
    f = Fault{*rc::gen::arbitrary<bool>(), *rc::gen::inRange<uint32_t>(0, Fault::kPerMille + 1)};
  const auto peers = *rc::gen::inRange<size_t>(0, 5);
  for (size_t i = 0; i < peers; ++i) {
    PeerScript p;
    p.start = static_cast<Nanos>(any_count(0, static_cast<uint64_t>(CaseLimits::kMaxTime)));
    const auto steps = *rc::gen::inRange<size_t>(0, 12);
    for (size_t j = 0; j < steps; ++j) p.steps.push_back(any_step());
    c.scenario.peers.push_back(std::move(p));
  }
  return c;
}

}  // namespace

TEST_CASE("case file: the canonical text of a case with every step", "[case]") {
  const Case c = every_step_case();
  REQUIRE_FALSE(edgecase::check_case(c));
  REQUIRE(edgecase::write_case(c) == kEveryStepText);
  REQUIRE(must_parse(edgecase::parse_case(kEveryStepText)) == c);
}

TEST_CASE("case file: hand-made cases round-trip both ways", "[case]") {
  std::vector<Case> cases;
  cases.push_back(Case{});  // the defaults: this build's version, echo on 127.0.0.1:7000
  cases.push_back(every_step_case());
  Case extremes = every_step_case();
  extremes.seed = UINT64_MAX;
  extremes.scenario.addr = 0;
  extremes.scenario.port = 65535;
  extremes.faults = edgecase::FaultPlan::all(1000);
  extremes.kit_version = std::string(CaseLimits::kMaxNameLength, '+');
  extremes.scenario.peers[0].start = CaseLimits::kMaxTime;
  extremes.scenario.peers[0].steps.push_back(
      Step{Op::send, 0, 0, std::string(CaseLimits::kMaxDataBytes, '\xff')});  // the longest line
  extremes.scenario.peers[0].steps.push_back(Step{Op::send, CaseLimits::kMaxBytes, 0, ""});
  extremes.scenario.peers[0].steps.push_back(
      Step{Op::slow_read, 1, CaseLimits::kMaxTime, ""});
  cases.push_back(extremes);
  Case with_args = every_step_case();  // a shared object's handler with its argv[1...]
  with_args.scenario.handler_args = {"7171", "", "two words", "\x01\"\\\xff",
                                     std::string(CaseLimits::kMaxHandlerArgBytes, 'a')};
  cases.push_back(with_args);
  with_args.scenario.handler_args.assign(CaseLimits::kMaxHandlerArgs, "x");
  cases.push_back(with_args);
  cases.push_back(must_parse(edgecase::parse_case(with_peers(CaseLimits::kMaxPeers, 1))));
  cases.push_back(must_parse(edgecase::parse_case(with_peers(1, CaseLimits::kMaxSteps))));
  REQUIRE(Case{}.kit_version == edgecase::build_kit_version());
  REQUIRE(Case{}.kit_version == EDGECASE_VERSION);
  for (const Case& c : cases) {
    const std::string text = edgecase::write_case(c);
    const Case back = must_parse(edgecase::parse_case(text));
    REQUIRE(back == c);
    REQUIRE(edgecase::write_case(back) == text);
  }
}

TEST_CASE("case file: comments and blank lines are allowed after the first line", "[case]") {
  std::string text = "edgecase-case 1\n# written by hand\n\n";
  for (const std::string& l : lines_of(kBase)) {
    if (l == "edgecase-case 1") continue;
    text += l + "\n";
    if (l.rfind("  ", 0) == 0) text += "    # a step's comment may be indented\n";
    if (l == "end") text += "\n";
  }
  text += "# after the end\n\n";
  const Case c = must_parse(edgecase::parse_case(text));
  REQUIRE(c == must_parse(edgecase::parse_case(kBase)));
  REQUIRE(edgecase::write_case(c) == kBase);
  REQUIRE(significant(text) == kBase);
}

TEST_CASE("case file: the kit version is recorded, whatever it is", "[case]") {
  const Case c = must_parse(edgecase::parse_case(replaced(2, "kit 99.0.0-rc1+build.7")));
  REQUIRE(c.kit_version == "99.0.0-rc1+build.7");
}

TEST_CASE("case file: check_case names what cannot be written", "[case]") {
  const auto problem = [](auto change) {
    Case c = every_step_case();
    change(c);
    const auto why = edgecase::check_case(c);
    return why ? *why : std::string("(none)");
  };
  using Catch::Matchers::Contains;
  REQUIRE_THAT(problem([](Case& c) { c.scenario.handler = "my server"; }), Contains("handler"));
  REQUIRE_THAT(problem([](Case& c) { c.kit_version = ""; }), Contains("kit version"));
  REQUIRE_THAT(problem([](Case& c) { c.scenario.port = 0; }), Contains("port 0"));
  REQUIRE_THAT(problem([](Case& c) { c.faults[FaultKind::eintr].per_mille = 1001; }),
               Contains("fault eintr"));
  REQUIRE_THAT(problem([](Case& c) { c.scenario.peers[1].start = -1; }), Contains("peer#2"));
  REQUIRE_THAT(problem([](Case& c) { c.scenario.peers[0].steps[1].n = 3; }),
               Contains("peer#1: step 2: connect: n must be 0"));
  REQUIRE_THAT(problem([](Case& c) { c.scenario.peers[0].steps[3].n = 5; }),
               Contains("send-data"));
  REQUIRE_THAT(problem([](Case& c) { c.scenario.peers[0].steps[4].n = 0; }),
               Contains("expect BYTES: BYTES 0"));
  REQUIRE_THAT(problem([](Case& c) { c.scenario.peers[0].steps[0].data = "x"; }),
               Contains("data must be empty"));
  REQUIRE_THAT(problem([](Case& c) { c.scenario.peers[2].steps[0].t = -1; }),
               Contains("NANOS -1"));
  REQUIRE_THAT(problem([](Case& c) { c.scenario.peers[2].steps[0].op = static_cast<Op>(99); }),
               Contains("unknown op 99"));
  REQUIRE_THAT(problem([](Case& c) {
                 c.scenario.peers.resize(CaseLimits::kMaxPeers + 1);
               }),
               Contains("more than 64 peers"));
  REQUIRE_THAT(problem([](Case& c) {
                 c.scenario.handler_args.assign(CaseLimits::kMaxHandlerArgs + 1, "x");
               }),
               Contains("more than 64 handler arguments"));
  REQUIRE_THAT(problem([](Case& c) {
                 c.scenario.handler_args = {std::string(CaseLimits::kMaxHandlerArgBytes + 1, 'a')};
               }),
               Contains("more than 1024 bytes"));
  REQUIRE_THAT(problem([](Case& c) { c.scenario.handler_args = {std::string("a\0b", 3)}; }),
               Contains("NUL"));
  REQUIRE(problem([](Case&) {}) == "(none)");
}

TEST_CASE("case file: handler-arg lines follow the handler line, files without them read as "
          "before", "[case]") {
  // A file without the line (every file written before it existed) has no arguments, and
  // writes back as it was.
  const Case old = must_parse(edgecase::parse_case(kBase));
  REQUIRE(old.scenario.handler_args.empty());
  REQUIRE(edgecase::write_case(old) == kBase);
  const std::string text = inserted(4, "handler-arg \"7171\"");
  const Case c = must_parse(edgecase::parse_case(inserted(4, "handler-arg \"\"")));
  REQUIRE(c.scenario.handler_args == std::vector<std::string>{""});
  const Case with = must_parse(edgecase::parse_case(text));
  REQUIRE(with.scenario.handler_args == std::vector<std::string>{"7171"});
  REQUIRE(edgecase::write_case(with) == text);
}

namespace {

struct Malformed {
  std::string text;
  int line;
  std::string fragment;  // part of the message
};

std::vector<Malformed> malformed_table() {
  const std::string long_data(CaseLimits::kMaxDataBytes + 1, 'a');
  const std::string long_line = "handler " + std::string(CaseLimits::kMaxLineLength, 'x');
  std::string too_many_args;
  for (const std::string& l : lines_of(kBase)) {
    too_many_args += l + "\n";
    if (l == "handler echo")
      for (size_t i = 0; i <= CaseLimits::kMaxHandlerArgs; ++i) too_many_args += "handler-arg \"x\"\n";
  }
  std::string many_lines = "edgecase-case 1\n";
  for (size_t i = 0; i < CaseLimits::kMaxLines; ++i) many_lines += "#\n";
  std::string base_no_newline(kBase);
  base_no_newline.pop_back();
  return {
      {"", 1, "line 1: expected `edgecase-case 1`, got end of file"},
      {"\n", 1, "line 1: expected `edgecase-case 1`, got ``"},
      {replaced(1, "edgecase-case 2"), 1, "format version 2 is not supported"},
      {replaced(1, "edgecase-case 01"), 1, "(not a case file)"},
      {replaced(1, "GET / HTTP/1.1"), 1, "got `GET / HTTP/1.1` (not a case file)"},
      {"# a comment first\n" + std::string(kBase), 1, "got `# a comment first`"},
      {replaced(2, "kit"), 2, "line 2: expected `kit VERSION`, got `kit`"},
      {replaced(2, "kit 0.1 0"), 2, "expected `kit VERSION`"},
      {replaced(2, "kit 0.1.0 "), 2, "expected `kit VERSION`, got `kit 0.1.0 `"},
      {replaced(2, "kit " + std::string(65, 'v')), 2, "a name is 1 to 64 characters"},
      {replaced(3, "handler ech/o"), 3, "a name is 1 to 64 characters"},
      {removed(3), 3,
       "expected `handler NAME`, got `protocol echo` (`handler` is missing before it)"},
      {inserted(4, "handler echo"), 4, "`handler` appears only once"},
      {replaced(5, "listen 127.0.0.1 0"), 5, "PORT is 1 to 65535"},
      {replaced(5, "listen 127.0.0.1 65536"), 5, "PORT is 1 to 65535"},
      {replaced(5, "listen 127.0.0.256 7000"), 5, "ADDRESS is four decimal octets"},
      {replaced(5, "listen 127.0.0.01 7000"), 5, "ADDRESS is four decimal octets"},
      {replaced(5, "listen 127.0.1 7000"), 5, "ADDRESS is four decimal octets"},
      {replaced(5, "listen 127.0.0.1 7000 tcp"), 5, "expected `listen ADDRESS PORT`"},
      {replaced(6, "seed 42"), 6, "16 lower-case hex digits"},
      {replaced(6, "seed 0x000000000000002A"), 6, "16 lower-case hex digits"},
      {replaced(6, "seed 0x2a"), 6, "16 lower-case hex digits"},
      {replaced(8, "fault coalesce maybe 3"), 8,
       "line 8: expected `fault coalesce on|off PER_MILLE`, got `fault coalesce maybe 3`"},
      {replaced(7, "fault split on 1001"), 7, "PER_MILLE is 0 to 1000"},
      {replaced(7, "fault split on -1"), 7, "PER_MILLE is 0 to 1000"},
      {replaced(7, "fault split  on 250"), 7, "expected `fault split on|off PER_MILLE`"},
      {replaced(7, "fault coalesce off 0"), 7, "`split` comes next"},
      {removed(17), 17, "expected `fault slow-reader on|off PER_MILLE`, got `peer start 0`"},
      {inserted(18, "fault split on 5"), 18, "every fault is listed already"},
      {replaced(18, "peer start -1"), 18, "NANOS is 0 to 3600000000000"},
      {replaced(18, "peer start 3600000000001"), 18, "NANOS is 0 to 3600000000000"},
      {replaced(18, "peer start 0 "), 18, "expected `peer start NANOS` or `end-case`"},
      {replaced(18, "peer 0"), 18, "expected `peer start NANOS` or `end-case`"},
      {replaced(19, "connect"), 19, "got `connect` (steps are indented by two spaces)"},
      {replaced(19, "    connect"), 19, "(steps are indented by two spaces)"},
      {replaced(19, "   "), 19, "expected a step or `end`, got `   `"},
      {replaced(19, "  connect now"), 19, "expected `connect`, got `  connect now`"},
      {replaced(19, "  jump 3"), 19, "no step is called `jump`"},
      {replaced(20, "  send-data \"hello"), 20, "unterminated string"},
      {replaced(20, "  send-data \"hello\\"), 20, "unterminated string"},
      {replaced(20, "  send-data hello"), 20, "expected `send-data \"TEXT\"`"},
      {replaced(20, "  send-data \"he\\qllo\""), 20, "`\\q` is not an escape"},
      {replaced(20, "  send-data \"\\x41\""), 20, "`\\x41` is spelled \"A\""},
      {replaced(20, "  send-data \"\\x0a\""), 20, "`\\x0a` is spelled \"\\n\""},
      {replaced(20, "  send-data \"\\x0A\""), 20, "\\x takes two lower-case hex digits"},
      {replaced(20, "  send-data \"\\x4\""), 20, "\\x takes two lower-case hex digits"},
      {replaced(20, "  send-data \"\""), 20, "at least one byte"},
      {replaced(20, "  send-data \"hi\" x"), 20, "nothing may follow the closing quote"},
      {replaced(20, "  send-data \"" + long_data + "\""), 20, "at most 1024 bytes"},
      {replaced(20, "  send 1073741825"), 20, "`1073741825` is not a decimal number from 0 to"},
      {replaced(20, "  send 99999999999999999999999"), 20, "is not a decimal number"},
      {replaced(20, "  send +5"), 20, "is not a decimal number"},
      {replaced(20, "  send 05"), 20, "is not a decimal number"},
      {replaced(20, "  send"), 20, "expected `send BYTES`, got `  send`"},
      {replaced(20, "  expect 0"), 20, "from 1 to 1073741824"},
      {replaced(20, "  slow-read 16 0"), 20, "`0` is not a decimal number from 1 to 3600000000000"},
      {replaced(20, "  slow-read 16"), 20, "expected `slow-read BYTES NANOS`"},
      {replaced(20, "  sleep 3600000000001"), 20, "from 0 to 3600000000000"},
      {removed(23), 23, "expected a step or `end`, got `end-case`"},
      {removed(24), 24, "expected `peer start NANOS` or `end-case`, got end of file"},
      {inserted(24, "end"), 24, "expected `peer start NANOS` or `end-case`, got `end`"},
      {inserted(24, "  connect"), 24, "steps belong between `peer start NANOS` and `end`"},
      {inserted(24, "kit 0.1.0"), 24, "`kit` appears only once"},
      {replaced(24, "end-case "), 24, "expected `peer start NANOS` or `end-case`, got `end-case `"},
      {removed(7), 7, "got `fault coalesce off 0` (each fault once, in a fixed order"},
      {std::string(kBase) + "connect\n", 25, "only comments may follow `end-case`"},
      {std::string(kBase) + "end-case\n", 25, "expected end of file, got `end-case`"},
      {base_no_newline, 24, "line 24: missing newline at the end of the file"},
      {replaced(19, "\tconnect"), 19, "unexpected byte 0x09 at column 1"},
      {replaced(2, "kit 0.1.0\r"), 2, "unexpected byte 0x0d at column 10"},
      {replaced(3, "handler \xc3\xa9"), 3, "unexpected byte 0xc3 at column 9"},
      {replaced(3, std::string("handler e\0o", 11)), 3, "unexpected byte 0x00 at column 10"},
      {replaced(3, long_line), 3, "line longer than 4160 characters"},
      {with_peers(CaseLimits::kMaxPeers + 1, 0), 18 + 2 * 64, "a case has at most 64 peers"},
      {with_peers(1, CaseLimits::kMaxSteps + 1), 19 + 256, "a peer has at most 256 steps"},
      {many_lines, static_cast<int>(CaseLimits::kMaxLines) + 1, "more than"},
      {inserted(4, "handler-arg 7171"), 4, "expected `handler-arg \"TEXT\"`, got `handler-arg 7171`"},
      {inserted(4, "handler-arg \"7171"), 4, "unterminated string"},
      {inserted(4, "handler-arg \"\\x00\""), 4, "cannot hold a NUL byte"},
      {inserted(4, "handler-arg \"" + std::string(CaseLimits::kMaxHandlerArgBytes + 1, 'a') + "\""),
       4, "at most 1024 bytes"},
      {inserted(5, "handler-arg \"x\""), 5, "`handler-arg` lines follow the `handler` line"},
      {inserted(3, "handler-arg \"x\""), 3, "expected `handler NAME`"},
      {too_many_args, 4 + static_cast<int>(CaseLimits::kMaxHandlerArgs),
       "at most 64 handler arguments"},
  };
}

}  // namespace

TEST_CASE("case file: malformed files get the line and what was expected", "[case]") {
  const auto table = malformed_table();
  REQUIRE(table.size() >= 30);
  REQUIRE(std::holds_alternative<Case>(edgecase::parse_case(kBase)));
  for (const Malformed& m : table) {
    INFO("case file:\n" << m.text.substr(0, 2000));
    const auto r = edgecase::parse_case(m.text);
    REQUIRE(std::holds_alternative<CaseError>(r));
    const CaseError& e = std::get<CaseError>(r);
    INFO("message: " << e.message);
    CHECK(e.line == m.line);
    CHECK_THAT(e.message, Catch::Matchers::Contains(m.fragment));
    CHECK_THAT(e.message, Catch::Matchers::StartsWith("line " + std::to_string(m.line) + ": "));
  }
}

TEST_CASE("case file: every truncation of a valid file is an error", "[case]") {
  const std::string text(kEveryStepText);
  for (size_t k = 0; k < text.size(); ++k) {
    const auto r = edgecase::parse_case(std::string_view(text).substr(0, k));
    INFO("truncated to " << k << " bytes");
    REQUIRE(std::holds_alternative<CaseError>(r));
    REQUIRE(std::get<CaseError>(r).line >= 1);
  }
  REQUIRE(std::holds_alternative<Case>(edgecase::parse_case(text)));
}

TEST_CASE("case file: read_case_file reads a file, a missing one is an error at line 0",
          "[case]") {
  const std::string path = "/tmp/edgecase_case_file_test." + std::to_string(::getpid());
  std::FILE* f = std::fopen(path.c_str(), "wb");
  REQUIRE(f);
  REQUIRE(std::fwrite(kEveryStepText.data(), 1, kEveryStepText.size(), f) ==
          kEveryStepText.size());
  REQUIRE(std::fclose(f) == 0);
  REQUIRE(must_parse(edgecase::read_case_file(path)) == every_step_case());
  REQUIRE(std::remove(path.c_str()) == 0);

  const auto missing = edgecase::read_case_file(path);
  REQUIRE(std::holds_alternative<CaseError>(missing));
  REQUIRE(std::get<CaseError>(missing).line == 0);
  REQUIRE_THAT(std::get<CaseError>(missing).message,
               Catch::Matchers::StartsWith("cannot read " + path + ": "));

  const auto directory = edgecase::read_case_file("/tmp");
  REQUIRE(std::holds_alternative<CaseError>(directory));
  REQUIRE(std::get<CaseError>(directory).line == 0);
}

TEST_CASE("case file: generated cases round-trip both ways", "[case][property]") {
  rc::prop("parse(write(c)) == c and write(parse(write(c))) == write(c)", [] {
    const Case c = any_case();
    RC_ASSERT(!edgecase::check_case(c));
    const std::string text = edgecase::write_case(c);
    const auto r = edgecase::parse_case(text);
    RC_ASSERT(std::holds_alternative<Case>(r));
    RC_ASSERT(std::get<Case>(r) == c);
    RC_ASSERT(edgecase::write_case(std::get<Case>(r)) == text);
  });
}

// Any accepted file's significant lines are exactly the canonical text: the format has one
// spelling per value, so a fuzzer's finds replay as written.
TEST_CASE("case file: a mutated file is an error or a case that round-trips", "[case][property]") {
  rc::prop("byte flips, insertions and deletions never crash", [] {
    std::string text = edgecase::write_case(any_case());
    const auto mutations = *rc::gen::inRange(1, 5);
    for (int i = 0; i < mutations; ++i) {
      const auto at = *rc::gen::inRange<size_t>(0, text.size());
      const auto byte = *rc::gen::weightedOneOf<char>(
          {{3, rc::gen::elementOf(std::string_view(" \n\"\\#x0123456789-"))},
           {1, rc::gen::arbitrary<char>()}});
      switch (*rc::gen::inRange(0, 3)) {
        case 0: text[at] = byte; break;
        case 1: text.insert(at, 1, byte); break;
        default: text.erase(at, 1); break;
      }
    }
    const auto r = edgecase::parse_case(text);
    RC_TAG(std::holds_alternative<Case>(r) ? "accepted" : "rejected");
    if (const auto* e = std::get_if<CaseError>(&r)) {
      RC_ASSERT(e->line >= 1);
      RC_ASSERT(e->message.rfind("line " + std::to_string(e->line) + ": ", 0) == 0);
      return;
    }
    const Case& c = std::get<Case>(r);
    RC_ASSERT(!edgecase::check_case(c));
    const std::string canonical = edgecase::write_case(c);
    RC_ASSERT(canonical == significant(text));
    const auto again = edgecase::parse_case(canonical);
    RC_ASSERT(std::holds_alternative<Case>(again));
    RC_ASSERT(std::get<Case>(again) == c);
  });
}
