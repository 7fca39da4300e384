// The generator's own properties (edgecase/gen.h), label props: every generated case, at every
// size, and every shrink on the way to a local minimum, is a case file that can be written and
// a conversation that can run as written (check_case, validate_case); case_from_seed is a pure
// function of the seed.
#include <catch2/catch.hpp>
#include <rapidcheck.h>
#include <rapidcheck/catch.h>

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "edgecase/case_file.h"
#include "edgecase/gen.h"

namespace edgecase {
namespace {

// Shrinks checked per generated case: a walk toward a local minimum that takes one shrink in
// kTakeOneIn (so it goes deep and wide), stopped after this many.
constexpr size_t kShrinksChecked = 60;
constexpr size_t kTakeOneIn = 3;

// "" when the case can be written and run as written; else why not.
std::string ill_formed(const Case& c) {
  if (auto e = check_case(c)) return "check_case: " + *e;
  const std::vector<CaseError> errors = validate_case(c);
  if (!errors.empty()) return "validate_case: " + errors.front().message + "\n" + write_case(c);
  const auto back = parse_case(write_case(c));
  if (!std::holds_alternative<Case>(back) || std::get<Case>(back) != c) return "no round trip";
  return "";
}

void check_tree(const rc::Shrinkable<Case>& s) {
  const Case c = s.value();
  RC_ASSERT(ill_formed(c) == "");
  RC_ASSERT(!c.scenario.peers.empty());
  size_t seen = 0;
  std::string bad;
  rc::shrinkable::findLocalMin(s, [&](const Case& shrink) {
    if (seen >= kShrinksChecked) return false;
    if (bad.empty()) bad = ill_formed(shrink);
    return seen++ % kTakeOneIn == 0;
  });
  RC_ASSERT(bad == "");
}

TEST_CASE("props: generated cases and their shrinks are well-formed", "[gen]") {
  for (const char* name : {"echo", "line", "hello"}) {
    const Protocol p = *builtin_protocol(name);
    rc::prop(std::string("well-formed: ") + name, [&p] {
      const auto seed = *rc::gen::arbitrary<uint64_t>();
      const int size = *rc::gen::inRange(0, kFullSize + 1);
      GenOptions o;
      o.handler = "seed002";
      o.port = 6888;
      check_tree(gen_case(p, o)(rc::Random(seed), size));
    });
  }
}

TEST_CASE("props: a seed names one case", "[gen]") {
  const Protocol echo = echo_protocol();
  GenOptions o;
  for (uint64_t seed = 1; seed <= 50; ++seed) {
    const Case c = case_from_seed(echo, o, seed).value();
    INFO("seed " << seed);
    CHECK(c.seed == seed);
    CHECK(case_from_seed(echo, o, seed).value() == c);
    CHECK(ill_formed(c) == "");
  }
  CHECK_FALSE(case_from_seed(echo, o, 1).value() == case_from_seed(echo, o, 2).value());
  // The fault plan is drawn only when asked for.
  o.faults = false;
  for (uint64_t seed = 1; seed <= 20; ++seed)
    CHECK(case_from_seed(echo, o, seed).value().faults == FaultPlan::none());
}

TEST_CASE("props: small sizes give small cases", "[gen]") {
  const Protocol echo = echo_protocol();
  uint64_t small_bytes = 0, full_bytes = 0;
  size_t small_peers = 0, full_peers = 0;
  for (uint64_t seed = 1; seed <= 100; ++seed) {
    for (const int size : {0, kFullSize}) {
      const Case c = gen_case(echo)(rc::Random(seed), size).value();
      uint64_t bytes = 0;
      for (const PeerScript& p : c.scenario.peers)
        for (const Step& st : p.steps) bytes += st.op == Step::Op::send ? st.n : 0;
      (size == 0 ? small_bytes : full_bytes) += bytes;
      (size == 0 ? small_peers : full_peers) += c.scenario.peers.size();
    }
  }
  INFO("bytes " << small_bytes << " vs " << full_bytes << ", peers " << small_peers << " vs "
                << full_peers);
  CHECK(small_bytes * 20 < full_bytes);
  CHECK(small_peers < full_peers);
}

}  // namespace
}  // namespace edgecase
