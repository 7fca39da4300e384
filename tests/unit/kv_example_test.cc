// The key-value example (examples/kv/): the model judges by the server's read order across
// peers, accepts the correct server on hand-built cases (sim, faults, live) and rejects the
// buggy ones with the oracle their bug calls for; the request generator's requests are
// well-formed. Cost: about 20 small runs (3 live), under a second.
//
// Once the kit's generated cases are in (edgecase/gen.h, property.h), the property is:
//   edgecase::PropertyOptions o;  o.gen.handler = "kv";
//   CHECK(edgecase::check_server(kv::server(scenario), kv::kv_protocol(), o));
#include <catch2/catch.hpp>

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "edgecase/runner.h"
#include "handlers/handlers.h"
#include "examples/kv/kv.h"

namespace edgecase {
namespace {

Step op(Step::Op o, uint64_t n = 0) { return Step{o, n, 0, ""}; }
Step data(std::string text) { return Step{Step::Op::send, 0, 0, std::move(text)}; }

// A SET of `n` pattern bytes under `key`, as the generator writes it: data, pattern, tail.
std::vector<Step> big_set(const std::string& key, uint64_t n) {
  return {data("SET " + key + " "), op(Step::Op::send, n), data("\n"), op(Step::Op::expect_line)};
}

PeerScript script(std::vector<Step> middle, Nanos start = 0) {
  PeerScript s;
  s.start = start;
  s.steps.push_back(op(Step::Op::connect));
  s.steps.insert(s.steps.end(), middle.begin(), middle.end());
  s.steps.push_back(op(Step::Op::close));
  return s;
}

Case kv_case(std::vector<PeerScript> peers, FaultPlan faults = FaultPlan::none()) {
  Case c;
  c.scenario.handler = "kv";
  c.scenario.protocol = std::string(kv::kProtocolName);
  c.scenario.peers = std::move(peers);
  c.seed = 3;
  c.faults = faults;
  return c;
}

Report run(const Case& c, kv::Bug bug, Backend backend = Backend::sim) {
  static const kv::ModelChecker model;
  RunOptions o;
  o.handlers = &edgecase::handlers::builtins();
  o.backend = backend;
  o.checker = &model;
  return run_case(kv::server(c.scenario, bug), c, o);
}

// One request a round trip, then two and three requests in one send (one segment).
const Case kPipelined = kv_case({script({
    data("GET a\n"), op(Step::Op::expect_line),
    data("SET a hello\nGET a\n"), op(Step::Op::expect_line), op(Step::Op::expect_line),
    data("SET b x\nGET b\nGET c\n"), op(Step::Op::expect_line), op(Step::Op::expect_line),
    op(Step::Op::expect_line)})});

// A 100 KB value set, then read back.
Case big_value_case() {
  std::vector<Step> steps = big_set("a", kv::kMaxValueBytes);
  steps.push_back(data("GET a\n"));
  steps.push_back(op(Step::Op::expect_line));
  return kv_case({script(steps)});
}

TEST_CASE("kv example: the model accepts the correct server", "[kv][example]") {
  SECTION("pipelined requests") {
    const Report r = run(kPipelined, kv::Bug::none);
    INFO(r.format());
    CHECK(r.clean());
  }
  SECTION("a 100 KB value") {
    const Report r = run(big_value_case(), kv::Bug::none);
    INFO(r.format());
    CHECK(r.clean());
  }
  SECTION("shared state: one peer's SET, another's GET, in whichever order the server read") {
    // Peer 2's GET races peer 1's 100 KB SET: NOTFOUND or the value, as the server read them.
    const Nanos start = GENERATE(Nanos{0}, 200 * kNanosPerMicro, 5 * kNanosPerMilli);
    const bool faults = GENERATE(false, true);
    FaultPlan plan = faults ? FaultPlan::all(300) : FaultPlan::none();
    Case c = kv_case({script(big_set("a", kv::kMaxValueBytes)),
                      script({data("GET a\n"), op(Step::Op::expect_line), data("SET a v\n"),
                              op(Step::Op::expect_line)},
                             start),
                      script({data("GET a\n"), op(Step::Op::expect_line)}, start)},
                     plan);
    const Report r = run(c, kv::Bug::none);
    INFO(r.format());
    CHECK(r.clean());
  }
  SECTION("a SET read before its peer resets is stored") {
    // check_server found this (seed 20261122, case 95): the model stores a value once the
    // server has read its line; the server applies every complete request it read, reset or not.
    PeerScript setter = script(big_set("a", 16 * 1024));
    setter.steps.pop_back();                    // close
    setter.steps.back() = op(Step::Op::reset);  // for expect_line: reset right after the SET
    const Case c = kv_case({setter, script({data("GET a\n"), op(Step::Op::expect_line)},
                                           5 * kNanosPerMilli)});
    const Report r = run(c, kv::Bug::none);
    INFO(r.format());
    CHECK(r.clean());
  }
  SECTION("on live sockets") {
    for (const Case& c : {kPipelined, big_value_case()}) {
      const Report r = run(c, kv::Bug::none, Backend::live);
      INFO(r.format());
      CHECK(r.clean());
    }
  }
}

TEST_CASE("kv example: the model rejects the buggy servers", "[kv][example]") {
  SECTION("two requests in one segment answered once: the peer waits forever") {
    const Report r = run(kPipelined, kv::Bug::first_request_only);
    INFO(r.format());
    CHECK(r.found(oracle::kStall));
  }
  SECTION("a 100 KB value cut short: stream-corrupt at the cut") {
    const Backend backend = GENERATE(Backend::sim, Backend::live);
    const Report r = run(big_value_case(), kv::Bug::truncates_values, backend);
    INFO(r.format());
    REQUIRE(r.found(oracle::kStreamCorrupt));
    const auto v = std::find_if(r.violations.begin(), r.violations.end(), [](const Violation& x) {
      return x.oracle == oracle::kStreamCorrupt;
    });
    // "OK\n", then the value: its byte 65536 came back as the line's end.
    CHECK(v->evidence.offset == 3 + kv::kTruncatedValueBytes);
    CHECK(v->evidence.detail.find("GET a") != std::string::npos);
  }
  SECTION("both bugs pass cases that do not reach them") {
    const Case small = kv_case({script({data("SET a 1\n"), op(Step::Op::expect_line),
                                        data("GET a\n"), op(Step::Op::expect_line)})});
    CHECK(run(small, kv::Bug::first_request_only).clean());
    CHECK(run(small, kv::Bug::truncates_values).clean());
  }
}

// Feeds a fresh model check by hand: peers 1 and 2, with the bytes they sent.
struct ModelDriver {
  explicit ModelDriver(std::string_view one, std::string_view two) {
    sent[0].append_literal(one);
    sent[1].append_literal(two);
  }
  Conversation conv(uint32_t peer, uint64_t received = 0) const {
    Conversation c;
    c.peer = peer;
    c.sent = &sent[peer - 1];
    c.received = received;
    return c;
  }
  SentStream sent[2];
  std::unique_ptr<ProtocolCheck> check = kv::ModelChecker().start();
};

TEST_CASE("kv example: the model applies requests in the server's read order",
          "[kv][example]") {
  SECTION("SET read first: the GET sees the value") {
    ModelDriver d("SET a xyz\n", "GET a\n");
    d.check->server_read(d.conv(1), 10);
    d.check->server_read(d.conv(2), 6);
    CHECK_FALSE(d.check->received(d.conv(2), "xyz\n"));
    CHECK_FALSE(d.check->received(d.conv(1), "OK\n"));
  }
  SECTION("GET read first: NOTFOUND, and the value would be wrong") {
    ModelDriver d("SET a xyz\n", "GET a\n");
    d.check->server_read(d.conv(2), 6);
    d.check->server_read(d.conv(1), 10);
    const auto e = d.check->received(d.conv(2), "xyz\n");
    REQUIRE(e);
    CHECK(e->offset == 0);
    CHECK(e->detail.find("expected 'N'") != std::string::npos);
  }
  SECTION("a request counts once its newline is read, however the reads cut it") {
    ModelDriver d("SET a xyz\n", "GET a\n");
    d.check->server_read(d.conv(1), 4);
    d.check->server_read(d.conv(2), 6);   // before the SET's end: NOTFOUND
    d.check->server_read(d.conv(1), 10);
    CHECK_FALSE(d.check->received(d.conv(2), "NOT"));
    CHECK_FALSE(d.check->received(d.conv(2, 3), "FOUND\n"));
  }
  SECTION("a reply to nothing the server read is an error") {
    ModelDriver d("GET a\n", "");
    const auto e = d.check->received(d.conv(1), "NOTFOUND\n");
    REQUIRE(e);
    CHECK(e->detail.find("no request") != std::string::npos);
  }
  SECTION("a large value compared across chunks") {
    ModelDriver d("", "GET k\n");
    d.sent[0].append_literal("SET k ");
    d.sent[0].append_pattern(1, uint64_t{70'000});
    d.sent[0].append_literal("\n");
    d.check->server_read(d.conv(1), d.sent[0].size());
    d.check->server_read(d.conv(2), 6);
    std::string reply = d.sent[0].text(6, 70'000) + "\n";
    std::string wrong = reply;
    wrong[69'999] = wrong[69'999] == 'A' ? 'B' : 'A';
    CHECK_FALSE(d.check->received(d.conv(1), "OK\n"));
    SECTION("right") {
      CHECK_FALSE(d.check->received(d.conv(2), std::string_view(reply).substr(0, 30'000)));
      CHECK_FALSE(d.check->received(d.conv(2, 30'000), std::string_view(reply).substr(30'000)));
    }
    SECTION("one wrong byte") {
      const auto e = d.check->received(d.conv(2), wrong);
      REQUIRE(e);
      CHECK(e->offset == 69'999);
    }
  }
}

TEST_CASE("kv example: generated requests are well-formed and reach large values",
          "[kv][example]") {
  constexpr uint64_t kDraws = 2000;
  const rc::Gen<Request> gen = kv::gen_request();
  std::set<std::string> keys;
  uint64_t sets = 0, gets = 0, large = 0, small = 0;
  for (uint64_t seed = 0; seed < kDraws; ++seed) {
    const Request r = gen(rc::Random(seed), 100).value();
    CHECK(r.reply == Request::Reply::lines);
    CHECK(r.reply_count == 1);
    // The whole line, the value as the pattern's placeholder: the grammar reads it as meant.
    const std::string head = r.data + std::string(std::min<uint64_t>(r.pattern, 65), 'v');
    const uint64_t line = r.size() - 1;
    const kv::Parsed p = kv::parse_request(std::string_view(head).substr(0, 65), line);
    REQUIRE(p.op != kv::Parsed::Op::error);
    keys.emplace(p.key);
    if (p.op == kv::Parsed::Op::set) {
      ++sets;
      CHECK(r.tail == "\n");
      CHECK(r.pattern >= 1);
      CHECK(r.pattern <= kv::kMaxValueBytes);
      CHECK(p.value_at == r.data.size());
      large += r.pattern > 65'536 ? 1 : 0;
      small += r.pattern <= 64 ? 1 : 0;
    } else {
      ++gets;
      CHECK(r.pattern == 0);
      CHECK(r.data.back() == '\n');
    }
  }
  CHECK(keys == std::set<std::string>(std::begin(kv::kKeys), std::end(kv::kKeys)));
  CHECK(sets > kDraws / 4);
  CHECK(gets > kDraws / 4);
  CHECK(large > 0);
  CHECK(small > 0);
  // The protocol a user hands to check_server.
  const Protocol proto = kv::kv_protocol();
  CHECK(proto.name == "kv");
  REQUIRE(proto.checker);
  CHECK(proto.checker->name() == "kv");
}

}  // namespace
}  // namespace edgecase
